// A blocking HTTP/1.1 client for tests: plain POSIX sockets on the test's own thread, so the
// server under test runs on its Scheduler undisturbed. Every receive has a timeout, so a
// server bug fails the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <tiny_coro/http_parser.h>

namespace tiny_coro::test {

struct ParsedResponse {
  int status = 0;
  std::string head;  // status line and fields, for header checks
  std::string body;
  std::string header(std::string_view name) const {
    HttpResponseHead parsed;
    if (HttpParser::parse_response(head.data(), head.size(), parsed) <= 0) return {};
    return std::string(parsed.get_header(name));
  }
};

class BlockingClient {
 public:
  explicit BlockingClient(int port, int receive_timeout_seconds = 20) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(reinterpret_cast<sockaddr*>(&address), sizeof(address), receive_timeout_seconds);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  // To a Unix socket: a path, or "@name" in the abstract namespace. `own_name`, if given, is
  // bound first (as few clients do), so the server sees a peer with a name.
  explicit BlockingClient(const std::string& unix_path, int receive_timeout_seconds = 20,
                          const std::string& own_name = {}) {
    sockaddr_un address{};
    const socklen_t length = unix_address(unix_path, address);
    if (!own_name.empty()) {
      fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un own{};
      ::bind(fd_, reinterpret_cast<sockaddr*>(&own), unix_address(own_name, own));
    }
    connect(reinterpret_cast<sockaddr*>(&address), length, receive_timeout_seconds);
  }
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;
  ~BlockingClient() { close(); }

  bool connected() const noexcept { return connected_; }
  int fd() const noexcept { return fd_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next response (Content-Length framed, or until close); nullopt on close or timeout
  // before a whole one. `head_only`: the request was HEAD, so no body follows the head.
  std::optional<ParsedResponse> read_response(bool head_only = false) {
    for (;;) {
      HttpResponseHead parsed;
      const int head = HttpParser::parse_response(buffer_.data(), buffer_.size(), parsed);
      if (head == HttpParser::kMalformed) return std::nullopt;
      if (head > 0) {
        if (parsed.status / 100 == 1) {  // interim (100 Continue): report it on its own
          ParsedResponse interim{
              parsed.status, buffer_.substr(0, static_cast<std::size_t>(head)), {}};
          buffer_.erase(0, static_cast<std::size_t>(head));
          return interim;
        }
        const std::string_view length = parsed.get_header("content-length");
        // RFC 9110 §6.4.1: 204 and 304 never have a body.
        const bool bodiless = head_only || parsed.status == 204 || parsed.status == 304;
        if (!length.empty() || bodiless) {
          const std::size_t body = bodiless ? 0 : std::stoul(std::string(length));
          const std::size_t total = static_cast<std::size_t>(head) + body;
          if (buffer_.size() >= total) {
            ParsedResponse response{parsed.status,
                                    buffer_.substr(0, static_cast<std::size_t>(head)),
                                    buffer_.substr(static_cast<std::size_t>(head), body)};
            buffer_.erase(0, total);
            return response;
          }
        }
      }
      if (!receive_more()) {
        if (head > 0 && parsed.get_header("content-length").empty()) {  // body until close
          ParsedResponse response{parsed.status, buffer_.substr(0, static_cast<std::size_t>(head)),
                                  buffer_.substr(static_cast<std::size_t>(head))};
          buffer_.clear();
          return response;
        }
        return std::nullopt;
      }
    }
  }

  // True once the server closed the connection (reads end of stream), with nothing unread.
  bool closed_by_peer() {
    while (receive_more()) {
    }
    return eof_;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  const std::string& unread() const noexcept { return buffer_; }

 private:
  // "@name" (any bytes) or a path as a sockaddr_un; returns its length.
  static socklen_t unix_address(const std::string& name, sockaddr_un& address) {
    address.sun_family = AF_UNIX;
    const std::size_t length = std::min(name.size(), sizeof(address.sun_path) - 1);
    std::memcpy(address.sun_path, name.data(), length);
    const bool abstract = length > 0 && name[0] == '@';
    if (abstract) address.sun_path[0] = '\0';
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length + (abstract ? 0 : 1));
  }

  void connect(const sockaddr* address, socklen_t length, int receive_timeout_seconds) {
    if (fd_ < 0) fd_ = ::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{receive_timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    connected_ = ::connect(fd_, address, length) == 0;
  }

  bool receive_more() {
    char chunk[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) eof_ = true;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == ECONNRESET) eof_ = true;
      return false;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace tiny_coro::test
