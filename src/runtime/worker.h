#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include <tiny_coro/parker.h>
#include <tiny_coro/steal_queue.h>

#include "runtime/worker_counters.h"
#include "task/task_slots.h"

namespace tiny_coro::detail {

class SchedulerCore;

class Worker {
 public:
  Worker(SchedulerCore& core, std::size_t index);

  // The thread body: runs tasks until the scheduler stops.
  void run();

  // Called on this worker's own thread only.
  void schedule_local(std::coroutine_handle<> ready) noexcept;
  void defer(std::coroutine_handle<> yielded) noexcept;

  // Any thread.
  Stolen<void*> steal() noexcept { return queue_.steal(); }
  bool approx_has_work() const noexcept { return !queue_.approx_empty(); }
  void unpark() noexcept { parker_.unpark(); }
  // Any thread: this worker's statistics, and how many tasks wait in its stealable queue.
  const WorkerCounters& counters() const noexcept { return counters_; }
  std::size_t approx_queue_depth() const noexcept { return queue_.approx_size(); }
  // This thread: a task was spawned here (counted for RuntimeMetrics).
  void note_spawned() noexcept { ++tallies_.tasks_spawned; }
  // This thread: queues `task` in the stealable queue (not the LIFO slot) and wakes a
  // sleeper if the queue was empty.
  void schedule_stealable(std::coroutine_handle<> task) noexcept { push_stealable(task.address()); }
  // This thread, inside a task: runs `task` (an unstarted root task) here, nested, until it
  // suspends or ends, as if this loop had taken it from the queue.
  void run_nested(std::coroutine_handle<> task) {
    ++tallies_.nested_runs;
    ++nesting_;
    const void* outer = std::exchange(running_frame_, task.address());
    task.resume();
    running_frame_ = outer;
    --nesting_;
  }
  // This thread: takes `task` off this worker's queues if it is the one they would run next
  // (the LIFO slot, or the newest in the stealable queue), so that the caller runs it.
  bool take_back(void* task) noexcept {
    if (lifo_slot_ == task) {
      lifo_slot_ = nullptr;
      return true;
    }
    return queue_.pop_if_newest(task);
  }
  // This thread, inside a task: whether the loop's fairness turn is due at its next task;
  // if not, a task may run nested (join_here), and counts as one of the loop's ticks
  // (count_nested_tick), so that a task joining child after child cannot hold the turn off.
  bool fairness_turn_due() const noexcept { return (tick_ + 1) % kFairnessTicks == 0; }
  void count_nested_tick() noexcept { ++tick_; }
  // This thread: how many run_nested() calls are on its stack now.
  std::uint32_t nesting() const noexcept { return nesting_; }
  // This thread: the steady clock as of this worker's last fairness tick or wake-up (a
  // spawned task's start, for its age in dumps; no clock read per spawn).
  std::int64_t coarse_now_ns() const noexcept { return coarse_now_ns_; }

  // The task dump's safe point (SchedulerCore::pause_workers): where a worker is between
  // tasks, so that no frame it could touch changes. seq_cst transitions, paired with the
  // pause request's seq_cst store and load (a Dekker pair: a worker that wakes either sees
  // the request or is seen running).
  enum class RunState : std::uint8_t { kRunning, kParked, kPaused, kExited };
  RunState run_state() const noexcept { return run_state_.load(std::memory_order_seq_cst); }
  // While this worker is paused, parked or exited: what it has queued (for "ready"), and the
  // frame it last resumed.
  template <class Visit>
  void for_each_queued_while_paused(Visit&& visit) const {
    if (lifo_slot_ != nullptr) visit(lifo_slot_);
    queue_.for_each_while_quiescent(visit);
    for (void* yielded : deferred_) visit(yielded);
    for (auto handle : polled_) visit(handle.address());
  }
  const void* running_frame() const noexcept { return running_frame_; }
  // This thread, inside a task: stops here while another thread's dump wants it still (a
  // task that waits for the dump lock must not hold that dump up).
  void pause_if_requested() { safepoint(); }
  SchedulerCore& core() const noexcept { return core_; }
  // Tasks spawned on this worker's thread (owner-only table, see task/task_slots.h).
  TaskSlots& spawned_tasks() noexcept { return spawned_tasks_; }
  const TaskSlots& spawned_tasks() const noexcept { return spawned_tasks_; }
  // This thread: trims the task table if the core gave memory back since it last did.
  void trim_after_release(std::uint32_t releases) noexcept;

