// Boost.Asio 1.81 peer benchmarks for the tiny_coro runtime benchmarks.
//
// Build (standalone):
//   g++ -std=c++20 -O2 -DNDEBUG bench/asio/runtime_asio_bench.cpp
//       -o /tmp/runtime_asio_bench -lbenchmark -lpthread
//
// Every workload runs C++20 coroutines (asio::awaitable / co_spawn /
// use_awaitable) on a fresh asio::io_context per iteration, driven by exactly
// two threads: the benchmark thread calls ctx.run() and one std::thread calls
// ctx.run() as well. The io_context is constructed with concurrency hint 2 so
// that posted work lands on the shared (locked) queue that both threads drain.
//
// Spawn semantics. In Asio 1.81, co_spawn's entry point starts with
// `co_await dispatch(...)`. Called from a thread that is already inside
// io_context::run() with the plain io_context executor, that dispatch runs the
// new coroutine *inline*, on the spawner's stack, until its first real
// suspension. Two consequences, both observed on this machine:
//   * chained_spawn (task i spawns task i+1) recurses 1,000,000 frames deep on
//     the C++ stack and dies with SIGSEGV;
//   * in skynet the whole tree is expanded depth-first on the one thread that
//     runs the root, so the second thread does almost nothing.
// To give "spawn" the same meaning as in the runtime under test (enqueue the
// new task; any worker may run it) every benchmark spawns on
//   asio::require(ctx.get_executor(), asio::execution::blocking.never)
// which is the documented Asio way to ask for never-inline execution: dispatch
// on such an executor becomes a post. The coroutines inherit this executor,
// so `co_await asio::this_coro::executor` hands it back to them.
//
// Each benchmark reports the wall time of one iteration (median of 5
// repetitions). Where it makes sense, a counter gives the cost per item in
// nanoseconds. Its name carries the unit, and it is computed from the same
// steady_clock interval, which covers building the io_context, starting the
// helper thread, the workload, joining and destroying the io_context.
//
// Extra mode: `runtime_asio_bench --rss-per-sleeper` prints
// `asio_bytes_per_sleeper <N>`, the VmRSS growth per coroutine suspended on
// its own 10 s steady_timer (1,000,000 of them), and exits.

#include <boost/asio.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "asio_support.h"

namespace asio = boost::asio;

