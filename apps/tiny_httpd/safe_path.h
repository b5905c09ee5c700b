// Request paths mapped onto the served root, with no way out of it.
//
// Two layers: the decoded path is split into segments and any ".." refused (so "%2e%2e" is
// caught after decoding, and nothing lexical climbs out); then every open goes through
// openat2(RESOLVE_BENEATH) from the root's descriptor, so the kernel refuses a symlink (or
// any other resolution) that would leave the root. On a kernel without openat2, the fallback
// walks the segments with O_NOFOLLOW and refuses every symlink.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tiny_httpd {

struct RequestPath {
  int error_status = 0;               // 0, or the status to answer (400)
  std::vector<std::string> segments;  // decoded, without "" and "."
  bool trailing_slash = false;        // the path names a directory ("/a/")
  std::string relative() const;       // "a/b/c", or "." for the root itself
};

// `encoded`: the request's path (before any '?'), still percent-encoded.
RequestPath parse_request_path(std::string_view encoded);

// Opens `relative` beneath `root_fd`; -1 with errno set on failure (EXDEV or ELOOP: it would
// leave the root). `follow_symlinks` false: any symlink on the way fails it with ELOOP (the
// file cache's opens, which watch the path as written and so cannot see through a link).
int open_beneath(int root_fd, const std::string& relative, int flags,
                 bool follow_symlinks = true);

// Whether `encoded` is the one spelling of `path` a cache keys it by: no empty or "." segment
// and no percent-escape of a character that needs none, so one file has one key.
bool is_canonical_spelling(std::string_view encoded, const RequestPath& path);

}  // namespace tiny_httpd
