#include "net/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <cstddef>
#include <cstring>

namespace tiny_coro::detail {

int parse_endpoint(const char* ip, int port, Endpoint& out) noexcept {
  if (ip == nullptr || port < 0 || port > 65535) return EINVAL;
  out = Endpoint{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.address);
  if (::inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    out.length = sizeof(sockaddr_in);
    return 0;
  }
  // IPv6, bare or in brackets as in URLs.
  char literal[INET6_ADDRSTRLEN + 2] = {};
  std::size_t length = std::strlen(ip);
  if (length >= 2 && ip[0] == '[' && ip[length - 1] == ']') {
    ++ip;
    length -= 2;
  }
  if (length >= sizeof(literal)) return EINVAL;
  std::memcpy(literal, ip, length);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.address);
  if (::inet_pton(AF_INET6, literal, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    out.length = sizeof(sockaddr_in6);
    return 0;
  }
  return EINVAL;
}

int parse_unix_endpoint(std::string_view path, Endpoint& out) noexcept {
  out = Endpoint{};
  auto* unix_address = reinterpret_cast<sockaddr_un*>(&out.address);
  const bool abstract = is_abstract_unix_path(path);
  if (path.empty() || (!abstract && path.find('\0') != std::string_view::npos)) return EINVAL;
  // A path needs its terminating NUL inside sun_path: the kernel may read up to one. An
  // abstract name is exactly its length, its '@' standing for the leading NUL.
  if (path.size() >= sizeof(unix_address->sun_path)) return ENAMETOOLONG;
  unix_address->sun_family = AF_UNIX;
  std::memcpy(unix_address->sun_path, path.data(), path.size());
  if (abstract) unix_address->sun_path[0] = '\0';
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                      (abstract ? 0 : 1));
  return 0;
}

int local_port(int fd) noexcept {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return -1;
}

}  // namespace tiny_coro::detail
