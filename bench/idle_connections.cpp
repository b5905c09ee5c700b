// Opens N keep-alive connections to 127.0.0.1:PORT, makes one request on each (so the
// server has answered and holds them idle), prints "ready", and keeps them open until stdin
// closes. bench/run_http.sh reads the server's RSS meanwhile: memory per idle connection.
//
//   idle_connections PORT N
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: idle_connections PORT N\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int count = std::atoi(argv[2]);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string request = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
  std::vector<int> sockets;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      std::perror("connect");
      return 1;
    }
    if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
      std::perror("send");
      return 1;
    }
    sockets.push_back(fd);
  }
  for (const int fd : sockets) {  // each answer is one small segment
    char buf[4096];
    if (::recv(fd, buf, sizeof(buf), 0) <= 0) {
      std::fprintf(stderr, "no response\n");
      return 1;
    }
    if (std::strncmp(buf, "HTTP/1.1 200", 12) != 0) {
      std::fprintf(stderr, "unexpected response\n");
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
  for (const int fd : sockets) ::close(fd);
  return 0;
}
