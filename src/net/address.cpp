#include <tiny_coro/address.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "net/endpoint.h"

namespace tiny_coro {

SocketAddress::SocketAddress(const sockaddr* address, socklen_t length) noexcept {
  if (address == nullptr) return;
  set_size(length);
  std::memcpy(&storage_, address, size_);
}

SocketAddress SocketAddress::parse(const char* ip, int port) noexcept {
  detail::Endpoint endpoint;
  if (const int err = detail::parse_endpoint(ip, port, endpoint); err != 0) {
    errno = err;
    return {};
  }
  return SocketAddress(reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length);
}

int SocketAddress::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  const void* address = nullptr;
  switch (family()) {
    case AF_INET:
      address = &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr;
      break;
    case AF_INET6:
      address = &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
      break;
    default:
      return {};
  }
  if (::inet_ntop(family(), address, text, sizeof text) == nullptr) return {};
  return text;
}

std::string SocketAddress::to_string() const {
  switch (family()) {
    case AF_INET:
      return ip() + ':' + std::to_string(port());
    case AF_INET6:
      return '[' + ip() + "]:" + std::to_string(port());
    default:
      return {};
  }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a.data());
    const auto* y = reinterpret_cast<const sockaddr_in*>(b.data());
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    // flowinfo is per packet, not part of who the peer is.
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a.data());
    const auto* y = reinterpret_cast<const sockaddr_in6*>(b.data());
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tiny_coro
