// Timeouts and structured concurrency on tiny_coro: a client that bounds a request to a slow
// server with timeout(), races two servers with when_any(), and fetches three things at once
// with when_all(). It starts its own two servers (a prompt one and one that never answers),
// so it runs anywhere:
//
//   timeouts
//
// Protocol of the toy servers: the client sends a name and a newline, the prompt server
// answers "value of NAME\n"; the slow one reads the name and then says nothing.
#define TINY_CORO_NO_GLOBAL_NAMES  // the manual's global `Task` is Task<void>; we need Task<T>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task_group.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>
#include <tiny_coro/when.h>

using namespace std::chrono_literals;
using tiny_coro::AsyncSocket;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using tiny_coro::TcpListener;

// --- the servers ---

Task<void> answer(AsyncSocket client, bool prompt) {
  char name[64];
  const ssize_t n = co_await client.read(name, sizeof name);
  if (n <= 0) co_return;
  if (!prompt) {
    // The slow server: holds the connection until it is cancelled.
    char ignored[1];
    co_await client.read(ignored, sizeof ignored);
    co_return;
  }
  std::string reply = "value of " + std::string(name, static_cast<std::size_t>(n - 1)) + "\n";
  co_await client.write(reply.data(), reply.size());
}

Task<void> serve(tiny_coro::TaskGroup& connections, TcpListener& listener, bool prompt) {
  for (;;) {
    AsyncSocket client = co_await listener.accept();
    if (!client) co_return;
    connections.spawn(answer(std::move(client), prompt));
  }
}

// --- the client ---

// Connects, sends `name`, returns the server's line.
Task<std::string> fetch(Scheduler& sched, int port, std::string name) {
  AsyncSocket conn = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  if (!conn) throw std::runtime_error("connect: " + conn.error().message());
  name += '\n';
  const ssize_t sent = co_await conn.write(name.data(), name.size());
  if (sent < 0) throw std::runtime_error("write failed");
  char line[128];
  const ssize_t n = co_await conn.read(line, sizeof line);
  if (n <= 0) throw std::runtime_error("no answer");
  co_return std::string(line, static_cast<std::size_t>(n - 1));
}

Task<void> client(Scheduler& sched, int prompt_port, int slow_port) {
  // 1. A request to the slow server, bounded: cancelled after 200 ms, then TimedOut.
  try {
    const std::string reply = co_await tiny_coro::timeout(sched, 200ms, fetch(sched, slow_port, "x"));
    std::printf("slow server answered: %s\n", reply.c_str());
  } catch (const tiny_coro::TimedOut&) {
    std::printf("slow server: timed out after 200 ms\n");
  }

  // 2. The same question to both servers; the first answer wins, the other is cancelled.
  auto first = co_await tiny_coro::when_any(fetch(sched, slow_port, "race"),
                                            fetch(sched, prompt_port, "race"));
  std::printf("race won by the %s server: %s\n", first.index() == 0 ? "slow" : "prompt",
              first.index() == 0 ? std::get<0>(first).c_str() : std::get<1>(first).c_str());

  // 3. Three fetches at once; all three values, in order.
  auto [a, b, c] = co_await tiny_coro::when_all(fetch(sched, prompt_port, "a"),
                                                fetch(sched, prompt_port, "b"),
                                                fetch(sched, prompt_port, "c"));
  std::printf("all three: %s, %s, %s\n", a.c_str(), b.c_str(), c.c_str());
}

// Runs both servers and the client; when the client is done, stops the servers and cancels
// the connection the slow server still holds.
Task<void> run(Scheduler& sched) {
  TcpListener prompt_listener(sched.reactor());
  TcpListener slow_listener(sched.reactor());
  if (prompt_listener.bind("127.0.0.1", 0) != 0 || slow_listener.bind("127.0.0.1", 0) != 0) {
    throw std::runtime_error("bind failed");
  }
  tiny_coro::TaskGroup connections(sched);
  tiny_coro::TaskGroup servers(sched);
  servers.spawn(serve(connections, prompt_listener, true));
  servers.spawn(serve(connections, slow_listener, false));
  std::exception_ptr failure;
  try {
    co_await client(sched, prompt_listener.port(), slow_listener.port());
  } catch (...) {
    failure = std::current_exception();
  }
  servers.cancel();      // the accept loops end
  co_await servers.join();
  connections.cancel();  // the slow server's connections end
  co_await connections.join();
  if (failure) std::rethrow_exception(failure);
}

int main() {
  Scheduler sched(2);
  try {
    sched.block_on(run(sched));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timeouts: %s\n", e.what());
    return 1;
  }
  std::printf("done\n");
  return 0;
}
