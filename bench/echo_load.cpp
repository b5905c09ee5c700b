// Load for the TCP echo benchmark: C connections to 127.0.0.1:PORT, each sending a 64-byte
// message and waiting for its echo, N times. Prints requests/s and latency percentiles of
// the round trips. The same client drives every server measured, so the comparison between
// servers is fair even though the client shares the machine's two cores with them.
//
//   echo_load PORT [connections=100] [round_trips_per_connection=2000] [message_bytes=64]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

namespace {

using Clock = std::chrono::steady_clock;
using tiny_coro::AsyncSocket;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;

struct Options {
  int port = 0;
  int connections = 100;
  int round_trips = 2000;
  std::size_t message = 64;
};

// Round-trip times in ns, or empty if the connection failed.
tiny_coro::Task<std::vector<std::int64_t>> client(Scheduler& sched, Options options) {
  std::vector<std::int64_t> rtts;
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", options.port);
  if (!socket) co_return rtts;
  socket.set_nodelay();
  std::vector<char> out(options.message, 'x');
  std::vector<char> in(options.message);
  rtts.reserve(static_cast<std::size_t>(options.round_trips));
  for (int i = 0; i < options.round_trips; ++i) {
    const auto start = Clock::now();
    const ssize_t sent = co_await socket.write(out.data(), out.size());
    if (sent < 0) co_return std::vector<std::int64_t>{};
    for (std::size_t got = 0; got < in.size();) {
      const ssize_t n = co_await socket.read(in.data() + got, in.size() - got);
      if (n <= 0) co_return std::vector<std::int64_t>{};
      got += static_cast<std::size_t>(n);
    }
    rtts.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }
  co_return rtts;
}

tiny_coro::Task<std::vector<std::int64_t>> run(Scheduler& sched, Options options) {
  std::vector<JoinHandle<std::vector<std::int64_t>>> clients;
  for (int c = 0; c < options.connections; ++c)
    clients.push_back(sched.spawn(client(sched, options)));
  std::vector<std::int64_t> all;
  for (auto& c : clients) {
    std::vector<std::int64_t> rtts = co_await std::move(c);
    if (rtts.size() != static_cast<std::size_t>(options.round_trips)) {
      std::fprintf(stderr, "a connection failed\n");
      std::exit(1);
    }
    all.insert(all.end(), rtts.begin(), rtts.end());
  }
  co_return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: echo_load PORT [connections] [round_trips] [message_bytes]\n");
    return 2;
  }
  Options options;
  options.port = std::atoi(argv[1]);
  if (argc > 2) options.connections = std::atoi(argv[2]);
  if (argc > 3) options.round_trips = std::atoi(argv[3]);
  if (argc > 4) options.message = static_cast<std::size_t>(std::atoi(argv[4]));

  Scheduler sched(2);
  const auto start = Clock::now();
  std::vector<std::int64_t> rtts = sched.block_on(run(sched, options));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(rtts.begin(), rtts.end());
  auto percentile = [&](double p) {
    return static_cast<double>(
               rtts[static_cast<std::size_t>(p * static_cast<double>(rtts.size() - 1))]) /
           1000.0;
  };
  std::printf("requests_per_second %.0f\np50_us %.1f\np99_us %.1f\n",
              static_cast<double>(rtts.size()) / seconds, percentile(0.50), percentile(0.99));
  return 0;
}
