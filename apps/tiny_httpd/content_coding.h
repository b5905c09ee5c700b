// Which precompressed form of a file to send (nginx's gzip_static, Caddy's precompressed):
// the request's Accept-Encoding with its q-values (RFC 9110 §12.5.3) against the sidecars
// that exist beside the file (FILE.br, FILE.gz).
#pragma once

#include <string_view>

namespace tiny_httpd {

enum class Coding { kIdentity, kGzip, kBrotli };

// The acceptable coding with the highest q among those available (brotli before gzip before
// the file itself on a tie; the file itself, unless Accept-Encoding names identity, after
// every acceptable coding). The file itself is the answer when nothing else is acceptable,
// even if identity;q=0 excludes it: RFC 9110 §12.5.3 prefers that to a 406.
Coding choose_coding(std::string_view accept_encoding, bool have_gzip, bool have_brotli);

}  // namespace tiny_httpd
