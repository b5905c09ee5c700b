// Formats response heads: status line, Date, Server, Content-Type, Content-Length, extra
// fields, Connection: close.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiny_coro::detail {

struct ResponseHeadFields {
  int status = 200;
  std::string_view content_type;                // empty: none
  std::optional<std::uint64_t> content_length;  // nullopt: none (1xx, 204, 304)
  const std::vector<std::pair<std::string, std::string>>* extra = nullptr;
  std::string_view raw_fields;  // whole "Name: value\r\n" lines, after `extra`
  bool close = false;
  bool keep_alive = false;  // say "Connection: keep-alive" (HTTP/1.0 peers need it)
};

// Appends the head (ending in the blank line) to `out`.
void append_response_head(std::string& out, const ResponseHeadFields& fields);

// Whether a response with this status may carry a body (RFC 9110 §6.4.1: not 1xx, 204, 304).
constexpr bool status_allows_body(int status) noexcept {
  return status >= 200 && status != 204 && status != 304;
}

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted at most
// once a second per thread.
std::string_view http_date_now() noexcept;

// Formats a time as an IMF-fixdate into `out` (29 bytes); returns the view of it.
std::string_view format_http_date(std::int64_t unix_seconds, char (&out)[32]) noexcept;

}  // namespace tiny_coro::detail
