// ReadinessWait: step 3 of io_source.h's protocol as an awaiter — suspends until a readiness
// edge for one direction arrives after `tick_seen`, the deadline passes, or the source is
// detached. Does not suspend at all if the edge already came.
//
// Deadline: a TimerNode whose on_expire callback (the poller, under the reactor's timer
// lock) unlinks the waiter if it is still queued. Exactly one of the edge, the timer and
// detach() pops the waiter, under the source's lock, and resumes it. On resumption the timer
// is cancelled; cancel_timer() takes the timer lock, so it also waits out a callback that is
// still running — after await_resume nothing refers to this awaiter any more.
#pragma once

#include <coroutine>
#include <cstdint>

#include <tiny_coro/reactor.h>

#include "io/io_source.h"

namespace tiny_coro::detail {

class [[nodiscard]] ReadinessWait {
 public:
  // deadline == TimePoint::max(): no timeout.
  // `generation`: the source's when the operation began; a different one means the socket
  // was closed (and the slot perhaps reused) meanwhile.
  ReadinessWait(Reactor& reactor, IoSource& source, std::uint32_t generation, IoDirection direction,
                std::uint32_t tick_seen, TimePoint deadline) noexcept;
  ReadinessWait(const ReadinessWait&) = delete;
  ReadinessWait& operator=(const ReadinessWait&) = delete;
  // Also for a frame destroyed while waiting (Scheduler::shutdown()).
  ~ReadinessWait();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiting);
  WaitOutcome await_resume() noexcept;

 private:
  static std::coroutine_handle<> expire(void* self) noexcept;
  void disarm() noexcept;

  Reactor& reactor_;
  IoSource& source_;
  const std::uint32_t generation_;
  const IoDirection direction_;
  const std::uint32_t tick_seen_;
  IoWaiter waiter_;
  TimerNode timer_;
};

}  // namespace tiny_coro::detail
