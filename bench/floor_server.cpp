// The kernel floor for the HTTP plaintext and TCP echo benchmarks: the least work any
// user-space server can do per request through the socket API. Each thread owns an epoll
// instance and a SO_REUSEPORT listener (no hand-off between threads, no locks, no
// allocation per request); a readable connection gets one recv, and the answer goes out in
// one send: for http, one canned "Hello, World!" response per complete request head in that
// read (pipelined requests share the send); for echo, the bytes just read. No parsing beyond
// finding the blank line that ends a head, no routing, no timeouts.
//
// It is not a server anyone should deploy. bench/run_http.sh and bench/run_net.sh run it
// beside tiny_coro and the peer (nginx, Boost.Asio) to show how much of each target's
// ratio is reachable at all: a server cannot use less CPU per request than this one.
//
//   floor_server http PORT THREADS   prints "listening on http://127.0.0.1:PORT"
//   floor_server echo PORT THREADS   prints "listening on 127.0.0.1:PORT"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

enum class Mode { kHttp, kEcho };

constexpr std::size_t kReadBytes = 64 * 1024;
constexpr int kEventsPerWait = 512;

// Where each connection is in the "\r\n\r\n" that ends a head, and what its last send left.
struct Connection {
  int matched = 0;
  std::string unsent;
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

int open_listener(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
  if (listen(fd, 4096) != 0) die("listen");
  return fd;
}

int bound_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// The response nginx's `return 200 "Hello, World!"` sends, less nginx's own headers; Date is
// rewritten once a second, as every real server does.
class CannedResponse {
 public:
  std::string_view get() {
    const std::time_t now = std::time(nullptr);
    if (now != stamped_) {
      stamped_ = now;
      std::array<char, 64> date{};
      std::tm utc{};
      gmtime_r(&now, &utc);
      std::strftime(date.data(), date.size(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
      text_ = std::string("HTTP/1.1 200 OK\r\nServer: floor\r\nDate: ") + date.data() +
              "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
    }
    return text_;
  }

 private:
  std::time_t stamped_ = 0;
  std::string text_;
};

// Counts the heads completed in `bytes`, carrying a partial "\r\n\r\n" across reads.
int complete_heads(std::string_view bytes, int& matched) {
  static constexpr std::string_view kEnd = "\r\n\r\n";
  int heads = 0;
  for (const char c : bytes) {
    if (c == kEnd[static_cast<std::size_t>(matched)]) {
      if (++matched == 4) {
        ++heads;
        matched = 0;
      }
    } else {
      matched = c == '\r' ? 1 : 0;
    }
  }
  return heads;
}

class Loop {
 public:
  Loop(Mode mode, int listener)
      : mode_(mode), listener_(listener), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) die("epoll_create1");
    watch(listener_, EPOLLIN, EPOLL_CTL_ADD);
  }

  [[noreturn]] void run() {
    std::array<epoll_event, kEventsPerWait> events{};
    for (;;) {
      const int ready = epoll_wait(epoll_, events.data(), kEventsPerWait, -1);
      for (int i = 0; i < ready; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == listener_) {
          accept_all();
        } else if ((events[static_cast<std::size_t>(i)].events & EPOLLOUT) != 0) {
          flush(fd);
        } else {
          serve(fd);
        }
      }
    }
  }

 private:
  void watch(int fd, std::uint32_t events, int op) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (epoll_ctl(epoll_, op, fd, &event) != 0) die("epoll_ctl");
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors until a client leaves
      const int on = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      connections_[fd] = Connection{};
      watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
  }

  void close_connection(int fd) {
    connections_.erase(fd);
    close(fd);  // also leaves the epoll set
  }

  void serve(int fd) {
    const ssize_t got = recv(fd, buffer_.data(), buffer_.size(), 0);
    if (got <= 0) {
      if (got < 0 && errno == EAGAIN) return;
      close_connection(fd);
      return;
    }
    Connection& connection = connections_[fd];
    const std::string_view bytes(buffer_.data(), static_cast<std::size_t>(got));
    if (mode_ == Mode::kEcho) {
      send_all(fd, connection, bytes);
      return;
    }
    const int heads = complete_heads(bytes, connection.matched);
    if (heads == 0) return;
    const std::string_view response = canned_.get();
    if (heads == 1) {
      send_all(fd, connection, response);
      return;
    }
    batch_.clear();
    for (int i = 0; i < heads; ++i) batch_.append(response);
    send_all(fd, connection, batch_);
  }

  // A send the socket cannot take whole keeps the rest and waits for EPOLLOUT; meanwhile
  // the connection is not read, so a client that stops reading cannot grow our memory.
  void send_all(int fd, Connection& connection, std::string_view bytes) {
    const ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN) {
      close_connection(fd);
      return;
    }
    const std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    if (done == bytes.size()) return;
    connection.unsent.assign(bytes.substr(done));
    watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
  }

  void flush(int fd) {
    Connection& connection = connections_[fd];
    const ssize_t sent = send(fd, connection.unsent.data(), connection.unsent.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno != EAGAIN) close_connection(fd);
      return;
    }
    connection.unsent.erase(0, static_cast<std::size_t>(sent));
    if (connection.unsent.empty()) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
  }

  Mode mode_;
  int listener_;
  int epoll_;
  std::unordered_map<int, Connection> connections_;
  std::vector<char> buffer_ = std::vector<char>(kReadBytes);
  std::string batch_;
  CannedResponse canned_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s http|echo PORT THREADS\n", argv[0]);
    return 2;
  }
  const Mode mode = std::string_view(argv[1]) == "echo" ? Mode::kEcho : Mode::kHttp;
  const int threads = std::atoi(argv[3]);
  std::vector<int> listeners{open_listener(std::atoi(argv[2]))};
  const int port = bound_port(listeners.front());
  while (static_cast<int>(listeners.size()) < threads) listeners.push_back(open_listener(port));
  std::printf("listening on %s127.0.0.1:%d\n", mode == Mode::kHttp ? "http://" : "", port);
  std::fflush(stdout);

  std::vector<std::thread> others;
  for (std::size_t i = 1; i < listeners.size(); ++i) {
    others.emplace_back([mode, fd = listeners[i]] { Loop(mode, fd).run(); });
  }
  Loop(mode, listeners.front()).run();
}
