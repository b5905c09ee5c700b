// IoRequest: one socket operation in flight, shared by every socket awaiter (socket.h).
//
// An awaiter tries the syscall in await_ready (speculative I/O: most reads and writes on a
// busy connection complete at once, with no epoll call and no suspension). Only if the
// kernel says EAGAIN — or the task's cooperative budget (coop.h) is spent — does await_suspend
// start the slow path, a coroutine in src/net that waits for readiness and retries until
// the operation completes, fails or times out, then resumes the awaiting task directly.
//
// Cancellation (cancel.h) reaches the slow path only while it waits for readiness, before a
// retry: a cancelled read, accept or datagram receive has consumed nothing, a cancelled
// datagram send has sent nothing (each goes whole in one syscall), and the awaiter throws
// TaskCancelled. A write cancelled after sending a prefix of its data throws WriteCancelled,
// which says how long that prefix is.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include <tiny_coro/deadline.h>
#include <tiny_coro/detail/io_handle.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/task.h>

namespace tiny_coro {
class SocketAddress;
struct Datagram;
}  // namespace tiny_coro

namespace tiny_coro::detail {

struct IoRequest {
  enum class Kind : std::uint8_t {
    kRead,      // one read into `single`: bytes (0 at end of stream) or an error
    kWrite,     // every byte of iov[0..iov_count) or an error
    kAccept,    // a new connection's fd, or an error
    kConnect,   // finish a non-blocking connect: 0 or an error
    kSendfile,  // every byte of iov (a head, if any) then of file_count from file_fd at
                //   file_offset, or an error
    // Datagrams (udp.h): one syscall each attempt, whole datagrams only.
    kRecvMsg,   // one datagram into `single` (`peer` filled if set): its length, or -EMSGSIZE
                //   when it was longer than `single` (then cut to it, and consumed)
    kSendMsg,   // one datagram of `single` (to `peer` if set): its length, or an error
    kRecvMany,  // up to `datagram_count` datagrams into `datagrams`: how many (>= 1; 0 if
                //   the count is 0)
    kSendMany,  // the first datagrams of `datagrams`: how many went (>= 1; 0 if none given)
  };

  Kind kind = Kind::kRead;
  IoRef io;  // the socket's, copied when the operation began
  // Resolved only if the operation has to wait: most complete at once, and reading the
  // clock for them would be wasted.
  Deadline deadline;

  // kRead: `single`. kWrite: `iov` (the caller's array, or &single) with progress below.
  iovec single{};
  const iovec* iov = nullptr;
  int iov_count = 0;
  int iov_done = 0;            // entries fully written
  std::size_t iov_offset = 0;  // bytes written of entry iov_done
  std::size_t written = 0;
  // kSendfile: the file and what is left of it (advanced as bytes go out).
  int file_fd = -1;
  off_t file_offset = 0;
  std::size_t file_count = 0;
  // kRecvMsg: where the sender's address goes (null: not wanted). kSendMsg: the destination
  // (null: the connected peer), only read — held non-const so both kinds share the field.
  SocketAddress* peer = nullptr;
  // kRecvMany, kSendMany: the caller's array (kSendMany only reads it, as for `peer`).
  Datagram* datagrams = nullptr;
  std::size_t datagram_count = 0;

  std::uint32_t tick_seen = 0;  // the source's tick before the first attempt
  bool yield_first = false;     // out of budget: yield before the first attempt
  ssize_t result = 0;
};

// kWrite of one buffer or of an iovec array. Leading empty entries are skipped, so "nothing
// left" is simply iov_done == iov_count.
inline void prepare_write(IoRequest& request, const void* buf, std::size_t len) noexcept {
  request.single = iovec{const_cast<void*>(buf), len};
  request.iov = &request.single;
  request.iov_count = len > 0 ? 1 : 0;
}
inline void prepare_writev(IoRequest& request, const iovec* iov, int count) noexcept {
  request.iov = iov;
  request.iov_count = count;
  while (request.iov_done < count && iov[request.iov_done].iov_len == 0) ++request.iov_done;
}

// The error every awaiter reports when it would have blocked; internal, never returned.
inline constexpr ssize_t kWouldBlock = -EAGAIN;

// The direction whose readiness the request waits for.
inline bool waits_for_read(const IoRequest& request) noexcept {
  switch (request.kind) {
    case IoRequest::Kind::kRead:
    case IoRequest::Kind::kAccept:
    case IoRequest::Kind::kRecvMsg:
    case IoRequest::Kind::kRecvMany:
      return true;
    default:
      return false;
  }
}
// One attempt: >= 0 done, < 0 -errno, or kWouldBlock.
ssize_t attempt_io(IoRequest& request) noexcept;

// One bracketed attempt that never waits (AsyncSocket::try_read): kWouldBlock stays as is.
ssize_t attempt_now(IoRequest& request) noexcept;
// The slow path (see the top of this file); its result is the operation's.
Task<ssize_t> finish_io(IoRequest& request);

// The one shape of the socket operations' awaiters (socket.h): the request, filled in place by
// the socket; a speculative attempt in await_ready; the slow path only if that would block.
// What differs per operation is only await_resume (what the result becomes).
class IoAwaiterBase {
 public:
  IoAwaiterBase(const IoAwaiterBase&) = delete;
  IoAwaiterBase& operator=(const IoAwaiterBase&) = delete;

  bool await_ready() noexcept;
  const char* await_kind() const noexcept {  // dump_tasks()
    switch (request_.kind) {
      case IoRequest::Kind::kRead:
        return "read";
      case IoRequest::Kind::kWrite:
        return "write";
      case IoRequest::Kind::kAccept:
        return "accept";
      case IoRequest::Kind::kConnect:
        return "connect";
      case IoRequest::Kind::kRecvMsg:  // not "recv": a channel's receive is named that
        return "recv datagram";
      case IoRequest::Kind::kSendMsg:
        return "send datagram";
      case IoRequest::Kind::kRecvMany:
        return "recv_many";
      case IoRequest::Kind::kSendMany:
        return "send_many";
      case IoRequest::Kind::kSendfile:
        break;
    }
    return "sendfile";
  }
  // The slow path runs under the awaiting task's cancel state, so cancelling the task reaches
  // the readiness wait (or the accept backoff's sleep) it is parked in.
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
    slow_ = finish_io(request_);
    return slow_.operator co_await().suspend_without_note(awaiting);
  }

 protected:
  // A closed socket (`io` not open) makes the result -EBADF without any attempt.
  IoAwaiterBase(IoRequest::Kind kind, const IoRef& io, Deadline deadline) noexcept;
  template <class Fill>
  IoAwaiterBase(IoRequest::Kind kind, const IoRef& io, Deadline deadline, Fill&& fill) noexcept
      : IoAwaiterBase(kind, io, deadline) {
    fill(request_);
  }
  // The operation's outcome; also stores a failure in errno.
  ssize_t outcome();

  IoRequest request_;
  Task<ssize_t> slow_;
};

}  // namespace tiny_coro::detail
