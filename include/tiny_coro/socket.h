// Async TCP: TcpListener and AsyncSocket (manual §2), plus client connect and deadlines.
//
//   TcpListener listener(sched.reactor());
//   if (listener.bind("0.0.0.0", 8080) < 0) perror("bind");   // port 0: listener.port()
//   AsyncSocket client = co_await listener.accept();
//   ssize_t n = co_await client.read(buf, sizeof buf);          // bytes, 0 at EOF, < 0 error
//   co_await client.write(buf, n);                               // all n bytes, or < 0
//
//   AsyncSocket conn = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", 8080);
//   if (!conn) std::cerr << conn.error().message();
//
// Unix-domain stream sockets are AsyncSockets too: UnixListener and connect_unix
// (unix_socket.h).
//
// Errors: an operation that fails returns -errno (and also leaves errno set, so perror
// works right after the co_await): -ETIMEDOUT when its deadline passed, -ECANCELED when the
// socket was closed while it waited, -ECONNRESET / -EPIPE for a peer that went away — never
// a SIGPIPE. accept() and connect() return a socket that tests false, with error() saying why.
//
// Concurrency: one read and one write may be in flight on a socket at once (from different
// tasks). Buffers (and a writev's iovec array) must stay valid until the co_await returns.
// Closing a socket — close() or the destructor — wakes its pending operations with
// -ECANCELED. A socket must not outlive its Scheduler.
//
// Cancellation (cancel.h): every operation that waits is a cancellation point; a cancelled
// task's co_await throws TaskCancelled. Cancel safety: the cancel lands only while the
// operation waits for readiness, before its next attempt, so a cancelled read or accept has
// consumed nothing (the bytes, the connection, are there for the next one) and a cancelled
// connect leaves no socket. A write (or sendfile) cancelled after part of its data went out
// throws WriteCancelled, a TaskCancelled that says how many bytes did: no byte of the stream
// is unaccounted for. (A write that times out after a prefix returns -ETIMEDOUT; the stream is
// then only good for closing.) To bound an operation in time, give it a
// Deadline (deadline.h); to bound several at once, wrap them in timeout() (timeout.h).
//
// How: each socket is registered with the reactor once, edge-triggered, for both directions;
// every operation tries its syscall first and waits for a readiness edge only on EAGAIN
// (src/io/io_source.h). A task that keeps finding its sockets ready yields every 128
// operations, so it cannot starve the other tasks on its worker (detail/coop.h).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include <tiny_coro/address.h>
#include <tiny_coro/deadline.h>
#include <tiny_coro/detail/io_handle.h>
#include <tiny_coro/detail/io_request.h>
#include <tiny_coro/detail/readiness_wait.h>
#include <tiny_coro/reactor.h>

namespace tiny_coro {

class AsyncSocket;
class TcpListener;

// Every socket operation's awaiter has one shape (detail::IoAwaiterBase): the operation's
// request filled in place, a speculative attempt, a slow path only if that would block. They
// differ only in what the result becomes. wait_readable is the one exception, and why is
// said at AsyncReadableAwaiter.

// co_await on read, write, writev, sendfile (and on every UdpSocket operation, whose results
// udp.h gives): ssize_t. read: bytes, 0 at end of stream.
// write, writev, sendfile: every byte (the length). < 0: an error. After a failed or timed
// out write or sendfile an unknown prefix of the data may have been sent: the stream is
// then only good for closing.
class [[nodiscard]] AsyncIoAwaiter : public detail::IoAwaiterBase {
 public:
  template <class Fill>  // Fill(detail::IoRequest&): the operation's own fields
  AsyncIoAwaiter(detail::IoRequest::Kind kind, const detail::IoRef& io, Deadline deadline,
                 Fill&& fill) noexcept
      : IoAwaiterBase(kind, io, deadline, fill) {}
  ssize_t await_resume() { return outcome(); }
};

// co_await listener.accept(): an AsyncSocket; tests false on failure (see error()).
class [[nodiscard]] AsyncAcceptAwaiter : public detail::IoAwaiterBase {
 public:
  // `family`: the listener's address family (AF_INET, AF_INET6, AF_UNIX), which its
  // connections share; it decides whether they may take TCP's short-read shortcut.
  AsyncAcceptAwaiter(const detail::IoRef& listener, int family, Deadline deadline) noexcept
      : IoAwaiterBase(detail::IoRequest::Kind::kAccept, listener, deadline), family_(family) {}
  AsyncSocket await_resume();

