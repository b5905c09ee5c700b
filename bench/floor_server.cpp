// The kernel floor for the HTTP plaintext and TCP echo benchmarks: the least work any
// user-space server can do per request through the socket API. Each thread owns an epoll
// instance and a SO_REUSEPORT listener (no hand-off between threads, no locks, no
// allocation per request); a readable connection gets one recv, and the answer goes out in
// one send: for http, one canned "Hello, World!" response per complete request head in that
// read (pipelined requests share the send); for echo, the bytes just read. No parsing beyond
// finding the blank line that ends a head, no routing, no timeouts.
//
// For files, every regular file under ROOT is opened once at start with its response head
// made; a request is one recv, its path looked up, then the head (MSG_MORE) and one sendfile;
// a head that carries If-Modified-Since gets a canned 304. No freshness at all: files
// changed after start are served as they were (the descriptor's pages, the old head).
//
// It is not a server anyone should deploy. bench/run_http.sh, bench/run_static.sh and
// bench/run_net.sh run it beside tiny_coro and the peer (nginx, Boost.Asio) to show how much
// of each target's ratio is reachable at all: a server cannot use less CPU per request than
// this one.
//
//   floor_server http PORT THREADS        prints "listening on http://127.0.0.1:PORT"
//   floor_server echo PORT THREADS        prints "listening on 127.0.0.1:PORT"
//   floor_server files PORT THREADS ROOT  prints "listening on http://127.0.0.1:PORT"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

enum class Mode { kHttp, kEcho, kFiles };

constexpr std::size_t kReadBytes = 64 * 1024;
constexpr int kEventsPerWait = 512;

// Where each connection is in the "\r\n\r\n" that ends a head, and what its last send left.
struct Connection {
  int matched = 0;
  std::string unsent;
  int file = -1;  // files: the body still to send, from `file_offset`
  off_t file_offset = 0;
  std::size_t file_left = 0;
  bool waiting_for_room = false;  // registered for EPOLLOUT instead of EPOLLIN
};


[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// files: what every request for one path gets.
struct ServedFile {
  int fd = -1;
  std::size_t size = 0;
  std::string head;
};
using Site = std::unordered_map<std::string, ServedFile>;

Site open_site(const std::string& root) {
  Site site;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    ServedFile file;
    file.fd = open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) die("open");
    file.size = entry.file_size();
    file.head = "HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: " + std::to_string(file.size) + "\r\n\r\n";
    site["/" + std::filesystem::relative(entry.path(), root).string()] = std::move(file);
  }
  return site;
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
  Loop(Mode mode, int listener, const Site* site = nullptr)
      : mode_(mode), site_(site), listener_(listener), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
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
          if (mode_ == Mode::kFiles) {
            send_file_rest(fd, connections_[fd]);
          } else {
            flush(fd);
          }
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
    if (mode_ == Mode::kFiles) {
      serve_file(fd, connection, bytes);
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

  // One request per read (wrk's site mix does not pipeline).
  void serve_file(int fd, Connection& connection, std::string_view bytes) {
    if (complete_heads(bytes, connection.matched) == 0 || !bytes.starts_with("GET ")) return;
    const std::string_view path = bytes.substr(4, bytes.find(' ', 4) - 4);
    if (bytes.find("If-Modified-Since:") != std::string_view::npos) {
      send_all(fd, connection, "HTTP/1.1 304 Not Modified\r\nServer: floor\r\n\r\n");
      return;
    }
    const auto found = site_->find(std::string(path));
    if (found == site_->end()) {
      send_all(fd, connection, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const ServedFile& file = found->second;
    if (send(fd, file.head.data(), file.head.size(), MSG_NOSIGNAL | MSG_MORE) !=
        static_cast<ssize_t>(file.head.size())) {
      close_connection(fd);  // a head that does not fit an empty buffer: not in this bench
      return;
    }
    connection.file = file.fd;
    connection.file_offset = 0;
    connection.file_left = file.size;
    send_file_rest(fd, connection);
  }

  void send_file_rest(int fd, Connection& connection) {
    while (connection.file_left > 0) {
      const ssize_t sent =
          sendfile(fd, connection.file, &connection.file_offset, connection.file_left);
      if (sent <= 0) {
        if (sent < 0 && errno == EAGAIN) {
          // Until the file is out, wait for room only: the next request waits its turn.
          if (!connection.waiting_for_room) watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
          connection.waiting_for_room = true;
          return;
        }
        close_connection(fd);
        return;
      }
      connection.file_left -= static_cast<std::size_t>(sent);
    }
    if (connection.waiting_for_room) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
    connection.waiting_for_room = false;
  }

  Mode mode_;
  const Site* site_;
  int listener_;
  int epoll_;
  std::unordered_map<int, Connection> connections_;
  std::vector<char> buffer_ = std::vector<char>(kReadBytes);
  std::string batch_;
  CannedResponse canned_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode_name = argc > 1 ? argv[1] : "";
  if (argc != (mode_name == "files" ? 5 : 4)) {
    std::fprintf(stderr, "usage: %s http|echo PORT THREADS | files PORT THREADS ROOT\n", argv[0]);
    return 2;
  }
  const Mode mode = mode_name == "echo"    ? Mode::kEcho
                    : mode_name == "files" ? Mode::kFiles
                                           : Mode::kHttp;
  const Site site = mode == Mode::kFiles ? open_site(argv[4]) : Site();
  std::signal(SIGPIPE, SIG_IGN);  // sendfile to a client that left: EPIPE, not death
  const int threads = std::atoi(argv[3]);
  std::vector<int> listeners{open_listener(std::atoi(argv[2]))};
  const int port = bound_port(listeners.front());
  while (static_cast<int>(listeners.size()) < threads) listeners.push_back(open_listener(port));
  std::printf("listening on %s127.0.0.1:%d\n", mode == Mode::kEcho ? "" : "http://", port);
  std::fflush(stdout);

  std::vector<std::thread> others;
  for (std::size_t i = 1; i < listeners.size(); ++i) {
    others.emplace_back([mode, fd = listeners[i], &site] { Loop(mode, fd, &site).run(); });
  }
  Loop(mode, listeners.front(), &site).run();
}
