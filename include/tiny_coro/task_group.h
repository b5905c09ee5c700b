// TaskGroup: a dynamic set of child tasks with one join (Tokio's JoinSet, Trio's nursery).
//
//   tiny_coro::TaskGroup group(sched);
//   for (auto& url : urls) group.spawn(fetch(url));
//   co_await group.join();  // every task has finished; rethrows the first failure
//
// spawn() starts a task at once on the group's scheduler. The first task to fail cancels the
// rest, and join() rethrows its exception once all have finished. cancel() (any thread)
// cancels every task of the group, and every task spawned into it afterwards; join() then
// returns normally once they have finished, as the cancellation was asked for. Cancelling
// the task that awaits join() cancels the group's tasks too; join() then throws TaskCancelled
// after they have finished.
//
// Join a group before it is destroyed: a group dropped unjoined cancels its tasks and lets
// them finish detached. join() may be awaited once; spawn() after it throws.
#pragma once

#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/child_set.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

class TaskGroup {
 public:
  explicit TaskGroup(Scheduler& scheduler) noexcept : executor_(detail::executor_of(scheduler)) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Any task or thread may spawn into the group (a server's accept loops, say).
  void spawn(Task<void> task) {
    const std::lock_guard guard(mutex_);
    if (joined_) throw std::logic_error("tiny_coro: TaskGroup::spawn after join");
    handles_.emplace_back();  // first: once spawned, the handle must find a place
    set_.expect(1);
    try {
      handles_.back() = set_.spawn(executor_, std::move(task));
    } catch (...) {
      handles_.pop_back();
      set_.unexpect(1);
      throw;
    }
    set_.publish();
  }

  // Any thread, any number of times.
  void cancel() noexcept { set_.cancel_all(); }

  // Tasks spawned so far (finished or not).
  std::size_t size() const {
    const std::lock_guard guard(mutex_);
    return handles_.size();
  }

  Task<void> join() {
    {
      const std::lock_guard guard(mutex_);
      if (joined_) throw std::logic_error("tiny_coro: TaskGroup::join awaited twice");
      joined_ = true;  // from here on the handles only change in this coroutine
    }
    co_await detail::ChildSetWait{set_};
    // Failures after the first, and the cancelled, are not reported as unobserved.
    for (auto& handle : handles_) handle.ignore_result();
    if (set_.first_failure()) std::rethrow_exception(set_.first_failure());
    if (set_.parent_cancelled()) detail::throw_task_cancelled();
  }

 private:
  detail::Executor& executor_;
  mutable std::mutex mutex_;              // spawn() against spawn() and join()
  std::deque<JoinHandle<void>> handles_;  // before the set: it must die first (child_set.h)
  detail::ChildSet set_{detail::ChildSet::Policy::kAll};
  bool joined_ = false;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::TaskGroup;
#endif
