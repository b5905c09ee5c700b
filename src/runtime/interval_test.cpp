// interval() (interval.h): ticks on schedule, never early, and each missed-tick behaviour,
// checked exactly on a manual clock.
#include <tiny_coro/interval.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "support/manual_clock.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;
using test::ManualClock;

struct Fired {
  std::vector<Clock::duration> ticks;  // each tick's instant, from the start
  Clock::duration next;                // the tick scheduled after them
};

// Ticks once, falls 35 ms behind (a 10 ms period), then takes the ticks that are due.
Task<Fired> fall_behind(Scheduler& sched, MissedTick behaviour, int due_ticks) {
  Interval every = interval(sched, 10ms, behaviour);
  const TimePoint start = ManualClock::now();
  Fired fired;
  fired.ticks.push_back(co_await every.tick() - start);
  ManualClock::set(start + 35ms);
  for (int i = 0; i < due_ticks; ++i) fired.ticks.push_back(co_await every.tick() - start);
  fired.next = every.next_tick() - start;
  co_return fired;
}

std::vector<Clock::duration> ms(std::initializer_list<int> values) {
  std::vector<Clock::duration> out;
  for (int v : values) out.emplace_back(std::chrono::milliseconds(v));
  return out;
}

TEST(Interval, BurstFiresEveryMissedTickThenKeepsTheSchedule) {
  Scheduler sched(1, &ManualClock::now);
  const Fired fired = sched.block_on(fall_behind(sched, MissedTick::kBurst, 3));
  EXPECT_EQ(fired.ticks, ms({0, 10, 20, 30}));
  EXPECT_EQ(fired.next, Clock::duration(40ms));
}

TEST(Interval, DelayShiftsTheScheduleFromTheLateTick) {
  Scheduler sched(1, &ManualClock::now);
  const Fired fired = sched.block_on(fall_behind(sched, MissedTick::kDelay, 1));
  EXPECT_EQ(fired.ticks, ms({0, 10}));
  EXPECT_EQ(fired.next, Clock::duration(45ms));  // one period after it was taken (at 35)
}

TEST(Interval, SkipDropsMissedTicksAndKeepsTheGrid) {
  Scheduler sched(1, &ManualClock::now);
  const Fired fired = sched.block_on(fall_behind(sched, MissedTick::kSkip, 1));
  EXPECT_EQ(fired.ticks, ms({0, 10}));
  EXPECT_EQ(fired.next, Clock::duration(40ms));  // the next instant of the grid ahead of 35
}

// A tick that is not due yet waits for its instant: with the clock moved only to the next
// timer, each tick resumes exactly on schedule, never before.
TEST(Interval, WaitsForEachTickAndIsNeverEarly) {
  Scheduler sched(1, &ManualClock::now);
  std::atomic<int> taken{0};
  auto ticker = sched.spawn([](Scheduler& s, std::atomic<int>& count) -> Task<bool> {
    Interval every = interval(s, 7ms);
    bool on_time = true;
    const TimePoint start = ManualClock::now();
    for (int i = 0; i < 5; ++i) {
      const TimePoint at = co_await every.tick();
      on_time = on_time && at == start + i * Clock::duration(7ms) && ManualClock::now() >= at;
      ++count;
    }
    co_return on_time;
  }(sched, taken));
  for (int expected = 1; expected < 5; ++expected) {
    ASSERT_TRUE(test::wait_for([&] { return taken.load() == expected; }));
    ASSERT_TRUE(test::wait_for([&] { return sched.metrics().timers_armed == 1; }));
    ASSERT_TRUE(ManualClock::advance_to_next_timer(*sched.reactor()));
  }
  ticker.wait_blocking();
  EXPECT_TRUE(ticker.take_result());
}

// On the real clock: five ticks of 20 ms take at least 80 ms (never early).
TEST(Interval, RealClockTicksAreNeverEarly) {
  Scheduler sched(2);
  const auto elapsed = sched.block_on([](Scheduler& s) -> Task<Clock::duration> {
    const TimePoint start = Clock::now();  // before the interval's own start, never after
    Interval every = interval(s, 20ms);
    for (int i = 0; i < 5; ++i) (void)co_await every.tick();
    co_return Clock::now() - start;
  }(sched));
  EXPECT_GE(elapsed, Clock::duration(80ms));
}

}  // namespace
}  // namespace tiny_coro
