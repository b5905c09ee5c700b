// Content-Type by file extension.
#pragma once

#include <string_view>

namespace tiny_httpd {

// The media type for a file name ("index.html" -> "text/html; charset=utf-8"); unknown
// extensions are application/octet-stream.
std::string_view content_type_for(std::string_view file_name) noexcept;

}  // namespace tiny_httpd
