// Unix-domain stream sockets: UnixListener, and AsyncSocket::connect_unix (socket.h). The
// sockets they make are the same AsyncSocket as TCP's — read, write, sendfile, deadlines,
// cancellation, close — so anything that serves an AsyncSocket (HttpServer) serves these.
//
//   UnixListener listener(sched.reactor());
//   if (listener.bind("/run/app.sock") < 0) perror("bind");     // or "@app": abstract name
//   AsyncSocket client = co_await listener.accept();
//
//   AsyncSocket conn = co_await AsyncSocket::connect_unix(sched.reactor(), "/run/app.sock");
//   if (!conn) std::cerr << conn.error().message();
//
// Names: a path makes a socket file; "@name" names a socket in Linux's abstract namespace,
// which has no file (nothing to clean up, nothing in the file system's permissions guards
// it) and vanishes with its listener. A name must fit sun_path: 107 bytes, '@' included.
//
// Socket files: bind() never removes a file it did not make: an existing path is EADDRINUSE,
// unless UnixListenOptions::replace_stale asks it to replace a socket file that nobody listens
// on any more (a crashed server's). The listener removes the file it made when it is closed
// or destroyed — if that file is still its own (not replaced meanwhile).
//
// Errors: bind returns -1 with errno: ENAMETOOLONG (the name does not fit), EINVAL (empty, or
// a path with a NUL byte), EADDRINUSE, and whatever socket/bind/listen say (EACCES,
// ENOENT for a missing directory). connect_unix's socket tests false with error(): ENOENT
// (no such file), ECONNREFUSED (nobody listens), EAGAIN (the listener's backlog is full:
// Linux refuses such a connect at once rather than queueing it, so a Unix connect never waits).
//
// Cancellation and closing: as socket.h says for TCP. A pending accept is a cancellation
// point and a cancelled one took no connection; close() wakes it with ECANCELED. Unlike a TCP
// listener's, a Unix listener's accept is not ended by ::shutdown(fd()) — Linux wakes it, but
// accept then says EAGAIN and it waits on — so to stop an accept loop running on another
// thread, cancel its task (examples/unix_echo.cpp).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include <tiny_coro/deadline.h>
#include <tiny_coro/detail/io_handle.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/socket.h>

namespace tiny_coro {

struct UnixListenOptions {
  // An existing socket file at the path is replaced if a connect to it is refused (its
  // listener is gone). A file that is not a socket, or one somebody still listens on, is
  // left alone (EADDRINUSE). The check and the replacement are two steps: two servers
  // starting at once on one path must not both ask for it.
  bool replace_stale = false;
  int backlog = 1024;
};

class UnixListener {
 public:
  explicit UnixListener(Reactor* reactor) noexcept : reactor_(reactor) {}
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  ~UnixListener() { close(); }  // removes the socket file it made, as close() does

  // socket, bind, listen. `path`: a file system path, or "@name" (abstract namespace).
  // 0 on success; -1 with errno kept on failure (see the top of this file).
  int bind(std::string_view path, UnixListenOptions options = {});
  // The name as bound ("@name" for an abstract one); empty before a successful bind
  // and after close().
  const std::string& path() const noexcept { return path_; }

  // Waits for the next connection; as TcpListener::accept (socket.h), backoff included.
  AsyncAcceptAwaiter accept(Deadline deadline = {}) noexcept {
    return {io_.ref(), AF_UNIX, deadline};
  }

  int fd() const noexcept { return io_.fd(); }
  // Closes the listening socket — a pending accept returns a socket with ECANCELED — and
  // removes the socket file bind() made, if that is still there. Idempotent.
  void close() noexcept;

 private:
  Reactor* reactor_;
  detail::IoHandle io_;
  std::string path_;
  // The socket file bind() made (a path, not an abstract name): close() removes the file at
  // path_ only if it is still this one, never one another process put there since.
  bool made_file_ = false;
  dev_t file_device_ = 0;
  ino_t file_inode_ = 0;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::UnixListener;
#endif