  // After the thread has exited: forgets every queued handle (their frames belong to the
  // tasks in the TaskSlots tables, which shutdown destroys).
  void discard_queued() noexcept;

  // The worker running on the calling thread, of whichever scheduler; null off the workers.
  static Worker* current() noexcept { return current_; }
  // This thread: the task being run has just handed a call to the blocking pool and waits
  // for it (BlockingWait); see wait_for_short_call.
  void note_task_awaits_blocking_call() noexcept { last_task_awaits_blocking_call_ = true; }

  // Every this many tasks the loop serves the reactor, the global queue and yielded tasks
  // before its own queue (next_local). Prime, as Go's 61: a fixed task pattern is unlikely
  // to stay in phase with it.
  static constexpr std::uint32_t kFairnessTicks = 61;

 private:
  std::coroutine_handle<> next_local();
  std::coroutine_handle<> search();
  std::coroutine_handle<> wait_for_short_call();
  std::coroutine_handle<> take_from_global();
  std::coroutine_handle<> steal_from_others();
  void end_search() noexcept;
  void park();
  void park_without_accounting();
  // Copies the owner-only tallies into counters_; `ticks_in_progress`: loop turns begun (in
  // tick_) whose outcome is not counted yet.
  void publish_counters(std::uint32_t ticks_in_progress = 0) noexcept;
  void end_busy_spell() noexcept;
  // Parks inside the reactor's poll (this worker holds the driver). False if the reactor
  // woke us with work or on its own; true if a waker unparked us.
  bool park_driving_reactor(bool release_due);
  // park() for the worker that holds the reactor's driver lock: sleeps in its poll.
  void drive_while_parked(bool release_due);
  // Runs the reactor once without blocking, if it may have something and nobody drives it.
  void poll_reactor_now();
  // Out of local work: ready I/O, if the reactor is free to poll at once (none waiting).
  std::coroutine_handle<> poll_ready_io();
  // Queues what the reactor handed us; returns how many.
  std::size_t take_polled() noexcept;
  void spill_oldest() noexcept;
  void push_stealable(void* task) noexcept;
  void safepoint();
  void leave_parked();

  // constinit (worker.cpp): read inline on every spawn and wake, without a TLS wrapper call.
  static constinit thread_local Worker* current_;

  SchedulerCore& core_;
  const std::size_t index_;
  StealQueue<void*> queue_;
  Parker parker_;
  TaskSlots spawned_tasks_;
  WorkerCounters counters_;
  // Owner-only per-task counts, published to counters_ by publish_counters().
  struct HotTallies {
    std::uint64_t lifo_slot_hits = 0;
    std::uint64_t tasks_spawned = 0;
    // Tasks run = loop turns (tick_) that found a task locally, plus those found by the
    // slow paths: counted from tick_ so that the hot loop pays nothing for it.
    std::uint64_t ticks = 0;            // tick_, widened at each publish
    std::uint32_t ticks_published = 0;  // tick_ at the last publish
    std::uint64_t empty_ticks = 0;      // turns whose next_local() found nothing
    std::uint64_t found_elsewhere = 0;  // tasks from ready I/O, the global queue or a steal
    std::uint64_t nested_runs = 0;      // tasks started inside another (run_nested)
  } tallies_;
  // Owner-only state.
  void* lifo_slot_ = nullptr;   // the task woken or spawned last: runs next, not stealable
  std::deque<void*> deferred_;  // yielded tasks, oldest first
  std::vector<std::coroutine_handle<>> polled_;  // what the reactor handed us, reused
  std::uint32_t tick_ = 0;
  std::int64_t coarse_now_ns_ = 0;
  const void* running_frame_ = nullptr;          // the handle the loop resumed last
  std::uint32_t nesting_ = 0;                    // run_nested() calls on this thread's stack
  bool last_task_awaits_blocking_call_ = false;  // reset as each task is resumed
  std::atomic<RunState> run_state_{RunState::kRunning};
  std::uint32_t rng_;
  std::uint32_t memory_releases_seen_ = 0;  // the core's count when this table was last trimmed
  bool searching_ = false;
};

}  // namespace tiny_coro::detail
