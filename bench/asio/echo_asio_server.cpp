// Boost.Asio 1.81 peer of the tiny_coro TCP echo server, for the echo benchmark.
//
// Usage: echo_asio_server [port] [threads]   (defaults: 0 = any free port, 2 threads)
//
// The benchmark script learns the port from the single `listening on 127.0.0.1:PORT` line on
// stdout, so nothing else is ever printed there. The server runs until SIGINT or SIGTERM.
//
// One io_context driven by `threads` threads, the same thread count as tiny_coro's two workers.
// Each connection is one coroutine, and only that coroutine touches its socket, so no strand is
// needed. Every operation completes through as_tuple(use_awaitable): a client disconnecting is the
// normal end of a session, and throwing an exception for each one would bill the server for it.

#include <boost/asio.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> echo_session(tcp::socket socket) {
  // Small request/response round trips must not sit in Nagle's buffer waiting for an ACK.
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  // The buffer lives in the coroutine frame: one allocation per connection, none per read.
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kNoThrow);
    if (read_ec) co_return;  // EOF or reset: the client is done
    auto [write_ec, written] =
        co_await asio::async_write(socket, asio::buffer(buffer, n), kNoThrow);
    if (write_ec) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor) {
  // Taken before any accept: get_executor() on a socket that has been moved from is empty.
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted) co_return;
    // Any other failure (a client that reset before we accepted it) only loses that client.
    if (ec) continue;
    asio::co_spawn(executor, echo_session(std::move(socket)), asio::detached);
  }
}

// Returns false unless `text` is a whole decimal number in [min, max].
bool parse_arg(const char* text, long min, long max, long& out) {
  char* end = nullptr;
  out = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && out >= min && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0;
  long threads = 2;
  if (argc > 3 || (argc > 1 && !parse_arg(argv[1], 0, 65535, port)) ||
      (argc > 2 && !parse_arg(argv[2], 1, 1024, threads))) {
    std::fprintf(stderr, "usage: %s [port] [threads]\n", argv[0]);
    return 2;
  }

  // The hint tells the scheduler how many threads will call run(), so it keeps its locking.
  asio::io_context ctx(static_cast<int>(threads));

  tcp::acceptor acceptor(ctx);
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                               static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  // Lets a rerun of the benchmark bind the port of a run whose connections are in TIME_WAIT.
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);

  // Installed before the port is printed: the script may signal as soon as it has read it.
  // Stopping the io_context ends every run() at once; ~io_context then destroys the suspended
  // session coroutines, which closes their sockets.
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&ctx](const error_code&, int) { ctx.stop(); });

  std::printf("listening on 127.0.0.1:%u\n",
              static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);

  asio::co_spawn(ctx, accept_loop(std::move(acceptor)), asio::detached);

  std::vector<std::thread> helpers;
  for (long i = 1; i < threads; ++i) helpers.emplace_back([&ctx] { ctx.run(); });
  ctx.run();
  for (std::thread& helper : helpers) helper.join();
  return 0;
}
