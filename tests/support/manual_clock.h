// A clock for timer tests that moves only when the test moves it (Tokio's paused time):
// give the Scheduler ManualClock::now, then jump from deadline to deadline with
// advance_to_next_timer(). Hour-long sleeps complete at once, and "never early" becomes a
// deterministic check: nothing can fire until the test moves time past its deadline.
#pragma once

#include <atomic>
#include <chrono>

#include <tiny_coro/reactor.h>

namespace tiny_coro::test {

class ManualClock {
 public:
  static TimePoint now() noexcept {
    // acquire: pairs with the release in set(), so a reader that sees the new time also sees
    // what the test did before moving it.
    return TimePoint(Clock::duration(ticks_.load(std::memory_order_acquire)));
  }
  static void set(TimePoint t) noexcept {
    ticks_.store(t.time_since_epoch().count(), std::memory_order_release);
  }

  // Moves time to the reactor's earliest deadline and makes it look. False if none is armed.
  static bool advance_to_next_timer(Reactor& reactor) {
    const TimePoint next = reactor.next_deadline();
    if (next == TimePoint::max()) return false;
    if (next > now()) set(next);
    reactor.wake();
    return true;
  }

 private:
  static inline std::atomic<Clock::rep> ticks_{
      std::chrono::duration_cast<Clock::duration>(std::chrono::hours(1)).count()};
};

}  // namespace tiny_coro::test
