// A UDP echo server and its client in one process: the server answers each datagram with
// itself, the client sends five messages and prints what comes back.
//
//   udp_echo
//
// UDP may drop a datagram (not on loopback, but the client is written for a real network):
// each request is resent if its echo does not come within 500 ms, three times at most.
#define TINY_CORO_NO_GLOBAL_NAMES  // the manual's global `Task` is Task<void>; we need Task<T>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <tiny_coro/address.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/udp.h>

using namespace std::chrono_literals;
using tiny_coro::Scheduler;
using tiny_coro::SocketAddress;
using tiny_coro::Task;
using tiny_coro::UdpSocket;

// Echoes until its task is cancelled (its pending recv_from then throws TaskCancelled).
Task<void> serve(UdpSocket& socket) {
  char buf[2048];
  SocketAddress from;
  for (;;) {
    const ssize_t n = co_await socket.recv_from(buf, sizeof buf, from);
    if (n == -EMSGSIZE) continue;  // longer than any request: not ours to echo cut
    if (n < 0) co_return;
    co_await socket.send_to(buf, static_cast<std::size_t>(n), from);
  }
}

// One request and its echo, resent on silence.
Task<std::string> ask(UdpSocket& socket, const std::string& message) {
  char buf[2048];
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (co_await socket.send(message.data(), message.size()) < 0) break;
    const ssize_t n = co_await socket.recv(buf, sizeof buf, 500ms);
    if (n == -ETIMEDOUT) continue;
    if (n < 0) break;
    co_return std::string(buf, static_cast<std::size_t>(n));
  }
  throw std::runtime_error("no echo for \"" + message + "\": " + std::strerror(errno));
}

Task<void> client(Scheduler& sched, const SocketAddress& server) {
  UdpSocket socket = UdpSocket::bind(sched.reactor(), "127.0.0.1", 0);
  if (!socket || socket.connect(server) != 0) throw std::runtime_error("client socket");
  for (int i = 1; i <= 5; ++i) {
    const std::string echo = co_await ask(socket, "message " + std::to_string(i));
    std::printf("echo: %s\n", echo.c_str());
  }
}

Task<void> run(Scheduler& sched) {
  UdpSocket server = UdpSocket::bind(sched.reactor(), "127.0.0.1", 0);
  if (!server) throw std::runtime_error("bind: " + server.error().message());
  auto serving = sched.spawn(serve(server));
  std::exception_ptr failure;
  try {
    co_await client(sched, server.local_address());
  } catch (...) {
    failure = std::current_exception();
  }
  // Cancelled, not closed under it: a close from this task could race the server's task
  // starting its next recv_from on the same socket.
  serving.cancel();
  try {
    co_await std::move(serving);
  } catch (const tiny_coro::TaskCancelled&) {
  }
  if (failure) std::rethrow_exception(failure);
}

int main() {
  Scheduler sched(2);
  try {
    sched.block_on(run(sched));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "udp_echo: %s\n", e.what());
    return 1;
  }
  std::printf("done\n");
  return 0;
}