namespace {

using clock_type = std::chrono::steady_clock;
using executor_type = asio::any_io_executor;

// ---------------------------------------------------------------- helpers --

using asio_peer::check_eq;
using asio_peer::check_failed;

using asio_peer::run_on_two_threads;
using asio_peer::spawn_executor;

double elapsed_ns(clock_type::time_point start, clock_type::time_point end) {
  return std::chrono::duration<double, std::nano>(end - start).count();
}

void set_ns_per(benchmark::State& state, const char* name, double total_ns,
                double items) {
  state.counters[name] = benchmark::Counter(total_ns / items);
}

// ------------------------------------------------------------ spawn_many --

constexpr long kSpawnManyTasks = 1'000'000;

asio::awaitable<void> empty_task(std::atomic<long>& ran) {
  ran.fetch_add(1, std::memory_order_relaxed);
  co_return;
}

asio::awaitable<void> spawn_many_root(long n, std::atomic<long>& ran) {
  executor_type ex = co_await asio::this_coro::executor;
  for (long i = 0; i < n; ++i) {
    asio::co_spawn(ex, empty_task(ran), asio::detached);
  }
}

void spawn_many(benchmark::State& state) {
  for (auto _ : state) {
    const auto start = clock_type::now();
    std::atomic<long> ran{0};
    {
      asio::io_context ctx(2);
      asio::co_spawn(spawn_executor(ctx), spawn_many_root(kSpawnManyTasks, ran),
                     asio::detached);
      run_on_two_threads(ctx);
    }
    const auto end = clock_type::now();
    long result = ran.load();
    benchmark::DoNotOptimize(result);
    check_eq("spawn_many: tasks run", result, kSpawnManyTasks);
    set_ns_per(state, "ns_per_task", elapsed_ns(start, end), kSpawnManyTasks);
  }
}

// --------------------------------------------------------- chained_spawn --

constexpr long kChainLength = 1'000'000;

// Task i spawns task i + 1, then returns. `ran` counts the tasks that ran;
// `index_sum` sums their indices, which shows that every link ran exactly
// once.
asio::awaitable<void> chain_task(long i, long n, std::atomic<long>& ran,
                                 std::atomic<long long>& index_sum) {
  if (i + 1 < n) {
    asio::co_spawn(co_await asio::this_coro::executor,
                   chain_task(i + 1, n, ran, index_sum), asio::detached);
  }
  index_sum.fetch_add(i, std::memory_order_relaxed);
  ran.fetch_add(1, std::memory_order_relaxed);
}

void chained_spawn(benchmark::State& state) {
  for (auto _ : state) {
    const auto start = clock_type::now();
    std::atomic<long> ran{0};
    std::atomic<long long> index_sum{0};
    {
      asio::io_context ctx(2);
      asio::co_spawn(spawn_executor(ctx),
                     chain_task(0, kChainLength, ran, index_sum),
                     asio::detached);
      run_on_two_threads(ctx);
    }
    const auto end = clock_type::now();
    long result = ran.load();
    long long sum = index_sum.load();
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(sum);
    check_eq("chained_spawn: tasks run", result, kChainLength);
    check_eq("chained_spawn: sum of task indices", sum,
             static_cast<long long>(kChainLength) * (kChainLength - 1) / 2);
    set_ns_per(state, "ns_per_spawn", elapsed_ns(start, end), kChainLength);
  }
}

// ------------------------------------------------------------ yield_many --

constexpr long kYieldTasks = 1'000;
constexpr long kYieldsPerTask = 1'000;

asio::awaitable<void> yielder(long yields, std::atomic<long long>& total) {
  long long done = 0;
  for (long i = 0; i < yields; ++i) {
    co_await asio::post(co_await asio::this_coro::executor,
                        asio::use_awaitable);
    ++done;
  }
  total.fetch_add(done, std::memory_order_relaxed);
}

asio::awaitable<void> yield_root(std::atomic<long long>& total) {
  executor_type ex = co_await asio::this_coro::executor;
  for (long t = 0; t < kYieldTasks; ++t) {
    asio::co_spawn(ex, yielder(kYieldsPerTask, total), asio::detached);
  }
}

void yield_many(benchmark::State& state) {
  for (auto _ : state) {
    const auto start = clock_type::now();
    std::atomic<long long> total{0};
    {
      asio::io_context ctx(2);
      asio::co_spawn(spawn_executor(ctx), yield_root(total), asio::detached);
      run_on_two_threads(ctx);
    }
    const auto end = clock_type::now();
    long long result = total.load();
    benchmark::DoNotOptimize(result);
    check_eq("yield_many: yields completed", result,
             static_cast<long long>(kYieldTasks) * kYieldsPerTask);
    set_ns_per(state, "ns_per_yield", elapsed_ns(start, end),
               static_cast<double>(kYieldTasks) * kYieldsPerTask);
  }
}

// ---------------------------------------------------------------- skynet --

constexpr long long kSkynetLeaves = 1'000'000;  // 10^6 leaves, depth 6
constexpr long long kSkynetTasks = 1'111'111;   // all nodes of the tree
constexpr long long kSkynetSum = 499'999'500'000LL;

// How children are joined: each inner node builds 10 deferred operations
// `co_spawn(ex, child, asio::deferred)` and awaits them all with the ranged
// form of asio::experimental::make_parallel_group(...).async_wait(
// wait_for_all(), use_awaitable). That is the Asio 1.81 way to start N
// awaitables at once and collect their results. The group starts all 10
// co_spawns before the parent suspends. Because the executor is
// blocking.never, each child is a separate entry on the io_context's shared
// queue, so the two threads really do run siblings concurrently. The group
// completes with (completion order, exception_ptr per child, value per
// child). Other options and why they were not used:
//   * awaitable_operators `a && b` only combines two awaitables at a time; a
//     10-way join would be nine nested binary groups with tuple results.
//   * a channel or timer-cancel join would need hand-written counting. The
//     parallel group does that counting for us, which is what an Asio user
//     would reach for.
asio::awaitable<long long> skynet_node(long long num, long long size) {
  if (size == 1) co_return num;

  executor_type ex = co_await asio::this_coro::executor;
  using child_op =
      decltype(asio::co_spawn(ex, skynet_node(0, 1), asio::deferred));
  std::vector<child_op> children;
  children.reserve(10);
  const long long sub = size / 10;
  for (long long i = 0; i < 10; ++i) {
    children.push_back(
        asio::co_spawn(ex, skynet_node(num + i * sub, sub), asio::deferred));
  }

  auto [order, errors, values] =
      co_await asio::experimental::make_parallel_group(std::move(children))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);

  if (values.size() != 10 || order.size() != 10) {
    check_eq("skynet: children joined", static_cast<long long>(values.size()),
             10);
  }
  long long sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
    sum += values[i];
  }
  co_return sum;
}

