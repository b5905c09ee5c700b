// Boost.Asio 1.81 peer of bench/cancel_bench.cpp: the same workloads with Asio's own
// cancellation (per-operation cancellation_signal / slots) and its awaitable_operators
// (`a || b` races two awaitables and cancels the loser; parallel_group waits for all).
//
// Every workload runs C++20 coroutines on one io_context driven by two threads (the
// benchmark thread and a helper), spawned on a blocking.never executor so that co_spawn
// enqueues (see runtime_asio_bench.cpp). Where a race cancels one operation from another
// (`||`) or two coroutines share a channel, they run on one strand: Asio's timers, channels
// and cancellation signals are not thread-safe, and without it `||` fails at random with
// "Operation canceled" on two threads. Names match cancel_bench's for report_cancel.py.
//   await_ready_op      1,000,000 x co_await of an awaitable that completes at once
//   timeout_ready_op    the same raced against a 1 h steady_timer: `op() || timer.async_wait()`
//   cancel_sleepers     1,000,000 coroutines on a 1 h timer, cancelled by emitting their
//                       cancellation_signal; done when all have finished
//   when_all_empty      a ranged parallel_group over 1,000,000 empty coroutines, wait_for_all
//   when_any_wake       `timer.async_wait() || channel.async_receive()` woken by a send
//   group_cancel_10k    10,000 sleeping coroutines cancelled through their signals (p50/p99)
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "asio_support.h"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

using clock_type = std::chrono::steady_clock;
using executor_type = asio::any_io_executor;
using asio_peer::check_eq;
using asio_peer::run_on_two_threads;
using asio_peer::spawn_executor;

constexpr long kCalls = 1'000'000;

double elapsed_ns(clock_type::time_point start, clock_type::time_point end) {
  return std::chrono::duration<double, std::nano>(end - start).count();
}

asio::awaitable<long> ready_op(long x) { co_return x + 1; }

constexpr long long expected_sum(long n) { return static_cast<long long>(n) * (n + 1) / 2; }

// A strand of ctx that never runs a spawned coroutine inline.
executor_type strand_executor(asio::io_context& ctx) {
  return asio::require(asio::make_strand(ctx), asio::execution::blocking.never);
}

// Runs `root` to completion on a fresh two-thread io_context; returns the wall time in ns.
template <class MakeRoot>
double run_root(MakeRoot make_root, bool on_strand = false) {
  const auto start = clock_type::now();
  {
    asio::io_context ctx(2);
    asio::co_spawn(on_strand ? strand_executor(ctx) : spawn_executor(ctx), make_root(),
                   asio::detached);
    run_on_two_threads(ctx);
  }
  return elapsed_ns(start, clock_type::now());
}

void await_ready_op(benchmark::State& state) {
  for (auto _ : state) {
    long long sum = 0;
    const double ns = run_root([&]() -> asio::awaitable<void> {
      for (long i = 0; i < kCalls; ++i) sum += co_await ready_op(i);
    });
    check_eq("await_ready_op: sum", sum, expected_sum(kCalls));
    state.counters["ns_per_call"] = ns / kCalls;
  }
}

void timeout_ready_op(benchmark::State& state) {
  for (auto _ : state) {
    long long sum = 0;
    const double ns = run_root([&]() -> asio::awaitable<void> {
      executor_type ex = co_await asio::this_coro::executor;
      for (long i = 0; i < kCalls; ++i) {
        asio::steady_timer timer(ex, std::chrono::hours(1));
        auto result = co_await (ready_op(i) || timer.async_wait(asio::use_awaitable));
        sum += std::get<0>(result);
      }
    }, true);
    check_eq("timeout_ready_op: sum", sum, expected_sum(kCalls));
    state.counters["ns_per_call"] = ns / kCalls;
  }
}

// One sleeper: a 1 h timer whose wait is cancelled through the coroutine's cancellation slot.
asio::awaitable<void> sleeper(std::atomic<long>& parked, std::atomic<long>& cancelled) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  parked.fetch_add(1, std::memory_order_relaxed);
  try {
    co_await timer.async_wait(asio::use_awaitable);
  } catch (const boost::system::system_error&) {
    cancelled.fetch_add(1, std::memory_order_relaxed);
  }
}

