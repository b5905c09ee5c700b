// Timers through the scheduler. Sleeps here test the timer itself, with generous bounds and
// only lower bounds asserted ("never early"); no test asserts how fast anything is.
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

Task<void> sleep_and_record(Scheduler& sched, int ms, std::mutex& m, std::vector<int>& order) {
  co_await sleep_for(sched, ms);
  std::lock_guard lock(m);
  order.push_back(ms);
}

Task<void> sleepers_in_scrambled_order(Scheduler& sched, std::mutex& m, std::vector<int>& order) {
  std::vector<JoinHandle<void>> handles;
  for (int ms : {60, 20, 100, 40, 80}) handles.push_back(sched.spawn(sleep_and_record(sched, ms, m, order)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(Timers, WakeInDeadlineOrder) {
  Scheduler sched(2);
  std::mutex m;
  std::vector<int> order;
  sched.block_on(sleepers_in_scrambled_order(sched, m, order));
  EXPECT_EQ(order, (std::vector<int>{20, 40, 60, 80, 100}));
}

Task<Clock::duration> measure_sleep(Scheduler& sched, Clock::duration d) {
  const TimePoint start = Clock::now();
  co_await sleep_for(sched, d);
  co_return Clock::now() - start;
}

TEST(Timers, NeverWakeEarly) {
  Scheduler sched(2);
  for (auto d : {Clock::duration(1ms), Clock::duration(7ms), Clock::duration(25ms)}) {
    EXPECT_GE(sched.block_on(measure_sleep(sched, d)), d);
  }
}

Task<bool> sleep_until_deadline(Scheduler& sched, TimePoint deadline) {
  co_await sleep_until(sched, deadline);
  co_return Clock::now() >= deadline;
}

TEST(Timers, SleepUntilWaitsForTheTimePoint) {
  Scheduler sched(1);
  EXPECT_TRUE(sched.block_on(sleep_until_deadline(sched, Clock::now() + 15ms)));
  // A deadline in the past completes without suspending.
  EXPECT_TRUE(sched.block_on(sleep_until_deadline(sched, Clock::now() - 1s)));
}

Task<void> sleep_then_count(Scheduler& sched, std::atomic<long>& woke) {
  co_await sleep_for(sched, 10ms);
  woke.fetch_add(1, std::memory_order_relaxed);
}

Task<void> many_sleepers(Scheduler& sched, std::atomic<long>& woke, std::size_t count) {
  std::vector<JoinHandle<void>> handles;
  handles.reserve(count);
  for (std::size_t i = 0; i < count; ++i) handles.push_back(sched.spawn(sleep_then_count(sched, woke)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(Timers, AHundredThousandConcurrentSleepersAllWake) {
  Scheduler sched(2);
  std::atomic<long> woke{0};
  const std::size_t count = test::scaled(100'000);
  sched.block_on(many_sleepers(sched, woke, count));
  EXPECT_EQ(woke.load(), static_cast<long>(count));
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);
}

Task<void> sleep_forever(Scheduler& sched, std::atomic<int>& started) {
  started.fetch_add(1);
  co_await sleep_for(sched, 24h);
}

TEST(Timers, ShutdownDisarmsTheTimersOfDestroyedTasks) {
  Scheduler sched(2);
  std::atomic<int> started{0};
  for (int i = 0; i < 100; ++i) sched.spawn(sleep_forever(sched, started));
  while (sched.reactor()->pending_timers() < 100) std::this_thread::yield();
  sched.shutdown();
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);  // each awaiter cancelled its node
}

}  // namespace
}  // namespace tiny_coro
