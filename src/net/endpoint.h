// Socket addresses from text: an IP literal and a port — IPv4 ("127.0.0.1") or IPv6 ("::1",
// "[::1]") — or a Unix-domain path ("/run/app.sock", or "@name" in the abstract namespace).
#pragma once

#include <sys/socket.h>

#include <string_view>

namespace tiny_coro::detail {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family() const noexcept { return address.ss_family; }
};

// 0, or an errno value (EINVAL for a malformed address or a port outside 0..65535).
int parse_endpoint(const char* ip, int port, Endpoint& out) noexcept;

// 0, or an errno value: ENAMETOOLONG for a name that does not fit sun_path (107 bytes, the
// last byte kept for a NUL, an abstract name's leading one counted), EINVAL for an empty path
// or one with a NUL byte in it (a path; an abstract name may hold any bytes).
int parse_unix_endpoint(std::string_view path, Endpoint& out) noexcept;

// Whether `path` names the abstract namespace (no file): "@name".
inline bool is_abstract_unix_path(std::string_view path) noexcept {
  return !path.empty() && path.front() == '@';
}

// The port of a bound socket, or -1.
int local_port(int fd) noexcept;

}  // namespace tiny_coro::detail
