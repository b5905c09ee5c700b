#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <utility>

#include <tiny_coro/socket.h>

#include "io/io_source.h"
#include "net/endpoint.h"

namespace tiny_coro {

namespace {
// The short-read shortcut (io_source.h) holds only for TCP: a Unix socket's recv also stops
// at ancillary data (passed descriptors), a datagram socket's after each datagram.
bool is_ip_family(int family) noexcept { return family == AF_INET || family == AF_INET6; }

bool is_tcp_stream(int fd) noexcept {
  int type = 0;
  socklen_t type_length = sizeof(type);
  sockaddr_storage local{};
  socklen_t local_length = sizeof(local);
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_STREAM &&
         ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) == 0 &&
         is_ip_family(local.ss_family);
}
}  // namespace

AsyncSocket::AsyncSocket(Reactor* reactor, int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::system_category(), "fcntl(O_NONBLOCK)");
  }
  io_ = detail::IoHandle(*reactor, fd, is_tcp_stream(fd));
}

int AsyncSocket::set_nodelay(bool on) noexcept {
  const int value = on ? 1 : 0;
  return ::setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
}

int AsyncSocket::shutdown(int how) noexcept { return ::shutdown(fd(), how); }

ssize_t AsyncSocket::try_read(void* buf, std::size_t size) noexcept {
  if (!is_open()) {
    errno = EBADF;
    return -EBADF;
  }
  detail::IoRequest request;
  request.kind = detail::IoRequest::Kind::kRead;
  request.io = io_.ref();
  request.single = iovec{buf, size};
  const ssize_t result = detail::attempt_now(request);
  if (result < 0) errno = static_cast<int>(-result);
  return result;
}

std::uint32_t AsyncSocket::read_edges() const noexcept {
  if (!is_open()) return 0;
  // acquire: pairs with the reactor's release bump, so that reads made after this load
  // come after the edge it counted (io_source.h, step 1).
  return io_.ref().source->tick(detail::IoDirection::kRead).load(std::memory_order_acquire);
}

Task<ssize_t> AsyncSocket::wait_read_edge_after(std::uint32_t edges, Deadline deadline) {
  if (!is_open()) co_return -EBADF;
  const detail::IoRef io = io_.ref();
  const detail::WaitOutcome outcome = co_await detail::ReadinessWait(
      io.source, io.generation, detail::IoDirection::kRead, edges, deadline.resolve(*io.reactor));
  co_return detail::readable_result(outcome);
}

// --- accept ---

AsyncSocket AsyncAcceptAwaiter::await_resume() {
  const ssize_t result = outcome();
  if (result < 0) {
    return AsyncSocket::failed(std::error_code(static_cast<int>(-result), std::system_category()));
  }
  try {
    // accept4 made it non-blocking; an IP stream listener's connections are TCP.
    return AsyncSocket(
        detail::IoHandle(*request_.io.reactor, static_cast<int>(result), is_ip_family(family_)));
  } catch (const std::system_error& e) {
    return AsyncSocket::failed(e.code());
  }
}

// --- connect ---

AsyncConnectAwaiter::AsyncConnectAwaiter(Reactor* reactor, const sockaddr* address,
                                         socklen_t length, Deadline deadline)
    : IoAwaiterBase(detail::IoRequest::Kind::kConnect, detail::IoRef{}, deadline) {
  start(reactor, address, length);
}

AsyncConnectAwaiter::AsyncConnectAwaiter(Reactor* reactor, const char* ip, int port,
                                         Deadline deadline)
    : IoAwaiterBase(detail::IoRequest::Kind::kConnect, detail::IoRef{}, deadline) {
  detail::Endpoint endpoint;
  if (int err = detail::parse_endpoint(ip, port, endpoint); err != 0) {
    error_ = std::error_code(err, std::system_category());
    return;
  }
  start(reactor, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length);
}

AsyncConnectAwaiter::AsyncConnectAwaiter(std::error_code error) noexcept
    : IoAwaiterBase(detail::IoRequest::Kind::kConnect, detail::IoRef{}, Deadline{}),
      error_(error) {}

void AsyncConnectAwaiter::start(Reactor* reactor, const sockaddr* address, socklen_t length) {
  if (address == nullptr || length < static_cast<socklen_t>(sizeof(sa_family_t))) {
    error_ = std::error_code(EINVAL, std::system_category());
    return;
  }
  const int family = address->sa_family;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = std::error_code(errno, std::system_category());
    return;
  }
  // A Unix connect completes or fails here (EAGAIN: the backlog is full); only TCP's
  // handshake goes on in the background (EINPROGRESS).
  const int rc = ::connect(fd, address, length);
  if (rc != 0 && errno != EINPROGRESS) {
    error_ = std::error_code(errno, std::system_category());
    ::close(fd);
    return;
  }
  try {
    connecting_ = detail::IoHandle(*reactor, fd, is_ip_family(family));
  } catch (const std::system_error& e) {
    error_ = e.code();
    return;
  }
  request_.io = connecting_.ref();
  // Connected at once (loopback can); else the io_source.h protocol: snapshot the tick,
  // look (the handshake may have ended before the registration), and wait only if not done.
  request_.result = rc == 0 ? 0 : detail::attempt_now(request_);
}

AsyncConnectAwaiter AsyncSocket::connect_unix(Reactor* reactor, std::string_view path,
                                              Deadline deadline) {
  detail::Endpoint endpoint;
  if (int err = detail::parse_unix_endpoint(path, endpoint); err != 0) {
    return AsyncConnectAwaiter(std::error_code(err, std::system_category()));
  }
  return AsyncConnectAwaiter(reactor, reinterpret_cast<const sockaddr*>(&endpoint.address),
                             endpoint.length, deadline);
}

AsyncConnectAwaiter::~AsyncConnectAwaiter() {
  // The slow path first: closing connecting_ would otherwise wake its waiter, a frame about
  // to be destroyed with this awaiter.
  slow_ = {};
}

bool AsyncConnectAwaiter::await_ready() noexcept {
  return error_ || request_.result != detail::kWouldBlock;
}

AsyncSocket AsyncConnectAwaiter::await_resume() {
  if (error_) return AsyncSocket::failed(error_);
  const ssize_t result = outcome();
  if (result < 0) {
    return AsyncSocket::failed(std::error_code(static_cast<int>(-result), std::system_category()));
  }
  return AsyncSocket(std::move(connecting_));
}

}  // namespace tiny_coro
