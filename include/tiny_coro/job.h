// Job<T>: a coroutine for fork-join trees of computation, the shape of Cilk and libfork.
//
//   Job<std::uint64_t> fib(int n) {
//     if (n < 2) co_return n;
//     std::uint64_t first = 0;
//     co_await fork(first, fib(n - 1));                 // runs fib(n-1) now; writes `first`
//     const std::uint64_t second = co_await fib(n - 2);  // a plain call
//     co_await tiny_coro::join();                        // every fork of this frame ended
//     co_return first + second;
//   }
//   Task<std::uint64_t> run() { co_return co_await fib(39); }  // a Task awaits the root
//
// `co_await fork(slot, child)` runs the child at once and leaves the rest of this Job in the
// worker's stealable queue, as fork() of a Task does (fork.h), but the child writes its
// result straight into `slot` and frees its own frame at its end, and one join() waits for
// every child forked since the last one: no handle per child, and a join whose children all
// took their parent back costs a compare. That is what makes a tree of Jobs cheaper than a
// tree of Tasks (docs/BENCHMARKS.md, fork-join); what it gives up:
// * A Job awaits only forks, join() and other Jobs: no I/O, timers or locks (await those in
//   the Task that runs the tree). Called from a Task, a Job runs like a called Task.
// * Slots must outlive the join: a local of the forking Job, or what it points to. A Job
//   that ends without join() waits for its children at its end (like Cilk's implicit sync),
//   and it does not end before them.
// * Exceptions: the first one thrown by a child comes out of the next join() (or out of
//   this Job, at its end); the others are dropped. A Job's own exception wins over its
//   children's.
// * Cancellation: a tree obeys the Task that runs it (cancel.h). A cancelled tree forks
//   nothing more (the fork throws TaskCancelled) and join() throws TaskCancelled once the
//   children it waits for have ended; children stop at their own next fork or join.
// * No per-Job cancellation, handle or dump entry: dump_tasks() shows the Task that awaits
//   the tree ("job").
// * Shutdown with a tree in flight frees every frame of it, with the Task that awaits it.
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/job_promise.h>

namespace tiny_coro {

template <class T = void>
class [[nodiscard]] Job;

namespace detail {

// A call: the callee runs at once, on this thread, and jumps back at its end.
template <class T>
class JobCallAwaiter {
 public:
  // await_suspend only jumps into the callee on this thread (detail/await_record.h).
  static constexpr bool suspends_in_place = true;

  explicit JobCallAwaiter(std::coroutine_handle<JobPromise<T>> callee) noexcept : callee_(callee) {}
  JobCallAwaiter(const JobCallAwaiter&) = delete;
  JobCallAwaiter& operator=(const JobCallAwaiter&) = delete;
  // Destroyed while suspended (the awaiting frame destroyed at shutdown): the callee is
  // still in flight, and ours.
  ~JobCallAwaiter() {
    if (callee_) callee_.destroy();
  }

  const char* await_kind() const noexcept { return "job"; }  // dump_tasks()
  bool await_ready() const {
    if (!callee_) throw std::invalid_argument("tiny_coro: co_await of an empty Job");
    return false;
  }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
    JobPromise<T>& callee = callee_.promise();
    callee.resume_to_ = awaiting.address();
    callee.fork_parent_ = nullptr;
    callee.error_out_ = &error_;
    callee.cancel_ = job_cancel_of(awaiting);
    if constexpr (!std::is_void_v<T>) callee.slot_ = &result_;
    return callee_;
  }
  T await_resume() {
    callee_ = {};  // it freed its frame at its end
    if (error_) [[unlikely]]
      rethrow_job_error(std::move(error_));
    if constexpr (!std::is_void_v<T>) return std::move(result_);
  }

