#pragma once

#include <coroutine>
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
  // Starts an unstarted root task, as Scheduler::spawn does: how a combinator runs its
  // children on the scheduler of the task awaiting it. Throws if the executor cannot.
  virtual void submit(PromiseBase& promise, std::coroutine_handle<> handle) = 0;

 protected:
  ~Executor() = default;
};

}  // namespace tiny_coro::detail
