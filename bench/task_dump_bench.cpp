// Scheduler::dump_tasks() at scale (issue 14's targets): how long a dump of 1,000,000
// suspended tasks takes, and the longest stall it causes a ping-pong that runs meanwhile
// (the gap between two of its consecutive round trips, minus its usual one).
//
//   task_dump_bench [TASKS] [DUMPS]     default 1000000 5
// Prints one line per dump and a summary: median dump time, and the ping-pong's longest gap
// during each dump beside its longest in a window as long right after it, without a dump.
#define TINY_CORO_NO_GLOBAL_NAMES  // Task<T> here, not the manual's global Task
#include <tiny_coro/async_event.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using tiny_coro::Channel;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using Clock = std::chrono::steady_clock;

Task<void> wait_for(tiny_coro::Event& release, tiny_coro::WaitGroup& started) {
  started.done();
  co_await release.wait();
}

Task<void> spawn_waiters(Scheduler& sched, int count, tiny_coro::Event& release,
                         tiny_coro::WaitGroup& started) {
  for (int i = 0; i < count; ++i) sched.spawn(wait_for(release, started));
  co_return;
}

// Round trips until `stop`; records the longest time one took.
Task<void> pinger(Channel<int>& to, Channel<int>& from, std::atomic<bool>& stop,
                  std::atomic<long long>& longest_ns, std::atomic<long>& rounds) {
  auto last = Clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    (void)co_await to.send(1);
    (void)co_await from.recv();
    const auto now = Clock::now();
    const long long gap = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count();
    if (gap > longest_ns.load(std::memory_order_relaxed)) longest_ns.store(gap);
    last = now;
    rounds.fetch_add(1, std::memory_order_relaxed);
  }
  (void)co_await to.send(0);  // tells the ponger to stop
}

Task<void> ponger(Channel<int>& from, Channel<int>& to) {
  for (;;) {
    auto value = co_await from.recv();
    if (!value || *value == 0) co_return;
    (void)co_await to.send(*value);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int tasks = argc > 1 ? std::atoi(argv[1]) : 1'000'000;
  const int dumps = argc > 2 ? std::atoi(argv[2]) : 5;
  Scheduler sched(2);
  tiny_coro::Event release(sched);
  tiny_coro::WaitGroup started(sched);
  started.add(static_cast<std::size_t>(tasks));
  sched.block_on(spawn_waiters(sched, tasks, release, started));
  sched.block_on(
      [](tiny_coro::WaitGroup& wg) -> tiny_coro::Task<void> { co_await wg.wait(); }(started));

  Channel<int> ping(sched, 0);
  Channel<int> pong(sched, 0);
  std::atomic<bool> stop{false};
  std::atomic<long long> longest_ns{0};
  std::atomic<long> rounds{0};
  auto pinging = sched.spawn(pinger(ping, pong, stop, longest_ns, rounds));
  auto ponging = sched.spawn(ponger(ping, pong));
  // Warm up, sleeping rather than spinning: a spinning main thread is a third busy thread
  // on two cores and makes gaps of its own.
  while (rounds.load() < 100'000) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // Each dump is paired with a window of the same length without one, so that the machine's
  // own stalls are measured beside the dump's.
  std::vector<double> dump_ms;
  std::vector<double> gap_with_ms;
  std::vector<double> gap_without_ms;
  for (int i = 0; i < dumps; ++i) {
    longest_ns.store(0);
    const auto begin = Clock::now();
    const std::string dump = sched.dump_tasks();
    const auto took = Clock::now() - begin;
    gap_with_ms.push_back(static_cast<double>(longest_ns.exchange(0)) / 1e6);
    std::this_thread::sleep_for(took);
    gap_without_ms.push_back(static_cast<double>(longest_ns.load()) / 1e6);
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    dump_ms.push_back(ms);
    const bool complete =
        dump.rfind("tiny_coro task dump: ", 0) == 0 && dump.find("incomplete") == std::string::npos;
    // The dump's own footer: how many pauses, and the longest.
    const auto footer = dump.rfind("(read in ");
    std::printf("dump %d: %.1f ms, %zu bytes%s, ping-pong gap %.3f ms (%.3f ms without a dump) %s",
                i, ms, dump.size(), complete ? "" : " (INCOMPLETE)", gap_with_ms.back(),
                gap_without_ms.back(), footer == std::string::npos ? "\n" : dump.c_str() + footer);
  }
  stop.store(true);
  pinging.wait_blocking();
  ponging.wait_blocking();
  release.set();

  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  std::printf(
      "tasks: %d\nmedian dump: %.1f ms\nping-pong longest gap per dump, median: %.3f ms during "
      "a dump, %.3f ms in as long without one; worst: %.3f ms during, %.3f ms without\n",
      tasks + 2, median(dump_ms), median(gap_with_ms), median(gap_without_ms),
      *std::max_element(gap_with_ms.begin(), gap_with_ms.end()),
      *std::max_element(gap_without_ms.begin(), gap_without_ms.end()));
  return 0;
}
