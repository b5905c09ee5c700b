// The socket operations' attempts and their slow path (include/tiny_coro/detail/io_request.h).
#include <tiny_coro/detail/io_request.h>

#include <tiny_coro/socket.h>
#include <tiny_coro/udp.h>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/coop.h>
#include <tiny_coro/timer.h>

#include <tiny_coro/detail/readiness_wait.h>
#include "io/io_source.h"

namespace tiny_coro::detail {
namespace {

IoDirection direction_of(const IoRequest& request) noexcept {
  return waits_for_read(request) ? IoDirection::kRead : IoDirection::kWrite;
}

std::uint32_t snapshot_tick(const IoRequest& r) noexcept {
  // acquire: pairs with the reactor's release bump, ordering this snapshot before the
  // syscall that follows (io_source.h, step 1).
  return r.io.source->tick(direction_of(r)).load(std::memory_order_acquire);
}

ssize_t would_block_or_error(int err) noexcept {
  return err == EAGAIN || err == EWOULDBLOCK ? kWouldBlock : -static_cast<ssize_t>(err);
}

// Out of descriptors or buffers: accepting again at once would fail again (and spin).
bool exhausted(ssize_t result) noexcept {
  return result == -EMFILE || result == -ENFILE || result == -ENOBUFS || result == -ENOMEM;
}

// Whether the operation must go on in the slow path.
bool unfinished(const IoRequest& request) noexcept {
  return request.result == kWouldBlock ||
         (request.kind == IoRequest::Kind::kAccept && exhausted(request.result));
}

ssize_t read_once(IoRequest& r) noexcept {
  for (;;) {
    // read(2), not recv: the same for a socket, and it serves a signalfd (signal_set.h) too.
    const ssize_t n = ::read(r.io.fd, r.single.iov_base, r.single.iov_len);
    // Short, or EAGAIN: the socket is empty now, as of the tick taken before this read
    // (io_source.h).
    if (n >= 0) {
      r.io.source->read_drained = n > 0 && static_cast<std::size_t>(n) < r.single.iov_len;
      r.io.source->read_drained_by_eagain = false;
      r.io.source->read_drained_tick = r.tick_seen;
      return n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      r.io.source->read_drained = true;
      r.io.source->read_drained_by_eagain = true;
      r.io.source->read_drained_tick = r.tick_seen;
    }
    if (errno != EINTR) return would_block_or_error(errno);
  }
}

// A read that would only hear EAGAIN: the last read drained the socket and no edge came
// since; `tick` is then the read tick to wait past. An EAGAIN says so for any socket, at
// any time; a short read only for TCP with no urgent data, shutdown or error seen
// (io_source.h, read_closed).
bool read_known_empty(const IoSource& source, std::uint32_t& tick) noexcept {
  if (!source.read_drained) return false;
  // acquire: as snapshot_tick's.
  if (source.read_tick.load(std::memory_order_acquire) != source.read_drained_tick) return false;
  tick = source.read_drained_tick;
  if (source.read_drained_by_eagain) return true;
  // relaxed: the acquire load above orders it after the reactor's store (io_source.h).
  return source.read_shortcut && !source.read_closed.load(std::memory_order_relaxed);
}

bool known_empty(IoRequest& r) noexcept {
  return r.kind == IoRequest::Kind::kRead && read_known_empty(*r.io.source, r.tick_seen);
}

// Writes until every byte is out or the socket pushes back. MSG_NOSIGNAL: a reset peer is an
// EPIPE return, not a SIGPIPE that kills the process. `flags` adds to it (MSG_MORE).
ssize_t write_some(IoRequest& r, int flags = 0) noexcept {
  flags |= MSG_NOSIGNAL;
  constexpr int kBatch = 64;
  while (r.iov_done < r.iov_count) {
    ssize_t n = 0;
    const iovec& first = r.iov[r.iov_done];
    if (r.iov_count - r.iov_done == 1) {
      n = ::send(r.io.fd, static_cast<const char*>(first.iov_base) + r.iov_offset,
                 first.iov_len - r.iov_offset, flags);
    } else {
      std::array<iovec, kBatch> batch;
      const int count = std::min(kBatch, r.iov_count - r.iov_done);
      for (int i = 0; i < count; ++i) batch[static_cast<std::size_t>(i)] = r.iov[r.iov_done + i];
      batch[0].iov_base = static_cast<char*>(batch[0].iov_base) + r.iov_offset;
      batch[0].iov_len -= r.iov_offset;
      msghdr message{};
      message.msg_iov = batch.data();
      message.msg_iovlen = static_cast<std::size_t>(count);
      n = ::sendmsg(r.io.fd, &message, flags);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block_or_error(errno);
    }
    r.written += static_cast<std::size_t>(n);
    // Advance past what went out.
    auto left = static_cast<std::size_t>(n);
    while (r.iov_done < r.iov_count) {
      const std::size_t rest = r.iov[r.iov_done].iov_len - r.iov_offset;
      if (left < rest) {
        r.iov_offset += left;
        break;
      }
      left -= rest;
      r.iov_offset = 0;
      ++r.iov_done;
    }
  }
  return static_cast<ssize_t>(r.written);
}

// The kernel copies file pages straight to the socket; `file_offset` advances as they go.
ssize_t sendfile_some(IoRequest& r) noexcept {
  // A head first, held back (MSG_MORE) to leave in one packet with the file's first bytes
  // (not when there are none: it would then wait for the kernel's cork timer).
  if (r.iov_done < r.iov_count) {
    const ssize_t n = write_some(r, r.file_count > 0 ? MSG_MORE : 0);
    if (n < 0) return n;
  }
  while (r.file_count > 0) {
    const ssize_t n = ::sendfile(r.io.fd, r.file_fd, &r.file_offset, r.file_count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block_or_error(errno);
    }
    if (n == 0) return -EIO;  // the file is shorter than promised (truncated meanwhile)
    r.file_count -= static_cast<std::size_t>(n);
    r.written += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(r.written);
}

ssize_t accept_once(IoRequest& r) noexcept {
  for (;;) {
    const int fd = ::accept4(r.io.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    // The connection died in the backlog, or a signal: take the next one.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    return would_block_or_error(errno);
  }
}

ssize_t finish_connect(IoRequest& r) noexcept {
  int err = 0;
  socklen_t length = sizeof(err);
  if (::getsockopt(r.io.fd, SOL_SOCKET, SO_ERROR, &err, &length) != 0) return -errno;
  if (err != 0) return -static_cast<ssize_t>(err);
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof(peer);
  if (::getpeername(r.io.fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0) return 0;
  return errno == ENOTCONN ? kWouldBlock : -static_cast<ssize_t>(errno);
}

// --- datagrams: one syscall per attempt, so each datagram goes whole or not at all ---

// -EMSGSIZE for a datagram the kernel cut to the buffer: it is consumed all the same.
ssize_t recv_msg_once(IoRequest& r) noexcept {
  msghdr message{};
  message.msg_iov = &r.single;
  message.msg_iovlen = 1;
  if (r.peer != nullptr) {
    message.msg_name = r.peer->data();
    message.msg_namelen = SocketAddress::capacity();
  }
  for (;;) {
    const ssize_t n = ::recvmsg(r.io.fd, &message, 0);
    if (n >= 0) {
      if (r.peer != nullptr) r.peer->set_size(message.msg_namelen);
      return (message.msg_flags & MSG_TRUNC) != 0 ? -EMSGSIZE : n;
    }
    if (errno != EINTR) return would_block_or_error(errno);
  }
}

ssize_t send_msg_once(IoRequest& r) noexcept {
  msghdr message{};
  message.msg_iov = &r.single;
  message.msg_iovlen = 1;
  if (r.peer != nullptr) {
    message.msg_name = r.peer->data();
    message.msg_namelen = r.peer->size();
  }
  for (;;) {
    const ssize_t n = ::sendmsg(r.io.fd, &message, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EINTR) return would_block_or_error(errno);
  }
}

// The kernel's headers for one recvmmsg / sendmmsg over the first datagrams of the request.
struct DatagramBatch {
  std::array<mmsghdr, UdpSocket::kMaxBatch> messages;
  std::array<iovec, UdpSocket::kMaxBatch> iov;
  unsigned count = 0;

  explicit DatagramBatch(const IoRequest& r, bool receive) noexcept
      : count(static_cast<unsigned>(std::min(r.datagram_count, UdpSocket::kMaxBatch))) {
    for (unsigned i = 0; i < count; ++i) {
      Datagram& d = r.datagrams[i];
      iov[i] = iovec{d.data, d.size};
      msghdr& header = messages[i].msg_hdr;
      header = msghdr{};
      header.msg_iov = &iov[i];
      header.msg_iovlen = 1;
      if (receive) {
        header.msg_name = d.peer.data();
        header.msg_namelen = SocketAddress::capacity();
      } else if (d.peer) {
        header.msg_name = d.peer.data();
        header.msg_namelen = d.peer.size();
      }
    }
  }
};

ssize_t recv_many_once(IoRequest& r) noexcept {
  if (r.datagram_count == 0) return 0;
  DatagramBatch batch(r, /*receive=*/true);
  for (;;) {
    const int n = ::recvmmsg(r.io.fd, batch.messages.data(), batch.count, 0, nullptr);
    if (n >= 0) {
      for (int i = 0; i < n; ++i) {
        const mmsghdr& message = batch.messages[static_cast<std::size_t>(i)];
        Datagram& d = r.datagrams[i];
        d.length = message.msg_len;
        d.truncated = (message.msg_hdr.msg_flags & MSG_TRUNC) != 0;
        d.peer.set_size(message.msg_hdr.msg_namelen);
      }
      return n;
    }
    if (errno != EINTR) return would_block_or_error(errno);
  }
}

ssize_t send_many_once(IoRequest& r) noexcept {
  if (r.datagram_count == 0) return 0;
  DatagramBatch batch(r, /*receive=*/false);
  for (;;) {
    const int n = ::sendmmsg(r.io.fd, batch.messages.data(), batch.count, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EINTR) return would_block_or_error(errno);
  }
}

// Queues the running task behind the others ready on its worker.
struct Defer {
  Executor& executor;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> current) const noexcept { executor.defer(current); }
  void await_resume() const noexcept {}
};

// One attempt, bracketed (IoRef::bracketed): the socket may be closed by another task at any
// moment — while the operation waited, yielded, backed off, or just began.
ssize_t retry(IoRequest& r) noexcept {
  return r.io.bracketed([&r] {
    r.tick_seen = snapshot_tick(r);
    return attempt_io(r);
  });
}

}  // namespace

ssize_t attempt_io(IoRequest& request) noexcept {
  switch (request.kind) {
    case IoRequest::Kind::kRead:
      return read_once(request);
    case IoRequest::Kind::kWrite:
      return write_some(request);
    case IoRequest::Kind::kAccept:
      return accept_once(request);
    case IoRequest::Kind::kConnect:
      return finish_connect(request);
    case IoRequest::Kind::kSendfile:
      return sendfile_some(request);
    case IoRequest::Kind::kRecvMsg:
      return recv_msg_once(request);
    case IoRequest::Kind::kSendMsg:
      return send_msg_once(request);
    case IoRequest::Kind::kRecvMany:
      return recv_many_once(request);
    case IoRequest::Kind::kSendMany:
      return send_many_once(request);
  }
  return -EINVAL;
}

ssize_t attempt_now(IoRequest& request) noexcept { return retry(request); }

Task<ssize_t> finish_io(IoRequest& r) {
  const TimePoint deadline = r.deadline.resolve(*r.io.reactor);  // it waits: now it matters
  if (r.yield_first) {
    co_await Defer{r.io.reactor->executor()};
    r.result = retry(r);
  }
  auto backoff = std::chrono::milliseconds(5);
  while (unfinished(r)) {
    if (r.result == kWouldBlock) {
      const WaitOutcome outcome = co_await ReadinessWait(r.io.source, r.io.generation,
                                                         direction_of(r), r.tick_seen, deadline);
      if (outcome == WaitOutcome::kTimedOut) co_return -ETIMEDOUT;
      if (outcome == WaitOutcome::kClosed) co_return -ECANCELED;
      if (outcome == WaitOutcome::kCancelled) {
        // A write that already sent part of its data says how much: the caller's view of the
        // stream stays exact.
        if (r.written > 0) throw WriteCancelled(r.written);
        throw_task_cancelled();
      }
    } else {  // accept out of descriptors: wait for some to be freed, without spinning
      const TimePoint now = r.io.reactor->now();
      if (now >= deadline) co_return -ETIMEDOUT;
      co_await AsyncSleep(*r.io.reactor, std::min(deadline, now + backoff));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
    r.result = retry(r);
  }
  co_return r.result;
}

IoAwaiterBase::IoAwaiterBase(IoRequest::Kind kind, const IoRef& io, Deadline deadline) noexcept {
  request_.kind = kind;
  request_.deadline = deadline;
  if (io.is_open()) {
    request_.io = io;
  } else {
    request_.result = -EBADF;
  }
}

bool IoAwaiterBase::await_ready() noexcept {
  IoRequest& r = request_;
  if (!r.io.is_open()) return true;  // not open: result already says so
  if (!consume_coop_budget()) {
    r.yield_first = true;
    return false;
  }
  // Bracketed like every retry: a close() racing this first attempt from another task must
  // not let it touch a closed, perhaps reused, descriptor or slot.
  r.result = r.io.bracketed([&r] {
    if (known_empty(r)) return kWouldBlock;  // skip the EAGAIN: wait for the next edge at once
    r.tick_seen = snapshot_tick(r);
    return attempt_io(r);
  });
  return !unfinished(r);
}

ssize_t IoAwaiterBase::outcome() {
  const ssize_t result = slow_.valid() ? slow_.operator co_await().await_resume() : request_.result;
  if (result < 0) errno = static_cast<int>(-result);
  return result;
}

}  // namespace tiny_coro::detail

namespace tiny_coro {

AsyncReadableAwaiter::AsyncReadableAwaiter(const detail::IoRef& io, Deadline deadline) noexcept
    : wait_(io.source, io.generation, detail::IoDirection::kRead, 0,
            io.is_open() ? deadline.resolve(*io.reactor) : TimePoint::max()) {}

bool AsyncReadableAwaiter::await_ready() noexcept {
  if (!wait_.has_source()) {
    wait_.settle(detail::WaitOutcome::kNotOpen);
    return true;
  }
  const detail::IoRef io{&wait_.reactor(), &wait_.source(), wait_.generation(), -1};
  std::uint32_t tick = 0;
  const ssize_t outcome = io.bracketed([&] {
    return detail::read_known_empty(*io.source, tick) ? detail::kWouldBlock : ssize_t{0};
  });
  if (outcome != detail::kWouldBlock) {  // 0: may be readable; -ECANCELED: closed
    wait_.settle(outcome == 0 ? detail::WaitOutcome::kReady : detail::WaitOutcome::kClosed);
    return true;
  }
  wait_.set_tick_seen(tick);
  return false;
}

ssize_t AsyncReadableAwaiter::await_resume() {
  const ssize_t result = detail::readable_result(wait_.await_resume());
  if (result < 0) errno = static_cast<int>(-result);
  return result;
}

}  // namespace tiny_coro
