// Conditional requests (RFC 9110 §13): If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since, evaluated in the order §13.2.2 gives, and If-Range.
#pragma once

#include <cstdint>
#include <string_view>

#include <tiny_coro/http_parser.h>

namespace tiny_httpd {

// What identifies a representation's current state.
struct Validators {
  std::string_view etag;   // strong, quoted: "\"...\""
  std::int64_t mtime = 0;  // Last-Modified, in seconds
};

enum class Precondition {
  kProceed,
  kNotModified,  // 304 (GET and HEAD only)
  kFailed,       // 412
};

// `current`: the target's validators, or nullptr when it does not exist (a PUT creating it).
// `safe`: GET or HEAD, for which a matching If-None-Match means 304 rather than 412.
Precondition evaluate_preconditions(const tiny_coro::HttpRequest& request,
                                    const Validators* current, bool safe);

// Whether a Range may be honoured: true without If-Range, else only when If-Range names the
// current state exactly (a strong ETag match, or the very Last-Modified date).
bool if_range_holds(const tiny_coro::HttpRequest& request, const Validators& current);

// Whether `list` (an If-Match / If-None-Match value: "*" or entity tags separated by commas)
// names `etag`. `weak`: compare ignoring W/ (If-None-Match), else both must be strong.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

}  // namespace tiny_httpd
