// Timers through the scheduler. Sleeps here test the timer itself, with generous bounds and
// only lower bounds asserted ("never early"); no test asserts how fast anything is.
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "support/manual_clock.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

Task<void> sleep_and_record(Scheduler& sched, TimePoint base, int ms, std::mutex& m,
                            std::vector<int>& order) {
  co_await sleep_until(sched, base + std::chrono::milliseconds(ms));
  std::lock_guard lock(m);
  order.push_back(ms);
}

// Deadlines from one base, so that when each sleeper first runs does not matter, and 100 ms
// apart, so that two never come due in one batch of the reactor (two workers could record
// such a pair either way round) unless it is that late.
Task<void> sleepers_in_scrambled_order(Scheduler& sched, std::mutex& m, std::vector<int>& order) {
  const TimePoint base = Clock::now();
  std::vector<JoinHandle<void>> handles;
  for (int ms : {300, 100, 500, 200, 400})
    handles.push_back(sched.spawn(sleep_and_record(sched, base, ms, m, order)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(Timers, WakeInDeadlineOrder) {
  std::mutex m;  // declared before the scheduler: tasks use them until shutdown
  std::vector<int> order;
  Scheduler sched(2);
  sched.block_on(sleepers_in_scrambled_order(sched, m, order));
  EXPECT_EQ(order, (std::vector<int>{100, 200, 300, 400, 500}));
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
  for (std::size_t i = 0; i < count; ++i)
    handles.push_back(sched.spawn(sleep_then_count(sched, woke)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(Timers, AHundredThousandConcurrentSleepersAllWake) {
  std::atomic<long> woke{0};
  Scheduler sched(2);
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
  std::atomic<int> started{0};
  Scheduler sched(2);
  for (int i = 0; i < 100; ++i) sched.spawn(sleep_forever(sched, started));
  ASSERT_TRUE(test::wait_for([&] { return sched.reactor()->pending_timers() == 100; }));
  sched.shutdown();
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);  // each awaiter cancelled its node
}

// --- under a manual clock: time moves only when the test moves it ---

struct Wake {
  Clock::duration slept;
  bool on_time;  // the clock had reached the deadline when the sleeper resumed
};

Task<void> sleep_on_manual_clock(Scheduler& sched, Clock::duration d, std::mutex& m,
                                 std::vector<Wake>& wakes) {
  const TimePoint deadline = test::ManualClock::now() + d;
  co_await sleep_for(sched, d);
  const bool on_time = test::ManualClock::now() >= deadline;
  std::lock_guard lock(m);
  wakes.push_back({d, on_time});
}

TEST(ManualClockTimers, FireOneByOneInDeadlineOrderAndNeverBeforeTheClockGetsThere) {
  std::mutex m;
  std::vector<Wake> wakes;
  Scheduler sched(2, &test::ManualClock::now);
  for (int hours : {3, 1, 5, 2, 4}) {
    sched.spawn(sleep_on_manual_clock(sched, std::chrono::hours(hours), m, wakes));
  }
  ASSERT_TRUE(test::wait_for([&] { return sched.reactor()->pending_timers() == 5; }));
  for (std::size_t fired = 1; fired <= 5; ++fired) {
    ASSERT_TRUE(test::ManualClock::advance_to_next_timer(*sched.reactor()));
    ASSERT_TRUE(test::wait_for([&] {
      std::lock_guard lock(m);
      return wakes.size() == fired;
    }));
    // The next deadline is an hour away on the manual clock: nothing else may have fired.
    std::lock_guard lock(m);
    EXPECT_EQ(wakes.size(), fired);
  }
  sched.shutdown();
  ASSERT_EQ(wakes.size(), 5u);
  for (std::size_t i = 0; i < wakes.size(); ++i) {
    EXPECT_EQ(wakes[i].slept, std::chrono::hours(i + 1));
    EXPECT_TRUE(wakes[i].on_time);
  }
}

Task<bool> sleep_a_day(Scheduler& sched) {
  const TimePoint start = test::ManualClock::now();
  co_await sleep_for(sched, 24h);
  co_return test::ManualClock::now() - start >= 24h;
}

TEST(ManualClockTimers, ADaysSleepEndsAsSoonAsTheClockJumps) {
  Scheduler sched(1, &test::ManualClock::now);
  auto handle = sched.spawn(sleep_a_day(sched));
  ASSERT_TRUE(test::wait_for([&] { return sched.reactor()->pending_timers() == 1; }));
  EXPECT_FALSE(handle.is_finished());
  ASSERT_TRUE(test::ManualClock::advance_to_next_timer(*sched.reactor()));
  ASSERT_TRUE(test::wait_for([&] { return handle.is_finished(); }));
  EXPECT_TRUE(handle.take_result());
}

}  // namespace
}  // namespace tiny_coro