 private:
  struct Nothing {};
  std::coroutine_handle<JobPromise<T>> callee_;
  std::exception_ptr error_;
  [[no_unique_address]] std::conditional_t<std::is_void_v<T>, Nothing, T> result_{};
};

// What fork() gives a Job's co_await, before it knows the forking Job. Owns the child until
// the fork takes it (a fork never awaited frees it).
template <class T>
class [[nodiscard]] JobFork {
 public:
  using Value = T;
  JobFork(std::coroutine_handle<JobPromise<T>> child, T* slot) noexcept
      : child_(child), slot_(slot) {}
  JobFork(JobFork&& other) noexcept : child_(std::exchange(other.child_, {})), slot_(other.slot_) {}
  JobFork(const JobFork&) = delete;
  JobFork& operator=(const JobFork&) = delete;
  JobFork& operator=(JobFork&&) = delete;
  ~JobFork() {
    if (child_) child_.destroy();
  }

  std::coroutine_handle<JobPromise<T>> take() noexcept {
    if constexpr (!std::is_void_v<T>) {
      if (child_) child_.promise().slot_ = slot_;
    }
    return std::exchange(child_, {});
  }

 private:
  std::coroutine_handle<JobPromise<T>> child_;
  T* slot_;  // null for Job<void>
};

template <class T>
class JobForkAwaiter {
 public:
  JobForkAwaiter(JobFork<T>&& fork, JobPromiseBase& parent) noexcept
      : child_(fork.take()), parent_(parent) {}
  JobForkAwaiter(const JobForkAwaiter&) = delete;
  JobForkAwaiter& operator=(const JobForkAwaiter&) = delete;
  // Still ours: never forked (a cancelled tree), or the parent destroyed while parked at
  // this fork (shutdown), the child in flight.
  ~JobForkAwaiter() {
    if (child_) child_.destroy();
  }

  bool await_ready() {
    if (!child_) throw std::invalid_argument("tiny_coro: fork of an empty Job");
    // A cancelled tree forks nothing; await_resume throws (the child is freed with us).
    cancelled_ = parent_.cancel_->requested();
    return cancelled_;
  }
  // Publishes the parent (queue_fork_continuation): a call on clang before 19 (await_record.h).
  TINY_CORO_PUBLISHING_SUSPEND std::coroutine_handle<> await_suspend(
      std::coroutine_handle<> parent) noexcept {
    const std::coroutine_handle<> child = child_;
    JobPromiseBase& promise = child_.promise();
    promise.resume_to_ = parent.address();
    promise.fork_parent_ = &parent_;
    promise.cancel_ = parent_.cancel_;
    ++parent_.pending_;
    // relaxed: read by the child only (job_promise.h, latest_child_).
    parent_.latest_child().store(&promise, std::memory_order_relaxed);
    // Not on a worker: the child runs as a call (and its end knows it the same way).
    if (tl_fork_queue.queue == nullptr) return child;
    return queue_fork_continuation(parent.address(), child);
  }
  void await_resume() {
    if (cancelled_) [[unlikely]]
      throw_task_cancelled();
    const auto child = std::exchange(child_, {});
    // relaxed: nulled by the child that took us back, on this thread, before it resumed us.
    if (parent_.latest_child().load(std::memory_order_relaxed) == nullptr) return;  // freed
    // The child runs (or ran) apart: its frame is ours to free at the join.
    JobPromiseBase& promise = child.promise();
    promise.next_apart_ = parent_.children_apart_;
    parent_.children_apart_ = &promise;
  }

