// The kernel floor for the UDP echo benchmark: the least work any user-space server can do
// per datagram through the socket API. Each thread owns one blocking socket on the shared
// port (SO_REUSEPORT) and loops: recvmmsg of up to 64 datagrams (MSG_WAITFORONE: whatever
// has arrived once one has), then one sendmmsg of the same datagrams back to their senders.
// No runtime, no epoll, no readiness protocol, no allocation per datagram. bench/run_udp.sh
// runs it beside bench/udp_echo_server (the same loop on tiny_coro's UdpSocket).
//
//   udp_floor_server PORT [threads=1]    prints "listening on 127.0.0.1:PORT"; runs until killed
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr unsigned kBatch = 64;  // as UdpSocket::kMaxBatch
constexpr std::size_t kBytes = 2048;
// Room for every client's datagrams in flight at once (100 x 4 at ~1 KiB of kernel overhead
// each would overflow the default 208 KiB and drop); capped by rmem_max.
constexpr int kReceiveBuffer = 4 << 20;

int bind_shared(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  return fd;
}

int bound_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

void echo(int fd) {
  std::vector<std::array<char, kBytes>> buffers(kBatch);
  std::array<sockaddr_storage, kBatch> peers{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  for (;;) {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = iovec{buffers[i].data(), kBytes};
      messages[i].msg_hdr = msghdr{};
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof peers[i];
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, messages.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) iov[static_cast<unsigned>(i)].iov_len = messages[static_cast<unsigned>(i)].msg_len;
    for (int sent = 0; sent < n;) {
      const int m = ::sendmmsg(fd, messages.data() + sent, static_cast<unsigned>(n - sent), 0);
      if (m <= 0) break;  // a datagram the kernel refused: dropped, as UDP may
      sent += m;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  std::vector<int> sockets{bind_shared(port)};
  const int chosen = bound_port(sockets[0]);
  for (int i = 1; i < threads; ++i) sockets.push_back(bind_shared(chosen));
  std::printf("listening on 127.0.0.1:%d\n", chosen);
  std::fflush(stdout);
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back(echo, sockets[static_cast<std::size_t>(i)]);
  echo(sockets[0]);  // until killed
}
