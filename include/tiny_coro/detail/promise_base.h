// What every tiny_coro coroutine frame carries, whatever its result type.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/await_record.h>
#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/fork_queue.h>
#include <tiny_coro/detail/frame_allocator.h>

namespace tiny_coro::detail {

class PromiseBase;

// The join word of a spawned task. Its values:
//   kJoinEmpty       running, nobody waits, the JoinHandle is alive
//   kJoinDetached    the JoinHandle was dropped before completion
//   kJoinCompleted   finished; the result (value or exception) is in the promise
//   kJoinCancelled   destroyed unfinished by Scheduler::shutdown()
//   kJoinWaitCancelled  a coroutine about to wait for the task was cancelled before it
//                    published its frame: it sees this value instead of Empty and does not
//                    suspend (it puts Empty back); to the completer it means nobody waits
//   a frame address  a coroutine awaits the JoinHandle (low 4 bits clear; frames are 16-aligned)
//   address | 1      a thread blocks in block_on() on this ThreadJoinWaiter
//   address | 2      a ChildObserver (a combinator or TaskGroup) is told of completion
// Transitions: Empty -> {Detached, Completed, Cancelled, WaitCancelled, frame, waiter,
// observer}; WaitCancelled -> {Empty, Completed, Cancelled}; frame -> {Empty (the awaiter was
// cancelled), Completed, Cancelled}; waiter and observer -> {Completed, Cancelled}; observer
// -> Detached (a ChildSet let go). Completed and Cancelled are final; Detached may still be
// followed by Completed or Cancelled (the completer's exchange).
inline constexpr std::uintptr_t kJoinEmpty = 0;
inline constexpr std::uintptr_t kJoinWaitCancelled = 1;
inline constexpr std::uintptr_t kJoinDetached = 2;
inline constexpr std::uintptr_t kJoinCompleted = 4;
inline constexpr std::uintptr_t kJoinCancelled = 6;
inline constexpr std::uintptr_t kJoinSentinelLimit = 8;
inline constexpr std::uintptr_t kJoinThreadTag = 1;
inline constexpr std::uintptr_t kJoinObserverTag = 2;
inline constexpr std::uintptr_t kJoinTags = 7;

// Told, on the completing thread, that a spawned child finished (its result is in its
// promise). Returns a coroutine to resume by symmetric transfer, or null.
class alignas(8) ChildObserver {
 public:
  virtual std::coroutine_handle<> child_finished(PromiseBase& child) noexcept = 0;

