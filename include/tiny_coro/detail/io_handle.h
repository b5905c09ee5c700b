// IoHandle: the one owner of a descriptor registered with the reactor — the fd, its IoSource
// (src/io/io_source.h) and the source's generation — which AsyncSocket, TcpListener and a
// connect in progress all hold. IoRef is the copy of it that an operation in flight keeps.
//
// Why an operation copies instead of pointing at its socket: another task may close the
// socket (or move it) while the operation waits. The copy stays valid, and its generation
// tells it the socket is gone: detach() bumps the source's generation, so a retry after a
// close sees the mismatch and fails with -ECANCELED instead of touching a closed, perhaps
// already reused, descriptor.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

#include <tiny_coro/reactor.h>

namespace tiny_coro::detail {

struct IoSource;

struct IoRef {
  Reactor* reactor = nullptr;
  IoSource* source = nullptr;
  std::uint32_t generation = 0;  // the source's when the handle registered the fd
  int fd = -1;

  bool is_open() const noexcept { return source != nullptr; }

  // Runs one attempt (a syscall on `fd`) bracketed with the reactor, so that a close racing it
  // from another task defers the ::close and the slot's release until it ends. Asio holds its
  // descriptor mutex around a speculative attempt for the same reason. -ECANCELED, without
  // running it, if the socket was closed already.
  template <class Attempt>
  ssize_t bracketed(Attempt&& attempt) const noexcept {
    if (!reactor->begin_operation(*source, generation)) return -ECANCELED;
    const ssize_t result = attempt();
    reactor->end_operation(*source);
    return result;
  }
};

class IoHandle {
 public:
  IoHandle() noexcept = default;
  // Registers `fd` (non-blocking already) with `reactor`, edge-triggered, both directions.
  // `tcp`: a TCP stream, where a short read means the receive queue is empty (io_source.h's
  // shortcut). If the reactor refuses the fd, closes it and throws std::system_error.
  IoHandle(Reactor& reactor, int fd, bool tcp);
  IoHandle(IoHandle&& other) noexcept;
  IoHandle& operator=(IoHandle&& other) noexcept;
  IoHandle(const IoHandle&) = delete;
  IoHandle& operator=(const IoHandle&) = delete;
  ~IoHandle() { close(); }

  // Wakes pending operations with -ECANCELED and closes the fd (once the last retry in flight
  // ends). Idempotent; the reactor is kept, so a closed socket still names its clock.
  void close() noexcept;

  const IoRef& ref() const noexcept { return ref_; }
  int fd() const noexcept { return ref_.fd; }
  Reactor* reactor() const noexcept { return ref_.reactor; }
  bool is_open() const noexcept { return ref_.fd >= 0; }

 private:
  IoRef ref_;
};

// What each object owning a registered descriptor shows its user (AsyncSocket, UdpSocket,
// SignalSet): the descriptor, whether it is open, and — for one that tests false — the errno
// of the call that failed to make it.
class IoOwner {
 public:
  int fd() const noexcept { return io_.fd(); }
  Reactor* reactor() const noexcept { return io_.reactor(); }
  bool is_open() const noexcept { return io_.is_open(); }
  explicit operator bool() const noexcept { return is_open(); }
  // For one that tests false: why it could not be made (bind, accept, connect, signalfd...).
  std::error_code error() const noexcept {
    return error_ == 0 ? std::error_code() : std::error_code(error_, std::system_category());
  }
  // Closes now; pending operations return -ECANCELED. Idempotent.
  void close() noexcept { io_.close(); }

 protected:
  IoOwner() noexcept = default;
  explicit IoOwner(IoHandle io) noexcept : io_(std::move(io)) {}
  IoOwner(IoOwner&&) noexcept = default;
  IoOwner& operator=(IoOwner&&) noexcept = default;
  ~IoOwner() = default;  // closes (the handle's destructor)

  IoHandle io_;
  int error_ = 0;  // errno of the call that failed; 0: none (a word, not an error_code: an
                   // idle connection's frame holds a socket)
};

}  // namespace tiny_coro::detail
