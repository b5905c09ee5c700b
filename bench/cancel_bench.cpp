// Cancellation and structured concurrency, on 2 workers, mirroring
// bench/asio/cancel_asio_bench.cpp (Boost.Asio's cancellation_signal and awaitable_operators):
//   await_ready_op      1,000,000 x co_await of a task that completes at once (the baseline)
//   timeout_ready_op    the same, each wrapped in timeout(1 h): the added cost is the difference
//   cancel_sleepers     1,000,000 tasks asleep for 1 h are cancelled and awaited
//   throw_floor         1,000,000 x two throws of TaskCancelled caught at once: the floor under
//                       cancel_sleepers (the task's co_await throws, then awaiting its handle)
//   when_all_empty      when_all over 1,000,000 empty tasks
//   make_tasks_floor    the same tasks made and destroyed unrun (the input's own cost)
//   when_all_cpu        when_all over 1,000 children of 20 us of CPU each, on 2 workers and on
//                       1: that its children still run side by side (ideal ratio 0.5)
//   when_any_wake       when_any(sleep 1 h, channel recv) woken by a send: send to winner running
//   group_cancel_10k    a TaskGroup of 10,000 sleeping tasks cancelled and joined (p50/p99)
// `cancel_bench --rss-after-cancel` prints the resident memory before 1,000,000 sleepers are
// spawned, while they sleep, and after they were cancelled and awaited (two rounds).
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/task_group.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>
#include <tiny_coro/when.h>

#include <benchmark/benchmark.h>

#include "bench_support.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using tiny_coro::Channel;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using namespace std::chrono_literals;

using tiny_coro::bench::check;
using tiny_coro::bench::kWorkers;
using tiny_coro::bench::per_item;
using tiny_coro::bench::resident_bytes;

constexpr int kCalls = 1'000'000;

Task<int> ready_op(int x) { co_return x + 1; }

Task<long> await_ready_ops(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await ready_op(i);
  co_return sum;
}

Task<long> timeout_ready_ops(Scheduler& sched, int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await tiny_coro::timeout(sched, 1h, ready_op(i));
  co_return sum;
}

constexpr long expected_sum(int n) { return static_cast<long>(n) * (n + 1) / 2; }

void BM_await_ready_op(benchmark::State& state) {
  Scheduler sched(kWorkers);
  for (auto _ : state)
    check(sched.block_on(await_ready_ops(kCalls)) == expected_sum(kCalls), "sum");
  per_item(state, "ns_per_call", kCalls);
}

void BM_timeout_ready_op(benchmark::State& state) {
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    check(sched.block_on(timeout_ready_ops(sched, kCalls)) == expected_sum(kCalls), "sum");
  }
  per_item(state, "ns_per_call", kCalls);
}

// --- cancel_sleepers ---
Task<void> sleeper(Scheduler& sched) { co_await tiny_coro::sleep_for(sched, 1h); }

std::vector<JoinHandle<void>> spawn_sleepers(Scheduler& sched, int n) {
  std::vector<JoinHandle<void>> handles;
  handles.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) handles.push_back(sched.spawn(sleeper(sched)));
  while (sched.reactor()->pending_timers() < static_cast<std::size_t>(n)) {
    std::this_thread::sleep_for(1ms);  // polling a gauge before the timed part
  }
  return handles;
}

Task<int> cancel_and_await(std::vector<JoinHandle<void>>& handles) {
  for (auto& h : handles) h.cancel();
  int cancelled = 0;
  for (auto& h : handles) {
    try {
      co_await std::move(h);
    } catch (const tiny_coro::TaskCancelled&) {
      ++cancelled;
    }
  }
  co_return cancelled;
}

void BM_cancel_sleepers(benchmark::State& state) {
  constexpr int kSleepers = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    state.PauseTiming();
    auto handles = spawn_sleepers(sched, kSleepers);
    state.ResumeTiming();
    check(sched.block_on(cancel_and_await(handles)) == kSleepers, "all cancelled");
  }
  per_item(state, "ns_per_task", kSleepers);
}

// The SPEC'd cancellation unwinds by exception, twice per cancelled and awaited task.
Task<long> throw_twice(int n) {
  long caught = 0;
  for (int i = 0; i < n; ++i) {
    for (int twice = 0; twice < 2; ++twice) {
      try {
        tiny_coro::detail::throw_task_cancelled();
      } catch (const tiny_coro::TaskCancelled&) {
        ++caught;
      }
    }
  }
  co_return caught;
}