 protected:
  ~ChildObserver() = default;
};

// The child that its parent runs on this thread right now, nested in the parent's own run,
// or null: a combinator's child being started (ChildSet::start_child), or a spawned task
// taken back by the task awaiting its JoinHandle (Executor::join_here). While that child
// runs nobody else writes its join word, so its end needs no locked exchange; complete_root
// then clears this instead of telling anyone, and the parent takes the outcome on return.
extern constinit thread_local PromiseBase* nested_child;

// Called at final suspend of a spawned (root) task; returns what to resume next.
std::coroutine_handle<> complete_root(PromiseBase& promise, std::coroutine_handle<> self) noexcept;
// At final suspend of a forked child (fork.h): end_fork below, inline, for a child that
// resumes its parent at the fork; complete_fork for one whose parent runs elsewhere;
// end_orphan frees a child whose handle was dropped (task/fork_completion.cpp).
std::coroutine_handle<> end_fork(PromiseBase& promise, std::coroutine_handle<> self) noexcept;
std::coroutine_handle<> complete_fork(PromiseBase& promise, std::coroutine_handle<> self) noexcept;
void end_orphan(PromiseBase& promise, std::coroutine_handle<> self) noexcept;
// Prints an exception that nobody will ever observe (a detached task's) to stderr; a
// cancellation is not an error and is not printed.
void report_unobserved_exception(const std::exception_ptr& error) noexcept;
// co_await on a Task that holds no coroutine.
[[noreturn]] void throw_empty_task_awaited();

class PromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  // A spawned task cancelled before it first ran completes with TaskCancelled at once: the
  // exception thrown here goes to unhandled_exception() and the body never starts.
  struct InitialAwaiter {
    PromiseBase& promise;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const {
      if (promise.registry_slot_ != nullptr && promise.own_cancel_.requested()) {
        throw_task_cancelled();
      }
    }
  };
  InitialAwaiter initial_suspend() noexcept { return {*this}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    [[gnu::always_inline]] std::coroutine_handle<> await_suspend(
        std::coroutine_handle<Promise> self) const noexcept {
      PromiseBase& promise = self.promise();
      // Awaited directly: symmetric transfer back to the awaiting coroutine, no queue hop.
      if (promise.continuation_) return promise.continuation_;
      if (promise.registry_slot_ != nullptr) return complete_root(promise, self);
      if (promise.forked_from_ != 0) return end_fork(promise, self);
      return finish_unawaited(promise);
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  // A nested task with nobody stored to resume: resumed by hand, or run as a call by a
  // scope (CancelScope::Run) that stores its awaiting frame in the join word only once the
  // task has suspended. The exchange decides which of the two resumes that frame.
  static std::coroutine_handle<> finish_unawaited(PromiseBase& promise) noexcept {
    // acq_rel: release the result to the scope's awaiter, acquire the frame it stored.
    const std::uintptr_t waiting =
        promise.join_state_.exchange(kJoinCompleted, std::memory_order_acq_rel);
    if (waiting == kJoinEmpty) return std::noop_coroutine();
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(waiting));
  }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  // Throws the exception that escaped the body (take_result's rare case, out of line so
  // that the common one stays small enough to inline).
  [[noreturn]] void rethrow_result() const;

  // This coroutine's frame, found from the promise rather than kept in it (8 bytes in every
  // frame): g++ and clang both start a frame with its resume and destroy pointers and put the
  // promise right after them when, as Promise<T> asserts, it needs no more than 16-byte
  // alignment. Promise<T>::get_return_object checks it against from_promise in debug builds.
  void* frame() const noexcept {
    return const_cast<char*>(reinterpret_cast<const char*>(this)) - kPromiseOffset;
  }
  static constexpr std::size_t kPromiseOffset = 2 * sizeof(void*);

#if TINY_CORO_TRACK_AWAITS || TINY_CORO_SUSPEND_NEEDS_A_CALL
  // Every co_await in the body comes here first, then awaits exactly as if this were not
  // here. An awaiter that notes its own suspension (NotesItsWait) is handed back as it is;
  // any other notes where it is (and, if it suspends, what it waits for: await_record.h). A
  // build without tracking still passes through here on clang before 19, so that every
  // await_suspend that may publish the coroutine stays a call (await_record.h).
  template <class Awaitable>
  requires(!AwaitRequest<std::remove_cvref_t<Awaitable>>) auto await_transform(
      Awaitable&& awaitable, TINY_CORO_AWAIT_SITE_PARAMS) {
    using Awaiter = decltype(awaiter_of(static_cast<Awaitable&&>(awaitable)));
    if constexpr (NotesItsWait<Awaiter> && !std::is_reference_v<Awaiter>) {
      return awaiter_of(static_cast<Awaitable&&>(awaitable));  // made here: nothing to copy
    } else {
      if constexpr (TINY_CORO_TRACK_AWAITS && !NotesItsWait<Awaiter>) {
        await_.note_site(TINY_CORO_AWAIT_SITE_ARGS);
      }
      return PassedAwaiter<Awaiter>{awaiter_of(static_cast<Awaitable&&>(awaitable))};
    }
  }
  // A request (chan.recv(), mutex.lock(), sleep_for(...), yield_now()) becomes its awaiter
  // here, made in place. By value: the request passes in registers where a reference would
  // keep it in the frame as well.
  template <class Request>
  requires AwaitRequest<Request>
  auto await_transform(Request request, TINY_CORO_AWAIT_SITE_PARAMS) {
    using Awaiter = decltype(std::move(request).operator co_await());
    if constexpr (NotesItsWait<Awaiter>) {
      return std::move(request).operator co_await();
    } else {
      if constexpr (TINY_CORO_TRACK_AWAITS) await_.note_site(TINY_CORO_AWAIT_SITE_ARGS);
      return PassedAwaiter<Awaiter>{std::move(request).operator co_await()};
    }
  }
#endif

  // --- state shared with Task, JoinHandle and the scheduler ---
  std::coroutine_handle<> continuation_;  // the coroutine awaiting this one, if any
  std::exception_ptr exception_;
  // A spawned task's join word (above), which also decides whether its run or its
  // JoinHandle destroys the frame; for a forked child the same word with Empty, the joining
  // parent's frame, Detached or Completed (fork.h); for a nested task run by a scope, how its
  // end meets the scope's awaiter (finish_unawaited). A nested task's frame belongs to its
  // Task, a forked child's to its ForkHandle until the handle is dropped.
  std::atomic<std::uintptr_t> join_state_{kJoinEmpty};
  // Non-null: this frame is a spawned root task, recorded in this slot of a TaskSlots table.
  std::atomic<PromiseBase*>* registry_slot_ = nullptr;
  // The cancellation word this frame's suspension points obey: its own for a spawned task
  // or a forked child (on a worker), the awaiter's for a nested one, a scope's under
  // timeout()/shield(); null if none (a Task driven by a coroutine that is not tiny_coro's,
  // or resumed by hand).
  CancelState* cancel_ = nullptr;
  // Used when this frame is a spawned task, a forked child or a scope's root; a forked child's
  // names its scheduler even when the child runs as a call (ForkHandle::let_go reads it).
  CancelState own_cancel_;
  AwaitRecord await_;  // where it last awaited (dump_tasks)
  union {
    // A forked child's parent (fork.h): the frame its end returns to, | kForkUnqueued if
    // the parent's continuation was not queued (the child runs as a call); 0 otherwise. A
    // spawned task is never forked, so the two share the word.
    std::uintptr_t forked_from_ = 0;
    std::int64_t spawned_at_ns_;  // a spawned task's start (coarse steady clock); set by submit
  };
  static constexpr std::uintptr_t kForkUnqueued = 1;
};

// The child's end when its parent waits at the fork, not in the join: nobody else can touch
// the word then (fork_completion.cpp says why), so a plain store settles it.
inline std::coroutine_handle<> end_fork(PromiseBase& promise,
                                        std::coroutine_handle<> self) noexcept {
  const std::uintptr_t from = promise.forked_from_;
  void* const parent = reinterpret_cast<void*>(from & ~PromiseBase::kForkUnqueued);
  if ((from & PromiseBase::kForkUnqueued) == 0 &&
      !take_back_fork_continuation(promise.own_cancel_.executor(), parent)) {
    return complete_fork(promise, self);
  }
  // acquire: pairs with the exchange of a handle dropped before the parent forked again
  // (the one way the word can have changed); otherwise it is Empty.
  if (promise.join_state_.load(std::memory_order_acquire) == kJoinDetached) {
    end_orphan(promise, self);
  } else {
    // relaxed: the parent reads it on this thread, after we resume it.
    promise.join_state_.store(kJoinCompleted, std::memory_order_relaxed);
  }
  return std::coroutine_handle<>::from_address(parent);
}

// The cancellation state of the coroutine behind `handle`, or null if it has none (it is not
// a tiny_coro Task).
template <class Promise>
CancelState* cancel_state_of(std::coroutine_handle<Promise> handle) noexcept {
  if constexpr (std::is_base_of_v<PromiseBase, Promise>) {
    return handle.promise().cancel_;
  } else {
    return nullptr;
  }
}

// First thing in the await_suspend of an awaiter that NotesItsWait: notes where and what
// `waiting` waits for, before the awaiter publishes it. Inlined into the coroutine, so that
// the address noted lies in the coroutine's own code at its co_await.
template <class Promise, class Awaiter>
[[gnu::always_inline]] inline void note_own_wait(std::coroutine_handle<Promise> waiting,
                                                 const Awaiter& awaiter) noexcept {
  if constexpr (TINY_CORO_NOTES_PCS && std::is_base_of_v<PromiseBase, Promise>) {
    if constexpr (requires { awaiter.awaited_promise(); }) {
      waiting.promise().await_.note_call(current_code_address(), awaiter.awaited_promise());
    } else {
      waiting.promise().await_.note_suspension(current_code_address(), Awaiter::kWaitKind);
    }
  }
}

}  // namespace tiny_coro::detail
