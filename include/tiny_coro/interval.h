// interval(): a timer that fires every `period`, for periodic work — a heartbeat, a metrics
// flush, a cache sweep (tokio::time::interval).
//
//   tiny_coro::Interval every_second = tiny_coro::interval(sched, std::chrono::seconds(1));
//   for (;;) {
//     co_await every_second.tick();   // the first tick completes at once
//     send_heartbeat();
//   }
//
// Missed ticks: when the loop falls behind — its work took longer than a period, or its
// worker was busy — by a whole period or more, what happens to the ticks it missed is the
// interval's MissedTick behaviour (Tokio's MissedTickBehavior):
//   kBurst (default): every missed tick fires, back to back, until it has caught up; then the
//                     original schedule (start + n·period) continues. For a count that must
//                     come out right (a rate limiter's refills).
//   kDelay:           the next tick is one period after the late one: the schedule shifts,
//                     and ticks are never closer than a period.
//   kSkip:            the missed ticks are dropped; the next is the next instant of the
//                     original schedule that is still ahead.
// A tick is never early. tick() is a cancellation point like any sleep (timer.h); a tick that
// is already due completes without suspending.
#pragma once

#include <chrono>
#include <coroutine>

#include <tiny_coro/reactor.h>
#include <tiny_coro/timer.h>

namespace tiny_coro {

enum class MissedTick { kBurst, kDelay, kSkip };

class Interval {
 public:
  // Ticks at start, start + period, ... `period` must be positive.
  Interval(Reactor& reactor, TimePoint start, Clock::duration period,
           MissedTick behaviour = MissedTick::kBurst) noexcept
      : reactor_(&reactor), next_(start), period_(period), behaviour_(behaviour) {}

  // co_await tick(): waits for the next tick and returns its scheduled instant.
  class [[nodiscard]] Tick {
   public:
    const char* await_kind() const noexcept { return "interval tick"; }  // dump_tasks()
    explicit Tick(Interval& interval) noexcept
        : interval_(interval), sleep_(*interval.reactor_, interval.next_) {}
    bool await_ready() const noexcept { return sleep_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiting) {
      return sleep_.suspend_without_note(waiting);
    }
    TimePoint await_resume() {
      sleep_.await_resume();  // throws TaskCancelled if the sleep was cancelled
      return interval_.advance();
    }

   private:
    Interval& interval_;
    SleepWait sleep_;
  };
  Tick tick() noexcept { return Tick(*this); }

  // Starts the schedule over: the next tick is one period from now.
  void reset() noexcept { next_ = reactor_->now() + period_; }
  TimePoint next_tick() const noexcept { return next_; }
  Clock::duration period() const noexcept { return period_; }
  MissedTick missed_tick_behaviour() const noexcept { return behaviour_; }

 private:
  // The tick at next_ has fired: returns it and schedules the one after.
  TimePoint advance() noexcept {
    const TimePoint fired = next_;
    const TimePoint now = reactor_->now();
    next_ = fired + period_;
    if (now >= next_) {  // behind by a period or more
      switch (behaviour_) {
        case MissedTick::kBurst:
          break;
        case MissedTick::kDelay:
          next_ = now + period_;
          break;
        case MissedTick::kSkip:
          next_ = fired + period_ * ((now - fired) / period_ + 1);
          break;
      }
    }
    return fired;
  }

  Reactor* reactor_;
  TimePoint next_;
  Clock::duration period_;
  MissedTick behaviour_;
};

// An interval whose first tick is now.
template <class Rep, class Period>
Interval interval(Scheduler& scheduler, std::chrono::duration<Rep, Period> period,
                  MissedTick behaviour = MissedTick::kBurst) noexcept {
  Reactor& reactor = detail::reactor_of(scheduler);
  return Interval(reactor, reactor.now(), std::chrono::ceil<Clock::duration>(period), behaviour);
}

}  // namespace tiny_coro
