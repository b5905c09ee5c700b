// Async TCP: TcpListener and AsyncSocket (manual §2), plus client connect and timeouts.
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
// Errors: an operation that fails returns -errno (and also leaves errno set, so perror
// works right after the co_await): -ETIMEDOUT when its timeout passed, -ECANCELED when the
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
// connect leaves no socket. A cancelled write may have sent a prefix of its data, as after a
// timeout: the stream is then only good for closing. To bound an operation in time, wrap it
// in timeout() (timeout.h); set_*_timeout stays for the manual's API.
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
#include <system_error>

#include <tiny_coro/detail/io_request.h>
#include <tiny_coro/detail/readiness_wait.h>
#include <tiny_coro/reactor.h>

namespace tiny_coro {

class AsyncSocket;
class TcpListener;

// co_await socket.read(...): ssize_t — bytes read, 0 at end of stream, < 0 an error.
class [[nodiscard]] AsyncReadAwaiter : public detail::IoAwaiterBase {
 public:
  AsyncReadAwaiter(AsyncSocket& socket, void* buf, std::size_t size) noexcept;
  ssize_t await_resume() { return outcome(); }
};

// co_await socket.write(...): ssize_t — every byte written (the length), or < 0 an error.
// After an error or a timeout, an unknown prefix of the data may have been sent: the stream
// is then only good for closing.
class [[nodiscard]] AsyncWriteAwaiter : public detail::IoAwaiterBase {
 public:
  AsyncWriteAwaiter(AsyncSocket& socket, const iovec* iov, int count) noexcept;
  AsyncWriteAwaiter(AsyncSocket& socket, const void* buf, std::size_t len) noexcept;
  ssize_t await_resume() { return outcome(); }
};

// co_await socket.sendfile(...): ssize_t, as the method says. Generic over any request the
// socket prepared, so an operation whose result is just the ssize_t needs no awaiter class of
// its own; sendfile is its only user now (wait_readable got the smaller AsyncReadableAwaiter).
class [[nodiscard]] AsyncSocketOp : public detail::IoAwaiterBase {
 public:
  explicit AsyncSocketOp(const detail::IoRequest& prepared) noexcept { request_ = prepared; }
  ssize_t await_resume() { return outcome(); }
};

// co_await socket.wait_readable(timeout): 0 once a read may find data or the end of stream,
// or < 0: -ETIMEDOUT, -ECANCELED (closed meanwhile). It waits inline, with no coroutine frame
// of its own and no buffer: this awaiter is all an idle connection's wait costs.
class [[nodiscard]] AsyncReadableAwaiter {
 public:
  // source == nullptr: the socket is not open (the result is -EBADF).
  AsyncReadableAwaiter(Reactor* reactor, detail::IoSource* source, std::uint32_t generation,
                       TimePoint deadline) noexcept;
  AsyncReadableAwaiter(const AsyncReadableAwaiter&) = delete;
  AsyncReadableAwaiter& operator=(const AsyncReadableAwaiter&) = delete;
  ~AsyncReadableAwaiter();
  bool await_ready() noexcept;
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) {
    return suspend(waiting, detail::cancel_state_of(waiting));
  }
  ssize_t await_resume();  // throws TaskCancelled if cancelled while waiting

 private:
  bool suspend(std::coroutine_handle<> waiting, detail::CancelState* cancel_state);

  enum class Stage : std::int8_t { kNoSocket, kMade, kSuspended };
  // Made in the constructor when the socket is open (its tick set by await_ready). A union
  // rather than std::optional: this awaiter is most of an idle connection's memory, and the
  // stage and result fit in one word beside it.
  union {
    detail::ReadinessWait wait_;
  };
  Stage stage_ = Stage::kNoSocket;
  std::int16_t result_ = 0;
};

// co_await listener.accept(): an AsyncSocket; tests false on failure (see error()).
class [[nodiscard]] CoAccept : public detail::IoAwaiterBase {
 public:
  CoAccept(TcpListener& listener, std::chrono::nanoseconds timeout) noexcept;
  AsyncSocket await_resume();

 private:
  TcpListener& listener_;
};

// co_await AsyncSocket::connect(...): a connected AsyncSocket, or one that tests false.
class [[nodiscard]] CoConnect : public detail::IoAwaiterBase {
 public:
  CoConnect(Reactor* reactor, const char* ip, int port, std::chrono::nanoseconds timeout);
  CoConnect(CoConnect&&) = delete;
  ~CoConnect();
  bool await_ready() noexcept;
  AsyncSocket await_resume();

 private:
  std::error_code error_;  // a failure before any waiting (bad address, socket(), ...)
};

class AsyncSocket {
 public:
  AsyncSocket() noexcept = default;
  // Adopts `fd`, a connected stream socket (made non-blocking here), and registers it with
  // `reactor`. Throws std::system_error if the reactor refuses it (the fd is closed then).
  AsyncSocket(Reactor* reactor, int fd);
  AsyncSocket(AsyncSocket&& other) noexcept;
  AsyncSocket& operator=(AsyncSocket&& other) noexcept;
  AsyncSocket(const AsyncSocket&) = delete;
  AsyncSocket& operator=(const AsyncSocket&) = delete;
  ~AsyncSocket() { close(); }

