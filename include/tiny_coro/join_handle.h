// JoinHandle<T>: the caller's side of a spawned task.
//
// Dropping it detaches the task, which keeps running; an exception escaping a detached task is
// printed to stderr. `co_await std::move(handle)` suspends until the task finishes and yields
// its value or rethrows its exception; the awaiter resumes on the thread that finished the
// task, directly from the task's final suspend (no queue hop). If the scheduler shut down
// before the task finished, awaiting throws TaskCancelled.
#pragma once

#include <coroutine>
#include <cstdint>
#include <semaphore>
#include <stdexcept>
#include <utility>

#include <tiny_coro/task.h>

namespace tiny_coro {

class TaskCancelled : public std::runtime_error {
 public:
  TaskCancelled() : std::runtime_error("tiny_coro: task destroyed by scheduler shutdown") {}
};

namespace detail {
// A thread (not a coroutine) waiting in Scheduler::block_on.
struct alignas(8) ThreadJoinWaiter {
  std::binary_semaphore done{0};
};
}  // namespace detail

template <class T>
class JoinHandle {
 public:
  using Handle = std::coroutine_handle<detail::Promise<T>>;

  JoinHandle() noexcept = default;
  // Adopts one reference to a spawned frame (the scheduler made it).
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

  // True once the task has finished (or was cancelled by shutdown).
  bool is_finished() const noexcept {
    // acquire: pairs with the completer's exchange, so a true answer makes the result visible.
    const auto state = handle_.promise().join_state_.load(std::memory_order_acquire);
    return state == detail::kJoinCompleted || state == detail::kJoinCancelled;
  }

  // Lets the task run on unobserved; releases this handle's reference to its frame.
  void detach() noexcept {
    if (!handle_) return;
    auto& promise = handle_.promise();
    // acq_rel: acquire the result if the task is done (to report its exception); release
    // our use of the frame to the completer.
    const auto previous =
        promise.join_state_.exchange(detail::kJoinDetached, std::memory_order_acq_rel);
    if (previous == detail::kJoinCompleted && !observed_ && promise.exception_) {
      detail::report_unobserved_exception(promise.exception_);
    }
    detail::PromiseBase::release(std::exchange(handle_, {}));
  }

  struct Awaiter {
    JoinHandle handle;

    bool await_ready() const noexcept { return handle.is_finished(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      auto expected = detail::kJoinEmpty;
      // release: publishes our frame to the completer, which resumes it; acquire on failure:
      // the task completed meanwhile and we read its result next.
      return handle.handle_.promise().join_state_.compare_exchange_strong(
          expected, reinterpret_cast<std::uintptr_t>(awaiting.address()), std::memory_order_acq_rel,
          std::memory_order_acquire);
    }
    T await_resume() { return handle.take_result(); }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{std::move(*this)}; }

  // Blocks the calling thread (never a worker) until the task finishes; then take_result().
  void wait_blocking() {
    if (is_finished()) return;
    detail::ThreadJoinWaiter waiter;
    auto expected = detail::kJoinEmpty;
    if (handle_.promise().join_state_.compare_exchange_strong(
            expected, reinterpret_cast<std::uintptr_t>(&waiter) | detail::kJoinThreadTag,
            std::memory_order_acq_rel, std::memory_order_acquire)) {
      waiter.done.acquire();
    }
  }

  // After the task finished: its value, or rethrows its exception (or TaskCancelled).
  T take_result() {
    if (!handle_) throw std::logic_error("tiny_coro: result of an empty JoinHandle");
    observed_ = true;
    if (handle_.promise().join_state_.load(std::memory_order_acquire) == detail::kJoinCancelled) {
      throw TaskCancelled();
    }
    return handle_.promise().take_result();
  }

 private:
  Handle handle_;
  bool observed_ = false;  // the result was handed out, so a stored exception was seen
};

}  // namespace tiny_coro
