// Blocking calls without blocking a worker (SPEC §6): a database driver, getaddrinfo, a file
// write to a slow disk, a compression library. They run on the scheduler's blocking pool, a
// set of threads apart from the workers, while the task that wants the answer is suspended.
//
//   auto handle = sched.spawn_blocking([] { return expensive_lookup(); });  // a task of its own
//   auto value = co_await std::move(handle);                                // its value or exception
//
//   auto rows = co_await tiny_coro::run_blocking(sched, [&] { return db.query(sql); });
//
// spawn_blocking() gives a JoinHandle, like spawn(): awaited, detached, cancelled. run_blocking()
// is the cheaper inline form — the awaiting task itself waits, no second task — and may
// refer to the awaiting frame's locals, which outlive the call.
//
// The pool (Tokio's design): a thread is started when a call arrives and none is idle, up to
// max_threads (512 by default: far above the core count, since these threads mostly wait);
// beyond that, calls queue in order. A thread idle for keep_alive (10 s) exits.
//
// Cancellation: a call is cancellable until a pool thread starts it — it then never runs and
// the co_await throws TaskCancelled. Once started, a blocking call cannot be interrupted: it
// runs to its end and the co_await returns its outcome (the task, cancelled, throws at its
// next suspension point). Shutdown: Scheduler::shutdown() waits for every call already
// running to end, and the queued ones never run.
//
// The callable runs on a pool thread: it must not touch thread-local state of the task's
// worker, and an exception it throws is carried to the co_await. run_blocking_detachable()
// is for a call that may hang: its task can be cancelled while it runs (see below).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/blocking_job.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

class Scheduler;

