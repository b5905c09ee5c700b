// ReadinessWait: step 3 of src/io/io_source.h's protocol as an awaiter — suspends until a readiness
// edge for one direction arrives after `tick_seen`, the deadline passes, or the source is
// detached. Does not suspend at all if the edge already came.
//
// Deadline: a TimerNode whose on_expire callback (the poller, under the reactor's timer
// lock) takes the waiter back if it is still queued — the same take_back() a cancel uses. Exactly
// one of the edge, the timer and detach() pops the waiter, under the source's lock, and resumes it.
// On resumption the timer is cancelled; cancel_timer() takes the timer lock, so it also waits out a
// callback that is still running — after await_resume nothing refers to this awaiter any more.
//
// Cancellation (cancel_state.h): the wait arms itself in the task's cancel state under the
// source's lock, just before it queues, so a cancel competes with the edge, the timer and
// detach() for the same `linked` flag. Whoever unlinks the waiter decides the outcome.
#pragma once

#include <sys/types.h>

#include <coroutine>
#include <cstdint>

#include <tiny_coro/reactor.h>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/promise_base.h>

#include <tiny_coro/detail/io_wait.h>

namespace tiny_coro::detail {

struct IoSource;

// Derives from its TimerNode (privately) so the timer callback finds the wait without a
// pointer of its own: an idle connection's wait is this object, so every byte counts. The
// CancelPoint base comes first so that TimerNode is the last base and its tail padding
// still takes the small members below (the other order costs 8 bytes).
class [[nodiscard]] ReadinessWait final : private CancelPoint, private TimerNode {
 public:
  // until == TimePoint::max(): no timeout.
  // `generation`: the source's when the operation began; a different one means the socket
  // was closed (and the slot perhaps reused) meanwhile.
  // A null `source`: a wait for a socket that is not open, which a wrapping awaiter settles
  // (kNotOpen) instead of suspending. The reactor is the source's (IoSourcePool::reactor_of):
  // one pointer less in every waiting frame.
  ReadinessWait(IoSource* source, std::uint32_t generation, IoDirection direction,
                std::uint32_t tick_seen, TimePoint until) noexcept;
  ReadinessWait(const ReadinessWait&) = delete;
  ReadinessWait& operator=(const ReadinessWait&) = delete;
  // Also for a frame destroyed while waiting (Scheduler::shutdown()).
  ~ReadinessWait();

  // For a wait made before its tick is known (AsyncReadableAwaiter): set before suspending.
  void set_tick_seen(std::uint32_t tick) noexcept { tick_seen_ = tick; }
  // For a wrapping awaiter that has its answer without suspending: what await_resume() says.
  void settle(WaitOutcome outcome) noexcept { waiter_.outcome = outcome; }
  bool has_source() const noexcept { return source_ != nullptr; }
  Reactor& reactor() const noexcept;
  IoSource& source() const noexcept { return *source_; }
  std::uint32_t generation() const noexcept { return generation_; }

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) {
    return suspend(waiting, cancel_state_of(waiting));
  }
  // Also right after a settle() or a suspend() that returned false.
  WaitOutcome await_resume() noexcept;
  // For an awaiter that wraps this one (AsyncReadableAwaiter).
  bool suspend(std::coroutine_handle<> waiting, CancelState* cancel_state);

 private:
  static std::coroutine_handle<> expire(TimerNode& node) noexcept;
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept;
  std::coroutine_handle<> take_back(WaitOutcome outcome) noexcept;
  void cancel_deadline() noexcept;

  // The small members first, into TimerNode's tail padding.
  const IoDirection direction_;
  bool timer_armed_ = false;  // the owner's own note: add_timer() was called
  const std::uint32_t generation_;
  std::uint32_t tick_seen_;
  IoSource* const source_;
  IoWaiter waiter_;
};

// What a wait's outcome means to a caller that asked "readable yet?" (wait_readable, and
// AsyncSocket::wait_read_edge_after): 0, or -ETIMEDOUT, -ECANCELED (closed), -EBADF (no
// socket); throws TaskCancelled for a cancelled wait.
ssize_t readable_result(WaitOutcome outcome);

}  // namespace tiny_coro::detail