void BM_throw_floor(benchmark::State& state) {
  constexpr int kTasks = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) check(sched.block_on(throw_twice(kTasks)) == 2L * kTasks, "caught");
  per_item(state, "ns_per_task", kTasks);
}

// --- when_all_empty ---
Task<void> empty_task() { co_return; }

Task<void> when_all_empty(int n) {
  std::vector<Task<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tasks.push_back(empty_task());
  co_await tiny_coro::when_all(std::move(tasks));
}

// Floor beside it: the same million tasks made and destroyed without running — the frames
// alone, a million alive at once as when_all's vector holds them.
Task<void> make_and_drop_empty(int n) {
  std::vector<Task<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tasks.push_back(empty_task());
  co_return;
}

void BM_make_tasks_floor(benchmark::State& state) {
  constexpr int kTasks = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) sched.block_on(make_and_drop_empty(kTasks));
  per_item(state, "ns_per_task", kTasks);
}

void BM_when_all_empty(benchmark::State& state) {
  constexpr int kTasks = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) sched.block_on(when_all_empty(kTasks));
  per_item(state, "ns_per_task", kTasks);
}

// --- when_all_cpu ---
Task<void> burn(std::chrono::microseconds cpu) {
  const auto end = std::chrono::steady_clock::now() + cpu;
  while (std::chrono::steady_clock::now() < end) {
  }
  co_return;
}

Task<void> when_all_cpu(int n, std::chrono::microseconds each) {
  std::vector<Task<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tasks.push_back(burn(each));
  co_await tiny_coro::when_all(std::move(tasks));
}

void BM_when_all_cpu(benchmark::State& state) {
  constexpr int kChildren = 1'000;
  static constexpr std::chrono::microseconds kEach{20};  // static: clang 14 would want it captured
  Scheduler one(1);
  Scheduler two(kWorkers);
  std::vector<double> ratios;
  for (auto _ : state) {
    auto timed = [](Scheduler& sched) {
      const auto start = std::chrono::steady_clock::now();
      sched.block_on(when_all_cpu(kChildren, kEach));
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const double alone = timed(one);
    ratios.push_back(timed(two) / alone);
  }
  std::sort(ratios.begin(), ratios.end());
  state.counters["two_vs_one"] = ratios[ratios.size() / 2];
}

// --- when_any_wake ---
using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

Task<std::int64_t> recv_latency(Channel<std::int64_t>& chan) {
  const std::optional<std::int64_t> sent_at = co_await chan.recv();
  co_return sent_at ? now_ns() - *sent_at : -1;
}

Task<void> sleep_an_hour(Scheduler& sched) { co_await tiny_coro::sleep_for(sched, 1h); }

// Each round: the receiver parks in when_any; the sender stamps the time and sends; the
// winner measures. The ack keeps exactly one round in flight.
Task<void> receiver(Scheduler& sched, Channel<std::int64_t>& chan, Channel<int>& ack, int rounds,
                    std::vector<std::int64_t>& latencies) {
  for (int i = 0; i < rounds; ++i) {
    auto result = co_await tiny_coro::when_any(sleep_an_hour(sched), recv_latency(chan));
    latencies.push_back(std::get<1>(result));
    co_await ack.send(i);
  }
}

Task<void> sender(Channel<std::int64_t>& chan, Channel<int>& ack, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    // Give the receiver time to park in its when_any: without it the send finds no waiter and
    // the measured path is the buffered one.
    for (int spin = 0; spin < 2000; ++spin) benchmark::DoNotOptimize(spin);
    co_await chan.send(now_ns());
    (void)co_await ack.recv();
  }
}

void BM_when_any_wake(benchmark::State& state) {
  constexpr int kRounds = 10'000;
  Scheduler sched(kWorkers);
  std::vector<std::int64_t> all;
  for (auto _ : state) {
    Channel<std::int64_t> chan(sched, 0);
    Channel<int> ack(sched, 0);
    std::vector<std::int64_t> latencies;
    latencies.reserve(kRounds);
    auto r = sched.spawn(receiver(sched, chan, ack, kRounds, latencies));
    sched.block_on(sender(chan, ack, kRounds));
    r.wait_blocking();
    r.take_result();
    all.insert(all.end(), latencies.begin(), latencies.end());
  }
  std::sort(all.begin(), all.end());
  state.counters["p50_ns"] = static_cast<double>(all[all.size() / 2]);
  state.counters["p99_ns"] = static_cast<double>(all[all.size() * 99 / 100]);
}

