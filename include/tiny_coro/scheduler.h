// Scheduler: M coroutines on N worker threads.
//
//   Scheduler sched(4);                          // 4 workers; idle ones poll the reactor
//   sched.spawn(serve(sched));                   // fire and forget (the JoinHandle is dropped)
//   auto handle = sched.spawn(compute(42));      // ... or keep it:
//   int v = co_await std::move(handle);          //   value, or the task's exception rethrown
//   int w = sched.block_on(compute(7));          // from main: run a task and wait for it
//
// Where a spawned task first runs: spawned from one of this scheduler's workers, it goes to
// that worker (its LIFO slot, then its work-stealing queue, where idle workers steal it);
// spawned from any other thread, it goes to the global queue and a parked worker is woken.
// Lifetime: shutdown() — also run by the destructor — stops the workers and the reactor and
// destroys every task frame still suspended. Objects those frames refer to must outlive it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <tiny_coro/blocking.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/executor.h>
#include <tiny_coro/fork.h>
#include <tiny_coro/job.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/metrics.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/task.h>
#include <tiny_coro/timer.h>

namespace tiny_coro {

namespace detail {
class SchedulerCore;
}
class Scheduler;
namespace detail {
// Where synchronisation primitives send the coroutines they wake.
Executor& executor_of(Scheduler& scheduler) noexcept;
}  // namespace detail

class Scheduler {
 public:
  // `n` worker threads; 0 (and the default) means one per hardware thread.
  explicit Scheduler(std::size_t n = std::thread::hardware_concurrency());
  // As above, with timers read from `clock` instead of the steady clock (e.g. a manual clock
  // in tests; call reactor()->wake() after moving it).
  Scheduler(std::size_t n, NowFunction clock);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Submits `task` (unstarted) to run on a worker. Dropping the returned handle detaches it.
  // After shutdown() the task is destroyed unstarted and the handle reports TaskCancelled.
  template <class T>
  JoinHandle<T> spawn(Task<T> task) {
    auto handle = task.handle();
    if (!handle) throw std::invalid_argument("tiny_coro: spawn of an empty Task");
    // Throws before anything was submitted: then `task` still owns and frees the frame.
    // Else the frame belongs to the task's run and its JoinHandle, and the join word decides
    // which of them destroys it (promise_base.h).
    submit(handle.promise(), handle);
    (void)task.detach();
    return JoinHandle<T>(handle);
  }

  // Runs the blocking callable `f` on the blocking pool (blocking.h), as a task of its own:
  // awaiting the handle gives f's value or rethrows its exception. Cancelling the handle
  // before a pool thread has started the call means it never runs.
  template <class F>
  JoinHandle<std::invoke_result_t<std::decay_t<F>&>> spawn_blocking(F&& f) {
    return spawn(detail::blocking_task(*this, std::decay_t<F>(std::forward<F>(f))));
  }
  // The blocking pool's bounds (blocking.h); they apply from the next call on.
  void set_blocking_pool_options(const BlockingPoolOptions& options);

  // Runs `task` to completion from a thread that is not one of this scheduler's workers and
  // returns its value or rethrows its exception.
  template <class T>
  T block_on(Task<T> task) {
    if (on_worker_thread()) {
      throw std::logic_error("tiny_coro: block_on called on a worker thread; co_await instead");
    }
    JoinHandle<T> handle = spawn(std::move(task));
    handle.wait_blocking();
    return handle.take_result();
  }

  Reactor* reactor() noexcept;
  std::size_t worker_count() const noexcept;
  // What the scheduler has done so far (metrics.h). Any thread, any time, also after
  // shutdown(); it reads each worker's counters without stopping anyone.
  RuntimeMetrics metrics() const;
  // Every live (spawned, unfinished) task: its state (ready, running, suspended), its age,
  // what it waits for (sleep, recv, lock, join, read, ...) and where — the function,
  // file:line of each co_await on its await chain, innermost first — as text for a human,
  // like Go's goroutine dump. Any thread, a worker too, any time. It pauses the workers
  // between their tasks for at most about a millisecond at a time (many tasks: in several
  // rounds, each task consistent in itself); a task that computes for a second without
  // suspending makes it give up and say which worker it waited for.
  std::string dump_tasks();

  // Stops workers and reactor, then destroys unfinished tasks. Idempotent. Call it from a
  // thread that is not a worker (the destructor does, from wherever the Scheduler dies).
  void shutdown() noexcept;

  // True on one of this scheduler's worker threads.
  bool on_worker_thread() const noexcept;

 private:
  void submit(detail::PromiseBase& promise, std::coroutine_handle<> handle);
  friend detail::Executor& detail::executor_of(Scheduler& scheduler) noexcept;
  friend detail::BlockingPool& detail::blocking_pool_of(Scheduler& scheduler) noexcept;

  std::unique_ptr<detail::SchedulerCore> core_;
};

// `co_await yield_now()` puts the current task behind the tasks that are ready on its worker
// and lets them run first. Outside a worker it does nothing. A cancellation point: a task
// cancelled before or while it yields throws TaskCancelled when it runs again.
struct [[nodiscard]] YieldAwaiter {
  // dump_tasks() (detail/await_record.h)
  static constexpr bool notes_its_wait = true;
  static constexpr detail::WaitKind kWaitKind{"yield"};
  const char* await_kind() const noexcept { return kWaitKind.name; }
  bool await_ready() const noexcept;
  template <class Promise>
  [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> current) noexcept {
    detail::note_own_wait(current, *this);
    state_ = detail::cancel_state_of(current);
    if (state_ != nullptr && state_->requested()) return false;
    defer(current);
    return true;
  }
  void await_resume() const {
    if (state_ != nullptr && state_->requested()) detail::throw_task_cancelled();
  }

 private:
  static void defer(std::coroutine_handle<> current) noexcept;
  const detail::CancelState* state_ = nullptr;
};
// What yield_now() returns: nothing but the request for a YieldAwaiter, which is made where it
// is awaited (detail/await_record.h, AwaitRequest).
struct [[nodiscard]] YieldRequest {
  static constexpr bool is_await_request = true;
  YieldAwaiter operator co_await() const noexcept { return {}; }
};
inline YieldRequest yield_now() noexcept { return {}; }

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Scheduler;
#endif