  // A client connection to ip:port (IPv4 or IPv6 literal). timeout 0: none.
  static CoConnect connect(Reactor* reactor, const char* ip, int port,
                           std::chrono::nanoseconds timeout = {}) {
    return CoConnect(reactor, ip, port, timeout);
  }

  AsyncReadAwaiter read(void* buf, std::size_t size) noexcept { return {*this, buf, size}; }
  AsyncWriteAwaiter write(const void* buf, std::size_t len) noexcept { return {*this, buf, len}; }
  // The string must outlive the co_await (a temporary in the co_await expression does).
  AsyncWriteAwaiter write(const std::string& s) noexcept { return {*this, s.data(), s.size()}; }
  // Scatter write (e.g. header + body in one syscall); writes every byte of every entry.
  AsyncWriteAwaiter writev(const iovec* iov, int count) noexcept { return {*this, iov, count}; }
  // Sends `count` bytes of the file `file_fd` from `offset` (sendfile: no copy through user
  // space), under the write timeout. ssize_t: count, or < 0 an error (-EIO if the file ended
  // first).
  AsyncSocketOp sendfile(int file_fd, off_t offset, std::size_t count) noexcept;
  // Resumes once a read may find data or the end of stream: 0, or < 0 an error (-ETIMEDOUT
  // after `timeout`, 0: none). Holds no buffer while it waits, so an idle connection costs
  // no buffer memory. It may resume with nothing to read; try_read() then says -EAGAIN.
  AsyncReadableAwaiter wait_readable(std::chrono::nanoseconds timeout = {}) noexcept;
  // The same until an absolute deadline (TimePoint::max(): none).
  AsyncReadableAwaiter wait_readable_until(TimePoint deadline) noexcept;
  // A read that never waits: bytes, 0 at end of stream, -EAGAIN when nothing is there yet,
  // or < 0 another error.
  ssize_t try_read(void* buf, std::size_t size) noexcept;

  int fd() const noexcept { return fd_; }
  Reactor* reactor() const noexcept { return reactor_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return is_open(); }
  // For a socket that tests false: why the accept or connect that made it failed.
  std::error_code error() const noexcept {
    return error_ == 0 ? std::error_code() : std::error_code(error_, std::system_category());
  }

  // Timeouts for each later read / write (0: none); an expired one returns -ETIMEDOUT.
  void set_read_timeout(std::chrono::nanoseconds timeout) noexcept { read_timeout_ = timeout; }
  void set_write_timeout(std::chrono::nanoseconds timeout) noexcept { write_timeout_ = timeout; }
  // TCP_NODELAY: send small writes at once (no Nagle delay). 0, or -1 with errno.
  int set_nodelay(bool on = true) noexcept;
  // SHUT_WR (half-close: the peer reads end of stream), SHUT_RD or SHUT_RDWR. 0, or -1.
  int shutdown(int how = SHUT_WR) noexcept;
  // Closes now; pending operations return -ECANCELED. Idempotent.
  void close() noexcept;

 private:
  friend class AsyncReadAwaiter;
  friend class AsyncWriteAwaiter;
  friend class CoConnect;
  friend class CoAccept;
  friend class TcpListener;

  static AsyncSocket failed(std::error_code error) noexcept {
    AsyncSocket socket;
    socket.error_ = error.value();  // always an errno (std::system_category)
    return socket;
  }
  // Adopts a non-blocking fd (registering it); throws like the public constructor. `tcp`:
  // a TCP stream, for which a short read means the receive queue is empty.
  void adopt(Reactor* reactor, int fd, bool tcp);
  void prepare(detail::IoRequest& request, std::chrono::nanoseconds timeout) noexcept;

  Reactor* reactor_ = nullptr;
  detail::IoSource* source_ = nullptr;
  std::uint32_t generation_ = 0;  // source_'s while this socket owns it
  int fd_ = -1;
  std::chrono::nanoseconds read_timeout_{0};
  std::chrono::nanoseconds write_timeout_{0};
  int error_ = 0;  // errno of the accept/connect that failed; 0: none (a word, not an
                   // error_code: an idle connection's frame holds this socket)
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
  ~TcpListener() { close(); }

  // socket, SO_REUSEADDR (+ SO_REUSEPORT if asked), bind, listen. ip: an IPv4 or IPv6
  // literal ("0.0.0.0", "::", "127.0.0.1"); port 0 picks a free one (see port()).
  // 0 on success; -1 with errno kept on failure.
  int bind(const char* ip, int port, ListenOptions options = {});
  // The bound port (after bind with port 0 too); -1 before a successful bind.
  int port() const noexcept;

  // Waits for the next connection. Out of file descriptors (EMFILE, ENFILE) or memory, it
  // backs off — 5 ms doubling to 1 s, no busy loop — and keeps trying; the connection
  // waits in the kernel's backlog meanwhile. timeout 0: none.
  CoAccept accept(std::chrono::nanoseconds timeout = {}) noexcept { return {*this, timeout}; }

  int fd() const noexcept { return fd_; }
  // Closes the listening socket; a pending accept returns a socket with ECANCELED.
  void close() noexcept;

 private:
  friend class CoAccept;

  Reactor* reactor_;
  detail::IoSource* source_ = nullptr;
  std::uint32_t generation_ = 0;
  int fd_ = -1;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::AsyncSocket;
using tiny_coro::TcpListener;
#endif
