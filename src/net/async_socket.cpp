#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include <tiny_coro/socket.h>

#include "io/io_source.h"
#include "net/endpoint.h"

namespace tiny_coro {

AsyncSocket::AsyncSocket(Reactor* reactor, int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::system_category(), "fcntl(O_NONBLOCK)");
  }
  // The short-read shortcut (io_source.h) holds only for TCP: a Unix socket's recv also stops
  // at ancillary data, a datagram socket's after each datagram.
  int type = 0;
  socklen_t type_length = sizeof(type);
  sockaddr_storage local{};
  socklen_t local_length = sizeof(local);
  const bool tcp = ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 &&
                   type == SOCK_STREAM &&
                   ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) == 0 &&
                   (local.ss_family == AF_INET || local.ss_family == AF_INET6);
  adopt(reactor, fd, tcp);
}

void AsyncSocket::adopt(Reactor* reactor, int fd, bool tcp) {
  try {
    detail::IoSource& source = reactor->attach(fd);
    // No lock: the slot's last writer (detach) released it through the pool's mutex, which
    // attach took after; no operation can run before this socket is handed out.
    generation_ = source.generation;
    source.read_shortcut = tcp;
    source_ = &source;
  } catch (...) {
    ::close(fd);
    throw;
  }
  reactor_ = reactor;
  fd_ = fd;
}

AsyncSocket::AsyncSocket(AsyncSocket&& other) noexcept
    : reactor_(std::exchange(other.reactor_, nullptr)),
      source_(std::exchange(other.source_, nullptr)),
      generation_(other.generation_),
      fd_(std::exchange(other.fd_, -1)),
      read_timeout_(other.read_timeout_),
      write_timeout_(other.write_timeout_),
      error_(other.error_) {}

AsyncSocket& AsyncSocket::operator=(AsyncSocket&& other) noexcept {
  if (this != &other) {
    close();
    reactor_ = std::exchange(other.reactor_, nullptr);
    source_ = std::exchange(other.source_, nullptr);
    generation_ = other.generation_;
    fd_ = std::exchange(other.fd_, -1);
    read_timeout_ = other.read_timeout_;
    write_timeout_ = other.write_timeout_;
    error_ = other.error_;
  }
  return *this;
}

void AsyncSocket::close() noexcept {
  if (fd_ < 0) return;
  reactor_->detach(*source_, fd_);  // pending operations wake with ECANCELED; closes fd_
  fd_ = -1;
  source_ = nullptr;
}

int AsyncSocket::set_nodelay(bool on) noexcept {
  const int value = on ? 1 : 0;
  return ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
}

int AsyncSocket::shutdown(int how) noexcept { return ::shutdown(fd_, how); }

void AsyncSocket::prepare(detail::IoRequest& request, std::chrono::nanoseconds timeout) noexcept {
  if (fd_ < 0) {
    request.result = -EBADF;
    return;
  }
  request.reactor = reactor_;
  request.source = source_;
  request.generation = generation_;
  request.fd = fd_;
  request.timeout = timeout;
}

AsyncReadAwaiter::AsyncReadAwaiter(AsyncSocket& socket, void* buf, std::size_t size) noexcept {
  request_.kind = detail::IoRequest::Kind::kRead;
  request_.single = iovec{buf, size};
  socket.prepare(request_, socket.read_timeout_);
}

AsyncWriteAwaiter::AsyncWriteAwaiter(AsyncSocket& socket, const iovec* iov, int count) noexcept {
  request_.kind = detail::IoRequest::Kind::kWrite;
  request_.iov = iov;
  request_.iov_count = count;
  // Skip leading empty entries, so "nothing left" is simply iov_done == iov_count.
  while (request_.iov_done < count && iov[request_.iov_done].iov_len == 0) ++request_.iov_done;
  socket.prepare(request_, socket.write_timeout_);
}

AsyncWriteAwaiter::AsyncWriteAwaiter(AsyncSocket& socket, const void* buf,
                                     std::size_t len) noexcept {
  request_.kind = detail::IoRequest::Kind::kWrite;
  request_.single = iovec{const_cast<void*>(buf), len};
  request_.iov = &request_.single;
  request_.iov_count = len > 0 ? 1 : 0;
  socket.prepare(request_, socket.write_timeout_);
}

