// Helpers both Boost.Asio peer programs share.
#pragma once

#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace asio_peer {

namespace asio = boost::asio;


// The executor all coroutines are spawned on: the io_context's executor with blocking.never,
// so co_spawn enqueues instead of running the new coroutine inline on the caller's stack.
inline asio::any_io_executor spawn_executor(asio::io_context& ctx) {
  return asio::require(ctx.get_executor(), asio::execution::blocking.never);
}

// Drives ctx with exactly two threads until it runs out of work. The caller must have queued
// work (a co_spawn) before this, so that neither thread sees an idle io_context and returns.
inline void run_on_two_threads(asio::io_context& ctx) {
  std::thread helper([&ctx] { ctx.run(); });
  ctx.run();
  helper.join();
}

// A benchmark whose result is wrong measured nothing: stop loudly.
[[noreturn]] inline void check_failed(const char* what, long long got, long long want) {
  std::fprintf(stderr, "asio peer benchmark: CHECK FAILED: %s: got %lld, expected %lld\n", what,
               got, want);
  std::fflush(stderr);
  std::abort();
}

inline void check_eq(const char* what, long long got, long long want) {
  if (got != want) check_failed(what, got, want);
}

}  // namespace asio_peer
