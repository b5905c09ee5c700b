// JoinHandle<T>: the caller's side of a spawned task.
//
// Dropping it detaches the task, which keeps running; an exception escaping a detached task is
// printed to stderr. `co_await std::move(handle)` suspends until the task finishes and yields
// its value or rethrows its exception; the awaiter resumes on the thread that finished the
// task, directly from the task's final suspend (no queue hop). If the task was cancelled (or
// the scheduler shut down before it finished), awaiting throws TaskCancelled.
//
// cancel() asks the task to stop (cancel.h): from any thread, any number of times.
// Cancelling the task that *awaits* a handle does not cancel the task behind it (a spawned
// task is detached by design): that co_await throws TaskCancelled, the handle is dropped and
// the task runs on, detached.
#pragma once

#include <coroutine>
#include <cstdint>
#include <semaphore>
#include <stdexcept>
#include <utility>

#include <tiny_coro/cancel.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

namespace detail {
// A thread (not a coroutine) waiting in Scheduler::block_on.
struct alignas(8) ThreadJoinWaiter {
  std::binary_semaphore done{0};
};

// The suspension of a coroutine awaiting a JoinHandle, as a cancellation point. The awaiter
// arms its canceller first and then publishes its frame in the join word (promise_base.h);
// a cancel that comes in between finds the word still Empty and leaves kJoinWaitCancelled
// there, which the publishing CAS then meets instead of Empty.
class JoinWait final : public CancelPoint {
 public:
  explicit JoinWait(std::atomic<std::uintptr_t>& word) noexcept
      : CancelPoint(&CancelPoint::cancel_of<JoinWait>), word_(word) {}

  // False: do not suspend (the task finished, or the awaiter is cancelled: see cancelled()).
  bool suspend(std::coroutine_handle<> awaiting, CancelState* state) noexcept {
    waiting_ = awaiting;
    if (!arm(state)) {
      cancelled_ = true;
      return false;
    }
    auto expected = kJoinEmpty;
    // acq_rel: release publishes our frame to complete_root()'s exchange; acquire on failure
    // pairs with that exchange: the task completed and its result is visible.
    if (word_.compare_exchange_strong(expected,
                                      reinterpret_cast<std::uintptr_t>(awaiting.address()),
                                      std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
    if (expected == kJoinWaitCancelled) {
      cancelled_ = true;
      // relaxed: the word carries nothing for anyone here; failure means Completed, which a
      // later acquire load of the handle sees.
      (void)word_.compare_exchange_strong(expected, kJoinEmpty, std::memory_order_relaxed);
    }
    return false;
  }

  // After resumption (or a false suspend()): throws TaskCancelled if the wait was cancelled.
  void finish() {
    disarm();
    if (cancelled_) detail::throw_task_cancelled();
  }

 private:
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept {
    const auto frame = reinterpret_cast<std::uintptr_t>(waiting_.address());
    std::uintptr_t expected = frame;
    // acquire: pairs with suspend()'s release of the frame. Taking the waiter back keeps the
    // completer from resuming it.
    if (word_.compare_exchange_strong(expected, kJoinEmpty, std::memory_order_acquire)) {
      cancelled_ = true;
      return waiting_;
    }
    // Not published yet: leave the mark that suspend()'s CAS meets (it reports the cancel).
    // relaxed: the awaiter's own disarm() orders everything else; failure means it published
    // meanwhile (take the frame back after all) or the task completed (nothing to do).
    while (expected == kJoinEmpty && !word_.compare_exchange_strong(expected, kJoinWaitCancelled,
                                                                    std::memory_order_relaxed)) {
      if (expected == frame &&
          word_.compare_exchange_strong(expected, kJoinEmpty, std::memory_order_acquire)) {
        cancelled_ = true;
        return waiting_;
      }
    }
    return {};
  }

  std::atomic<std::uintptr_t>& word_;
  std::coroutine_handle<> waiting_;
  bool cancelled_ = false;
};
}  // namespace detail

template <class T>
class JoinHandle {
 public:
  using Handle = std::coroutine_handle<detail::Promise<T>>;

