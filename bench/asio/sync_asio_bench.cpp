// Boost.Asio 1.81 peer benchmarks for the tiny_coro synchronisation benchmarks
// (channels and the async mutex).
//
// Build (standalone):
//   g++ -std=c++20 -O2 -DNDEBUG -Wall -Wextra bench/asio/sync_asio_bench.cpp
//       -o /tmp/sync_asio_bench -lbenchmark -lpthread
//
// Conventions are those of runtime_asio_bench.cpp: every workload runs C++20
// coroutines (asio::awaitable / co_spawn / use_awaitable) on a fresh
// asio::io_context (concurrency hint 2) per iteration, driven by exactly two
// threads: the benchmark thread and one std::thread both call ctx.run(). All
// coroutines are spawned on
//   asio::require(ctx.get_executor(), asio::execution::blocking.never)
// so that a spawn enqueues the new coroutine instead of running it inline (see
// the comment at the top of runtime_asio_bench.cpp). The coroutines inherit
// that executor, and channel completions are delivered through it as well, so
// a coroutine that has to wait on a channel is resumed from the io_context's
// shared queue, by whichever of the two threads gets there first.
//
// Channel type. The coroutines of one benchmark run on both threads, so every
// channel here is asio::experimental::concurrent_channel (the variant with an
// internal mutex). The plain experimental::channel is documented as not
// thread-safe and would be a data race here.
//
// Every coroutine is spawned with a completion handler that aborts on an
// exception (a use_awaitable operation that fails throws), and each benchmark
// checks its result and aborts on a mismatch, so a broken run cannot report a
// number.
//
// Each benchmark reports the wall time of one iteration (median of 5
// repetitions) and a per-item counter computed by Google Benchmark from the
// same real-time interval (kIsIterationInvariantRate | kInvert): seconds per
// item, printed with an SI prefix (e.g. "120n" is 120 ns). The interval covers
// building the io_context and the channels, starting the helper thread, the
// workload, joining and destroying the io_context.

#include <boost/asio.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>

#include "asio_support.h"

namespace asio = boost::asio;

namespace {

using executor_type = asio::any_io_executor;
using error_code = boost::system::error_code;

// A channel of ints (ping_pong, mpmc).
using int_channel =
    asio::experimental::concurrent_channel<void(error_code, int)>;

// A channel that carries no value, used as a lock (mutex_contention,
// uncontended_lock; see "The lock" below).
using lock_channel = asio::experimental::concurrent_channel<void(error_code)>;

// ---------------------------------------------------------------- helpers --

using asio_peer::check_eq;
using asio_peer::check_failed;

// Completion handler for co_spawn: a coroutine that ends with an exception
// (for instance a channel operation that completed with an error) aborts the
// program instead of being silently dropped as asio::detached would do.
struct abort_on_exception {
  const char* what;

  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "sync_asio_bench: %s: coroutine threw: %s\n", what,
                   ex.what());
    } catch (...) {
      std::fprintf(stderr, "sync_asio_bench: %s: coroutine threw\n", what);
    }
    std::fflush(stderr);
    std::abort();
  }
};

using asio_peer::run_on_two_threads;
using asio_peer::spawn_executor;

// Reports `items` per iteration as a time per item: Google Benchmark divides
// the iteration's real time by `items` (rate, then inverted).
void set_per_item(benchmark::State& state, const char* name, double items) {
  state.counters[name] = benchmark::Counter(
      items, benchmark::Counter::kIsIterationInvariantRate |
                 benchmark::Counter::kInvert);
}

// -------------------------------------------------------------- ping_pong --

constexpr int kRoundTrips = 1'000'000;

// A: sends i on `to_b`, then waits for B's reply on `to_a`, which must be
// i + 1. Both channels are unbuffered (capacity 0), so every send waits for
// the matching receive: a round trip is two rendezvous.
asio::awaitable<void> ping(int_channel& to_b, int_channel& to_a, int rounds,
                           std::atomic<long>& done) {
  for (int i = 0; i < rounds; ++i) {
    co_await to_b.async_send(error_code{}, i, asio::use_awaitable);
    const int reply = co_await to_a.async_receive(asio::use_awaitable);
    if (reply != i + 1) check_failed("ping_pong: reply", reply, i + 1);
  }
  done.fetch_add(rounds, std::memory_order_relaxed);
}

// B: receives a value on `to_b` and sends it back plus one on `to_a`.
asio::awaitable<void> pong(int_channel& to_b, int_channel& to_a, int rounds,
                           std::atomic<long>& done) {
  for (int i = 0; i < rounds; ++i) {
    const int value = co_await to_b.async_receive(asio::use_awaitable);
    co_await to_a.async_send(error_code{}, value + 1, asio::use_awaitable);
  }
  done.fetch_add(rounds, std::memory_order_relaxed);
}

