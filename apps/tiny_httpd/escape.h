// Escaping names for the places a listing or a redirect puts them.
#pragma once

#include <string>
#include <string_view>

namespace tiny_httpd {

// Text safe inside HTML content and double- or single-quoted attributes.
std::string html_escape(std::string_view text);
// One path segment with everything but unreserved characters percent-encoded (RFC 3986).
std::string percent_encode_segment(std::string_view name);
// A JSON string's content: quotes, backslashes and controls escaped; bytes that are not
// UTF-8 become U+FFFD, so the document stays valid whatever the file system holds.
std::string json_escape(std::string_view text);

}  // namespace tiny_httpd
