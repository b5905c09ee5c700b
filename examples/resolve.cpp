// Fetches the same name through two resolvers: the system's (getaddrinfo on the blocking
// pool) and a program's own — here a fixed table, as a service-discovery client or a
// DNS-over-HTTPS resolver would plug in. connect_host races the addresses each returns
// (Happy Eyeballs): the table lists ::1 first, where nothing listens, so the IPv4 address
// wins. Both fetch a page from a server in this process.
#include <tiny_coro/http_server.h>
#include <tiny_coro/resolve.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

using tiny_coro::AsyncSocket;
using tiny_coro::Scheduler;

namespace {

tiny_coro::Task<void> serve(Scheduler& sched, TcpListener& listener, const tiny_coro::HttpRouter& router) {
  for (;;) {
    AsyncSocket socket = co_await listener.accept();
    if (!socket) co_return;
    static const tiny_coro::HttpServerOptions options;
    sched.spawn(tiny_coro::HttpServer::serve_connection(std::move(socket), router, options));
  }
}

// GET / on a connection made by connect_host; the body of the answer.
tiny_coro::Task<std::string> fetch(Scheduler& sched, const char* label, tiny_coro::ConnectOptions options,
                        int port) {
  tiny_coro::Connected connection =
      co_await tiny_coro::connect_host(sched, "localhost", port, std::move(options));
  if (!connection) co_return std::string(label) + ": " + connection.error.message();
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  co_await connection.socket.write(request);
  std::string response;
  char buf[4096];
  for (;;) {
    const ssize_t n = co_await connection.socket.read(buf, sizeof buf);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t body = response.find("\r\n\r\n");
  co_return std::string(label) + ": connected to " + connection.peer.ip() + ", fetched \"" +
      (body == std::string::npos ? std::string("?") : response.substr(body + 4)) + "\"";
}

}  // namespace

int main() {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  if (listener.bind("127.0.0.1", 0) != 0) {
    std::perror("bind");
    return 1;
  }
  tiny_coro::HttpRouter router;
  router.get("/", [](tiny_coro::HttpExchange&) -> tiny_coro::Task<tiny_coro::HttpResponse> {
    co_return tiny_coro::HttpResponse::text(200, "hello from localhost");
  });
  auto server = sched.spawn(serve(sched, listener, router));

  const int port = listener.port();
  const std::map<std::string, std::vector<std::string>> table = {{"localhost", {"::1", "127.0.0.1"}}};
  tiny_coro::ConnectOptions from_table;
  from_table.resolver = [&table](std::string host, int wanted_port) -> tiny_coro::Task<tiny_coro::ResolveResult> {
    tiny_coro::ResolveResult result;
    const auto found = table.find(host);
    if (found == table.end()) {
      result.error = std::make_error_code(std::errc::host_unreachable);
      co_return result;
    }
    for (const std::string& ip : found->second) {
      result.addresses.push_back(tiny_coro::SocketAddress::parse(ip.c_str(), wanted_port));
    }
    co_return result;
  };

  std::puts(sched.block_on(fetch(sched, "system resolver", {}, port)).c_str());
  std::puts(sched.block_on(fetch(sched, "table resolver", from_table, port)).c_str());
  server.cancel();
  std::puts("done");
  return 0;
}