// --- group_cancel_10k ---
Task<void> fill_group(Scheduler& sched, tiny_coro::TaskGroup& group, int n) {
  for (int i = 0; i < n; ++i) group.spawn(sleeper(sched));
  co_return;
}

// From a task, as a group's owner would: the cancels then go to the worker's own queue.
Task<void> cancel_and_join(tiny_coro::TaskGroup& group) {
  group.cancel();
  co_await group.join();
}

void BM_group_cancel_10k(benchmark::State& state) {
  constexpr int kChildren = 10'000;
  Scheduler sched(kWorkers);
  std::vector<double> micros;
  for (auto _ : state) {
    state.PauseTiming();
    tiny_coro::TaskGroup group(sched);
    sched.block_on(fill_group(sched, group, kChildren));
    while (sched.reactor()->pending_timers() < static_cast<std::size_t>(kChildren)) {
      std::this_thread::sleep_for(100us);
    }
    state.ResumeTiming();
    const auto start = Clock::now();
    sched.block_on(cancel_and_join(group));
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}

// Named as in bench/asio/cancel_asio_bench.cpp, so bench/report_cancel.py can pair them.
#define CANCEL_BENCH(fn, name, reps)  \
  BENCHMARK(fn)                       \
      ->Name(name)                    \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(1)                 \
      ->Repetitions(reps)             \
      ->ReportAggregatesOnly(true)
// when_any first: right after a million-task burst the process (allocator and kernel giving
// back ~250 MB) slows whatever runs next for about a second; measured here, when_any's p50
// was 421 ns straight after cancel_sleepers and 90 ns after a 1.5 s pause. The peers run it
// first too.
CANCEL_BENCH(BM_when_any_wake, "when_any_wake", 3);
CANCEL_BENCH(BM_await_ready_op, "await_ready_op", 7);
CANCEL_BENCH(BM_timeout_ready_op, "timeout_ready_op", 7);
CANCEL_BENCH(BM_cancel_sleepers, "cancel_sleepers", 5);
CANCEL_BENCH(BM_throw_floor, "throw_floor", 5);
CANCEL_BENCH(BM_when_all_empty, "when_all_empty", 7);
CANCEL_BENCH(BM_make_tasks_floor, "make_tasks_floor", 7);
CANCEL_BENCH(BM_when_all_cpu, "when_all_cpu", 5);
BENCHMARK(BM_group_cancel_10k)
    ->Name("group_cancel_10k")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(100);

// As cancel_and_await, and frees the handles' array before the scheduler goes idle, so that
// the memory the workers give back then includes it.
Task<int> cancel_await_and_free(std::vector<JoinHandle<void>>& handles) {
  const int cancelled = co_await cancel_and_await(handles);
  std::vector<JoinHandle<void>>().swap(handles);
  co_return cancelled;
}

int rss_after_cancel() {
  constexpr int kSleepers = 1'000'000;
  Scheduler sched(kWorkers);
  const long cold = resident_bytes();
  {
    // Warm-up, small enough that nothing is given back: the code that cancelling runs (the
    // unwinder, the exception machinery) is paged in, so "before" below counts it already.
    auto handles = spawn_sleepers(sched, 10'000);
    check(sched.block_on(cancel_await_and_free(handles)) == 10'000, "all cancelled");
  }
  // Two rounds: the second shows that a scheduler which gave memory back grows and shrinks
  // again the same way.
  for (int round = 1; round <= 2; ++round) {
    const long before = resident_bytes();
    auto handles = spawn_sleepers(sched, kSleepers);
    const long sleeping = resident_bytes();
    check(sched.block_on(cancel_await_and_free(handles)) == kSleepers, "all cancelled");
    // The workers give memory back once they have been idle for a second after the burst:
    // wait until RSS has stopped falling for half a second (at most 5 s).
    long after = resident_bytes();
    for (int polls = 0, steady = 0; polls < 500 && steady < 50; ++polls) {
      std::this_thread::sleep_for(10ms);  // polling a gauge, not synchronising
      const long now = resident_bytes();
      steady = now < after ? 0 : (polls >= 120 ? steady + 1 : 0);
      after = std::min(after, now);
    }
    std::printf("round %d: rss_before_mib %.1f rss_sleeping_mib %.1f rss_after_mib %.1f\n", round,
                before / 1048576.0, sleeping / 1048576.0, after / 1048576.0);
  }
  std::printf("rss_cold_mib %.1f\n", cold / 1048576.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tiny_coro::bench::main_with_mode(argc, argv, "--rss-after-cancel", &rss_after_cancel);
}
