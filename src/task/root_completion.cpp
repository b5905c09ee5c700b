// How a spawned task ends: at final suspend (complete_root) or, unfinished, at shutdown
// (cancel_root). Both settle the join word (see promise_base.h) with one exchange, and the
// word's previous value says who destroys the frame: a dropped JoinHandle (Detached) leaves
// it to us; otherwise the JoinHandle's owner destroys it when it lets go, and we do not
// touch the frame after the exchange (the owner may already be destroying it). The one
// exception: a task its parent runs nested (nested_child) ends with a plain store, and the
// parent, on this thread's stack, takes its outcome.
#include "task/root_completion.h"

#include <cstdio>
#include <typeinfo>

#include <tiny_coro/join_handle.h>

#include "task/task_slots.h"

namespace tiny_coro::detail {

std::coroutine_handle<> complete_root(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  TaskSlots::remove(promise);
  if (&promise == nested_child) {
    // Our parent runs us on this thread's stack: no other thread writes the word now (our
    // JoinHandle is the parent's, or does not exist yet; our set's teardown and shutdown
    // wait for the parent), so no locked exchange. release: pairs with the handle owner's
    // acquire loads. The parent, back from running us, sees nested_child cleared and takes
    // our outcome itself (ChildSet::start_child, JoinHandle's awaiter).
    promise.join_state_.store(kJoinCompleted, std::memory_order_release);
    nested_child = nullptr;
    return std::noop_coroutine();
  }
  // acq_rel: release publishes the result to the joiner and the frame to whoever destroys it
  // (pairs with their acquire loads and exchanges); acquire sees a joiner's frame or a
  // detacher's last use before we act on them.
  const std::uintptr_t joiner =
      promise.join_state_.exchange(kJoinCompleted, std::memory_order_acq_rel);
  if (joiner < kJoinSentinelLimit) {
    if (joiner == kJoinDetached) {  // nobody will ever look: the frame is ours to destroy
      if (promise.exception_) report_unobserved_exception(promise.exception_);
      self.destroy();
    }
    return std::noop_coroutine();  // or the JoinHandle's owner takes the result later
  }
  if ((joiner & kJoinObserverTag) != 0) {
    // The observer reads the outcome before it counts this child done; only after that may
    // its parent drop the JoinHandle and destroy the frame.
    const auto next =
        reinterpret_cast<ChildObserver*>(joiner & ~kJoinTags)->child_finished(promise);
    return next ? next : std::noop_coroutine();
  }
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
  if (joiner == kJoinDetached) {
    self.destroy();
    return;
  }
  // A coroutine joiner (or observer) is itself a suspended task, destroyed by the same
  // shutdown, and with it the JoinHandle that destroys this frame; a blocked thread must be
  // let go (it owns the handle).
  if (joiner >= kJoinSentinelLimit && (joiner & kJoinTags) == kJoinThreadTag) {
    reinterpret_cast<ThreadJoinWaiter*>(joiner & ~kJoinThreadTag)->done.release();
  }
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
