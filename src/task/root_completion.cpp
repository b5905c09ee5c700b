// How a spawned task ends: at final suspend (complete_root) or, unfinished, at shutdown
// (cancel_root). Both settle the join word (see promise_base.h) and drop the scheduler's
// reference; the frame is destroyed by whichever of scheduler and JoinHandle lets go last.
#include "task/root_completion.h"

#include <cstdio>
#include <typeinfo>

#include <tiny_coro/join_handle.h>

#include "task/task_slots.h"

namespace tiny_coro::detail {
namespace {

bool release_scheduler_reference(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  // acq_rel: release our writes (the result) to the last owner; acquire theirs if we are it.
  if (promise.ref_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    self.destroy();
    return true;
  }
  return false;
}

}  // namespace

std::coroutine_handle<> complete_root(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  TaskSlots::remove(promise);
  // acq_rel: release publishes the result to the joiner (pairs with its acquire loads and
  // CAS); acquire sees a joiner's frame or a detacher's last use before we act on them.
  const std::uintptr_t joiner =
      promise.join_state_.exchange(kJoinCompleted, std::memory_order_acq_rel);
  if (joiner < kJoinSentinelLimit) {  // nobody waits (or the handle is gone)
    if (joiner == kJoinDetached && promise.exception_) {
      report_unobserved_exception(promise.exception_);
    }
    release_scheduler_reference(promise, self);
    return std::noop_coroutine();
  }
  if ((joiner & kJoinObserverTag) != 0) {
    // Told while the scheduler's reference still keeps the frame alive (the observer may
    // drop its own reference in the call).
    const auto next = reinterpret_cast<ChildObserver*>(joiner & ~kJoinTags)->child_finished(promise);
    release_scheduler_reference(promise, self);
    return next ? next : std::noop_coroutine();
  }
  // A coroutine or a thread waits, holding the JoinHandle, and does nothing with it until we
  // let it go below: the handle's is the only reference left, and no atomic read-modify-
  // write is needed to say so. relaxed: the resumption (same thread) or the semaphore's
  // release orders it before the joiner's release of the handle.
  promise.ref_count_.store(1, std::memory_order_relaxed);
  if ((joiner & kJoinThreadTag) != 0) {
    reinterpret_cast<ThreadJoinWaiter*>(joiner & ~kJoinThreadTag)->done.release();
    return std::noop_coroutine();
  }
  return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(joiner));
}

void cancel_root(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  // acq_rel: as complete_root's exchange (a joiner's, observer's or detacher's word).
  const std::uintptr_t joiner =
      promise.join_state_.exchange(kJoinCancelled, std::memory_order_acq_rel);
  // A coroutine joiner (or observer) is itself a suspended task, destroyed by the same
  // shutdown; a blocked thread must be let go.
  if (joiner >= kJoinSentinelLimit && (joiner & kJoinTags) == kJoinThreadTag) {
    reinterpret_cast<ThreadJoinWaiter*>(joiner & ~kJoinThreadTag)->done.release();
  }
  release_scheduler_reference(promise, self);
}

void report_unobserved_exception(const std::exception_ptr& error) noexcept {
  if (is_task_cancelled(error)) return;  // asked for: nothing to report
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tiny_coro: exception escaped a detached task: %s: %s\n", typeid(e).name(),
                 e.what());
  } catch (...) {
    std::fprintf(stderr, "tiny_coro: exception escaped a detached task (not a std::exception)\n");
  }
}

const std::exception_ptr& shared_task_cancelled() {
  static const std::exception_ptr cancelled = std::make_exception_ptr(TaskCancelled());
  return cancelled;
}

bool is_task_cancelled(const std::exception_ptr& error) noexcept {
  if (!error) return false;
  // The shared object: a task that caught it and let current_exception() store it holds a
  // pointer to that same object.
  if (error == shared_task_cancelled()) return true;
  try {
    std::rethrow_exception(error);
  } catch (const TaskCancelled&) {
    return true;  // one the user threw, or a WriteCancelled
  } catch (...) {
    return false;
  }
}

}  // namespace tiny_coro::detail
