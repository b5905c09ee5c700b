// Load for the UDP echo benchmark: C clients (each its own connected socket, so the server
// sees C peers) send B-byte datagrams to 127.0.0.1:PORT and keep K of them in flight: each
// echo that comes back sends one more. Counts the echoes received over a fixed time after a
// warm-up and prints one JSON line. A client that hears nothing for 200 ms takes its
// datagrams as lost and starts K new ones (counted as "restarts"), so a drop costs the
// measurement a little time, not the client.
//
// Bare epoll + recvmmsg/sendmmsg, no runtime, so that the same cost of load drives every
// server measured.
//
//   udp_load PORT [clients=100] [seconds=5] [bytes=64] [in_flight=4] [threads=1] [warmup=1]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  int clients = 100;
  double seconds = 5;
  std::size_t bytes = 64;
  int in_flight = 4;
  int threads = 1;
  double warmup = 1;
};

struct Client {
  int fd = -1;
  int in_flight = 0;
  Clock::time_point last_heard;
};

struct Counts {
  std::uint64_t received = 0;  // echoes within the measured window
  std::uint64_t restarts = 0;
};

constexpr unsigned kBatch = 16;

// Sends `count` datagrams on a connected socket in one sendmmsg: how many went.
int send_some(int fd, const std::vector<char>& payload, int count) {
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  int sent = 0;
  while (sent < count) {
    const unsigned now = static_cast<unsigned>(std::min<int>(count - sent, kBatch));
    for (unsigned i = 0; i < now; ++i) {
      iov[i] = iovec{const_cast<char*>(payload.data()), payload.size()};
      messages[i].msg_hdr = msghdr{};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::sendmmsg(fd, messages.data(), now, MSG_DONTWAIT);
    if (n <= 0) break;
    sent += n;
  }
  return sent;
}

// Every echo waiting on `fd`: how many.
int receive_all(int fd, std::vector<char>& buffer) {
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  int total = 0;
  for (;;) {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = iovec{buffer.data(), buffer.size()};  // contents unread: one buffer for all
      messages[i].msg_hdr = msghdr{};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return total;
    total += n;
  }
}

Counts drive(const Options& options, int count, Clock::time_point start,
             Clock::time_point stop) {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(options.port));
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  const std::vector<char> payload(options.bytes, 'u');
  std::vector<char> buffer(2048);
  std::vector<Client> clients(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    Client& c = clients[i];
    c.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      std::perror("client socket");
      std::exit(1);
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event);
    c.in_flight = send_some(c.fd, payload, options.in_flight);
    c.last_heard = Clock::now();
  }
  Counts counts;
  std::array<epoll_event, 256> events{};
  auto next_check = Clock::now() + std::chrono::milliseconds(100);
  for (;;) {
    const int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 10);
    const auto now = Clock::now();
    if (now >= stop) break;
    const bool measuring = now >= start;
    for (int e = 0; e < ready; ++e) {
      Client& c = clients[events[static_cast<std::size_t>(e)].data.u64];
      const int got = receive_all(c.fd, buffer);
      if (got == 0) continue;
      if (measuring) counts.received += static_cast<std::uint64_t>(got);
      c.in_flight -= got;
      c.in_flight += send_some(c.fd, payload, options.in_flight - std::max(c.in_flight, 0));
      c.last_heard = now;
    }
    if (now >= next_check) {
      next_check = now + std::chrono::milliseconds(100);
      for (Client& c : clients) {
        if (now - c.last_heard < std::chrono::milliseconds(200)) continue;
        c.in_flight = send_some(c.fd, payload, options.in_flight);
        c.last_heard = now;
        ++counts.restarts;
      }
    }
  }
  for (Client& c : clients) ::close(c.fd);
  ::close(epoll);
  return counts;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: udp_load PORT [clients] [seconds] [bytes] [in_flight] [threads] "
                 "[warmup]\n");
    return 2;
  }
  options.port = std::atoi(argv[1]);
  if (options.port <= 0 || options.port > 65535) {
    std::fprintf(stderr, "udp_load: bad port \"%s\"\n", argv[1]);
    return 2;
  }
  if (argc > 2) options.clients = std::atoi(argv[2]);
  if (argc > 3) options.seconds = std::atof(argv[3]);
  if (argc > 4) options.bytes = static_cast<std::size_t>(std::atol(argv[4]));
  if (argc > 5) options.in_flight = std::atoi(argv[5]);
  if (argc > 6) options.threads = std::atoi(argv[6]);
  if (argc > 7) options.warmup = std::atof(argv[7]);

  const auto begin = Clock::now();
  const auto start = begin + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options.warmup));
  const auto stop = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.seconds));
  std::vector<Counts> per_thread(static_cast<std::size_t>(options.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    const int first = options.clients * t / options.threads;
    const int count = options.clients * (t + 1) / options.threads - first;
    threads.emplace_back([&, t, count] {
      per_thread[static_cast<std::size_t>(t)] = drive(options, count, start, stop);
    });
  }
  for (auto& thread : threads) thread.join();
  Counts total;
  for (const Counts& c : per_thread) {
    total.received += c.received;
    total.restarts += c.restarts;
  }
  std::printf(
      "{\"packets_per_s\": %.0f, \"received\": %llu, \"restarts\": %llu, \"seconds\": %.1f, "
      "\"clients\": %d, \"bytes\": %zu, \"in_flight\": %d}\n",
      static_cast<double>(total.received) / options.seconds,
      static_cast<unsigned long long>(total.received),
      static_cast<unsigned long long>(total.restarts), options.seconds, options.clients,
      options.bytes, options.in_flight);
}
