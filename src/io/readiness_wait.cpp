#include <tiny_coro/detail/readiness_wait.h>

#include "io/io_source.h"
#include "io/io_source_pool.h"

#include <cerrno>
#include <mutex>

namespace tiny_coro::detail {

ReadinessWait::ReadinessWait(IoSource* source, std::uint32_t generation, IoDirection direction,
                             std::uint32_t tick_seen, TimePoint until) noexcept
    : CancelPoint(&CancelPoint::cancel_of<ReadinessWait>),
      direction_(direction),
      generation_(generation),
      tick_seen_(tick_seen),
      source_(source) {
  TimerNode::deadline = until;
  on_expire = &ReadinessWait::expire;
}

Reactor& ReadinessWait::reactor() const noexcept { return IoSourcePool::reactor_of(*source_); }

ReadinessWait::~ReadinessWait() {
  CancelPoint::disarm();  // first: waits out a cancel that may be unlinking us
  if (waiter_.linked) {   // destroyed while queued: only shutdown does that
    std::lock_guard lock(source_->lock);
    if (waiter_.linked) source_->waiters(direction_).remove(waiter_);
  }
  cancel_deadline();
}

bool ReadinessWait::suspend(std::coroutine_handle<> waiting, CancelState* cancel_state) {
  waiter_.waiter = waiting;
  waiter_.outcome = WaitOutcome::kReady;
  const bool timed = TimerNode::deadline != TimePoint::max();
  // Armed before queueing: once queued, the waiter may be resumed (and this object gone) at
  // any moment. A timer that fires before we queue finds nothing to unlink; the clock check
  // under the lock below catches that case (the callback ran only once the deadline passed).
  if (timed) {
    reactor().add_timer(*this);
    timer_armed_ = true;
  }
  {
    std::lock_guard lock(source_->lock);
    // relaxed: under the lock that every bump of the tick is made under.
    const bool edge_since = source_->tick(direction_).load(std::memory_order_relaxed) != tick_seen_;
    if (source_->closed || source_->generation != generation_) {
      waiter_.outcome = WaitOutcome::kClosed;
    } else if (timed && reactor().now() >= TimerNode::deadline) {
      waiter_.outcome = WaitOutcome::kTimedOut;
    } else if (!edge_since) {
      if (!arm(cancel_state)) {
        waiter_.outcome = WaitOutcome::kCancelled;
      } else {
        source_->waiters(direction_).push_back(waiter_);
        return true;
      }
    }
  }
  cancel_deadline();
  return false;  // an edge came since the syscall (retry at once), closed, timed out, cancelled
}

WaitOutcome ReadinessWait::await_resume() noexcept {
  CancelPoint::disarm();
  cancel_deadline();
  return waiter_.outcome;
}

// The deadline's timer (the poller, under the timer lock) and a cancel request (the requesting
// thread, while armed) end the wait the same way; only the outcome differs. Neither resumes
// inline: the caller schedules what is returned.
std::coroutine_handle<> ReadinessWait::take_back(WaitOutcome outcome) noexcept {
  std::lock_guard lock(source_->lock);
  if (!waiter_.linked) return {};  // an edge, detach() or the other of timer and cancel won
  source_->waiters(direction_).remove(waiter_);
  waiter_.outcome = outcome;
  return waiter_.waiter;
}

std::coroutine_handle<> ReadinessWait::expire(TimerNode& node) noexcept {
  return static_cast<ReadinessWait&>(node).take_back(WaitOutcome::kTimedOut);
}

std::coroutine_handle<> ReadinessWait::cancel() noexcept {
  return take_back(WaitOutcome::kCancelled);
}

// Only the awaiting coroutine calls this (on resumption or destruction), so timer_armed_ needs no
// lock; a wait that never suspended never takes the reactor's.
void ReadinessWait::cancel_deadline() noexcept {
  if (!timer_armed_) return;
  timer_armed_ = false;
  reactor().cancel_timer(*this);
}

ssize_t readable_result(WaitOutcome outcome) {
  switch (outcome) {
    case WaitOutcome::kReady:
      return 0;
    case WaitOutcome::kTimedOut:
      return -ETIMEDOUT;
    case WaitOutcome::kClosed:
      return -ECANCELED;
    case WaitOutcome::kNotOpen:
      return -EBADF;
    case WaitOutcome::kCancelled:
      break;
  }
  throw_task_cancelled();
}

}  // namespace tiny_coro::detail
