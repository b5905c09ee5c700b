// Timers for coroutines: `co_await sleep_for(sched, 1000)` suspends the calling coroutine
// for at least 1000 ms without holding its worker thread; `sleep_until` waits for a time
// point of the scheduler's clock — std::chrono::steady_clock unless the Scheduler was given
// another, so take deadlines from `sched.reactor()->now()` when in doubt. The coroutine
// resumes on a worker, after the reactor's poll saw the deadline pass — never before it.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/reactor.h>

namespace tiny_coro {

class Scheduler;

namespace detail {
Reactor& reactor_of(Scheduler& scheduler) noexcept;
}

// The awaiter behind sleep_for / sleep_until. Destroying it while it waits (its frame is
// destroyed by shutdown) disarms the timer.
//
// Cancelling a sleep (cancel.h) removes its timer node and resumes the task at once with
// TaskCancelled; a sleep whose timer already fired completes normally.
class [[nodiscard]] SleepWait final : private detail::CancelPoint {
 public:
  // dump_tasks() (detail/await_record.h)
  static constexpr bool notes_its_wait = true;
  static constexpr detail::WaitKind kWaitKind{"sleep"};
  const char* await_kind() const noexcept { return kWaitKind.name; }
  SleepWait(Reactor& reactor, TimePoint deadline) noexcept
      : CancelPoint(&CancelPoint::cancel_of<SleepWait>), reactor_(reactor) {
    node_.deadline = deadline;
    node_.on_expire = &SleepWait::expire;
  }
  SleepWait(const SleepWait&) = delete;
  SleepWait& operator=(const SleepWait&) = delete;
  // Only the not-yet-awaited state is movable.
  SleepWait(SleepWait&& other) noexcept : SleepWait(other.reactor_, other.node_.deadline) {}
  ~SleepWait() {
    disarm();
    // Fired timers were unlinked by the reactor before it handed us back to a worker, so this
    // plain read is ordered after that write by the run queue's synchronisation.
    if (node_.armed()) reactor_.cancel_timer(node_);
  }

  bool await_ready() const noexcept { return node_.deadline <= reactor_.now(); }
  template <class Promise>
  [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> waiting) {
    detail::note_own_wait(waiting, *this);
    return suspend_without_note(waiting);
  }
  // await_suspend for an awaiter that wraps this one and noted its own wait (Interval::Tick).
  template <class Promise>
  bool suspend_without_note(std::coroutine_handle<Promise> waiting) {
    return suspend(waiting, detail::cancel_state_of(waiting));
  }
  void await_resume() {
    disarm();
    if (node_.cancelled) detail::throw_task_cancelled();
  }

 private:
  // Arming: neither the timer nor a cancel may resume the coroutine before await_suspend
  // is done with this object, so both go through `gate`, which the awaiter opens last.
  enum Gate : std::uint8_t { kArming, kSuspended, kFiredWhileArming, kCancelledWhileArming };
  struct SleepNode : TimerNode {
    std::atomic<std::uint8_t> gate{kArming};  // small members first, into TimerNode's padding
    bool cancelled = false;
    std::coroutine_handle<> handle;
  };

  bool suspend(std::coroutine_handle<> waiting, detail::CancelState* state) {
    node_.handle = waiting;
    reactor_.add_timer(node_);
    if (!arm(state)) {  // already cancelled: take the timer back unless it fired
      node_.cancelled = reactor_.cancel_timer(node_);
      return false;
    }
    auto gate = static_cast<std::uint8_t>(kArming);
    // acq_rel: release hands this object to whoever resumes us; acquire: we see what the
    // timer callback or the canceller did before closing the gate on us.
    if (node_.gate.compare_exchange_strong(gate, kSuspended, std::memory_order_acq_rel)) {
      return true;
    }
    node_.cancelled = gate == kCancelledWhileArming;
    return false;
  }

  // Under the reactor's timer lock.
  static std::coroutine_handle<> expire(TimerNode& timer) noexcept {
    auto& node = static_cast<SleepNode&>(timer);
    auto gate = static_cast<std::uint8_t>(kArming);
    // acq_rel: pairs with the awaiter's CAS (either order).
    if (node.gate.compare_exchange_strong(gate, kFiredWhileArming, std::memory_order_acq_rel)) {
      return {};
    }
    return node.handle;
  }

  friend class detail::CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept {
    if (!reactor_.cancel_timer(node_)) return {};  // fired (its callback has finished)
    auto gate = static_cast<std::uint8_t>(kArming);
    // acq_rel: pairs with the awaiter's CAS (either order).
    if (node_.gate.compare_exchange_strong(gate, kCancelledWhileArming,
                                           std::memory_order_acq_rel)) {
      return {};
    }
    node_.cancelled = true;
    return node_.handle;
  }

  Reactor& reactor_;
  SleepNode node_;
};

// What sleep_for and sleep_until return: the deadline, from which the SleepWait is made
// where it is awaited (detail/await_record.h, AwaitRequest).
class [[nodiscard]] AsyncSleep {
 public:
  static constexpr bool is_await_request = true;
  AsyncSleep(Reactor& reactor, TimePoint deadline) noexcept
      : reactor_(&reactor), deadline_(deadline) {}
  SleepWait operator co_await() const noexcept { return SleepWait(*reactor_, deadline_); }

 private:
  Reactor* reactor_;
  TimePoint deadline_;
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
