// spawn_blocking round trips, the same workloads as bench/tokio/src/bin/blocking_tokio_bench.rs:
// one task awaiting calls one after another, and 16 tasks at once, on 2 workers. Prints
// "name ns_per_call" lines for bench/run_blocking.sh; `blocking_bench ROW` runs one row.
// run_blocking (the inline form, no task of its own) is measured beside it. Last, a ping-pong's
// round trip alone and beside 100 calls sleeping on the pool: blocking calls must not slow the
// workers (ns per round trip).
#include <tiny_coro/blocking.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/timer.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "ping_pong.h"

namespace {

using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;

constexpr std::uint64_t kCalls = 200'000;
constexpr std::uint64_t kTasks = 16;

Task<std::uint64_t> spawn_blocking_calls(Scheduler& sched, std::uint64_t calls) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < calls; ++i) {
    sum += co_await sched.spawn_blocking([i] { return i; });
  }
  co_return sum;
}

Task<std::uint64_t> run_blocking_calls(Scheduler& sched, std::uint64_t calls) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < calls; ++i) {
    sum += co_await tiny_coro::run_blocking(sched, [i] { return i; });
  }
  co_return sum;
}

Task<std::uint64_t> fan_out(Scheduler& sched, bool inline_form) {
  std::vector<JoinHandle<std::uint64_t>> tasks;
  for (std::uint64_t t = 0; t < kTasks; ++t) {
    tasks.push_back(sched.spawn(inline_form ? run_blocking_calls(sched, kCalls / kTasks)
                                            : spawn_blocking_calls(sched, kCalls / kTasks)));
  }
  std::uint64_t total = 0;
  for (auto& task : tasks) total += co_await std::move(task);
  co_return total;
}

// "Workers are never blocked" as a rate: a ping-pong between two tasks alone, and beside
// 100 tasks whose calls sleep 100 ms at a time on the pool (the rows' ratio should be ~1).
constexpr int kRoundTrips = 1'000'000;
constexpr int kSleepingCalls = 100;

// `pinging`: the ping-pong's own time (not the sleepers' start, nor waiting out their sleeps).
Task<std::uint64_t> ping_pong_beside_sleeping_calls(Scheduler& sched,
                                                    std::chrono::steady_clock::duration& pinging) {
  std::atomic<bool> stop{false};
  std::atomic<int> calls_started{0};
  std::vector<JoinHandle<void>> sleepers;
  for (int i = 0; i < kSleepingCalls; ++i) {
    sleepers.push_back(sched.spawn(
        [](Scheduler& s, std::atomic<bool>& done, std::atomic<int>& started) -> Task<void> {
          while (!done.load()) {
            co_await s.spawn_blocking([&started] {
              ++started;
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
            });
          }
        }(sched, stop, calls_started)));
  }
  // Measured once every call sleeps on its own pool thread (the pool's start is not the row).
  while (calls_started.load() < kSleepingCalls) {
    co_await tiny_coro::sleep_for(sched, std::chrono::milliseconds(1));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t sum = co_await tiny_coro::bench::ping_pong(sched, kRoundTrips);
  pinging = std::chrono::steady_clock::now() - start;
  stop = true;
  for (auto& sleeper : sleepers) co_await std::move(sleeper);
  co_return sum;
}

const char* only_row = nullptr;  // argv[1]: run just this row

bool selected(const char* name) {
  return only_row == nullptr || std::string_view(only_row) == name;
}

// Checks a row's result and prints its time per item.
void report(const char* name, std::uint64_t got, std::uint64_t expected,
            std::chrono::steady_clock::duration elapsed, std::uint64_t items) {
  if (got != expected) {
    std::fprintf(stderr, "blocking_bench: %s: wrong sum\n", name);
    std::exit(1);
  }
  std::printf(
      "%s %.0f\n", name,
      static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / static_cast<double>(items));
}

template <class Run>
void measure_per(const char* name, Run run, std::uint64_t expected, std::uint64_t items) {
  if (!selected(name)) return;
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t got = run();
  report(name, got, expected, std::chrono::steady_clock::now() - start, items);
}

template <class Run>
void measure(const char* name, Run run, std::uint64_t expected) {
  measure_per(name, run, expected, kCalls);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) only_row = argv[1];
  Scheduler sched(2);
  if (const char* cap = std::getenv("BLOCKING_BENCH_MAX_THREADS")) {
    sched.set_blocking_pool_options({.max_threads = static_cast<std::size_t>(std::atoi(cap))});
  }
  const std::uint64_t sequential_sum = kCalls * (kCalls - 1) / 2;
  const std::uint64_t per_task = kCalls / kTasks;
  const std::uint64_t fan_sum = kTasks * (per_task * (per_task - 1) / 2);
  measure(
      "spawn_blocking_sequential",
      [&] { return sched.block_on(spawn_blocking_calls(sched, kCalls)); }, sequential_sum);
  measure(
      "spawn_blocking_16_tasks", [&] { return sched.block_on(fan_out(sched, false)); }, fan_sum);
  measure(
      "run_blocking_sequential", [&] { return sched.block_on(run_blocking_calls(sched, kCalls)); },
      sequential_sum);
  measure(
      "run_blocking_16_tasks", [&] { return sched.block_on(fan_out(sched, true)); }, fan_sum);
  const std::uint64_t ping_sum = std::uint64_t{kRoundTrips} * (kRoundTrips - 1) / 2;
  measure_per(
      "ping_pong_alone",
      [&] { return sched.block_on(tiny_coro::bench::ping_pong(sched, kRoundTrips)); }, ping_sum,
      kRoundTrips);
  if (const char* row = "ping_pong_beside_100_sleeping_calls"; selected(row)) {
    std::chrono::steady_clock::duration pinging{};
    const std::uint64_t got = sched.block_on(ping_pong_beside_sleeping_calls(sched, pinging));
    report(row, got, ping_sum, pinging, kRoundTrips);
  }
  if (std::getenv("BLOCKING_BENCH_METRICS") != nullptr) {
    const tiny_coro::RuntimeMetrics m = sched.metrics();
    std::fprintf(
        stderr,
        "pool threads started %llu, calls %llu; worker parks %llu unparks %llu steals "
        "%llu runs %llu lifo %llu\n",
        static_cast<unsigned long long>(m.blocking.threads_started),
        static_cast<unsigned long long>(m.blocking.calls_run),
        static_cast<unsigned long long>(m.total(&tiny_coro::WorkerMetrics::parks)),
        static_cast<unsigned long long>(m.total(&tiny_coro::WorkerMetrics::unparks)),
        static_cast<unsigned long long>(m.total(&tiny_coro::WorkerMetrics::steals)),
        static_cast<unsigned long long>(m.total(&tiny_coro::WorkerMetrics::tasks_run)),
        static_cast<unsigned long long>(m.total(&tiny_coro::WorkerMetrics::lifo_slot_hits)));
  }
}
