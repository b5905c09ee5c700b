// timeout: bound how long a task may take.
//
//   try {
//     auto n = co_await tiny_coro::timeout(sched, 2s, read_request(socket));
//   } catch (const tiny_coro::TimedOut&) { ... }
//
// The task runs inline in the awaiting task (no spawn, no extra thread hop), under a
// cancellation scope of its own. The duration counts from the call; the timer behind it is
// armed only if the task waits, so a task that finishes at once costs no timer and only a
// read of the kernel's coarse clock. The deadline is never early; a task that computes
// before it first waits may get up to two clock ticks (8 ms at 250 Hz) beyond it. If the
// duration passes first, the scope is cancelled: the task gets TaskCancelled at its suspension
// point, unwinds, and only once it has finished does the co_await throw TimedOut. A task that
// completed before the timer could stop it returns its value, even if the timer fired meanwhile:
// nothing it produced is dropped. Cancelling the awaiting task cancels the scope too; the co_await
// then throws TaskCancelled.
//
// How: detail/cancel_scope.h — a timeout is a cancellation that a timer requests.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/cancel_scope.h>
#include <tiny_coro/detail/io_request.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/task.h>
#include <tiny_coro/timer.h>

namespace tiny_coro {

// Thrown by timeout() once the task it bounded has been cancelled for running too long.
class TimedOut : public std::runtime_error {
 public:
  TimedOut() : std::runtime_error("tiny_coro: timed out") {}
};

template <class T, class Rep, class Period>
Task<T> timeout(Scheduler& scheduler, std::chrono::duration<Rep, Period> duration, Task<T> task) {
  Reactor& reactor = detail::reactor_of(scheduler);
  const auto limit = std::chrono::ceil<Clock::duration>(duration);
  // A zero or negative duration has already passed: TimePoint::min() says so without a timer
  // (deadline_after would read it as "none"). Otherwise the start is read on the coarse
  // clock, and the deadline refined from the exact clock only if the task waits.
  const TimePoint latest_deadline =
      limit.count() <= 0 ? TimePoint::min()
                         : detail::deadline_after(reactor.coarse_upper_bound(), limit);
  detail::CancelScope scope(&reactor, latest_deadline, limit);
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await scope.run(task);
    } else {
      value.emplace(co_await scope.run(task));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await scope.settle();
  if (error) {
    if (scope.timed_out(error)) throw TimedOut();
    std::rethrow_exception(error);
  }
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::TimedOut;
#endif
