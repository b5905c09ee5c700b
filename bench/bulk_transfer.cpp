// 1 GiB through one loopback TCP connection: tiny_coro (a sending task and a receiving task
// on 2 workers) against the loopback limit, measured the plain way (two threads, blocking
// send/recv) in the same run. Prints the median MB/s of each over a few repetitions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kTotal = std::size_t{1} << 30;
constexpr std::size_t kChunk = 256 * 1024;
constexpr int kRepetitions = 5;

tiny_coro::Task<std::size_t> receive_all(tiny_coro::TcpListener& listener) {
  tiny_coro::AsyncSocket peer = co_await listener.accept();
  std::vector<char> buf(kChunk);
  std::size_t total = 0;
  for (ssize_t n; (n = co_await peer.read(buf.data(), buf.size())) > 0;)
    total += static_cast<std::size_t>(n);
  co_return total;
}

tiny_coro::Task<std::size_t> send_all(tiny_coro::Scheduler& sched, int port) {
  tiny_coro::AsyncSocket socket =
      co_await tiny_coro::AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  std::vector<char> buf(kChunk, 'b');
  std::size_t sent = 0;
  while (sent < kTotal) {
    const ssize_t written = co_await socket.write(buf.data(), buf.size());
    if (written < 0) break;
    sent += buf.size();
  }
  socket.shutdown(SHUT_WR);
  co_return sent;
}

tiny_coro::Task<std::size_t> transfer(tiny_coro::Scheduler& sched) {
  tiny_coro::TcpListener listener(sched.reactor());
  if (listener.bind("127.0.0.1", 0) != 0) co_return 0;
  auto receiver = sched.spawn(receive_all(listener));
  auto sender = sched.spawn(send_all(sched, listener.port()));
  co_await std::move(sender);
  co_return co_await std::move(receiver);
}

double tiny_coro_mb_s() {
  tiny_coro::Scheduler sched(2);
  const auto start = Clock::now();
  const std::size_t got = sched.block_on(transfer(sched));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (got != kTotal) std::fprintf(stderr, "tiny_coro transfer short: %zu\n", got);
  return static_cast<double>(got) / seconds / 1e6;
}

double blocking_mb_s() {
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listen_fd, 1);
  ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::size_t received = 0;
  const auto start = Clock::now();
  std::thread receiver([&] {
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    std::vector<char> buf(kChunk);
    for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;)
      received += static_cast<std::size_t>(n);
    ::close(fd);
  });
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  std::vector<char> buf(kChunk, 'b');
  for (std::size_t sent = 0; sent < kTotal;) {
    const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  receiver.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::close(listen_fd);
  return static_cast<double>(received) / seconds / 1e6;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main() {
  std::vector<double> ours;
  std::vector<double> limit;
  for (int i = 0; i < kRepetitions; ++i) {  // interleaved, so both see the same machine state
    limit.push_back(blocking_mb_s());
    ours.push_back(tiny_coro_mb_s());
  }
  std::printf("tiny_coro_mb_s %.0f\nblocking_mb_s %.0f\n", median(ours), median(limit));
  return 0;
}