  JoinHandle() noexcept = default;
  // Adopts the caller's share of a spawned frame (the scheduler made it).
  explicit JoinHandle(Handle handle) noexcept : handle_(handle) {}
  JoinHandle(JoinHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, {})), observed_(other.observed_) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      detach();
      handle_ = std::exchange(other.handle_, {});
      observed_ = other.observed_;
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { detach(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  // The task's frame, for the runtime's combinators; the handle keeps its share.
  Handle handle() const noexcept { return handle_; }

  // True once the task has finished (or was cancelled by shutdown).
  bool is_finished() const noexcept {
    // acquire: pairs with the completer's exchange, so a true answer makes the result visible.
    const auto state = handle_.promise().join_state_.load(std::memory_order_acquire);
    return state == detail::kJoinCompleted || state == detail::kJoinCancelled;
  }

  // Declares the task's outcome unwanted: dropping or detaching the handle will not report its
  // exception. Cheaper than take_result() in a try block when nobody will look (no rethrow).
  void ignore_result() noexcept { observed_ = true; }

  // Lets the task run on unobserved; the frame is destroyed here if the task has finished,
  // else by the task's end.
  void detach() noexcept {
    if (!handle_) return;
    auto& promise = handle_.promise();
    // acquire: pairs with the completer's exchange. A finished task's word changes no more,
    // so the exchange below is needed only while it runs.
    auto previous = promise.join_state_.load(std::memory_order_acquire);
    if (previous != detail::kJoinCompleted && previous != detail::kJoinCancelled) {
      // acq_rel, both halves pairing with complete_root()'s exchange: acquire the result and
      // the frame if the task is done meanwhile; release our use of the frame to the
      // completer, which destroys it from now on.
      previous = promise.join_state_.exchange(detail::kJoinDetached, std::memory_order_acq_rel);
    }
    const Handle handle = std::exchange(handle_, {});
    if (previous != detail::kJoinCompleted && previous != detail::kJoinCancelled) return;
    if (previous == detail::kJoinCompleted && !observed_ && promise.exception_) {
      detail::report_unobserved_exception(promise.exception_);
    }
    handle.destroy();
  }

  // Asks the task to stop (cancel.h). A task that has not started never runs; one suspended
  // in a library operation is resumed promptly and that co_await throws TaskCancelled.
  void cancel() noexcept {
    if (handle_) handle_.promise().own_cancel_.request();
  }

  class Awaiter {
   public:
    explicit Awaiter(JoinHandle handle) noexcept
        : handle_(std::move(handle)), wait_(handle_.handle_.promise().join_state_) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;

    // dump_tasks() (detail/await_record.h)
    static constexpr bool notes_its_wait = true;
    static constexpr detail::WaitKind kWaitKind{"join"};
    const char* await_kind() const noexcept { return kWaitKind.name; }
    bool await_ready() const noexcept { return handle_.is_finished(); }
    template <class Promise>
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      detail::note_own_wait(awaiting, *this);
      detail::CancelState* const state = detail::cancel_state_of(awaiting);
      if (join_here(state)) return false;
      return wait_.suspend(awaiting, state);
    }
    T await_resume() {
      wait_.finish();
      return handle_.take_result();
    }

   private:
    // Runs the task here if it waits to run as the next task of this worker
    // (Executor::join_here); true if it then ended. Not for an awaiter already cancelled,
    // whose co_await ends at once.
    bool join_here(const detail::CancelState* awaiting_state) noexcept {
      if (awaiting_state != nullptr && awaiting_state->requested()) return false;
      auto& promise = handle_.handle_.promise();
      detail::Executor* executor = promise.own_cancel_.executor();
      return executor != nullptr && executor->join_here(promise, handle_.handle_);
    }

    JoinHandle handle_;
    detail::JoinWait wait_;
  };
  Awaiter operator co_await() && noexcept { return Awaiter{std::move(*this)}; }

  // Blocks the calling thread (never a worker) until the task finishes; then take_result().
  void wait_blocking() {
    if (is_finished()) return;
    detail::ThreadJoinWaiter waiter;
    auto expected = detail::kJoinEmpty;
    // acq_rel: release publishes the waiter to complete_root()'s (or cancel_root()'s) exchange;
    // acquire on failure pairs with it: the task finished and its result is visible.
    if (handle_.promise().join_state_.compare_exchange_strong(
            expected, reinterpret_cast<std::uintptr_t>(&waiter) | detail::kJoinThreadTag,
            std::memory_order_acq_rel, std::memory_order_acquire)) {
      waiter.done.acquire();
    }
  }

  // After the task finished: its value, or rethrows its exception (TaskCancelled if it was
  // cancelled, or destroyed unfinished by shutdown).
  T take_result() {
    if (!handle_) throw std::logic_error("tiny_coro: result of an empty JoinHandle");
    observed_ = true;
    // acquire: pairs with complete_root()'s or cancel_root()'s exchange, so the outcome is seen.
    if (handle_.promise().join_state_.load(std::memory_order_acquire) == detail::kJoinCancelled) {
      detail::throw_task_cancelled();
    }
    return handle_.promise().take_result();
  }

 private:
  Handle handle_;
  bool observed_ = false;  // the result was handed out, so a stored exception was seen
};

}  // namespace tiny_coro
