// SocketAddress: an IPv4 or IPv6 address and port as one copyable value — what a datagram
// socket names its peers with (udp.h), and what a recvfrom-style call fills in.
//
//   SocketAddress server = SocketAddress::parse("127.0.0.1", 9000);  // or "::1", "[::1]"
//   if (!server) perror("parse");                                    // EINVAL: malformed
//   std::cout << server.to_string();                                 // 127.0.0.1:9000
//
// It holds a sockaddr_storage, so any family the kernel hands back (recvfrom, getsockname)
// copies in whole; family(), port() and ip() understand AF_INET and AF_INET6 only, and say
// 0 / "" for the others.
#pragma once

#include <sys/socket.h>

#include <string>

namespace tiny_coro {

class SocketAddress {
 public:
  // Empty: family() == AF_UNSPEC, tests false, equal only to another empty one.
  SocketAddress() noexcept = default;
  // Copies `length` bytes of `address` (clamped to capacity()); an empty address for null.
  SocketAddress(const sockaddr* address, socklen_t length) noexcept;

  // An IP literal and a port: "127.0.0.1", "::1" or "[::1]", port 0..65535. Empty, with
  // errno = EINVAL, if either is malformed. Never resolves names.
  static SocketAddress parse(const char* ip, int port) noexcept;

  int family() const noexcept { return size_ == 0 ? AF_UNSPEC : storage_.ss_family; }
  int port() const noexcept;       // host order; 0 for an empty or non-IP address
  std::string ip() const;          // "127.0.0.1", "::1"; "" for an empty or non-IP address
  std::string to_string() const;   // "127.0.0.1:80", "[::1]:80"; "" when empty

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }
  // For a call that writes into data(): pass capacity() in, then the length it reports here
  // (clamped to capacity(): the kernel reports the full length even when it cut the copy).
  void set_size(socklen_t size) noexcept { size_ = size < capacity() ? size : capacity(); }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  explicit operator bool() const noexcept { return size_ != 0; }
  // Same family, address and port (and IPv6 scope); other families compare byte for byte.
  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::SocketAddress;
#endif
