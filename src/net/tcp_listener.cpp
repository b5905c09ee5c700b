#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <tiny_coro/socket.h>

#include "net/endpoint.h"

namespace tiny_coro {

int TcpListener::bind(const char* ip, int port, ListenOptions options) {
  close();
  detail::Endpoint endpoint;
  if (int err = detail::parse_endpoint(ip, port, endpoint); err != 0) {
    errno = err;
    return -1;
  }
  const int fd = ::socket(endpoint.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  auto fail = [fd] {
    const int err = errno;
    ::close(fd);
    errno = err;  // what the caller sees, not close()'s
    return -1;
  };
  const int on = 1;
  // SO_REUSEADDR: a restarted server binds at once despite connections in TIME_WAIT.
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) return fail();
  if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
    return fail();
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) != 0 ||
      ::listen(fd, options.backlog) != 0) {
    return fail();
  }
  try {
    io_ = detail::IoHandle(*reactor_, fd, /*tcp=*/false);  // accepts: no reads to shortcut
  } catch (const std::system_error& e) {
    errno = e.code().value();
    return -1;
  }
  family_ = endpoint.family();
  return 0;
}

int TcpListener::port() const noexcept { return io_.is_open() ? detail::local_port(fd()) : -1; }

}  // namespace tiny_coro
