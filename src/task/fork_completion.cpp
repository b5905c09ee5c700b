// The child's side of fork() (fork.h): how it starts under its parent, and how it ends.
//
// Who resumes the parent. A fork queues the parent's continuation on the forking worker,
// and whoever takes a handle out of a queue owes it exactly one resumption: a thief, the
// worker's own loop (after the child suspended), or the child's end, which takes it back
// only if it is still the newest item there (nothing stole it, nothing was queued above it).
// The same frame may be queued again by a later fork of the same parent before an earlier
// child ends; that child may then take it back and resume it at the later fork. That is
// still the one resumption that queue entry owed, and it says the same thing: the parent is
// suspended at a fork, so it waits in no join word, in particular not ours; and since a
// ForkHandle stays with the coroutine that forked (fork.h), nobody else waits in ours.
//
// Who writes the child's word (promise_base.h: Empty, the joining parent's frame, Detached,
// Completed). A child that took its parent back knows the parent is parked at a fork: no
// other thread can touch the word, so it ends with a plain store and jumps into the parent.
// Otherwise the parent runs (or ran) elsewhere and may be waiting in the join or dropping
// the handle at this moment: one exchange settles who resumes or frees what, as for a
// spawned task's JoinHandle.
#include <tiny_coro/fork.h>

namespace tiny_coro::detail {

// A child whose handle was dropped (ForkHandle::let_go put it on its executor's orphan list,
// so that shutdown can free it if it never ends) has ended: nobody will look at it again.
void end_orphan(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  if (promise.exception_) report_unobserved_exception(promise.exception_);
  if (Executor* executor = promise.own_cancel_.executor()) executor->release_orphan(promise);
  self.destroy();
}

constinit thread_local ForkQueue tl_fork_queue;

std::coroutine_handle<> complete_fork(PromiseBase& promise, std::coroutine_handle<> self) noexcept {
  // The parent's continuation was taken from the queue: the parent runs (or ran) elsewhere.
  // acq_rel: release the result to the joining parent (its acquire on the word); acquire
  // its frame, or the last use of a dropped handle, before acting on it.
  const std::uintptr_t joiner =
      promise.join_state_.exchange(kJoinCompleted, std::memory_order_acq_rel);
  if (joiner == kJoinEmpty) return std::noop_coroutine();  // the parent joins later
  if (joiner == kJoinDetached) {
    end_orphan(promise, self);
    return std::noop_coroutine();
  }
  return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(joiner));
}

}  // namespace tiny_coro::detail