void ping_pong(benchmark::State& state) {
  for (auto _ : state) {
    std::atomic<long> ping_done{0};
    std::atomic<long> pong_done{0};
    {
      asio::io_context ctx(2);
      int_channel to_b(spawn_executor(ctx), 0);
      int_channel to_a(spawn_executor(ctx), 0);
      asio::co_spawn(spawn_executor(ctx),
                     ping(to_b, to_a, kRoundTrips, ping_done),
                     abort_on_exception{"ping_pong: A"});
      asio::co_spawn(spawn_executor(ctx),
                     pong(to_b, to_a, kRoundTrips, pong_done),
                     abort_on_exception{"ping_pong: B"});
      run_on_two_threads(ctx);
    }
    long a = ping_done.load();
    long b = pong_done.load();
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    check_eq("ping_pong: round trips completed by A", a, kRoundTrips);
    check_eq("ping_pong: round trips completed by B", b, kRoundTrips);
  }
  set_per_item(state, "ns_per_round_trip", kRoundTrips);
}

// ------------------------------------------------------------------- mpmc --

constexpr int kMpmcProducers = 4;
constexpr int kMpmcConsumers = 4;
constexpr int kMpmcItems = 4'000'000;  // in total, over all producers
constexpr std::size_t kMpmcCapacity = 1024;

// Sends the values [first, last) and adds their sum to `sent_sum`.
asio::awaitable<void> mpmc_producer(int_channel& ch, int first, int last,
                                    std::atomic<long long>& sent_sum) {
  long long sum = 0;
  for (int v = first; v < last; ++v) {
    co_await ch.async_send(error_code{}, v, asio::use_awaitable);
    sum += v;
  }
  sent_sum.fetch_add(sum, std::memory_order_relaxed);
}

// Receives until the channel is closed. How consumers stop: in Asio 1.81,
// close() on a concurrent_channel discards whatever is still buffered (the
// receive state goes straight to "closed"), so the producers cannot simply
// close the channel when they are done. Instead the consumers count the items:
// the one that receives the last of the `total` items closes the channel,
// which completes every consumer still waiting in async_receive with
// experimental::error::channel_closed. At that moment the buffer is empty, so
// nothing is lost.
asio::awaitable<void> mpmc_consumer(int_channel& ch, long total,
                                    std::atomic<long>& received,
                                    std::atomic<long long>& received_sum) {
  long long sum = 0;
  for (;;) {
    auto [ec, value] =
        co_await ch.async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::experimental::error::channel_closed) break;
    if (ec) check_failed("mpmc: receive error code", ec.value(), 0);
    sum += value;
    if (received.fetch_add(1, std::memory_order_relaxed) + 1 == total) {
      ch.close();
    }
  }
  received_sum.fetch_add(sum, std::memory_order_relaxed);
}

void mpmc(benchmark::State& state) {
  for (auto _ : state) {
    std::atomic<long long> sent_sum{0};
    std::atomic<long> received{0};
    std::atomic<long long> received_sum{0};
    {
      asio::io_context ctx(2);
      int_channel ch(spawn_executor(ctx), kMpmcCapacity);
      for (int c = 0; c < kMpmcConsumers; ++c) {
        asio::co_spawn(spawn_executor(ctx),
                       mpmc_consumer(ch, kMpmcItems, received, received_sum),
                       abort_on_exception{"mpmc: consumer"});
      }
      for (int p = 0; p < kMpmcProducers; ++p) {
        const int first = static_cast<int>(
            static_cast<long long>(kMpmcItems) * p / kMpmcProducers);
        const int last = static_cast<int>(
            static_cast<long long>(kMpmcItems) * (p + 1) / kMpmcProducers);
        asio::co_spawn(spawn_executor(ctx),
                       mpmc_producer(ch, first, last, sent_sum),
                       abort_on_exception{"mpmc: producer"});
      }
      run_on_two_threads(ctx);
    }
    long count = received.load();
    long long got = received_sum.load();
    long long sent = sent_sum.load();
    benchmark::DoNotOptimize(count);
    benchmark::DoNotOptimize(got);
    check_eq("mpmc: items received", count, kMpmcItems);
    check_eq("mpmc: sum sent", sent,
             static_cast<long long>(kMpmcItems) * (kMpmcItems - 1) / 2);
    check_eq("mpmc: sum received", got, sent);
  }
  set_per_item(state, "ns_per_item", kMpmcItems);
}