 private:
  int family_;
};
// The manual's name for it.
using CoAccept = AsyncAcceptAwaiter;

// co_await AsyncSocket::connect(...): a connected AsyncSocket, or one that tests false. The
// socket being connected is owned here until it is handed out, so a connect abandoned
// (cancelled, timed out, its frame destroyed) leaves no descriptor behind.
class [[nodiscard]] AsyncConnectAwaiter : public detail::IoAwaiterBase {
 public:
  // A stream socket of the address's family, connecting to the first `length` bytes of
  // `address`. The kernel has taken the address once this returns: it need not outlive the
  // awaiter.
  AsyncConnectAwaiter(Reactor* reactor, const sockaddr* address, socklen_t length,
                      Deadline deadline);
  AsyncConnectAwaiter(Reactor* reactor, const char* ip, int port, Deadline deadline);
  // One that fails at once with `error` (an address that could not be made, say).
  explicit AsyncConnectAwaiter(std::error_code error) noexcept;
  AsyncConnectAwaiter(AsyncConnectAwaiter&&) = delete;
  ~AsyncConnectAwaiter();
  bool await_ready() noexcept;
  AsyncSocket await_resume();

 private:
  void start(Reactor* reactor, const sockaddr* address, socklen_t length);

  detail::IoHandle connecting_;
  std::error_code error_;  // a failure before any waiting (bad address, socket(), ...)
};

// co_await socket.wait_readable(deadline): 0 once a read may find data or the end of stream,
// or < 0: -ETIMEDOUT, -ECANCELED (closed meanwhile). The same speculative look and the same
// readiness wait as the others, but inline: it needs no retry loop (one edge is its whole
// answer), so it needs no slow-path coroutine, and holds no buffer. An idle keep-alive
// connection waits in this awaiter, which is most of what the connection costs.
class [[nodiscard]] AsyncReadableAwaiter {
 public:
  const char* await_kind() const noexcept { return "readable"; }  // dump_tasks()
  AsyncReadableAwaiter(const detail::IoRef& io, Deadline deadline) noexcept;
  AsyncReadableAwaiter(const AsyncReadableAwaiter&) = delete;
  AsyncReadableAwaiter& operator=(const AsyncReadableAwaiter&) = delete;
  bool await_ready() noexcept;
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) {
    return wait_.suspend(waiting, detail::cancel_state_of(waiting));
  }
  ssize_t await_resume();  // throws TaskCancelled if cancelled while waiting

 private:
  // The whole awaiter: an answer found without suspending (nothing to wait on, an edge
  // already there, closed) is settled into the wait, so the result needs no field of its own.
  detail::ReadinessWait wait_;
};

// Deadlines: every operation that can wait takes a Deadline (deadline.h) — a duration from
// when it first waits, or a TimePoint on the reactor's clock; none by default. It returns
// -ETIMEDOUT once that passes. To bound several operations together, or anything else, wrap
// them in timeout() (timeout.h).
class AsyncSocket : public detail::IoOwner {
 public:
  AsyncSocket() noexcept = default;
  // Adopts `fd`, a connected stream socket (made non-blocking here), and registers it with
  // `reactor`. Throws std::system_error if the reactor refuses it (the fd is closed then).
  AsyncSocket(Reactor* reactor, int fd);
  AsyncSocket(AsyncSocket&& other) noexcept = default;
  AsyncSocket& operator=(AsyncSocket&& other) noexcept = default;
  AsyncSocket(const AsyncSocket&) = delete;
  AsyncSocket& operator=(const AsyncSocket&) = delete;
  ~AsyncSocket() = default;  // closes (the handle's destructor)

  // A client connection to ip:port (IPv4 or IPv6 literal).
  static AsyncConnectAwaiter connect(Reactor* reactor, const char* ip, int port,
                                     Deadline deadline = {}) {
    return AsyncConnectAwaiter(reactor, ip, port, deadline);
  }
  // A client connection to `address` (one that resolve() found, say; by host name with
  // Happy Eyeballs: connect_host in resolve.h).
  static AsyncConnectAwaiter connect(Reactor* reactor, const SocketAddress& address,
                                     Deadline deadline = {}) {
    return AsyncConnectAwaiter(reactor, address.data(), address.size(), deadline);
  }
  // A client connection to a Unix-domain stream socket: a path, or "@name" for a name in
  // Linux's abstract namespace (unix_socket.h). Fails with ENOENT (no such path),
  // ECONNREFUSED (nobody listens there), ENAMETOOLONG, or EAGAIN: Linux refuses at once,
  // rather than queueing, a connect to a listener whose backlog is full, so a Unix connect
  // never waits and its deadline never fires.
  static AsyncConnectAwaiter connect_unix(Reactor* reactor, std::string_view path,
                                          Deadline deadline = {});