void skynet(benchmark::State& state) {
  for (auto _ : state) {
    const auto start = clock_type::now();
    long long sum = -1;
    bool root_done = false;
    {
      asio::io_context ctx(2);
      asio::co_spawn(spawn_executor(ctx), skynet_node(0, kSkynetLeaves),
                     [&](std::exception_ptr e, long long value) {
                       if (e) {
                         std::fprintf(stderr,
                                      "runtime_asio_bench: skynet root threw\n");
                         std::abort();
                       }
                       sum = value;
                       root_done = true;
                     });
      run_on_two_threads(ctx);
    }
    const auto end = clock_type::now();
    benchmark::DoNotOptimize(sum);
    check_eq("skynet: root completed", root_done ? 1 : 0, 1);
    check_eq("skynet: root sum", sum, kSkynetSum);
    set_ns_per(state, "ns_per_task", elapsed_ns(start, end), kSkynetTasks);
  }
}

// ---------------------------------------------------------------- timers --

constexpr long kTimerTasks = 100'000;
constexpr auto kTimerDelay = std::chrono::milliseconds(10);

asio::awaitable<void> timer_sleeper(std::atomic<long>& woke) {
  asio::steady_timer timer(co_await asio::this_coro::executor, kTimerDelay);
  co_await timer.async_wait(asio::use_awaitable);
  woke.fetch_add(1, std::memory_order_relaxed);
}

asio::awaitable<void> timer_root(std::atomic<long>& woke) {
  executor_type ex = co_await asio::this_coro::executor;
  for (long i = 0; i < kTimerTasks; ++i) {
    asio::co_spawn(ex, timer_sleeper(woke), asio::detached);
  }
}

void timers(benchmark::State& state) {
  for (auto _ : state) {
    std::atomic<long> woke{0};
    {
      asio::io_context ctx(2);
      asio::co_spawn(spawn_executor(ctx), timer_root(woke), asio::detached);
      run_on_two_threads(ctx);
    }
    long result = woke.load();
    benchmark::DoNotOptimize(result);
    check_eq("timers: sleepers woken", result, kTimerTasks);
  }
}

// ------------------------------------------------------- rss-per-sleeper --

constexpr long kRssSleepers = 1'000'000;

// VmRSS of this process in bytes, read from /proc/self/status.
long long read_vm_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) {
    std::fprintf(stderr, "runtime_asio_bench: cannot open /proc/self/status\n");
    std::abort();
  }
  char line[256];
  long long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtoll(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  if (kib < 0) {
    std::fprintf(stderr, "runtime_asio_bench: no VmRSS in /proc/self/status\n");
    std::abort();
  }
  return kib * 1024;
}

// Counts itself just before it suspends on its timer. The timer never fires
// during the measurement (10 s); the io_context is stopped instead.
asio::awaitable<void> rss_sleeper(std::atomic<long>& suspended) {
  asio::steady_timer timer(co_await asio::this_coro::executor,
                           std::chrono::seconds(10));
  suspended.fetch_add(1, std::memory_order_release);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<void> rss_root(std::atomic<long>& suspended) {
  executor_type ex = co_await asio::this_coro::executor;
  for (long i = 0; i < kRssSleepers; ++i) {
    asio::co_spawn(ex, rss_sleeper(suspended), asio::detached);
  }
}

int rss_per_sleeper() {
  std::atomic<long> suspended{0};
  asio::io_context ctx(2);
  auto guard = asio::make_work_guard(ctx);
  std::thread t1([&ctx] { ctx.run(); });
  std::thread t2([&ctx] { ctx.run(); });

  const long long before = read_vm_rss_bytes();
  asio::co_spawn(spawn_executor(ctx), rss_root(suspended), asio::detached);

  const auto deadline = clock_type::now() + std::chrono::seconds(60);
  while (suspended.load(std::memory_order_acquire) < kRssSleepers) {
    if (clock_type::now() > deadline) {
      check_eq("rss-per-sleeper: sleepers suspended within 60 s",
               suspended.load(), kRssSleepers);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The count goes up just before each co_await. Give the last few coroutines
  // a moment to actually park on their timers.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const long long after = read_vm_rss_bytes();

  check_eq("rss-per-sleeper: sleepers suspended", suspended.load(),
           kRssSleepers);
  std::printf("asio_bytes_per_sleeper %lld\n", (after - before) / kRssSleepers);
  std::fflush(stdout);

  ctx.stop();
  t1.join();
  t2.join();
  return 0;  // ~io_context destroys the pending timer waits and their frames
}

}  // namespace

BENCHMARK(spawn_many)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(chained_spawn)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(yield_many)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(skynet)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(timers)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--rss-per-sleeper") {
      return rss_per_sleeper();
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