struct BlockingPoolOptions {
  std::size_t max_threads = 512;
  std::chrono::milliseconds keep_alive{10'000};
};

struct BlockingPoolMetrics {
  std::size_t threads = 0;       // alive now
  std::size_t idle_threads = 0;  // of those, waiting for a call
  std::size_t queued = 0;        // calls waiting for a thread
  std::uint64_t calls_run = 0;   // calls a thread started, since the scheduler began
  std::uint64_t threads_started = 0;
};

namespace detail {
BlockingPool& blocking_pool_of(Scheduler& scheduler) noexcept;
Executor& executor_of(Scheduler& scheduler) noexcept;
// The scheduler of the worker thread that calls, as its pool and executor; null elsewhere.
BlockingPool* blocking_pool_here() noexcept;
Executor* executor_here() noexcept;

// The outcome of a call: its value (or nothing, for void) or its exception.
template <class R>
class BlockingOutcome {
 public:
  template <class F>
  void capture(F& function) noexcept {
    try {
      if constexpr (std::is_void_v<R>) {
        function();
        value_.emplace();
      } else {
        value_.emplace(function());
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  R take() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 private:
  struct Nothing {};
  std::optional<std::conditional_t<std::is_void_v<R>, Nothing, R>> value_;
  std::exception_ptr error_;
};
}  // namespace detail

// co_await run_blocking(sched, f): f() on the blocking pool; its value, or its exception.
template <class F>
class [[nodiscard]] BlockingCall {
 public:
  using Result = std::invoke_result_t<F&>;

  BlockingCall(Scheduler& scheduler, F function)
      : function_(std::move(function)),
        executor_(&detail::executor_of(scheduler)),
        job_(&BlockingCall::run, this),
        wait_(&detail::blocking_pool_of(scheduler), job_) {}
  // On the pool of the scheduler whose worker awaits; off any worker, f runs inline.
  explicit BlockingCall(F function)
      : function_(std::move(function)),
        executor_(detail::executor_here()),
        job_(&BlockingCall::run, this),
        wait_(detail::blocking_pool_here(), job_) {}
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

  // Marks the call write-behind (detail::BlockingJob::behind); for the library's own use.
  void mark_behind() noexcept { job_.behind = true; }

  const char* await_kind() const noexcept { return "blocking call"; }  // dump_tasks()
  bool await_ready() noexcept {
    if (executor_ != nullptr) return false;
    outcome_.capture(function_);  // no pool to go to: this thread is the one that may block
    return true;
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
    return wait_.suspend(waiting, detail::cancel_state_of(waiting), *executor_);
  }
  Result await_resume() {
    if (executor_ != nullptr) wait_.finish();
    return outcome_.take();
  }

 private:
  static void run(detail::BlockingJob& job) noexcept {
    auto* self = static_cast<BlockingCall*>(job.context);
    self->outcome_.capture(self->function_);
  }

  F function_;
  detail::Executor* executor_;  // null: not on a worker, so the call runs inline
  detail::BlockingOutcome<Result> outcome_;
  detail::BlockingJob job_;
  detail::BlockingWait wait_;
};

template <class F>
BlockingCall<std::decay_t<F>> run_blocking(Scheduler& scheduler, F&& function) {
  return BlockingCall<std::decay_t<F>>(scheduler, std::forward<F>(function));
}
// The same on the scheduler whose worker runs the awaiting task — for library code that
// has no Scheduler& at hand. Awaited off any worker (a task resumed by hand), f runs inline.
template <class F>
BlockingCall<std::decay_t<F>> run_blocking(F&& function) {
  return BlockingCall<std::decay_t<F>>(std::forward<F>(function));
}

// co_await run_blocking_detachable(sched, f): as run_blocking, but a call already running
// does not hold its task back: cancelling the task resumes it at once (TaskCancelled), and
// the call runs on to its end on the pool, its outcome dropped. For a call that may hang
// for long (getaddrinfo on a dead DNS server). `f` therefore must own everything it touches
// — capture by value, never the awaiting frame's locals — and is kept on the heap.
template <class F>
class [[nodiscard]] DetachableBlockingCall {
 public:
  using Result = std::invoke_result_t<F&>;

  DetachableBlockingCall(Scheduler& scheduler, F function)
      : state_(std::make_unique<State>(std::move(function))),
        executor_(detail::executor_of(scheduler)),
        wait_(&detail::blocking_pool_of(scheduler), state_->job) {}
  DetachableBlockingCall(const DetachableBlockingCall&) = delete;
  DetachableBlockingCall& operator=(const DetachableBlockingCall&) = delete;
  ~DetachableBlockingCall() {
    if (wait_.abandoned()) (void)state_.release();  // the pool frees it when the call ends
  }

  const char* await_kind() const noexcept { return "blocking call"; }  // dump_tasks()
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
    return wait_.suspend(waiting, detail::cancel_state_of(waiting), executor_);
  }
  Result await_resume() {
    wait_.finish();
    return state_->outcome.take();
  }

 private:
  struct State {
    explicit State(F f) : function(std::move(f)), job(&State::run, this, &State::free) {}
    static void run(detail::BlockingJob& job) noexcept {
      auto* self = static_cast<State*>(job.context);
      self->outcome.capture(self->function);
    }
    static void free(detail::BlockingJob& job) noexcept { delete static_cast<State*>(job.context); }

    F function;
    detail::BlockingOutcome<Result> outcome;
    detail::BlockingJob job;
  };

  std::unique_ptr<State> state_;
  detail::Executor& executor_;
  detail::BlockingWait wait_;
};

template <class F>
DetachableBlockingCall<std::decay_t<F>> run_blocking_detachable(Scheduler& scheduler,
                                                                F&& function) {
  return DetachableBlockingCall<std::decay_t<F>>(scheduler, std::forward<F>(function));
}

namespace detail {
// spawn_blocking's task: the call, awaited by a task of its own.
template <class F>
Task<std::invoke_result_t<F&>> blocking_task(Scheduler& scheduler, F function) {
  co_return co_await run_blocking(scheduler, std::move(function));
}
}  // namespace detail

}  // namespace tiny_coro
