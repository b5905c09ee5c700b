#pragma once

#include <coroutine>
#include <cstdint>
#include <span>

namespace tiny_coro::detail {

class PromiseBase;

// What a waker (the reactor, a timer, a channel) needs from the runtime: put a suspended
// coroutine back on the run queues. The reactor knows nothing else of the scheduler.
class Executor {
 public:
  virtual void schedule(std::coroutine_handle<> ready) noexcept = 0;
  // One queue lock and at most one worker wake-up for the whole batch.
  virtual void schedule_batch(std::span<std::coroutine_handle<>> ready) noexcept = 0;
  // Yield: queue the current task behind the tasks already ready (what yield_now() does);
  // from a thread that is not a worker, the same as schedule().
  virtual void defer(std::coroutine_handle<> current) noexcept = 0;
  // Called by the reactor's unlock_driver() when somebody asked to drive it in the meantime
  // (Reactor::lock_driver_or_note) and went to sleep instead: wake a sleeper to take it
  // over. Only executors whose workers drive the reactor need it.
  virtual void driver_wanted() noexcept {}
  // Starts an unstarted root task, as Scheduler::spawn does: how a TaskGroup runs its
  // children on the scheduler of the task that owns it. Throws if the executor cannot.
  virtual void submit(PromiseBase& promise, std::coroutine_handle<> handle) = 0;
  // How a combinator's child is to start (start_child).
  enum class ChildStart : std::uint8_t {
    kHere,          // run at once on the calling worker, nested in the caller
    kFirstOfScope,  // the same, unless the worker's queue is empty: then queued, so that
                    // an idle worker may run it beside the ones started after it
    kQueued,        // queued where an idle worker can take it, as submit() does
  };
  // Starts a combinator's child (an unstarted root task) as `how` says, on the calling
  // thread if it is one of this executor's workers (elsewhere: submit()). Run here, the
  // child runs until it first suspends or ends, then this returns true: the child-first
  // order of Cilk and libfork, where a child that ends or suspends at once costs no queue
  // round trip. Throws as submit does, before anything runs.
  virtual bool start_child(PromiseBase& promise, std::coroutine_handle<> handle, ChildStart) {
    submit(promise, handle);
    return false;
  }

  // From the task awaiting `child`'s JoinHandle, on this executor's worker: if `child` waits
  // to run (unstarted, or woken) as the task this worker would run next of its own (its LIFO
  // slot or the newest in its queue), runs it here, nested, until it first suspends or ends, and
  // returns true if it ended. Else changes nothing and returns false. A spawned child joined on the
  // worker that spawned it, unstolen, then costs no suspension of the parent and no locked
  // operation on the join word (the help-first join of TBB, for one child).
  virtual bool join_here(PromiseBase& /*child*/, std::coroutine_handle<> /*handle*/) noexcept {
    return false;
  }

  // fork.h: a fork made this worker's stealable queue non-empty (detail/fork_queue.h); wake
  // a sleeper to steal from it, as any push there does.
  virtual void fork_continuation_queued() noexcept {}
  // True once shutdown has stopped every worker: suspended frames will never run again.
  virtual bool workers_stopped() const noexcept { return false; }
  // fork.h: a forked child whose handle was dropped before it ended (an orphan) is kept on a
  // list from adopt until its end releases it, so that shutdown frees it if it never ends.
  virtual void adopt_orphan(PromiseBase& /*child*/) noexcept {}
  virtual void release_orphan(PromiseBase& /*child*/) noexcept {}

 protected:
  ~Executor() = default;
};

}  // namespace tiny_coro::detail