// Spawns n sleepers, each on its own strand and bound to its own signal; once all are parked,
// posts every signal's emit to its sleeper's strand (Asio's signals and timers are not
// thread-safe: the strand orders the emit after the wait began) and returns the time from the
// first emit to the io_context running out of work.
double cancel_sleepers_once(long n) {
  std::atomic<long> parked{0}, cancelled{0};
  std::vector<asio::cancellation_signal> signals(static_cast<std::size_t>(n));
  clock_type::time_point start;
  clock_type::time_point end;
  {
    asio::io_context ctx(2);
    std::vector<executor_type> strands;
    strands.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
      strands.push_back(strand_executor(ctx));
      asio::co_spawn(strands.back(), sleeper(parked, cancelled),
                     asio::bind_cancellation_slot(signals[static_cast<std::size_t>(i)].slot(),
                                                  asio::detached));
    }
    asio::co_spawn(spawn_executor(ctx), [&]() -> asio::awaitable<void> {
      asio::steady_timer poll(co_await asio::this_coro::executor);
      while (parked.load() < n) {  // every sleeper waits on its timer
        poll.expires_after(std::chrono::milliseconds(1));
        co_await poll.async_wait(asio::use_awaitable);
      }
      start = clock_type::now();
      for (std::size_t i = 0; i < signals.size(); ++i) {
        asio::post(strands[i], [&signals, i] { signals[i].emit(asio::cancellation_type::terminal); });
      }
    }, asio::detached);
    run_on_two_threads(ctx);
    end = clock_type::now();
  }
  check_eq("cancel_sleepers: cancelled", cancelled.load(), n);
  return elapsed_ns(start, end);
}

void cancel_sleepers(benchmark::State& state) {
  constexpr long kSleepers = 1'000'000;
  for (auto _ : state) {
    state.counters["ns_per_task"] = cancel_sleepers_once(kSleepers) / kSleepers;
  }
}

asio::awaitable<void> empty_task() { co_return; }

void when_all_empty(benchmark::State& state) {
  constexpr long kTasks = 1'000'000;
  for (auto _ : state) {
    long done = 0;
    const double ns = run_root([&]() -> asio::awaitable<void> {
      executor_type ex = co_await asio::this_coro::executor;
      using Op = decltype(asio::co_spawn(ex, empty_task(), asio::deferred));
      std::vector<Op> ops;
      ops.reserve(kTasks);
      for (long i = 0; i < kTasks; ++i) ops.push_back(asio::co_spawn(ex, empty_task(), asio::deferred));
      auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                 .async_wait(asio::experimental::wait_for_all(),
                                             asio::use_awaitable);
      done = static_cast<long>(order.size());
    });
    check_eq("when_all_empty: finished", done, kTasks);
    state.counters["ns_per_task"] = ns / kTasks;
  }
}

using Channel = asio::experimental::channel<void(boost::system::error_code, std::int64_t)>;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

void when_any_wake(benchmark::State& state) {
  constexpr int kRounds = 10'000;
  std::vector<std::int64_t> all;
  for (auto _ : state) {
    asio::io_context ctx(2);
    auto ex = strand_executor(ctx);
    Channel chan(ctx, 0);
    Channel ack(ctx, 0);
    std::vector<std::int64_t> latencies;
    latencies.reserve(kRounds);
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < kRounds; ++i) {
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
        auto result = co_await (timer.async_wait(asio::use_awaitable) ||
                                chan.async_receive(asio::use_awaitable));
        latencies.push_back(now_ns() - std::get<1>(result));
        co_await ack.async_send(boost::system::error_code{}, i, asio::use_awaitable);
      }
    }, asio::detached);
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < kRounds; ++i) {
        for (int spin = 0; spin < 2000; ++spin) benchmark::DoNotOptimize(spin);
        co_await chan.async_send(boost::system::error_code{}, now_ns(), asio::use_awaitable);
        co_await ack.async_receive(asio::use_awaitable);
      }
    }, asio::detached);
    run_on_two_threads(ctx);
    check_eq("when_any_wake: rounds", static_cast<long>(latencies.size()), kRounds);
    all.insert(all.end(), latencies.begin(), latencies.end());
  }
  std::sort(all.begin(), all.end());
  state.counters["p50_ns"] = static_cast<double>(all[all.size() / 2]);
  state.counters["p99_ns"] = static_cast<double>(all[all.size() * 99 / 100]);
}

void group_cancel_10k(benchmark::State& state) {
  constexpr long kChildren = 10'000;
  std::vector<double> micros;
  for (auto _ : state) micros.push_back(cancel_sleepers_once(kChildren) / 1000.0);
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}

#define CANCEL_BENCH(fn, reps)        \
  BENCHMARK(fn)                       \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(1)                 \
      ->Repetitions(reps)             \
      ->ReportAggregatesOnly(true)
CANCEL_BENCH(when_any_wake, 3);  // first, as in cancel_bench.cpp
CANCEL_BENCH(await_ready_op, 7);
CANCEL_BENCH(timeout_ready_op, 7);
CANCEL_BENCH(cancel_sleepers, 5);
CANCEL_BENCH(when_all_empty, 7);
BENCHMARK(group_cancel_10k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(100);

}  // namespace

BENCHMARK_MAIN();