AsyncSocketOp AsyncSocket::sendfile(int file_fd, off_t offset, std::size_t count) noexcept {
  detail::IoRequest request;
  request.kind = detail::IoRequest::Kind::kSendfile;
  request.file_fd = file_fd;
  request.file_offset = offset;
  request.file_count = count;
  prepare(request, write_timeout_);
  return AsyncSocketOp(request);
}

AsyncReadableAwaiter AsyncSocket::wait_readable(std::chrono::nanoseconds timeout) noexcept {
  if (fd_ < 0) return wait_readable_until(TimePoint::max());
  return wait_readable_until(detail::deadline_after(reactor_->now(), timeout));
}

AsyncReadableAwaiter AsyncSocket::wait_readable_until(TimePoint deadline) noexcept {
  if (fd_ < 0) return AsyncReadableAwaiter(nullptr, nullptr, 0, TimePoint::max());
  return AsyncReadableAwaiter(reactor_, source_, generation_, deadline);
}

ssize_t AsyncSocket::try_read(void* buf, std::size_t size) noexcept {
  detail::IoRequest request;
  request.kind = detail::IoRequest::Kind::kRead;
  request.single = iovec{buf, size};
  prepare(request, {});
  if (request.source == nullptr) return request.result;
  const ssize_t result = detail::attempt_now(request);
  if (result < 0) errno = static_cast<int>(-result);
  return result;
}

// --- connect ---

CoConnect::CoConnect(Reactor* reactor, const char* ip, int port, std::chrono::nanoseconds timeout) {
  request_.kind = detail::IoRequest::Kind::kConnect;
  request_.reactor = reactor;
  detail::Endpoint endpoint;
  if (int err = detail::parse_endpoint(ip, port, endpoint); err != 0) {
    error_ = std::error_code(err, std::system_category());
    return;
  }
  if (timeout.count() > 0) request_.deadline = detail::deadline_after(reactor->now(), timeout);
  const int fd = ::socket(endpoint.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = std::error_code(errno, std::system_category());
    return;
  }
  const int rc =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length);
  if (rc != 0 && errno != EINPROGRESS) {
    error_ = std::error_code(errno, std::system_category());
    ::close(fd);
    return;
  }
  try {
    detail::IoSource& source = reactor->attach(fd);
    request_.source = &source;
    request_.generation = source.generation;  // as in AsyncSocket::adopt
    source.read_shortcut = true;              // TCP
  } catch (const std::system_error& e) {
    error_ = e.code();
    ::close(fd);
    return;
  }
  request_.fd = fd;
  // Connected at once (loopback can); else the io_source.h protocol: snapshot the tick,
  // look (the handshake may have ended before the registration), and wait only if not done.
  // acquire: as in io_request.cpp's snapshot_tick.
  request_.tick_seen = request_.source->write_tick.load(std::memory_order_acquire);
  request_.result = rc == 0 ? 0 : detail::attempt_io(request_);
}

CoConnect::~CoConnect() {
  // The slow path first: detach() below would otherwise wake its waiter, a frame about to be
  // destroyed with this awaiter.
  slow_ = {};
  if (request_.fd >= 0) {  // never handed out (failed, or the frame was destroyed)
    request_.reactor->detach(*request_.source, request_.fd);
  }
}

bool CoConnect::await_ready() noexcept { return error_ || request_.result != detail::kWouldBlock; }

AsyncSocket CoConnect::await_resume() {
  if (error_) return AsyncSocket::failed(error_);
  const ssize_t result = outcome();
  if (result < 0) {
    return AsyncSocket::failed(std::error_code(static_cast<int>(-result), std::system_category()));
  }
  AsyncSocket socket;
  socket.reactor_ = request_.reactor;
  socket.source_ = request_.source;
  socket.generation_ = request_.generation;
  socket.fd_ = std::exchange(request_.fd, -1);
  return socket;
}

}  // namespace tiny_coro
