#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <tiny_coro/socket.h>

#include "io/io_source.h"
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
    detail::IoSource& source = reactor_->attach(fd);
    generation_ = source.generation;  // as in AsyncSocket::adopt
    source_ = &source;
  } catch (const std::system_error& e) {
    ::close(fd);
    errno = e.code().value();
    return -1;
  }
  fd_ = fd;
  return 0;
}

int TcpListener::port() const noexcept { return fd_ >= 0 ? detail::local_port(fd_) : -1; }

void TcpListener::close() noexcept {
  if (fd_ < 0) return;
  reactor_->detach(*source_, fd_);  // a pending accept wakes with ECANCELED; closes fd_
  fd_ = -1;
  source_ = nullptr;
}

CoAccept::CoAccept(TcpListener& listener, std::chrono::nanoseconds timeout) noexcept
    : listener_(listener) {
  request_.kind = detail::IoRequest::Kind::kAccept;
  if (listener.fd_ < 0) {
    request_.result = -EBADF;
    return;
  }
  request_.reactor = listener.reactor_;
  request_.source = listener.source_;
  request_.generation = listener.generation_;
  request_.fd = listener.fd_;
  if (timeout.count() > 0) {
    request_.deadline = detail::deadline_after(listener.reactor_->now(), timeout);
  }
}

AsyncSocket CoAccept::await_resume() {
  const ssize_t result = outcome();
  if (result < 0) {
    return AsyncSocket::failed(std::error_code(static_cast<int>(-result), std::system_category()));
  }
  AsyncSocket socket;
  try {
    // accept4 made it non-blocking; a TCP listener's connections are TCP.
    socket.adopt(listener_.reactor_, static_cast<int>(result), /*tcp=*/true);
  } catch (const std::system_error& e) {
    return AsyncSocket::failed(e.code());
  }
  return socket;
}

}  // namespace tiny_coro
