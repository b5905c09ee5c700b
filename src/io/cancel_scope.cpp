#include <tiny_coro/detail/cancel_scope.h>

#include <algorithm>
#include <stdexcept>

#include <tiny_coro/cancel.h>
#include <tiny_coro/deadline.h>

namespace tiny_coro::detail {

// A bare coroutine, made by the timer's expiry and resumed by the reactor; it destroys itself
// at the end.
class CancelScope::Watchdog {
 public:
  struct promise_type {
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }
    Watchdog get_return_object() noexcept {
      return Watchdog{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }  // its body cannot throw
  };
  std::coroutine_handle<> handle;
};

CancelScope::Watchdog CancelScope::watch(CancelScope& scope) {
  scope.state_.request();
  scope.watchdog_done();
  co_return;
}

CancelScope::~CancelScope() {
  CancelPoint::disarm();
  // Never left (the frame is destroyed by shutdown): take the timer back. If it fired, its
  // watchdog is queued and would request a dead scope; shutdown does not run it.
  if (timer_added_ && !fired_) (void)reactor_->cancel_timer(timer_);
}

// Under the reactor's timer lock: only makes the watchdog, which does the work on a worker
// (out of memory for its small frame here terminates, as a failed schedule would).
std::coroutine_handle<> CancelScope::expire(TimerNode& node) noexcept {
  return watch(*static_cast<ScopeTimer&>(node).scope).handle;
}

// Before the task's first stretch, which runs with nothing armed: what has already
// happened (a deadline already passed, the awaiting task already cancelled) is made a
// request here, so the task's first suspension point sees it.
void CancelScope::enter(CancelState* parent_state) {
  if (parent_state == nullptr || parent_state->executor() == nullptr) {
    throw std::logic_error(
        "tiny_coro: a cancellation scope must be awaited by a task on a Scheduler");
  }
  parent_ = parent_state;
  state_.set_executor(parent_state->executor());
  if (reactor_ != nullptr && deadline_ == TimePoint::min()) {
    expired_ = true;
    state_.request();  // already late: the task starts cancelled, with no timer to wait for
  } else if (parent_state->requested()) {
    state_.request();
  }
}

bool CancelScope::wait_for_task(std::atomic<std::uintptr_t>& join_word,
                                std::coroutine_handle<> awaiting) noexcept {
  // acquire: pairs with finish_unawaited's exchange; the task's result is visible.
  if (join_word.load(std::memory_order_acquire) == kJoinCompleted) return false;
  // It waits. Arm what may end the wait early; either may cancel it at once, and it may
  // also finish on another thread meanwhile, which the exchange below finds out.
  arm_deadline();
  // A cancel of the awaiting task reaches the scope through this link from now on; one
  // that came during the first stretch (or before) is passed on here.
  if (!arm(parent_)) state_.request();
  std::uintptr_t expected = kJoinEmpty;
  // acq_rel: release the scope's setup to the thread that finishes the task (it resumes
  // the awaiting frame); acquire on failure: the task finished, its result is visible.
  return join_word.compare_exchange_strong(expected,
                                           reinterpret_cast<std::uintptr_t>(awaiting.address()),
                                           std::memory_order_acq_rel, std::memory_order_acquire);
}

void CancelScope::arm_deadline() noexcept {
  if (reactor_ == nullptr || expired_) return;
  if (limit_.count() > 0) deadline_ = std::min(deadline_, deadline_after(reactor_->now(), limit_));
  timer_.deadline = deadline_;
  timer_.scope = this;
  timer_.on_expire = &CancelScope::expire;
  try {
    reactor_->add_timer(timer_);
    timer_added_ = true;
  } catch (...) {
    // The task already waits and cannot be abandoned: stop it, and report why afterwards.
    arm_error_ = std::current_exception();
    state_.request();
  }
}

void CancelScope::leave() noexcept {
  CancelPoint::disarm();
  // False: it fired, and its watchdog runs (or ran); settle() meets it.
  if (timer_added_ && !reactor_->cancel_timer(timer_)) fired_ = expired_ = true;
}

bool CancelScope::wait_for_watchdog(std::coroutine_handle<> awaiting) noexcept {
  std::uintptr_t expected = 0;
  // acq_rel: release our frame to the watchdog; acquire on failure: its request is done.
  return meeting_.compare_exchange_strong(expected,
                                          reinterpret_cast<std::uintptr_t>(awaiting.address()),
                                          std::memory_order_acq_rel, std::memory_order_acquire);
}

void CancelScope::watchdog_done() noexcept {
  Executor* executor = state_.executor();
  // acq_rel: release the finished request to settle(); acquire the waiting frame it stored.
  const std::uintptr_t waiting = meeting_.exchange(kWatchdogDone, std::memory_order_acq_rel);
  // After the exchange the scope may be gone; only locals from here on.
  if (waiting != 0)
    executor->schedule(std::coroutine_handle<>::from_address(reinterpret_cast<void*>(waiting)));
}

bool CancelScope::timed_out(const std::exception_ptr& error) const noexcept {
  if (!expired_) return false;
  if (parent_ != nullptr && parent_->requested()) return false;
  return is_task_cancelled(error);
}

// The awaiting task was cancelled: cancel the scope; the task resumes the awaiter itself
// once it has unwound.
std::coroutine_handle<> CancelScope::cancel() noexcept {
  state_.request();
  return {};
}

}  // namespace tiny_coro::detail