  AsyncIoAwaiter read(void* buf, std::size_t size, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kRead, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.single = iovec{buf, size};
            }};
  }
  AsyncIoAwaiter write(const void* buf, std::size_t len, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kWrite, io_.ref(), deadline,
            [&](detail::IoRequest& r) { detail::prepare_write(r, buf, len); }};
  }
  // The string must outlive the co_await (a temporary in the co_await expression does).
  AsyncIoAwaiter write(const std::string& s, Deadline deadline = {}) noexcept {
    return write(s.data(), s.size(), deadline);
  }
  // Scatter write (e.g. header + body in one syscall); writes every byte of every entry.
  AsyncIoAwaiter writev(const iovec* iov, int count, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kWrite, io_.ref(), deadline,
            [&](detail::IoRequest& r) { detail::prepare_writev(r, iov, count); }};
  }
  // Sends `count` bytes of the file `file_fd` from `offset` (sendfile: no copy through user
  // space). ssize_t: count, or < 0 an error (-EIO if the file ended first).
  AsyncIoAwaiter sendfile(int file_fd, off_t offset, std::size_t count,
                          Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kSendfile, io_.ref(), deadline, [&](detail::IoRequest& r) {
              r.file_fd = file_fd;
              r.file_offset = offset;
              r.file_count = count;
            }};
  }
  // The bytes of `head` (an array of `head_count` entries), then `count` bytes of the file: as
  // one operation whose head is sent with MSG_MORE, so it leaves in one packet with the
  // file's first bytes (an HTTP response head and its body). ssize_t: every byte of both.
  AsyncIoAwaiter sendfile(const iovec* head, int head_count, int file_fd, off_t offset,
                          std::size_t count, Deadline deadline = {}) noexcept {
    return {detail::IoRequest::Kind::kSendfile, io_.ref(), deadline, [&](detail::IoRequest& r) {
              detail::prepare_writev(r, head, head_count);
              r.file_fd = file_fd;
              r.file_offset = offset;
              r.file_count = count;
            }};
  }
  // Resumes once a read may find data or the end of stream: 0, or < 0 an error. Holds no
  // buffer while it waits, so an idle connection costs no buffer memory. It may resume with
  // nothing to read; try_read() then says -EAGAIN.
  AsyncReadableAwaiter wait_readable(Deadline deadline = {}) noexcept {
    return AsyncReadableAwaiter(io_.ref(), deadline);
  }
  // A read that never waits: bytes, 0 at end of stream, -EAGAIN when nothing is there yet,
  // or < 0 another error.
  ssize_t try_read(void* buf, std::size_t size) noexcept;
  // For reading this socket by other means (splice(2) on the blocking pool: HTTP uploads):
  // how many read-readiness edges it has had so far, and a wait until it has had one after
  // `edges` was taken — at once if one came meanwhile. 0, or < 0: -ETIMEDOUT, -ECANCELED
  // (closed meanwhile), -EBADF. Take the count before the reads that found nothing, as a
  // wait for the next edge after them would miss one that came during them.
  std::uint32_t read_edges() const noexcept;
  Task<ssize_t> wait_read_edge_after(std::uint32_t edges, Deadline deadline = {});

  // fd(), reactor(), is_open(), operator bool, error() — for a socket that tests false, why
  // the accept or connect that made it failed — and close(): detail::IoOwner.

  // TCP_NODELAY: send small writes at once (no Nagle delay). 0, or -1 with errno.
  int set_nodelay(bool on = true) noexcept;
  // SHUT_WR (half-close: the peer reads end of stream), SHUT_RD or SHUT_RDWR. 0, or -1.
  int shutdown(int how = SHUT_WR) noexcept;

 private:
  friend class AsyncAcceptAwaiter;
  friend class AsyncConnectAwaiter;

  explicit AsyncSocket(detail::IoHandle io) noexcept : IoOwner(std::move(io)) {}
  static AsyncSocket failed(std::error_code error) noexcept {
    AsyncSocket socket;
    socket.error_ = error.value();  // always an errno (std::system_category)
    return socket;
  }
};

struct ListenOptions {
  bool reuse_port = false;  // SO_REUSEPORT: several listeners (processes) share the port
  int backlog = 1024;
};

class TcpListener {
 public:
  explicit TcpListener(Reactor* reactor) noexcept : reactor_(reactor) {}
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // socket, SO_REUSEADDR (+ SO_REUSEPORT if asked), bind, listen. ip: an IPv4 or IPv6
  // literal ("0.0.0.0", "::", "127.0.0.1"); port 0 picks a free one (see port()).
  // 0 on success; -1 with errno kept on failure.
  int bind(const char* ip, int port, ListenOptions options = {});
  // The bound port (after bind with port 0 too); -1 before a successful bind.
  int port() const noexcept;

  // Waits for the next connection. Out of file descriptors (EMFILE, ENFILE) or memory, it
  // backs off — 5 ms doubling to 1 s, no busy loop — and keeps trying; the connection
  // waits in the kernel's backlog meanwhile.
  AsyncAcceptAwaiter accept(Deadline deadline = {}) noexcept {
    return {io_.ref(), family_, deadline};
  }

  int fd() const noexcept { return io_.fd(); }
  // Closes the listening socket; a pending accept returns a socket with ECANCELED.
  void close() noexcept { io_.close(); }

 private:
  Reactor* reactor_;
  detail::IoHandle io_;
  int family_ = AF_UNSPEC;  // the bound address's
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::AsyncSocket;
using tiny_coro::TcpListener;
#endif
