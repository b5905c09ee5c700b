// UDP: UdpSocket, datagrams to and from any peer or one connected peer, singly or in
// batches (recvmmsg / sendmmsg).
//
//   UdpSocket socket = UdpSocket::bind(sched.reactor(), "0.0.0.0", 9000);  // port 0: any
//   if (!socket) std::cerr << socket.error().message();
//   SocketAddress from;
//   ssize_t n = co_await socket.recv_from(buf, sizeof buf, from);  // one datagram's length
//   co_await socket.send_to(buf, n, from);                          // the whole datagram
//
//   std::array<Datagram, 32> batch;   // each: data/size set; length, peer, truncated filled
//   ssize_t got = co_await socket.recv_many(batch);                 // 1..32 datagrams
//
// Errors follow AsyncSocket's (socket.h): a failed operation returns -errno and also leaves
// errno set; -ETIMEDOUT when its Deadline passed, -ECANCELED when the socket was closed while
// it waited. Two are particular to datagrams:
// - Truncation is never silent. A datagram longer than the buffer is consumed, the buffer
//   holds its first `size` bytes, and recv / recv_from return -EMSGSIZE (recv_many marks
//   that datagram `truncated` instead, and still counts it). The next datagram is intact.
// - On a connected socket an ICMP "port unreachable" from the peer (nothing listens there)
//   comes back as -ECONNREFUSED from the next recv or send; the one after that works again.
//   An unconnected socket does not hear these (the kernel does not report them without
//   IP_RECVERR), as UDP has no way to tell which send they belonged to.
//
// Concurrency: one receive and one send may be in flight on a socket at once (from different
// tasks). Buffers, the Datagram array and a recv_from's SocketAddress must stay valid until
// the co_await returns. Closing the socket — close() or the destructor — wakes its pending
// operations with -ECANCELED. A socket must not outlive its Scheduler.
//
// Cancellation (cancel.h): every operation that waits is a cancellation point; a cancelled
// task's co_await throws TaskCancelled. Cancel safety: the cancel lands only while the
// operation waits for readiness, before its next attempt, so a cancelled receive consumed no
// datagram (it is there for the next one), and a cancelled send sent nothing — each datagram
// leaves whole in one syscall or not at all, and a send_many that sent some returns their
// count rather than being cancelled.
//
// How: the same machinery as TCP's (detail/io_request.h): a speculative syscall, a readiness
// wait only on EAGAIN, one shared awaiter (AsyncIoAwaiter). The batched calls move up to
// kMaxBatch datagrams per syscall; larger spans are served kMaxBatch at a time.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <system_error>

#include <tiny_coro/address.h>
#include <tiny_coro/deadline.h>
#include <tiny_coro/detail/io_handle.h>
#include <tiny_coro/detail/io_request.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/socket.h>

namespace tiny_coro {

// One datagram of a recv_many or send_many batch.
struct Datagram {
  void* data = nullptr;    // send: the bytes; receive: where they go
  std::size_t size = 0;    // send: how many; receive: the room at `data`
  std::size_t length = 0;  // receive: the bytes received (<= size); not read by send
  SocketAddress peer;      // receive: the sender; send: the destination (empty: the
                           //   connected peer)
  bool truncated = false;  // receive: it was longer than `size`, only its prefix is here
};

struct UdpOptions {
  bool reuse_port = false;  // SO_REUSEPORT: several sockets (one per worker) share the port
  int receive_buffer = 0;   // SO_RCVBUF in bytes if > 0 (the kernel caps it at rmem_max)
  int send_buffer = 0;      // SO_SNDBUF in bytes if > 0
};

// co_await on every operation below: ssize_t (AsyncIoAwaiter, socket.h). Deadlines as in
// AsyncSocket: a duration from when the operation first waits, or a TimePoint; none by default.
class UdpSocket : public detail::IoOwner {
 public:
  // Datagrams moved by one recvmmsg / sendmmsg: enough to amortise the syscall, small enough
  // that the kernel headers built per attempt stay on the stack (64 bytes each).
  static constexpr std::size_t kMaxBatch = 64;

  UdpSocket() noexcept = default;
  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket() = default;  // closes (the handle's destructor)

  // A socket bound to `local` (port 0: a free one, see local_address()). On failure it tests
  // false and error() says why (EINVAL for an empty address, EADDRINUSE, ...).
  static UdpSocket bind(Reactor* reactor, const SocketAddress& local, UdpOptions options = {});
  // The same for an IP literal ("0.0.0.0", "::", "127.0.0.1", "[::1]").
  static UdpSocket bind(Reactor* reactor, const char* ip, int port, UdpOptions options = {});

  // Fixes the peer: send() and recv() then talk to it only, datagrams from anyone else are
  // dropped by the kernel, and ICMP errors from it are reported (see the top). Does not wait.
  // 0, or -1 with errno.
  int connect(const SocketAddress& peer) noexcept;
  // The bound address (the chosen port after binding port 0); empty if closed or unbound.
  SocketAddress local_address() const noexcept;

  // One datagram to `to`: its length, or < 0. Waits only while the send buffer is full.
  AsyncIoAwaiter send_to(const void* buf, std::size_t len, const SocketAddress& to,
                         Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kSendMsg, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.single = iovec{const_cast<void*>(buf), len};
              r.peer = const_cast<SocketAddress*>(&to);  // only read (io_request.h)
            }};
  }
  // The next datagram: its length (0 for an empty one), -EMSGSIZE if cut to `size`, or < 0;
  // `from` is its sender (set even when cut).
  AsyncIoAwaiter recv_from(void* buf, std::size_t size, SocketAddress& from,
                           Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kRecvMsg, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.single = iovec{buf, size};
              r.peer = &from;
            }};
  }
  // send_to and recv_from for a connected socket.
  AsyncIoAwaiter send(const void* buf, std::size_t len, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kSendMsg, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.single = iovec{const_cast<void*>(buf), len};
            }};
  }
  AsyncIoAwaiter recv(void* buf, std::size_t size, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kRecvMsg, io_.ref(), deadline,
            [&](detail::IoRequest& r) { r.single = iovec{buf, size}; }};
  }

  // Receives what is queued, up to min(datagrams.size(), kMaxBatch) datagrams, waiting only
  // if there is none: how many (>= 1; 0 for an empty span), or < 0. Fills each received
  // entry's length, peer and truncated; the rest are left as they were.
  AsyncIoAwaiter recv_many(std::span<Datagram> datagrams, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kRecvMany, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.datagrams = datagrams.data();
              r.datagram_count = datagrams.size();
            }};
  }
  // Sends the first datagrams of the span, each whole, up to kMaxBatch, waiting only while
  // none fits: how many went (>= 1; 0 for an empty span), or < 0 if the first one failed.
  // Send the rest with another call.
  AsyncIoAwaiter send_many(std::span<const Datagram> datagrams, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kSendMany, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.datagrams = const_cast<Datagram*>(datagrams.data());  // only read (io_request.h)
              r.datagram_count = datagrams.size();
            }};
  }

  // fd(), reactor(), is_open(), operator bool, error() — for a socket that tests false, why
  // bind failed — and close(): detail::IoOwner.

 private:
  static UdpSocket failed(int error) noexcept {
    UdpSocket socket;
    socket.error_ = error;
    return socket;
  }
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Datagram;
using tiny_coro::UdpSocket;
#endif
