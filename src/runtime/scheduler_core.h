// The scheduler's shared state: workers, the global queue, the idle throttle, the tables of
// live tasks and the reactor. Scheduler (the public class) is a handle to one of these.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <tiny_coro/detail/cache_padded.h>
#include <tiny_coro/detail/executor.h>
#include <tiny_coro/global_queue.h>
#include <tiny_coro/metrics.h>
#include <tiny_coro/reactor.h>

#include "runtime/blocking_pool.h"
#include "runtime/idle.h"
#include "runtime/worker.h"
#include "task/task_slots.h"

namespace tiny_coro::detail {

class SchedulerCore final : public Executor {
 public:
  SchedulerCore(std::size_t workers, NowFunction clock);
  ~SchedulerCore();

  void submit(PromiseBase& promise, std::coroutine_handle<> handle) override;
  bool start_child(PromiseBase& promise, std::coroutine_handle<> handle, ChildStart how) override;
  bool join_here(PromiseBase& child, std::coroutine_handle<> handle) noexcept override;
  void fork_continuation_queued() noexcept override { notify_parked(); }
  bool workers_stopped() const noexcept override {
    return workers_stopped_.load(std::memory_order_acquire);  // pairs with shutdown's store
  }
  void adopt_orphan(PromiseBase& child) noexcept override;
  void release_orphan(PromiseBase& child) noexcept override;
  void schedule(std::coroutine_handle<> ready) noexcept override;
  void schedule_batch(std::span<std::coroutine_handle<>> ready) noexcept override;
  void defer(std::coroutine_handle<> current) noexcept override;
  void driver_wanted() noexcept override { notify_parked(); }
  // Any thread: the counters summed, the gauges read now (include/tiny_coro/metrics.h).
  RuntimeMetrics metrics() const;
  // Any thread, a worker too: every live task and where it waits (task_dump.cpp).
  std::string dump_tasks();

  // The dump's pause (Worker::safepoint). Workers check the request between tasks.
  bool pause_requested() const noexcept {
    return pause_requested_->load(std::memory_order_relaxed);  // relaxed: re-read seq_cst
  }
  bool pause_requested_now() const noexcept {
    return pause_requested_->load(std::memory_order_seq_cst);
  }
  void wait_while_paused();
  // A worker went to sleep or exited: a dump waiting for it may go on.
  void worker_stopped_running();
  void shutdown() noexcept;

  // Wakes one parked worker if work is waiting and nobody is searching for it.
  void notify_parked() noexcept;
  // Racy check for any queued work anywhere (a parking worker's last look).
  bool approx_has_work() const noexcept;

  bool stopping() const noexcept { return stopping_->load(std::memory_order_relaxed); }
  std::size_t worker_count() const noexcept { return workers_.size(); }
  Worker& worker(std::size_t index) noexcept { return *workers_[index]; }
  GlobalQueue<void*>& global_queue() noexcept { return global_; }
  Idle& idle() noexcept { return idle_; }
  Reactor& reactor() noexcept { return reactor_; }
  BlockingPool& blocking_pool() noexcept { return blocking_pool_; }

  // The worker running on the calling thread if it belongs to this scheduler, else nullptr.
  Worker* current_worker() const noexcept {
    Worker* worker = Worker::current();
    return worker != nullptr && &worker->core() == this ? worker : nullptr;
  }

  // Memory given back after a burst (src/runtime/memory_release.cpp). A worker about to go
  // idle asks whether a release is due (`idle`: every worker is asleep); if so it sleeps at
  // most kIdleBeforeRelease and, if nobody woke it, calls release_memory_if_idle().
  static constexpr std::chrono::seconds kIdleBeforeRelease{1};
  bool memory_release_due(Worker& worker, bool idle) noexcept;
  void release_memory_if_idle(Worker& worker) noexcept;
  // How many times memory has been given back so far.
  std::uint32_t memory_releases() const noexcept {
    return memory_releases_.load(std::memory_order_relaxed);  // relaxed: a statistic
  }

 private:
  GlobalQueue<void*> global_;
  Idle idle_;
  TaskSlots outside_tasks_;         // tasks spawned by non-worker threads ...
  std::mutex outside_tasks_mutex_;  // ... whose table this lock makes single-owner
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  Reactor reactor_;
  BlockingPool blocking_pool_;
  // relaxed loads in the hot loop; the store is followed by unparks, which synchronise.
  // Padded: every worker reads it once per task, so no written field may share its line.
  CachePadded<std::atomic<bool>> stopping_{false};
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  std::atomic<bool> workers_stopped_{false};  // every worker thread has been joined
  // Forked children whose handles were dropped before they ended (fork.h).
  std::mutex orphans_mutex_;
  std::unordered_set<PromiseBase*> orphans_;
  // memory_release.cpp: frame bytes released when memory was last given back, and how many
  // times it was (each worker trims its own task table when it sees a new count).
  std::atomic<std::size_t> released_at_last_trim_{0};
  std::atomic<std::uint32_t> memory_releases_{0};
  // Asks every worker but `self` to stop at its safe point (or stay asleep) and waits for
  // them, at most `patience`; false, with nobody paused, if one keeps running a task.
  bool pause_workers(const Worker* self, std::chrono::milliseconds patience,
                     std::vector<std::size_t>& busy);
  void resume_workers();

  CachePadded<std::atomic<bool>> pause_requested_{false};
  std::mutex pause_mutex_;
  std::condition_variable pause_ended_;
  std::condition_variable worker_paused_;  // a worker reached its safe point
  std::mutex dump_mutex_;  // one dump at a time; shutdown destroys no frame during one
  // Spawns from threads that are not workers (relaxed: a statistic; metrics()).
  std::atomic<std::uint64_t> spawned_outside_{0};
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace tiny_coro::detail