 private:
  std::coroutine_handle<JobPromise<T>> child_;
  JobPromiseBase& parent_;
  bool cancelled_;  // set by await_ready, before anything reads it
};

struct JobJoin {};

class JobJoinAwaiter {
 public:
  explicit JobJoinAwaiter(JobPromiseBase& job) noexcept : job_(job) {}
  bool await_ready() const noexcept { return (job_.pending_ & ~JobPromiseBase::kChildFailed) == 0; }
  // Publishes the Job to its last child: a call on clang before 19 (await_record.h).
  TINY_CORO_PUBLISHING_SUSPEND bool await_suspend(std::coroutine_handle<>) noexcept {
    const auto apart = static_cast<std::int64_t>(job_.pending_ & ~JobPromiseBase::kChildFailed);
    job_.ending_ = false;  // the last child resumes us in join()
    // acq_rel: acquire what the children that already ended wrote; release this frame to
    // the last one, which resumes it.
    return job_.balance_.fetch_add(apart, std::memory_order_acq_rel) + apart != 0;
  }
  [[gnu::always_inline]] void await_resume() {
    if (std::exception_ptr error = job_.settle_join()) [[unlikely]]
      rethrow_job_error(std::move(error));
    if (job_.cancel_->requested()) [[unlikely]]
      throw_task_cancelled();
  }

 private:
  JobPromiseBase& job_;
};

template <class T>
struct IsJob : std::false_type {};
template <class T>
struct IsJob<tiny_coro::Job<T>> : std::true_type {};
template <class T>
struct IsJobFork : std::false_type {};
template <class T>
struct IsJobFork<JobFork<T>> : std::true_type {};

// What a Job may co_await: other Jobs, forks and join() (job.h says why).
template <class Awaitable>
auto job_awaiter(JobPromiseBase& self, Awaitable&& awaitable) noexcept {
  using Plain = std::remove_cvref_t<Awaitable>;
  if constexpr (IsJob<Plain>::value) {
    return static_cast<Plain&&>(awaitable).operator co_await();
  } else if constexpr (IsJobFork<Plain>::value) {
    return JobForkAwaiter<typename Plain::Value>(static_cast<Plain&&>(awaitable), self);
  } else if constexpr (std::is_same_v<Plain, JobJoin>) {
    return JobJoinAwaiter(self);
  } else {
    static_assert(IsJob<Plain>::value,
                  "tiny_coro: a Job awaits only other Jobs, fork() of a Job and join(); await "
                  "I/O, timers and locks in the Task that runs the tree");
  }
}

}  // namespace detail

template <class T>
class [[nodiscard]] Job {
 public:
  using promise_type = detail::JobPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Job() noexcept = default;
  explicit Job(Handle handle) noexcept : handle_(handle) {}
  Job(Job&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Job& operator=(Job&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaited (from a Task or a Job): runs now, as a call.
  detail::JobCallAwaiter<T> operator co_await() && noexcept {
    return detail::JobCallAwaiter<T>(std::exchange(handle_, {}));
  }

 private:
  template <class U>
  friend detail::JobFork<U> fork(U& slot, Job<U> child) noexcept;
  friend detail::JobFork<void> fork(Job<void> child) noexcept;

  Handle handle_;
};

// Inside a Job: runs `child` now, makes the rest of this Job stealable, and has the child
// write its result into `slot` (which must live until the join).
template <class T>
detail::JobFork<T> fork(T& slot, Job<T> child) noexcept {
  return detail::JobFork<T>(std::exchange(child.handle_, {}), &slot);
}
inline detail::JobFork<void> fork(Job<void> child) noexcept {
  return detail::JobFork<void>(std::exchange(child.handle_, {}), nullptr);
}

// Inside a Job: waits for every child forked since the last join; rethrows the first
// child's exception.
inline detail::JobJoin join() noexcept { return {}; }

namespace detail {
template <class T>
tiny_coro::Job<T> JobPromise<T>::get_return_object() noexcept {
  return tiny_coro::Job<T>(std::coroutine_handle<JobPromise<T>>::from_promise(*this));
}
inline tiny_coro::Job<void> JobPromise<void>::get_return_object() noexcept {
  return tiny_coro::Job<void>(std::coroutine_handle<JobPromise<void>>::from_promise(*this));
}
template <class Awaitable>
auto JobPromiseBase::await_transform(Awaitable&& awaitable) noexcept {
  return job_awaiter(*this, static_cast<Awaitable&&>(awaitable));
}
}  // namespace detail

}  // namespace tiny_coro
