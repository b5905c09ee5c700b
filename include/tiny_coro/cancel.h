// Cancellation (SPEC §4): what a task sees of it.
//
// A spawned task is cancelled with JoinHandle::cancel() (or by a combinator, a TaskGroup, a
// timeout or a std::stop_token). Every suspension point of the library is a cancellation
// point: a task suspended in one is resumed promptly and that co_await throws TaskCancelled;
// a running task gets it at its next suspension; one that finishes without suspending again
// finishes normally. The request is sticky: every later suspension point throws too, until
// the task ends — except inside shield(), where cleanup that must not be interrupted runs.
//
//   while (work_left()) {
//     crunch();                                  // CPU-bound: nothing suspends, so poll
//     co_await tiny_coro::throw_if_cancelled();  // throws TaskCancelled if asked to stop
//   }
//   co_await tiny_coro::shield(flush(file));     // runs to the end even if cancelled
//
// An operation that completed before the cancellation reached it returns its result (a
// value received is never lost); each operation's header says what cancelling it means.
#pragma once

#include <coroutine>
#include <cstddef>
#include <stdexcept>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

// Thrown at a suspension point of a cancelled task, and by awaiting the handle of a task that
// ended cancelled (or was destroyed unfinished by Scheduler::shutdown()).
class TaskCancelled : public std::runtime_error {
 public:
  TaskCancelled() : std::runtime_error("tiny_coro: task cancelled") {}
};

// Thrown instead of a plain TaskCancelled by a socket write (or sendfile) cancelled after part
// of its data had gone out: the stream then holds exactly the first written() bytes of it, so
// a protocol that resumes, or must account for what the peer saw, knows where it stands.
class WriteCancelled : public TaskCancelled {
 public:
  explicit WriteCancelled(std::size_t written) : written_(written) {}
  std::size_t written() const noexcept { return written_; }

 private:
  std::size_t written_;
};

namespace detail {
// Looks at the awaiting coroutine's cancellation state without suspending it.
template <bool kThrow>
struct [[nodiscard]] CancellationCheck {
  bool requested = false;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
    const CancelState* state = cancel_state_of(awaiting);
    requested = state != nullptr && state->requested();
    return false;  // never suspends
  }
  bool await_resume() const {
    if (kThrow && requested) detail::throw_task_cancelled();
    return requested;
  }
};

// `co_await current_cancel_state()`: the state the awaiting coroutine obeys (null if none).
// Never suspends.
struct [[nodiscard]] CurrentCancelState {
  CancelState* state = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
    state = cancel_state_of(awaiting);
    return false;
  }
  CancelState* await_resume() const noexcept { return state; }
};
inline CurrentCancelState current_cancel_state() noexcept { return {}; }
}  // namespace detail

// `co_await cancellation_requested()`: whether this task was asked to stop. Never suspends,
// never throws: for a CPU-bound loop that wants to wind down in its own way.
inline detail::CancellationCheck<false> cancellation_requested() noexcept { return {}; }
// `co_await throw_if_cancelled()`: throws TaskCancelled if this task was asked to stop.
inline detail::CancellationCheck<true> throw_if_cancelled() noexcept { return {}; }

// `co_await shield(task)`: runs `task` inline, as `co_await task` would, but deaf to the
// cancellation of the task awaiting it (Trio's shielded scope, Kotlin's NonCancellable): for
// cleanup that must finish. Once it returns, the awaiting task's suspension points throw
// again if it was cancelled meanwhile.
template <class T>
class [[nodiscard]] Shielded {
 public:
  explicit Shielded(Task<T> task) noexcept : task_(std::move(task)) {}

  bool await_ready() const noexcept { return !task_.valid() || task_.done(); }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
    auto& promise = task_.handle().promise();
    promise.continuation_ = awaiting;
    const detail::CancelState* outer = detail::cancel_state_of(awaiting);
    promise.own_cancel_.set_executor(outer != nullptr ? outer->executor() : nullptr);
    promise.cancel_ = &promise.own_cancel_;
    return task_.handle();
  }
  T await_resume() { return typename Task<T>::Awaiter{task_.handle()}.await_resume(); }

 private:
  Task<T> task_;
};

template <class T>
Shielded<T> shield(Task<T> task) noexcept {
  return Shielded<T>(std::move(task));
}

}  // namespace tiny_coro
