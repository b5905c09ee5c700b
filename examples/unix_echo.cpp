// A Unix-domain echo server and its client in one process: the client sends three lines over
// the socket and prints each echo as it comes back.
//
//   unix_echo [name]    a socket file path, or "@name" for Linux's abstract namespace;
//                       default: a fresh socket file in /tmp
//
// Prints "listening on NAME", then "echo: LINE" three times and "done". The listener removes
// the socket file it made when it is destroyed, so nothing is left behind.
#define TINY_CORO_NO_GLOBAL_NAMES  // the manual's global `Task` is Task<void>; we need Task<T>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/unix_socket.h>

using tiny_coro::AsyncSocket;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using tiny_coro::UnixListener;

Task<void> echo(AsyncSocket client) {
  std::vector<char> buf(16 * 1024);
  for (;;) {
    const ssize_t n = co_await client.read(buf.data(), buf.size());
    if (n <= 0) co_return;  // the client is done (0) or gone (< 0)
    if (co_await client.write(buf.data(), static_cast<std::size_t>(n)) < 0) co_return;
  }
}

Task<void> serve(Scheduler& sched, UnixListener& listener) {
  for (;;) {
    AsyncSocket client = co_await listener.accept();
    if (!client) co_return;  // the listener was shut down
    sched.spawn(echo(std::move(client)));
  }
}

// The same socket calls as a TCP client's; only the connect differs.
Task<bool> client(Scheduler& sched, std::string name) {
  AsyncSocket socket = co_await AsyncSocket::connect_unix(sched.reactor(), name);
  if (!socket) {
    std::fprintf(stderr, "connect: %s\n", socket.error().message().c_str());
    co_return false;
  }
  for (const char* line : {"hello", "over a", "unix socket"}) {
    const std::string message = std::string(line) + "\n";
    if (co_await socket.write(message) < 0) co_return false;
    std::string back;  // a stream: the echo may come back in pieces
    char buf[256];
    while (back.size() < message.size()) {
      const ssize_t n = co_await socket.read(buf, sizeof buf);
      if (n <= 0) co_return false;
      back.append(buf, static_cast<std::size_t>(n));
    }
    std::printf("echo: %s", back.c_str());
  }
  co_return true;
}

// Waits for the server to end: cancelled, it unwinds out of its pending accept.
Task<void> join(tiny_coro::JoinHandle<void> server) {
  try {
    co_await std::move(server);
  } catch (const tiny_coro::TaskCancelled&) {
  }
}

int main(int argc, char** argv) {
  const std::string name =
      argc > 1 ? argv[1] : "/tmp/unix_echo-" + std::to_string(::getpid()) + ".sock";

  Scheduler sched(2);
  UnixListener listener(sched.reactor());
  if (listener.bind(name) != 0) {
    std::perror("bind");
    return 1;
  }
  std::printf("listening on %s\n", listener.path().c_str());
  std::fflush(stdout);
  auto server = sched.spawn(serve(sched, listener));

  const bool ok = sched.block_on(client(sched, name));
  // Cancelling the server ends its accept loop without touching the listener, which that
  // task uses on another thread; once it has ended, the listener's destructor closes the
  // socket and removes the file.
  server.cancel();
  sched.block_on(join(std::move(server)));
  std::printf("%s\n", ok ? "done" : "failed");
  return ok ? 0 : 1;
}
