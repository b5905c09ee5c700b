// Task<T>: the return type of tiny_coro coroutines.
//
// * Lazy: calling a coroutine allocates its frame and stops before the first statement;
//   it runs when awaited (`co_await f()`) or spawned (`sched.spawn(f())`).
// * Symmetric transfer: awaiting a Task jumps straight into it, and its completion jumps
//   straight back into the awaiter, so a chain of a million nested co_awaits uses constant
//   stack (given a compiler that emits the transfer as a tail call: clang at any level,
//   g++ at -O2 without sanitizers).
// * The result — a value, or the exception that escaped the body — is delivered by co_await.
// * Ownership: a Task owns its frame; destroying an unstarted or suspended Task destroys the
//   frame. detach() turns that ownership into a raw pointer for lock-free queues;
//   from_address() turns it back into a Task. Once spawned, the frame belongs to the task's
//   run and its JoinHandle (join_handle.h).
// * Threads: a spawned task may resume on another worker after any co_await. Do not carry a
//   thread's identity across one: g++ and clang may even reuse the answer of one
//   pthread_self() (so std::this_thread::get_id()) or one thread_local's address — errno's
//   included — for a later use in the same body, since they assume a function stays on its
//   thread. Read it through a call the compiler
//   cannot see into (a noinline function holding an empty `asm volatile` with a memory clobber).
// * g++ 12 miscompiles two shapes of co_await, both met in this library: a conditional
//   operator with a co_await in each arm (`x = c ? co_await a() : co_await b();` destroys its
//   result twice), and an aggregate temporary built inside a co_await's operand
//   (`co_await f(Agg{std::move(s)})` may copy it bit for bit, so its strings or sockets are
//   freed twice). Use an if/else, and a named variable moved into the call.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro {

template <class T = void>
class Task;

namespace detail {

template <class T>
class Promise : public PromiseBase {
  // A frame is 16-byte aligned (frame_allocator.h) and is found from its promise at a fixed
  // offset (PromiseBase::frame()); both need the promise to ask for no more.
  static_assert(alignof(T) <= 2 * sizeof(void*),
                "tiny_coro: a Task's result may not be over-aligned (frames are 16-byte aligned)");

 public:
  Task<T> get_return_object() noexcept;

  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }

  // Rethrows the body's exception, or hands out the value (moved: a result is taken once).
  [[gnu::always_inline]] T take_result() {
    if (exception_) [[unlikely]]
      rethrow_result();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  [[gnu::always_inline]] void take_result() const {
    if (exception_) [[unlikely]]
      rethrow_result();
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported; return a pointer");

 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  bool done() const noexcept { return handle_ && handle_.done(); }

  // Gives up this Task's frame as a raw address; the caller now owns it and must eventually
  // hand it to from_address().
  [[nodiscard]] void* detach() noexcept { return std::exchange(handle_, {}).address(); }
  // Adopts the frame that detach() gave away.
  static Task from_address(void* address) noexcept { return Task(Handle::from_address(address)); }

  // The typed handle, for the scheduler; the Task keeps the frame.
  Handle handle() const noexcept { return handle_; }
  struct Awaiter {
    // await_suspend only jumps into the callee, on this thread (detail/await_record.h).
    static constexpr bool suspends_in_place = true;
    static constexpr bool notes_its_wait = true;  // dump_tasks() (detail/await_record.h)
    Handle callee;
    // For dump_tasks(): a suspended awaiter notes the callee's promise (await_record.h).
    detail::PromiseBase* awaited_promise() const noexcept {
      return callee ? &callee.promise() : nullptr;
    }
    const char* await_kind() const noexcept { return "call"; }
    bool await_ready() const noexcept { return !callee || callee.done(); }
    // Resumes inside the callee on this thread; the callee's completion resumes the awaiter
    // on whichever thread it completes on. The callee obeys the awaiter's cancellation.
    // Inlined at every optimisation level, so that the note's address lies in the caller.
    template <class AwaitingPromise>
    [[gnu::always_inline]] std::coroutine_handle<> await_suspend(
        std::coroutine_handle<AwaitingPromise> awaiting) const noexcept {
      detail::note_own_wait(awaiting, *this);
      return suspend_without_note(awaiting);
    }
    // await_suspend for an awaiter that runs a Task of its own as its slow path and has
    // noted its own wait (detail/io_request.h): the dump names the outer operation.
    template <class AwaitingPromise>
    std::coroutine_handle<> suspend_without_note(
        std::coroutine_handle<AwaitingPromise> awaiting) const noexcept {
      callee.promise().continuation_ = awaiting;
      callee.promise().cancel_ = detail::cancel_state_of(awaiting);
      return callee;
    }
    [[gnu::always_inline]] T await_resume() const {
      if (!callee) [[unlikely]]
        detail::throw_empty_task_awaited();
      return callee.promise().take_result();
    }
  };
  Awaiter operator co_await() const& noexcept { return Awaiter{handle_}; }
  Awaiter operator co_await() const&& noexcept { return Awaiter{handle_}; }

 private:
  void reset() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  Handle handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  static_assert(alignof(Promise<T>) <= PromiseBase::kPromiseOffset);
  const auto handle = std::coroutine_handle<Promise<T>>::from_promise(*this);
  assert(handle.address() == frame() && "the promise sits two pointers into its frame");
  return Task<T>(handle);
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  static_assert(alignof(Promise<void>) <= PromiseBase::kPromiseOffset);
  const auto handle = std::coroutine_handle<Promise<void>>::from_promise(*this);
  assert(handle.address() == frame() && "the promise sits two pointers into its frame");
  return Task<void>(handle);
}
}  // namespace detail

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
// The manual's `Task` is the result-less task.
using Task = tiny_coro::Task<void>;
#endif
