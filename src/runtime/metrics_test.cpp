// RuntimeMetrics on deterministic workloads: exact counts where the workload fixes them,
// and the relations that must hold whatever the interleaving.
#include <tiny_coro/metrics.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/timer.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

Task<int> one() { co_return 1; }

Task<int> spawn_and_join(Scheduler& sched, int count) {
  std::vector<JoinHandle<int>> children;
  children.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) children.push_back(sched.spawn(one()));
  int sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

// Waits, without sleeping, until `done` holds for the scheduler's current figures.
template <class Condition>
RuntimeMetrics wait_for_metrics(Scheduler& sched, Condition done) {
  for (;;) {
    RuntimeMetrics metrics = sched.metrics();
    if (done(metrics)) return metrics;
    std::this_thread::yield();
  }
}

// Once every worker sleeps, each has published its counts.
RuntimeMetrics wait_until_quiet(Scheduler& sched) {
  return wait_for_metrics(sched, [](const RuntimeMetrics& m) { return m.all_parked(); });
}

TEST(Metrics, CountsEverySpawnAndAliveReturnsToZero) {
  Scheduler sched(2);
  const RuntimeMetrics before = sched.metrics();
  EXPECT_EQ(before.tasks_spawned, 0u);
  EXPECT_EQ(before.tasks_alive, 0u);
  ASSERT_EQ(before.workers.size(), 2u);
  const int count = 10'000;
  EXPECT_EQ(sched.block_on(spawn_and_join(sched, count)), count);
  const RuntimeMetrics after = wait_until_quiet(sched);
  // The root came from this thread; its children from a worker.
  EXPECT_EQ(after.tasks_spawned, static_cast<std::uint64_t>(count) + 1);
  EXPECT_EQ(after.total(&WorkerMetrics::tasks_spawned), static_cast<std::uint64_t>(count));
  EXPECT_EQ(after.tasks_alive, 0u);
  // Every spawned task is first resumed by a worker's loop.
  EXPECT_GE(after.total(&WorkerMetrics::tasks_run), static_cast<std::uint64_t>(count) + 1);
  EXPECT_LE(after.total(&WorkerMetrics::lifo_slot_hits), after.total(&WorkerMetrics::tasks_run));
  EXPECT_GE(after.total(&WorkerMetrics::steal_attempts), after.total(&WorkerMetrics::steals));
}

// Read from another thread while tasks churn: counters never go back, and once the work is
// done and the workers sleep, the figures are exact. (Under TSan: the reads race nothing.)
TEST(Metrics, ReadWhileTasksChurnWithoutGoingBackwards) {
  Scheduler sched(2);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0};
  std::thread reader([&] {
    std::uint64_t last_spawned = 0;
    std::uint64_t last_run = 0;
    while (!done.load()) {
      const RuntimeMetrics m = sched.metrics();
      EXPECT_GE(m.tasks_spawned, last_spawned);
      EXPECT_GE(m.total(&WorkerMetrics::tasks_run), last_run);
      last_spawned = m.tasks_spawned;
      last_run = m.total(&WorkerMetrics::tasks_run);
      reads.fetch_add(1);
    }
  });
  const int rounds = test::kSanitized ? 5 : 50;
  for (int round = 0; round < rounds; ++round) {
    EXPECT_EQ(sched.block_on(spawn_and_join(sched, 2'000)), 2'000);
    // Halfway, wait for one more read: on a loaded machine the reader may not have been
    // scheduled at all yet, and the churn must not end before it has read.
    if (round == rounds / 2) {
      const std::uint64_t seen = reads.load();
      while (reads.load() == seen) std::this_thread::yield();
    }
  }
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0u);
  const RuntimeMetrics m = wait_until_quiet(sched);
  EXPECT_EQ(m.tasks_spawned, static_cast<std::uint64_t>(rounds) * 2'001);
  EXPECT_EQ(m.tasks_alive, 0u);
}

Task<void> sleep_an_hour(Scheduler& sched) { co_await sleep_for(sched, 1h); }

TEST(Metrics, SeesArmedTimersAndSuspendedTasksUntilTheyAreCancelled) {
  Scheduler sched(2);
  const int sleepers = 100;
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < sleepers; ++i) handles.push_back(sched.spawn(sleep_an_hour(sched)));
  const RuntimeMetrics asleep =
      wait_for_metrics(sched, [&](const RuntimeMetrics& m) { return m.timers_armed == sleepers; });
  EXPECT_EQ(asleep.tasks_alive, static_cast<std::uint64_t>(sleepers));
  EXPECT_EQ(asleep.tasks_spawned, static_cast<std::uint64_t>(sleepers));
  for (auto& handle : handles) handle.cancel();
  for (auto& handle : handles) {
    handle.wait_blocking();
    EXPECT_THROW(handle.take_result(), TaskCancelled);
  }
  // A cancelled sleep takes its timer with it.
  const RuntimeMetrics woken =
      wait_for_metrics(sched, [](const RuntimeMetrics& m) { return m.tasks_alive == 0; });
  EXPECT_EQ(woken.timers_armed, 0u);
}

