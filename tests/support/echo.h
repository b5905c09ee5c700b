// The echo server and client the network tests (and the echo benchmark) share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

namespace tiny_coro::test {

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

// Accepts until the listener is closed (accept then fails), echoing each connection in a task
// of its own.
inline Task<void> echo_server(Scheduler& sched, TcpListener& listener) {
  for (;;) {
    AsyncSocket client = co_await listener.accept();
    if (!client) co_return;
    client.set_nodelay();
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

// Connects to 127.0.0.1:port, sends `bytes` of a known pattern while reading the echo back,
// and checks every byte arrived back in order. True if all did.
inline Task<bool> echo_client(Scheduler& sched, int port, std::size_t bytes,
                              std::size_t chunk = 16 * 1024) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
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

}  // namespace tiny_coro::test
