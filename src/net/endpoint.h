// An IP literal and a port as a sockaddr: IPv4 ("127.0.0.1") or IPv6 ("::1", "[::1]").
#pragma once

#include <sys/socket.h>

namespace tiny_coro::detail {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family() const noexcept { return address.ss_family; }
};

// 0, or an errno value (EINVAL for a malformed address or a port outside 0..65535).
int parse_endpoint(const char* ip, int port, Endpoint& out) noexcept;

// The port of a bound socket, or -1.
int local_port(int fd) noexcept;

}  // namespace tiny_coro::detail
