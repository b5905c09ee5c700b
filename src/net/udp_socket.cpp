#include <tiny_coro/udp.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "net/endpoint.h"

namespace tiny_coro {

namespace {
int set_int_option(int fd, int level, int name, int value) noexcept {
  return ::setsockopt(fd, level, name, &value, sizeof(value));
}
}  // namespace

UdpSocket UdpSocket::bind(Reactor* reactor, const SocketAddress& local, UdpOptions options) {
  if (local.family() != AF_INET && local.family() != AF_INET6) return failed(EINVAL);
  const int fd = ::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(errno);
  const bool configured =
      (!options.reuse_port || set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1) == 0) &&
      (options.receive_buffer <= 0 ||
       set_int_option(fd, SOL_SOCKET, SO_RCVBUF, options.receive_buffer) == 0) &&
      (options.send_buffer <= 0 ||
       set_int_option(fd, SOL_SOCKET, SO_SNDBUF, options.send_buffer) == 0);
  if (!configured || ::bind(fd, local.data(), local.size()) != 0) {
    const int err = errno;
    ::close(fd);
    return failed(err);
  }
  UdpSocket socket;
  try {
    // Not a TCP stream: a short datagram says nothing about what else is queued.
    socket.io_ = detail::IoHandle(*reactor, fd, /*tcp=*/false);
  } catch (const std::system_error& e) {
    return failed(e.code().value());
  }
  return socket;
}

UdpSocket UdpSocket::bind(Reactor* reactor, const char* ip, int port, UdpOptions options) {
  const SocketAddress local = SocketAddress::parse(ip, port);
  if (!local) return failed(EINVAL);
  return bind(reactor, local, options);
}

int UdpSocket::connect(const SocketAddress& peer) noexcept {
  if (!is_open()) {
    errno = EBADF;
    return -1;
  }
  return ::connect(fd(), peer.data(), peer.size());
}

SocketAddress UdpSocket::local_address() const noexcept {
  if (!is_open()) return {};
  SocketAddress local;
  socklen_t length = SocketAddress::capacity();
  if (::getsockname(fd(), local.data(), &length) != 0) return {};
  local.set_size(length);
  return local;
}

}  // namespace tiny_coro
