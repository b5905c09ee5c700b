// fork(): fork-join with continuation stealing, the shape of Cilk and libfork.
//
//   Task<std::uint64_t> fib(int n) {
//     if (n < 2) co_return n;
//     ForkHandle<std::uint64_t> first = co_await fork(fib(n - 1));  // runs fib(n-1) now
//     const std::uint64_t second = co_await fib(n - 2);             // a plain call
//     co_return co_await std::move(first) + second;                  // the join
//   }
//
// `co_await fork(child)` runs the child at once, on this thread, and leaves the rest of the
// forking coroutine (its continuation) in this worker's stealable queue. When the child ends
// and the continuation is still there, the child takes it back and jumps into it: the fork
// cost one queue push and one pop, and the join finds the child done without a locked
// operation. An idle worker may steal the continuation meanwhile, and so may this worker's
// own loop when the child suspends (a fork is never a reason to hold a worker); then the
// join is a real wait, settled by one exchange on the child's word, as for a JoinHandle.
// Spawn (scheduler.h) is the other shape: the child is queued and the parent runs on. Fork
// is for trees of work whose children the parent joins; spawn for tasks that live apart.
//
// The rules:
// * Call it from a tiny_coro Task running on a worker. Elsewhere (a Task resumed by hand)
//   the child simply runs as a call, under its parent's cancellation as a called Task is.
// * Join every fork, in the coroutine that forked it (or in a Task it awaits, which runs
//   while it waits): `co_await std::move(handle)` gives the child's value or rethrows its
//   exception. A ForkHandle may move within that task (into an array, or a called Task) but
//   not to another task: a child that takes its parent back ends with a plain store, safe
//   only because nobody can be waiting for it while its parent is parked at a fork. For a
//   child that other tasks wait for, use spawn() and a JoinHandle.
// * A handle dropped unjoined (an exception thrown between the fork and the join) asks the
//   child to stop, as cancel() does, and lets it end on its own: it must then not refer to
//   the parent's frame. Shutdown frees such a child if it never ends.
// * Cancellation: a fork is a cancellation point (a cancelled task forks nothing; the
//   co_await throws TaskCancelled). Each child has its own cancellation state, which its
//   parent asks to stop when the parent is cancelled while it waits in the child's join, or
//   drops the handle; a subtree thus stops from the top down, as each level's join or
//   unwinding reaches it. The join waits for the child even then, and throws TaskCancelled.
// * dump_tasks() follows a task into a forked child while the task waits for it (at the fork
//   or in the join).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <utility>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/fork_queue.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

template <class T>
class ForkHandle;

namespace detail {

// The child's side of a fork, before it starts: its own cancellation state, and where its end
// returns (promise_base.h, forked_from_). The state's executor is set before the parent is
// queued: a thief may resume the parent at once, and its join or its dropped handle may
// request the child's state.
inline std::coroutine_handle<> start_fork(PromiseBase& child_promise, std::coroutine_handle<> child,
                                          std::coroutine_handle<> parent,
                                          CancelState* parent_state) {
  Executor* const executor = parent_state != nullptr ? parent_state->executor() : nullptr;
  child_promise.own_cancel_.set_executor(executor);
  const auto from = reinterpret_cast<std::uintptr_t>(parent.address());
  if (forks_queue_here(executor)) {
    child_promise.forked_from_ = from;
    child_promise.cancel_ = &child_promise.own_cancel_;  // read by the child alone, not started
    return queue_fork_continuation(parent.address(), child);
  }
  // Not queued: the child runs as a call, with its parent suspended throughout, and obeys the
  // parent's cancellation as a called Task does.
  child_promise.cancel_ = parent_state;
  child_promise.forked_from_ = from | PromiseBase::kForkUnqueued;
  return child;
}

// The parent's wait in a join, as a cancellation point that never abandons the child: a
// cancel asks the child to stop and leaves the parent waiting for its end.
class ForkJoinWait final : public CancelPoint {
 public:
  explicit ForkJoinWait(PromiseBase& child) noexcept
      : CancelPoint(&CancelPoint::cancel_of<ForkJoinWait>), child_(child) {}

  // False: the child has ended, do not suspend.
  bool suspend(std::coroutine_handle<> awaiting, CancelState* state) noexcept {
    if (!arm(state)) {
      cancelled_ = true;
      child_.own_cancel_.request();
    }
    std::uintptr_t expected = kJoinEmpty;
    // acq_rel: release publishes our frame to complete_fork's exchange; acquire on failure
    // pairs with that exchange: the child ended and its result is visible.
    return child_.join_state_.compare_exchange_strong(
        expected, reinterpret_cast<std::uintptr_t>(awaiting.address()), std::memory_order_acq_rel,
        std::memory_order_acquire);
  }

  // After the child's end resumed us (or suspend() said no): true if we were cancelled.
  bool finish() noexcept {
    disarm();
    return cancelled_;
  }

 private:
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept {
    cancelled_ = true;
    child_.own_cancel_.request();
    return {};  // the child's end resumes us
  }

  PromiseBase& child_;
  bool cancelled_ = false;
};

template <class T>
class [[nodiscard]] ForkAwaiter {
 public:
  explicit ForkAwaiter(Task<T> child) noexcept : child_(std::move(child)) {}
  ForkAwaiter(const ForkAwaiter&) = delete;
  ForkAwaiter& operator=(const ForkAwaiter&) = delete;

