// CancelScope: a cancellation state of its own for a task run inline under it (timeout,
// with_stop_token), linked to the awaiting task's state while the task waits, so that a
// cancel there reaches the scope.
//
// A deadline is a cancellation that a timer requests: the timer's expiry creates and
// resumes a small watchdog coroutine that requests the scope's cancellation on a worker —
// never under the reactor's timer lock, which the cancelled operation's own canceller may
// take. The scope waits for that watchdog (settle()) before it is destroyed. Any other
// thread may also request the scope directly (request(): a std::stop_token's callback does).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/task.h>

namespace tiny_coro::detail {

class CancelScope final : private CancelPoint {
 public:
  // reactor == nullptr: no deadline (deadline is then ignored). TimePoint::min(): the
  // deadline has passed already; the task starts cancelled and no timer is armed.
  CancelScope(Reactor* reactor, TimePoint deadline) noexcept
      : CancelPoint(&CancelPoint::cancel_of<CancelScope>), reactor_(reactor), deadline_(deadline) {}
  // A deadline `limit` after a start that was read on the coarse clock: `latest_deadline`
  // is Reactor::coarse_upper_bound() + limit. If the task waits, the clock is read then, and the
  // deadline is the earlier of `latest + limit` and `now + limit` — never before the limit has
  // passed since the start, and later only by the task's first stretch, at most the coarse lag.
  CancelScope(Reactor* reactor, TimePoint latest_deadline, Clock::duration limit) noexcept
      : CancelScope(reactor, latest_deadline) {
    limit_ = limit;
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  ~CancelScope();

  // `co_await scope.run(task)`: runs `task` under the scope, as `co_await task` would.
  //
  // The task's first stretch runs as a call inside await_suspend. If it finishes without
  // waiting, the awaiting task goes on at once and the scope never touched the reactor or
  // the awaiting task's cancellation word. Only a task that waits gets the deadline's timer
  // and the link to the awaiting task's cancellation, and then its awaiting frame is handed
  // over through the task's join word (PromiseBase::finish_unawaited). Being a call, the first
  // stretch uses the thread's stack: scopes nested inside first stretches (a timeout around a
  // timeout around ...) add a few hundred bytes each, where plain co_awaits add nothing.
  template <class T>
  class [[nodiscard]] Run {
   public:
    Run(CancelScope& scope, Task<T>& task) noexcept : scope_(scope), task_(task) {}
    bool await_ready() const noexcept { return !task_.valid() || task_.done(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
      auto& promise = task_.handle().promise();
      promise.cancel_ = &scope_.state_;
      scope_.enter(cancel_state_of(awaiting));
      task_.handle().resume();
      return scope_.wait_for_task(promise.join_state_, awaiting);
    }
    T await_resume() {
      scope_.leave();
      if (scope_.arm_error_) std::rethrow_exception(scope_.arm_error_);
      return typename Task<T>::Awaiter{task_.handle()}.await_resume();
    }

   private:
    CancelScope& scope_;
    Task<T>& task_;
  };
  template <class T>
  Run<T> run(Task<T>& task) noexcept {
    return Run<T>(*this, task);
  }

  // `co_await scope.settle()` after run(): waits for a watchdog the timer already started
  // (briefly: it only requests a cancellation). Not a cancellation point.
  struct [[nodiscard]] Settle {
    CancelScope& scope;
    bool await_ready() const noexcept { return !scope.fired_; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      return scope.wait_for_watchdog(awaiting);
    }
    void await_resume() const noexcept {}
  };
  Settle settle() noexcept { return {*this}; }

  // After settle(): whether `error` ended the task because the deadline passed (and not
  // because the awaiting task was cancelled).
  bool timed_out(const std::exception_ptr& error) const noexcept;

  // Cancels the scope from outside (any thread, not under a lock a canceller may take).
  void request() noexcept { state_.request(); }

 private:
  class Watchdog;
  // The timer's coroutine: requests the scope's cancellation, then meets the scope.
  static Watchdog watch(CancelScope& scope);

  void enter(CancelState* parent_state);
  // After the task's first stretch: true if the awaiting frame now waits for the task.
  bool wait_for_task(std::atomic<std::uintptr_t>& join_word,
                     std::coroutine_handle<> awaiting) noexcept;
  void arm_deadline() noexcept;
  void leave() noexcept;
  bool wait_for_watchdog(std::coroutine_handle<> awaiting) noexcept;
  void watchdog_done() noexcept;
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept;

  static constexpr std::uintptr_t kWatchdogDone = 1;

  Reactor* reactor_;
  TimePoint deadline_;
  Clock::duration limit_{0};       // non-zero: deadline_ is an upper bound, refined on arming
  bool expired_ = false;           // the deadline had passed at the start, or the timer fired
  CancelState state_;              // what the bounded task's suspension points obey
  CancelState* parent_ = nullptr;  // the awaiting task's
  // The deadline's timer; its expiry makes the watchdog (so a scope that ends in time
  // allocates nothing for it).
  struct ScopeTimer : TimerNode {
    CancelScope* scope = nullptr;
  };
  static std::coroutine_handle<> expire(TimerNode& node) noexcept;
  ScopeTimer timer_;
  bool timer_added_ = false;
  bool fired_ = false;  // the timer fired (known in leave())
  // Arming the timer failed (out of memory) after the task had started; the task was
  // cancelled, and Run::await_resume rethrows this once it has finished.
  std::exception_ptr arm_error_;
  // 0, kWatchdogDone, or the frame waiting in settle() (the watchdog resumes it).
  std::atomic<std::uintptr_t> meeting_{0};
};

}  // namespace tiny_coro::detail