TEST(Metrics, ShutdownEndsTheTasksItDestroys) {
  Scheduler sched(1);
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(sched.spawn(sleep_an_hour(sched)));
  wait_for_metrics(sched, [](const RuntimeMetrics& m) { return m.timers_armed == 10; });
  sched.shutdown();
  const RuntimeMetrics after = sched.metrics();  // safe after shutdown
  EXPECT_EQ(after.tasks_spawned, 10u);
  EXPECT_EQ(after.tasks_alive, 0u);
}

TEST(Metrics, CountsAListeningSocketAsAnIoSource) {
  Scheduler sched(1);
  const std::size_t before = sched.metrics().io_sources;
  {
    TcpListener listener(sched.reactor());
    ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
    EXPECT_EQ(sched.metrics().io_sources, before + 1);
  }
  EXPECT_EQ(sched.metrics().io_sources, before);
}

// --- the worker counters: a forced steal, parking, busy time ---
// (unparks are not asserted: a worker that has not quite parked yet is not woken, it looks.)

Task<void> hold_until(std::atomic<bool>& flag) {
  while (!flag.load()) std::this_thread::yield();
  co_return;
}

Task<void> set_flag(std::atomic<bool>& flag) {
  flag.store(true);
  co_return;
}

// The second spawn pushes the first into this worker's stealable queue, and this task keeps
// its worker busy until the other worker has taken and run it.
Task<void> force_a_steal(Scheduler& sched) {
  std::atomic<bool> stolen_ran{false};
  auto stolen = sched.spawn(set_flag(stolen_ran));
  std::atomic<bool> local_ran{false};
  auto local = sched.spawn(set_flag(local_ran));
  co_await hold_until(stolen_ran);
  co_await std::move(stolen);
  co_await std::move(local);
}

TEST(Metrics, CountsAStealParksAndBusyTimePerWorker) {
  Scheduler sched(2);
  sched.block_on(force_a_steal(sched));
  const RuntimeMetrics m = wait_until_quiet(sched);
  EXPECT_EQ(m.tasks_spawned, 3u);
  EXPECT_EQ(m.tasks_alive, 0u);
  EXPECT_GE(m.total(&WorkerMetrics::steals), 1u);
  EXPECT_GE(m.total(&WorkerMetrics::steal_attempts), m.total(&WorkerMetrics::steals));
  // The root came through the global queue, to a worker that went looking for it.
  EXPECT_GE(m.total(&WorkerMetrics::global_batches), 1u);
  EXPECT_GE(m.total(&WorkerMetrics::parks), 2u);
  for (const auto& worker : m.workers) {
    EXPECT_GT(worker.busy_time.count(), 0);
    EXPECT_LE(worker.busy_time, m.uptime);
    EXPECT_EQ(worker.local_queue_depth, 0u);
  }
  EXPECT_EQ(m.global_queue_depth, 0u);
}

}  // namespace
}  // namespace tiny_coro