// --------------------------------------------------------------- the lock --
//
// Asio has no asynchronous mutex. The idiom Asio users reach for is a
// concurrent_channel<void(error_code)> with capacity 1 used as a lock: the
// single buffer slot is the lock, full means held.
//   * lock:   put a message into the slot. try_send() does that without
//             suspending when the slot is empty; if it is full, the coroutine
//             awaits async_send(), which queues it (FIFO) on the channel until
//             the slot is handed to it.
//   * unlock: try_receive() empties the slot. It never waits: the holder's
//             own message is always in the buffer. If a locker is queued, the
//             channel moves that locker's message into the slot and completes
//             its send in the same step, i.e. the lock passes straight to the
//             longest waiter (no barging: the slot never looks empty while
//             someone waits), and the waiter resumes through the io_context's
//             queue.
// This is the same shape as tiny_coro's AsyncMutex (try_lock in await_ready,
// FIFO hand-off on unlock, unlock never suspends), so the two benchmarks
// compare locks rather than scheduler round trips. The plainer forms of the
// idiom, `co_await async_send` to lock and `co_await async_receive` (or
// try_receive) to unlock, complete even a free lock through the channel's
// handler machinery: with a blocking.never executor every such completion is
// a post and a resume from the queue, which costs more than the lock itself.
// (The try_* fast paths are used for the lock only. In ping_pong and mpmc
// the channels are used as channels, the way Asio code awaits them.)
// A strand would be the other Asio answer, but it serialises whole handlers
// rather than a critical section inside a coroutine, so it is not a lock in
// the sense the tiny_coro benchmark measures.
//
// The counter the lock protects is a plain long long: the lock is the only
// thing that orders the increments (the channel's internal mutex gives the
// happens-before edge from one holder to the next), so an exact final count
// shows that mutual exclusion held.

void unlock(lock_channel& ch) {
  if (!ch.try_receive([](error_code) {})) {
    check_failed("unlock: the lock channel was empty", 0, 1);
  }
}

// ------------------------------------------------------- mutex_contention --

constexpr long kMutexTasks = 1'000;
constexpr long kLocksPerTask = 1'000;

asio::awaitable<void> contender(lock_channel& mutex, long locks,
                                long long& counter,
                                std::atomic<long>& finished) {
  for (long i = 0; i < locks; ++i) {
    // lock (written out here: a helper awaitable would add a coroutine frame)
    if (!mutex.try_send(error_code{})) {
      co_await mutex.async_send(error_code{}, asio::use_awaitable);
    }
    ++counter;
    unlock(mutex);
  }
  finished.fetch_add(1, std::memory_order_relaxed);
}

asio::awaitable<void> contention_root(lock_channel& mutex, long long& counter,
                                      std::atomic<long>& finished) {
  executor_type ex = co_await asio::this_coro::executor;
  for (long t = 0; t < kMutexTasks; ++t) {
    asio::co_spawn(ex, contender(mutex, kLocksPerTask, counter, finished),
                   abort_on_exception{"mutex_contention: contender"});
  }
}

void mutex_contention(benchmark::State& state) {
  for (auto _ : state) {
    long long counter = 0;
    std::atomic<long> finished{0};
    {
      asio::io_context ctx(2);
      lock_channel mutex(spawn_executor(ctx), 1);
      asio::co_spawn(spawn_executor(ctx),
                     contention_root(mutex, counter, finished),
                     abort_on_exception{"mutex_contention: root"});
      run_on_two_threads(ctx);
    }
    benchmark::DoNotOptimize(counter);
    check_eq("mutex_contention: coroutines finished", finished.load(),
             kMutexTasks);
    check_eq("mutex_contention: counter", counter,
             static_cast<long long>(kMutexTasks) * kLocksPerTask);
  }
  set_per_item(state, "ns_per_lock",
               static_cast<double>(kMutexTasks) * kLocksPerTask);
}

// ------------------------------------------------------- uncontended_lock --

constexpr long kUncontendedLocks = 1'000'000;

void uncontended_lock(benchmark::State& state) {
  for (auto _ : state) {
    long long counter = 0;
    std::atomic<long> finished{0};
    {
      asio::io_context ctx(2);
      lock_channel mutex(spawn_executor(ctx), 1);
      asio::co_spawn(spawn_executor(ctx),
                     contender(mutex, kUncontendedLocks, counter, finished),
                     abort_on_exception{"uncontended_lock"});
      run_on_two_threads(ctx);
    }
    benchmark::DoNotOptimize(counter);
    check_eq("uncontended_lock: coroutine finished", finished.load(), 1);
    check_eq("uncontended_lock: counter", counter, kUncontendedLocks);
  }
  set_per_item(state, "ns_per_lock", kUncontendedLocks);
}

}  // namespace

BENCHMARK(ping_pong)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(mpmc)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(mutex_contention)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(uncontended_lock)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

BENCHMARK_MAIN();
