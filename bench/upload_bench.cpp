// The upload benchmark's two halves, so tiny_httpd and the limit are driven alike:
//
//   upload_bench put PORT TARGET BYTES   one HTTP PUT of BYTES (from memory) with plain
//                                        blocking sends; prints "MB/s <rate> status <code>"
//   upload_bench sink PORT DIR           the loopback+disk limit: a blocking server that
//                                        takes one PUT, recv()s the body and write()s it
//                                        to DIR/sink.bin, answers 201 and exits
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kChunk = 256 * 1024;

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

int put(int port, const char* target, std::size_t bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    std::perror("connect");
    return 1;
  }
  std::vector<char> chunk(kChunk);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 31 + 7);
  const std::string head = "PUT " + std::string(target) +
                           " HTTP/1.1\r\nHost: bench\r\nContent-Length: " + std::to_string(bytes) +
                           "\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  if (!send_all(fd, head.data(), head.size())) return 1;
  for (std::size_t sent = 0; sent < bytes;) {
    const std::size_t n = std::min(chunk.size(), bytes - sent);
    if (!send_all(fd, chunk.data(), n)) {
      std::perror("send");
      return 1;
    }
    sent += n;
  }
  char response[512] = {};
  const ssize_t got = ::recv(fd, response, sizeof(response) - 1, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int status = 0;
  if (got > 12) status = std::atoi(response + 9);
  std::printf("MB/s %.1f status %d\n", static_cast<double>(bytes) / seconds / 1e6, status);
  ::close(fd);
  return status / 100 == 2 ? 0 : 1;
}

int sink(int port, const char* dir) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 16) != 0) {
    std::perror("bind");
    return 1;
  }
  socklen_t length = sizeof(address);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("listening on http://127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  const int fd = ::accept(listener, nullptr, nullptr);
  const std::string path = std::string(dir) + "/sink.bin";
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::vector<char> buffer(64 * 1024);
  std::string head;
  std::size_t body_left = 0;
  bool in_body = false;
  for (;;) {
    const ssize_t n =
        ::recv(fd, buffer.data(), in_body ? std::min(buffer.size(), body_left) : buffer.size(), 0);
    if (n <= 0) return 1;
    std::size_t offset = 0;
    if (!in_body) {
      head.append(buffer.data(), static_cast<std::size_t>(n));
      const std::size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const std::size_t at = head.find("Content-Length: ");
      body_left = std::strtoull(head.c_str() + at + 16, nullptr, 10);
      offset = static_cast<std::size_t>(n) - (head.size() - end - 4);
      in_body = true;
    }
    const std::size_t piece = static_cast<std::size_t>(n) - offset;
    if (::write(file, buffer.data() + offset, piece) != static_cast<ssize_t>(piece)) return 1;
    body_left -= piece;
    if (body_left == 0) break;
  }
  ::close(file);
  const char response[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  send_all(fd, response, sizeof(response) - 1);
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::strcmp(argv[1], "put") == 0) {
    return put(std::atoi(argv[2]), argv[3], std::strtoull(argv[4], nullptr, 10));
  }
  if (argc >= 4 && std::strcmp(argv[1], "sink") == 0) return sink(std::atoi(argv[2]), argv[3]);
  std::fprintf(stderr, "usage: upload_bench put PORT TARGET BYTES | sink PORT DIR\n");
  return 2;
}
