// libFuzzer target: HttpServer's connection loop fed arbitrary bytes through a socket pair,
// as h2o's fuzz/driver.cc does. The input is split at the marker "\n--\n" into pieces sent
// one after another (so heads and bodies straddle reads in every way), then the client
// half-closes. What must hold for any input:
//   - the server neither crashes (ASan/UBSan) nor hangs: it answers and closes, or just
//     closes, within the bound below;
//   - what it sends is a sequence of whole, parseable HTTP/1.1 responses.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <tiny_coro/http_server.h>
#include <tiny_coro/scheduler.h>

namespace {

using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;

void require(bool ok) {
  if (!ok) std::abort();
}

tiny_coro::Task<HttpResponse> echo_length(HttpExchange& exchange) {
  char buf[512];
  std::size_t total = 0;
  for (;;) {
    const ssize_t n = co_await exchange.read_body(buf, sizeof(buf));
    if (n < 0) co_return HttpResponse::text(400, "bad body\n");
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  co_return HttpResponse::text(200, std::to_string(total) + " " + std::string(exchange.path()));
}

struct Server {
  Server() : sched(1) {
    options.header_timeout = std::chrono::seconds(2);
    options.idle_timeout = std::chrono::seconds(2);
    options.max_body = 4096;
  }
  tiny_coro::Scheduler sched;
  tiny_coro::HttpServerOptions options;
  const tiny_coro::HttpHandler handler = echo_length;
};

Server& server() {
  static Server instance;  // one runtime for the whole fuzzing run
  return instance;
}

std::vector<std::string_view> pieces(std::string_view input) {
  static constexpr std::string_view kMarker = "\n--\n";
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t at = input.find(kMarker);
    out.push_back(input.substr(0, at));
    if (at == std::string_view::npos) return out;
    input.remove_prefix(at + kMarker.size());
  }
}

// Every byte the server sent must be whole responses back to back. A response to HEAD
// carries Content-Length without the body; the checker cannot tell which requests were
// HEAD, so it also accepts a next response right after the head.
void check_responses(std::string_view out) {
  while (!out.empty()) {
    tiny_coro::HttpResponseHead head;
    const int length = tiny_coro::HttpParser::parse_response(out.data(), out.size(), head);
    require(length > 0);
    out.remove_prefix(static_cast<std::size_t>(length));
    const std::string_view content_length = head.get_header("Content-Length");
    std::size_t body = 0;
    if (!content_length.empty()) body = std::stoul(std::string(content_length));
    const bool next_follows_head = out.empty() || out.starts_with("HTTP/1.1 ");
    const bool next_follows_body = body <= out.size() &&
                                   (out.size() == body || out.substr(body).starts_with("HTTP/1.1 "));
    if (body > 0 && next_follows_head && !next_follows_body) continue;  // a HEAD response
    require(body <= out.size());
    out.remove_prefix(body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Server& s = server();
  int fds[2];
  require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  s.sched.spawn(tiny_coro::HttpServer::serve_connection(
      tiny_coro::AsyncSocket(s.sched.reactor(), fds[0]), s.handler, s.options));

  const std::vector<std::string_view> parts =
      pieces(std::string_view(reinterpret_cast<const char*>(data), size));
  std::size_t part = 0;
  std::size_t offset = 0;
  bool write_open = true;
  std::string out;
  for (int waited_ms = 0;;) {
    pollfd p{fds[1], static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready == 0) {
      waited_ms += 100;
      require(waited_ms < 10000);  // the server hung: neither answered nor closed
      continue;
    }
    if (write_open && (p.revents & POLLOUT) != 0) {
      const std::string_view piece = parts[part];
      const ssize_t n = piece.size() == offset ? 0
                                               : ::send(fds[1], piece.data() + offset,
                                                        piece.size() - offset, MSG_NOSIGNAL);
      if (n < 0) {
        write_open = false;  // the server closed its side: stop sending
      } else {
        offset += static_cast<std::size_t>(n);
        if (offset == piece.size() && ++part == parts.size()) {
          ::shutdown(fds[1], SHUT_WR);
          write_open = false;
        } else if (offset == piece.size()) {
          offset = 0;
        }
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[4096];
      const ssize_t n = ::recv(fds[1], buf, sizeof(buf), 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;  // the server closed the connection
      }
    }
  }
  ::close(fds[1]);
  check_responses(out);
  return 0;
}
