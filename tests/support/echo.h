// The echo server and client the network tests (and the echo benchmark) share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

namespace tiny_coro::test {

// Where a test server listens: ip:port, or a Unix socket when `unix_path` is set ("/path" or
// "@name").
struct ServerAddress {
  static ServerAddress tcp(int port, std::string ip = "127.0.0.1") {
    ServerAddress address;
    address.ip = std::move(ip);
    address.port = port;
    return address;
  }
  static ServerAddress unix_socket(std::string path) {
    ServerAddress address;
    address.unix_path = std::move(path);
    return address;
  }

  std::string ip = "127.0.0.1";
  int port = -1;
  std::string unix_path;

  AsyncConnectAwaiter connect(Reactor* reactor) const {
    if (!unix_path.empty()) return AsyncSocket::connect_unix(reactor, unix_path);
    return AsyncSocket::connect(reactor, ip.c_str(), port);
  }
};

// Echoes everything until the peer half-closes (or fails), then closes.
inline Task<void> echo_connection(AsyncSocket socket) {
  std::vector<char> buf(16 * 1024);
  for (;;) {
    const ssize_t n = co_await socket.read(buf.data(), buf.size());
    if (n <= 0) co_return;
    const ssize_t sent = co_await socket.write(buf.data(), static_cast<std::size_t>(n));
    if (sent < 0) co_return;
  }
}

// Accepts until the listener (a TcpListener or a UnixListener) is closed (accept then fails),
// echoing each connection in a task of its own.
template <class Listener>
Task<void> echo_server(Scheduler& sched, Listener& listener) {
  for (;;) {
    AsyncSocket client = co_await listener.accept();
    if (!client) co_return;
    client.set_nodelay();  // a Unix socket has no Nagle delay and says EOPNOTSUPP: harmless
    sched.spawn(echo_connection(std::move(client)));
  }
}

inline char pattern_byte(std::size_t i) noexcept { return static_cast<char>((i * 131 + 7) & 0xff); }

inline Task<bool> send_pattern(AsyncSocket& socket, std::size_t bytes, std::size_t chunk) {
  std::vector<char> out(chunk);
  for (std::size_t sent = 0; sent < bytes;) {
    const std::size_t n = std::min(chunk, bytes - sent);
    for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(sent + i);
    const ssize_t written = co_await socket.write(out.data(), n);
    if (written != static_cast<ssize_t>(n)) co_return false;
    sent += n;
  }
  co_return socket.shutdown(SHUT_WR) == 0;
}

// Connects to `server`, sends `bytes` of a known pattern while reading the echo back, and
// checks every byte arrived back in order. True if all did.
inline Task<bool> echo_client(Scheduler& sched, ServerAddress server, std::size_t bytes,
                              std::size_t chunk = 16 * 1024) {
  AsyncSocket socket = co_await server.connect(sched.reactor());
  if (!socket) co_return false;
  auto sender = sched.spawn(send_pattern(socket, bytes, chunk));
  std::vector<char> in(chunk);
  std::size_t received = 0;
  bool in_order = true;
  for (;;) {
    const ssize_t n = co_await socket.read(in.data(), in.size());
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      in_order = in_order && in[static_cast<std::size_t>(i)] ==
                                 pattern_byte(received + static_cast<std::size_t>(i));
    }
    received += static_cast<std::size_t>(n);
  }
  const bool sent = co_await std::move(sender);
  co_return sent&& in_order&& received == bytes;
}

// The same to 127.0.0.1:port.
inline Task<bool> echo_client(Scheduler& sched, int port, std::size_t bytes,
                              std::size_t chunk = 16 * 1024) {
  return echo_client(sched, ServerAddress::tcp(port), bytes, chunk);
}

}  // namespace tiny_coro::test
