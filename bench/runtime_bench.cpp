// Runtime workloads, all on 2 workers, mirroring bench/asio/runtime_asio_bench.cpp:
//   spawn_many     one task spawns 1,000,000 empty tasks; done when all ran
//   chained_spawn  each task spawns the next, 1,000,000 deep
//   yield_many     1,000 tasks x 1,000 yield_now()
//   skynet         1,000,000-leaf 10-ary tree; sums come back through JoinHandles
//   timers         100,000 tasks sleeping 10 ms; done when all woke
// `runtime_bench --rss-per-sleeper` instead prints the resident memory per suspended
// sleeping task with 1,000,000 sleepers (frames, timer nodes, heap, registry: everything).
// Each benchmark is one iteration, repeated; the reported figure is the median.
#include <tiny_coro/scheduler.h>

#include <benchmark/benchmark.h>

#include "bench_support.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <latch>
#include <string>
#include <vector>

namespace {

using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using namespace std::chrono_literals;

using tiny_coro::bench::check;
using tiny_coro::bench::kWorkers;
using tiny_coro::bench::per_item;
using tiny_coro::bench::resident_bytes;

// Runs one iteration: spawns the root task `start(done)` from main and waits until `count`
// tasks have counted `done` down.
template <class Start>
void spawn_and_wait(Scheduler& sched, std::ptrdiff_t count, Start start) {
  std::latch done(count);
  sched.spawn(start(done));
  done.wait();
}

// --- spawn_many ---
Task<void> empty_task(std::latch& done) {
  done.count_down();
  co_return;
}
Task<void> spawn_many(Scheduler& sched, std::latch& done, int n) {
  for (int i = 0; i < n; ++i) sched.spawn(empty_task(done));
  co_return;
}
void BM_spawn_many(benchmark::State& state) {
  constexpr int kTasks = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    spawn_and_wait(sched, kTasks,
                   [&](std::latch& done) { return spawn_many(sched, done, kTasks); });
  }
  per_item(state, "ns_per_task", kTasks);
}

// --- chained_spawn ---
Task<void> chain(Scheduler& sched, std::latch& done, int remaining) {
  if (remaining == 0) {
    done.count_down();
  } else {
    sched.spawn(chain(sched, done, remaining - 1));
  }
  co_return;
}
void BM_chained_spawn(benchmark::State& state) {
  constexpr int kDepth = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    spawn_and_wait(sched, 1, [&](std::latch& done) { return chain(sched, done, kDepth); });
  }
  per_item(state, "ns_per_spawn", kDepth);
}

// --- yield_many ---
Task<void> yielder(std::latch& done, int yields) {
  for (int i = 0; i < yields; ++i) co_await tiny_coro::yield_now();
  done.count_down();
}
Task<void> spawn_yielders(Scheduler& sched, std::latch& done, int tasks, int yields) {
  for (int i = 0; i < tasks; ++i) sched.spawn(yielder(done, yields));
  co_return;
}
void BM_yield_many(benchmark::State& state) {
  constexpr int kTasks = 1000;
  constexpr int kYields = 1000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    spawn_and_wait(sched, kTasks,
                   [&](std::latch& done) { return spawn_yielders(sched, done, kTasks, kYields); });
  }
  per_item(state, "ns_per_yield", double(kTasks) * kYields);
}

// --- skynet ---
Task<long> skynet(Scheduler& sched, long num, long size) {
  if (size == 1) co_return num;
  JoinHandle<long> children[10];
  const long child_size = size / 10;
  for (long i = 0; i < 10; ++i)
    children[i] = sched.spawn(skynet(sched, num + i * child_size, child_size));
  long sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}
void BM_skynet(benchmark::State& state) {
  constexpr long kLeaves = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    const long sum = sched.block_on(skynet(sched, 0, kLeaves));
    check(sum == kLeaves * (kLeaves - 1) / 2, "skynet sum");
    benchmark::DoNotOptimize(sum);
  }
  per_item(state, "ns_per_task", 1'111'111);
}

// --- timers ---
Task<void> sleeper(Scheduler& sched, std::latch& done, std::chrono::milliseconds d) {
  co_await tiny_coro::sleep_for(sched, d);
  done.count_down();
}
Task<void> spawn_sleepers(Scheduler& sched, std::latch& done, int n, std::chrono::milliseconds d) {
  for (int i = 0; i < n; ++i) sched.spawn(sleeper(sched, done, d));
  co_return;
}
void BM_timers(benchmark::State& state) {
  constexpr int kSleepers = 100'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    spawn_and_wait(sched, kSleepers,
                   [&](std::latch& done) { return spawn_sleepers(sched, done, kSleepers, 10ms); });
  }
}

// Named as in bench/asio/runtime_asio_bench.cpp, so bench/report_runtime.py can pair them.
#define RUNTIME_BENCH(fn, name)       \
  BENCHMARK(fn)                       \
      ->Name(name)                    \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(1)                 \
      ->Repetitions(7)                \
      ->ReportAggregatesOnly(true)
RUNTIME_BENCH(BM_spawn_many, "spawn_many");
RUNTIME_BENCH(BM_chained_spawn, "chained_spawn");
RUNTIME_BENCH(BM_yield_many, "yield_many");
RUNTIME_BENCH(BM_skynet, "skynet");
RUNTIME_BENCH(BM_timers, "timers");

Task<void> counted_sleeper(Scheduler& sched, std::atomic<long>& suspended) {
  suspended.fetch_add(1, std::memory_order_relaxed);
  co_await tiny_coro::sleep_for(sched, 3600s);
}

int rss_per_sleeper() {
  constexpr long kSleepers = 1'000'000;
  Scheduler sched(kWorkers);
  std::atomic<long> suspended{0};
  const long before = resident_bytes();
  for (long i = 0; i < kSleepers; ++i) sched.spawn(counted_sleeper(sched, suspended));
  while (sched.reactor()->pending_timers() < static_cast<std::size_t>(kSleepers)) {
    std::this_thread::sleep_for(1ms);  // polling a gauge, not synchronising a test
  }
  const long after = resident_bytes();
  std::printf("tiny_coro_bytes_per_sleeper %ld\n", (after - before) / kSleepers);
  sched.shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tiny_coro::bench::main_with_mode(argc, argv, "--rss-per-sleeper", &rss_per_sleeper);
}
