// Timers for coroutines: `co_await sleep_for(sched, 1000)` suspends the calling coroutine
// for at least 1000 ms without holding its worker thread; `sleep_until` waits for a time
// point of the scheduler's clock — std::chrono::steady_clock unless the Scheduler was given
// another, so take deadlines from `sched.reactor()->now()` when in doubt. The coroutine
// resumes on a worker, after the reactor's poll saw the deadline pass — never before it.
#pragma once

#include <chrono>
#include <coroutine>

#include <tiny_coro/reactor.h>

namespace tiny_coro {

class Scheduler;

namespace detail {
Reactor& reactor_of(Scheduler& scheduler) noexcept;
}

// The awaitable behind sleep_for / sleep_until. Destroying it while it waits (its frame is
// destroyed by shutdown) disarms the timer.
class [[nodiscard]] AsyncSleep {
 public:
  AsyncSleep(Reactor& reactor, TimePoint deadline) noexcept : reactor_(reactor) {
    node_.deadline = deadline;
  }
  AsyncSleep(const AsyncSleep&) = delete;
  AsyncSleep& operator=(const AsyncSleep&) = delete;
  // Only the not-yet-awaited state is movable (returned from sleep_for).
  AsyncSleep(AsyncSleep&& other) noexcept : reactor_(other.reactor_) {
    node_.deadline = other.node_.deadline;
  }
  ~AsyncSleep() {
    // Fired timers were unlinked by the reactor before it handed us back to a worker, so this
    // plain read is ordered after that write by the run queue's synchronisation.
    if (node_.armed()) reactor_.cancel_timer(node_);
  }

  bool await_ready() const noexcept { return node_.deadline <= reactor_.now(); }
  void await_suspend(std::coroutine_handle<> waiting) {
    node_.handle = waiting;
    reactor_.add_timer(node_);
  }
  void await_resume() const noexcept {}

 private:
  Reactor& reactor_;
  TimerNode node_;
};

inline AsyncSleep sleep_until(Scheduler& scheduler, TimePoint deadline) noexcept {
  return AsyncSleep(detail::reactor_of(scheduler), deadline);
}

template <class Rep, class Period>
AsyncSleep sleep_for(Scheduler& scheduler, std::chrono::duration<Rep, Period> duration) noexcept {
  Reactor& reactor = detail::reactor_of(scheduler);
  return AsyncSleep(reactor, reactor.now() + std::chrono::ceil<Clock::duration>(duration));
}

// The manual's prototype: milliseconds.
inline AsyncSleep sleep_for(Scheduler& scheduler, int ms) noexcept {
  return sleep_for(scheduler, std::chrono::milliseconds(ms));
}

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::AsyncSleep;
using tiny_coro::sleep_for;
using tiny_coro::sleep_until;
#endif
