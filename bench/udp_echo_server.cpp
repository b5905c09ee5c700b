// The tiny_coro side of the UDP echo benchmark: the floor's loop (bench/udp_floor_server.cpp)
// on UdpSocket. One socket per worker on the shared port (SO_REUSEPORT), one task per socket:
// recv_many of up to 64 datagrams, then send_many of the same back to their senders.
//
//   udp_echo_server PORT [workers=1]     prints "listening on 127.0.0.1:PORT"; runs until killed
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/udp.h>

namespace {

using tiny_coro::Datagram;
using tiny_coro::Scheduler;
using tiny_coro::UdpSocket;

constexpr std::size_t kBytes = 2048;

tiny_coro::Task<void> echo(UdpSocket& socket) {
  std::vector<char> buffers(UdpSocket::kMaxBatch * kBytes);
  std::vector<Datagram> batch(UdpSocket::kMaxBatch);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].data = buffers.data() + i * kBytes;
  for (;;) {
    for (Datagram& d : batch) d.size = kBytes;
    const ssize_t n = co_await socket.recv_many(batch);
    if (n <= 0) continue;
    const auto received = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < received; ++i) batch[i].size = batch[i].length;
    for (std::size_t sent = 0; sent < received;) {
      const ssize_t m = co_await socket.send_many(
          std::span<const Datagram>(batch.data() + sent, received - sent));
      if (m <= 0) break;  // a datagram the kernel refused: dropped, as UDP may
      sent += static_cast<std::size_t>(m);
    }
  }
}

template <class T>
tiny_coro::Task<T> join(tiny_coro::JoinHandle<T> handle) {
  co_return co_await std::move(handle);
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 1;
  Scheduler sched(static_cast<std::size_t>(workers));
  // The receive buffer as the floor's (udp_floor_server.cpp says why).
  const tiny_coro::UdpOptions shared{.reuse_port = true, .receive_buffer = 4 << 20};
  std::vector<UdpSocket> sockets;
  sockets.push_back(UdpSocket::bind(sched.reactor(), "127.0.0.1", port, shared));
  for (int i = 1; i < workers && sockets[0]; ++i) {
    sockets.push_back(UdpSocket::bind(sched.reactor(), sockets[0].local_address(), shared));
  }
  for (const UdpSocket& socket : sockets) {
    if (!socket) {
      std::fprintf(stderr, "bind: %s\n", socket.error().message().c_str());
      return 1;
    }
  }
  std::printf("listening on %s\n", sockets[0].local_address().to_string().c_str());
  std::fflush(stdout);
  std::vector<tiny_coro::JoinHandle<void>> tasks;
  for (UdpSocket& socket : sockets) tasks.push_back(sched.spawn(echo(socket)));
  // Until killed, like the floor: a benchmark server needs no orderly shutdown.
  for (auto& task : tasks) sched.block_on(join(std::move(task)));
  return 0;
}