  const char* await_kind() const noexcept { return "fork"; }  // dump_tasks()
  PromiseBase* awaited_promise() const noexcept { return &child_.handle().promise(); }
  bool await_ready() const {
    if (!child_.valid()) throw std::invalid_argument("tiny_coro: fork of an empty Task");
    return false;
  }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> parent) noexcept {
    CancelState* const parent_state = cancel_state_of(parent);
    if (parent_state != nullptr && parent_state->requested()) {
      cancelled_ = true;
      return parent;  // nothing forked; await_resume throws
    }
    // Read before the parent is queued: a thief that resumes it moves child_ away.
    const auto child = child_.handle();
    return start_fork(child.promise(), child, parent, parent_state);
  }
  ForkHandle<T> await_resume() {
    if (cancelled_) throw_task_cancelled();
    return ForkHandle<T>(std::move(child_));
  }

 private:
  Task<T> child_;
  bool cancelled_ = false;
};

}  // namespace detail

// Runs `child` now and makes the rest of the calling coroutine stealable (above).
template <class T>
detail::ForkAwaiter<T> fork(Task<T> child) noexcept {
  return detail::ForkAwaiter<T>(std::move(child));
}

// The parent's side of a forked child: join it with `co_await std::move(handle)`.
template <class T>
class [[nodiscard]] ForkHandle {
 public:
  ForkHandle() noexcept = default;
  ForkHandle(ForkHandle&& other) noexcept : child_(std::move(other.child_)) {}
  ForkHandle& operator=(ForkHandle&& other) noexcept {
    if (this != &other) {
      let_go();
      child_ = std::move(other.child_);
    }
    return *this;
  }
  ForkHandle(const ForkHandle&) = delete;
  ForkHandle& operator=(const ForkHandle&) = delete;
  ~ForkHandle() { let_go(); }

  bool valid() const noexcept { return child_.valid(); }

  // True once the child has ended.
  bool is_finished() const noexcept {
    // acquire: pairs with complete_fork's store or exchange, so the result is visible.
    return child_.valid() &&
           promise().join_state_.load(std::memory_order_acquire) == detail::kJoinCompleted;
  }

  // Asks the child to stop (cancel.h), from any thread.
  void cancel() noexcept {
    if (child_.valid()) promise().own_cancel_.request();
  }

  class Awaiter {
   public:
    // Refers to the handle rather than taking it: the handle outlives the co_await (a local,
    // or a temporary of its full expression), and await_resume empties it.
    explicit Awaiter(ForkHandle& handle) noexcept : handle_(handle) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (waiting_) wait_.~ForkJoinWait();  // disarms, before handle_ lets go
    }

    const char* await_kind() const noexcept { return "join"; }  // dump_tasks()
    detail::PromiseBase* awaited_promise() const noexcept { return &handle_.promise(); }
    bool await_ready() const {
      if (!handle_.valid()) throw std::logic_error("tiny_coro: join of an empty ForkHandle");
      return handle_.is_finished();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      new (&wait_) detail::ForkJoinWait(handle_.promise());
      waiting_ = true;
      return wait_.suspend(awaiting, detail::cancel_state_of(awaiting));
    }
    [[gnu::always_inline]] T await_resume() {
      const bool cancelled = waiting_ && wait_.finish();
      // Ours now, and freed on the way out: the outcome is observed here, not reported.
      const Task<T> child = std::move(handle_.child_);
      if (cancelled) detail::throw_task_cancelled();
      return child.handle().promise().take_result();
    }

   private:
    ForkHandle& handle_;
    // Only a join that suspends needs the wait, a cancellation point (built in await_suspend).
    union {
      detail::ForkJoinWait wait_;
    };
    bool waiting_ = false;
  };
  Awaiter operator co_await() && noexcept { return Awaiter{*this}; }

 private:
  template <class U>
  friend class detail::ForkAwaiter;
  explicit ForkHandle(Task<T> child) noexcept : child_(std::move(child)) {}

  detail::Promise<T>& promise() const noexcept { return child_.handle().promise(); }

  // Unjoined: a child that has ended is freed here; one still running is asked to stop and
  // frees itself at its end (until then its executor keeps it on a list, for shutdown). At
  // shutdown, with the workers gone, a child that is suspended never ends: it is freed here.
  void let_go() noexcept {
    if (child_.valid()) let_go_of_child();
  }
  [[gnu::noinline]] void let_go_of_child() noexcept {
    auto& child = promise();
    // acquire: pairs with complete_fork, as in is_finished().
    std::uintptr_t state = child.join_state_.load(std::memory_order_acquire);
    detail::Executor* const executor = child.own_cancel_.executor();
    if (state != detail::kJoinCompleted && executor != nullptr && !executor->workers_stopped()) {
      executor->adopt_orphan(child);  // before the exchange: from then on its end may free it
      child.own_cancel_.request();
      // acq_rel: release our last use of the frame to the child's end, which now frees it;
      // acquire its result if it ended meanwhile (then the frame is still ours).
      state = child.join_state_.exchange(detail::kJoinDetached, std::memory_order_acq_rel);
      if (state != detail::kJoinCompleted) {
        (void)child_.detach();
        return;
      }
      executor->release_orphan(child);
    }
    if (state == detail::kJoinCompleted && child.exception_) {
      detail::report_unobserved_exception(child.exception_);
    }
    child_ = Task<T>();
  }

  Task<T> child_;
};

}  // namespace tiny_coro
