// The worker loop and its part of the wake protocol.
//
// Loop (run), one task per turn, each step tried only if the ones before found nothing:
//   1. next_local(): our own work, in the order below.
//   2. poll_ready_io(): a batch from the global queue, then a reactor poll that does not
//      block, whose ready tasks we queue on ourselves. Before stealing, as Go's findrunnable:
//      on a busy server the next work is usually a socket that became ready.
//   3. search(): a batch from the global queue, then one task stolen from each other worker
//      in turn, starting at a random victim; a few hundred rounds of that before giving up.
//   4. Run what was found, with a fresh coop budget; or, with nothing, park(): inside the
//      reactor's poll if we get its driver lock, else on our Parker until a waker hands us
//      a token.
// Where next_local() looks:
//   a. Every kFairnessTicks ticks, first a reactor poll that does not block (busy workers
//      must still see I/O and timers), then the global queue, the oldest yielded task and the
//      bottom of our own queue ahead of the LIFO slot: none of them can starve behind a
//      worker whose LIFO slot keeps refilling (Go checks its global queue every 61 ticks).
//      Not our queue's top: in a fork-join tree the oldest task is the largest pending
//      subtree, and starting one every 61 ticks unfolded skynet breadth first (3 million
//      live frames, 0.9 GB). The top waits for a thief or for the work below it, as in every
//      work-first runtime.
//   b. The LIFO slot: the task spawned or woken last, whose data is hot in this cache.
//      (A task it displaces goes to our queue; a queue that reaches 256 first moves its
//      oldest 128 to the global queue in one piece.)
//   c. Our queue's bottom (LIFO, depth-first: a fork-join tree stays small).
//   d. Yielded tasks, moved into our queue oldest-first (so they run behind what was ready,
//      and become stealable).
// A task may also run nested inside the one the loop resumed: a combinator starts its
// children child-first (run_nested, via SchedulerCore::start_child), and a task awaiting
// the JoinHandle of the task this loop would run next takes it back and runs it
// (SchedulerCore::join_here). They count as tasks run all the same. A combinator's burst
// has no safepoint or tick between its children; a join takes a tick, and is declined when
// the fairness turn is due or a dump waits, so a task that spawns and joins in a loop
// still lets the loop take its turns.
// Wake protocol: see runtime/idle.h. A worker that finds work while searching stops
// searching, and if it was the last searcher it wakes a sleeper, which then searches in turn.
// Shutdown: the scheduler sets stopping_ and unparks everyone; the loop checks it once per
// task and after every park, and returns without running what is still queued.
//
// Parking: the first worker to run out of work parks inside the reactor's poll (it holds
// the driver lock; unpark() rings the reactor's doorbell); the others on their condvars,
// without a timeout: whoever gives up the reactor wakes one of them to take it over. The
// one exception: the last worker to fall asleep after a burst that left memory behind sleeps
// at most a second, then gives it back if nobody woke it (memory_release.cpp).
// Measured against the manual's reactor thread in docs/ARCHITECTURE.md ("Reactor").
//
// Rejected:
//  * Tokio's steal-half. Chase–Lev has no safe multi-item steal against an owner that pops
//    the same end concurrently, so half would be taken one CAS at a time; measured on
//    spawn_many that was slower (about 150 vs 105 ns per task) than stealing one task and
//    letting a producer spill batches to the global queue (spill_oldest).
//  * Capping LIFO-slot runs at 3 as Tokio does: its queue is FIFO, ours pops LIFO anyway;
//    the fairness tick bounds what a busy LIFO slot can delay.
//  * Bounding how long our queue's oldest task waits (run it on the fairness tick once it has
//    been the oldest for 10 ms). Each such detour into a big subtree left the path it came
//    from pending; after a few the queue passed 256 and spilled its oldest subtrees to the
//    global queue, which the fairness tick serves every 61 ticks: skynet was breadth first
//    again (957 MB).
#include "runtime/worker.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <span>

#include <tiny_coro/detail/atomic.h>
#include <tiny_coro/detail/coop.h>
#include <tiny_coro/detail/fork_queue.h>
#include <tiny_coro/detail/job_frames.h>
#include <tiny_coro/spinlock.h>

#include <thread>

#include "runtime/scheduler_core.h"

namespace tiny_coro::detail {
namespace {

// Local queue length at which its oldest half spills to the global queue (Tokio: a 256-slot
// ring that overflows half of itself). Tuned on bench/runtime_bench spawn_many, the workload
// where one worker produces for the others: spilling roughly halved its time per task when
// the two cores were far apart (see docs/BENCHMARKS.md for the current figures).
constexpr std::size_t kLocalQueueSoftLimit = 256;
constexpr std::size_t kSpillBatch = kLocalQueueSoftLimit / 2;
// Upper bound on one global-queue batch (half a default StealQueue ring).
constexpr std::size_t kMaxGlobalBatch = 128;
// A lost steal race is retried this often per victim before moving on.
constexpr int kStealRetries = 4;
// Rounds a searcher scans all queues before it parks (10-20 us; only half the workers may
// search, so at most that much CPU is burnt per idle spell). Parking and being woken cost a
// futex syscall each, and a spawner that hands over a batch of 128 every few microseconds
// would otherwise find its thief asleep each time (Go's spinning Ms make the same bet).
// bench/runtime_bench spawn_many: 64 rounds 158 ns/task, 256 rounds 85 ns/task with the
// cores far apart; no change with them close.
constexpr int kSearchRounds = 256;

std::coroutine_handle<> as_handle(void* address) noexcept {
  return std::coroutine_handle<>::from_address(address);
}

}  // namespace

Worker::Worker(SchedulerCore& core, std::size_t index)
    : core_(core), index_(index), rng_(static_cast<std::uint32_t>(index * 2654435761u + 1)) {}

constinit thread_local Worker* Worker::current_ = nullptr;

void Worker::schedule_local(std::coroutine_handle<> ready) noexcept {
  void* displaced = std::exchange(lifo_slot_, ready.address());
  if (displaced != nullptr) push_stealable(displaced);
}

void Worker::push_stealable(void* task) noexcept {
  if (queue_.approx_size() >= kLocalQueueSoftLimit) spill_oldest();
  queue_.push(task);
  // The displaced task is stealable now. Only the push that makes the queue non-empty runs
  // the wake protocol: while it stays non-empty, the earlier push already woke a searcher (or
  // everyone was busy, and a worker that goes idle searches before it parks). A stale size
  // costs at most a missed wake-up, never a task: this worker runs its own queue anyway.
  if (queue_.approx_size() == 1) core_.notify_parked();
}

void Worker::spill_oldest() noexcept {
  // A long queue means we produce faster than thieves take one task at a time. Move the
  // oldest half to the global queue in one piece (one CAS, one lock), where an idle worker
  // takes a batch per visit instead of paying a steal per task (Tokio's push_overflow).
  std::array<void*, kSpillBatch> batch;
  if (queue_.take_oldest(std::span<void*>(batch), 0) == 0) return;  // thieves got there first
  counters_.spills.bump();
  core_.global_queue().push_batch(std::span<void*>(batch));
  core_.notify_parked();
}

void Worker::defer(std::coroutine_handle<> yielded) noexcept {
  deferred_.push_back(yielded.address());
}

void Worker::run() {
  current_ = this;
  tl_fork_queue = ForkQueue{&queue_, &core_};
  EbrManager::get().register_thread();
  coarse_now_ns_ = steady_ns();
  counters_.awake_since_ns.store(coarse_now_ns_,
                                 std::memory_order_relaxed);  // relaxed: a statistic
  while (!core_.stopping()) {
    if (core_.pause_requested()) safepoint();  // a task dump wants every worker still
    std::coroutine_handle<> task = next_local();
    if (task && searching_) {
      end_search();  // woken as a searcher, but found work before searching: stop counting
    } else if (!task) {
      ++tallies_.empty_ticks;
      task = poll_ready_io();
      if (task && searching_) end_search();  // woken as a searcher: found work, stop counting
      if (!task) task = search();
      if (task) ++tallies_.found_elsewhere;
    }
    if (task) {
      reset_coop_budget();
      running_frame_ = task.address();
      last_task_awaits_blocking_call_ = false;
      task.resume();
    } else {
      park();
    }
  }
  publish_counters();
  tl_fork_queue = ForkQueue{};
  run_state_.store(RunState::kExited, std::memory_order_seq_cst);
  core_.worker_stopped_running();
  current_ = nullptr;
}

void Worker::safepoint() {
  while (core_.pause_requested_now()) {
    run_state_.store(RunState::kPaused, std::memory_order_seq_cst);
    core_.wait_while_paused();
    run_state_.store(RunState::kRunning, std::memory_order_seq_cst);
  }
}

void Worker::leave_parked() {
  run_state_.store(RunState::kRunning, std::memory_order_seq_cst);
  coarse_now_ns_ = steady_ns();
  // seq_cst, after our store: a dump that saw us parked has its request seen here.
  if (core_.pause_requested_now()) safepoint();
}

std::coroutine_handle<> Worker::next_local() {
  if (++tick_ % kFairnessTicks == 0) {
    publish_counters(/*ticks_in_progress=*/1);
    // A fork-join tree's take-backs put the queue back in light mode at once; a queue that
    // stopped forking must not keep costing thieves a heavy fence (steal_queue.h).
    queue_.leave_light_mode();
    trim_job_frames(kJobFramesKept);  // the Job frame lists' bound (detail/job_frames.h)
    // Busy workers must still see I/O and timers now and then (Tokio's event interval).
    poll_reactor_now();
    if (auto global = core_.global_queue().try_pop()) return as_handle(*global);
    if (!deferred_.empty()) {
      void* yielded = deferred_.front();
      deferred_.pop_front();
      return as_handle(yielded);
    }
    // The LIFO slot waits one turn, so the queue gets one even if the slot keeps refilling.
    if (auto mine = queue_.pop()) return as_handle(*mine);
  }
  if (lifo_slot_ != nullptr) {
    ++tallies_.lifo_slot_hits;
    return as_handle(std::exchange(lifo_slot_, nullptr));
  }
  if (auto mine = queue_.pop()) return as_handle(*mine);
  if (!deferred_.empty()) {
    // Pushed newest first, so that our LIFO pops hand them back oldest first.
    for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it) queue_.push(*it);
    const bool several = deferred_.size() > 1;
    deferred_.clear();
    if (several) core_.notify_parked();
    if (auto mine = queue_.pop()) return as_handle(*mine);
  }
  return {};
}

std::coroutine_handle<> Worker::search() {
  if (!searching_) {
    if (!core_.idle().try_begin_search()) return {};
    searching_ = true;
  }
  // Alone, there is nobody to steal from: one look at the global queue, then park (in the
  // reactor, where a spawn from another thread wakes us). Spinning found nothing there and
  // cost a one-worker HTTP server 2.5% of its CPU.
  const int rounds = core_.worker_count() > 1 ? kSearchRounds : 1;
  for (int round = 0; round < rounds && !core_.stopping(); ++round) {
    std::coroutine_handle<> found = take_from_global();
    if (!found) found = steal_from_others();
    if (found) {
      end_search();
      return found;
    }
    cpu_relax();
  }
  return wait_for_short_call();
}

// The task this worker ran last is waiting for a blocking call, and calls lately took well
// under a millisecond (a loop of file writes, each awaited in turn): the task will be queued
// again in a moment, and parking now would cost a wake-up on its return — on a VM, a halted
// vCPU's, tens of microseconds per call (docs/BENCHMARKS.md, "Blocking pool and files"). So
// the worker keeps looking that long. Only then: a worker whose last task waits for a socket,
// or handed over a write-behind call (FileWriter's), parks as before and leaves the CPU to
// the threads doing the work. Only searchers wait (at most half the workers), and never past
// kLongestWaitedCall.
std::coroutine_handle<> Worker::wait_for_short_call() {
  if (!last_task_awaits_blocking_call_) return {};
  last_task_awaits_blocking_call_ = false;  // one wait per call: woken later, it parks
  BlockingPool& pool = core_.blocking_pool();
  const std::chrono::nanoseconds wait = pool.short_call_wait();
  if (wait.count() == 0) return {};
  const std::int64_t give_up = steady_ns() + wait.count();
  while (pool.calls_running() && !core_.stopping() && steady_ns() < give_up) {
    std::coroutine_handle<> found = take_from_global();
    if (!found) found = steal_from_others();
    if (found) {
      end_search();
      return found;
    }
    // Yielding, not spinning: a thread that wants this core (the call's own pool thread on
    // a busy machine, another process) gets it.
    std::this_thread::yield();
  }
  // The call that ended queued its waiter before it stopped counting as running: one more
  // look. (Should it not show yet, parking's re-check finds it, as it finds any work.)
  if (std::coroutine_handle<> found = take_from_global()) {
    end_search();
    return found;
  }
  return {};
}

void Worker::end_search() noexcept {
  searching_ = false;
  // The last searcher to find work hands the baton on: someone keeps looking for the rest.
  if (core_.idle().end_search()) core_.notify_parked();
}

std::coroutine_handle<> Worker::take_from_global() {
  GlobalQueue<void*>& global = core_.global_queue();
  if (global.approx_empty()) return {};
  const std::size_t share = global.approx_size() / core_.worker_count() + 1;
  void* first = nullptr;
  const std::size_t taken =
      global.pop_batch(share < kMaxGlobalBatch ? share : kMaxGlobalBatch, [&](void* item) {
        if (first == nullptr) {
          first = item;
        } else {
          queue_.push(item);
        }
      });
  if (taken > 0) counters_.global_batches.bump();
  return first != nullptr ? as_handle(first) : std::coroutine_handle<>{};
}

std::coroutine_handle<> Worker::steal_from_others() {
  const std::size_t count = core_.worker_count();
  rng_ = rng_ * 1664525u + 1013904223u;  // LCG: victims in a different order each search
  const std::size_t start = rng_ % count;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t victim = (start + i) % count;
    if (victim == index_) continue;
    for (int attempt = 0; attempt < kStealRetries; ++attempt) {
      counters_.steal_attempts.bump();
      Stolen<void*> stolen = core_.worker(victim).steal();
      if (stolen.status == StealStatus::kSuccess) {
        counters_.steals.bump();
        return as_handle(stolen.value);
      }
      if (stolen.status == StealStatus::kEmpty) break;
    }
  }
  return {};
}

void Worker::park() {
  end_busy_spell();
  // From here until leave_parked() this worker touches no task frame and no queue a dump
  // reads, except what the reactor's callbacks queue (a dump does not read a parked
  // worker's queues).
  run_state_.store(RunState::kParked, std::memory_order_seq_cst);
  core_.worker_stopped_running();
  park_without_accounting();
  if (run_state_.load(std::memory_order_relaxed) == RunState::kParked) leave_parked();
  // relaxed: a statistic (worker_counters.h).
  counters_.awake_since_ns.store(coarse_now_ns_, std::memory_order_relaxed);
}

void Worker::publish_counters(std::uint32_t ticks_in_progress) noexcept {
  coarse_now_ns_ = steady_ns();
  // Only finished turns: one still in progress may yet find nothing (an empty tick).
  const std::uint32_t finished = tick_ - ticks_in_progress;
  tallies_.ticks += finished - tallies_.ticks_published;  // unsigned: right across a wrap
  tallies_.ticks_published = finished;
  counters_.tasks_run.set(tallies_.ticks - tallies_.empty_ticks + tallies_.found_elsewhere +
                          tallies_.nested_runs);
  counters_.lifo_slot_hits.set(tallies_.lifo_slot_hits);
  counters_.tasks_spawned.set(tallies_.tasks_spawned);
}

void Worker::end_busy_spell() noexcept {
  publish_counters();
  counters_.parks.bump();
  // relaxed: our own store.
  const std::int64_t since = counters_.awake_since_ns.load(std::memory_order_relaxed);
  // publish_counters() just read the clock into coarse_now_ns_.
  if (since >= 0) counters_.busy_ns.bump(static_cast<std::uint64_t>(coarse_now_ns_ - since));
  // release: pairs with metrics()' acquire load; whoever sees us asleep sees every count.
  counters_.awake_since_ns.store(-1, std::memory_order_release);
}

void Worker::park_without_accounting() {
  const bool last_searcher = core_.idle().transition_to_parked(index_, searching_);
  searching_ = false;
  // The last searcher re-checks after its decrement, so work published by a waker that saw
  // it still searching (and therefore woke nobody) is not stranded.
  fence_seq_cst();
  if (last_searcher && core_.approx_has_work()) core_.notify_parked();
  // The last worker to fall asleep after a burst sleeps at most a second, then gives back
  // what the burst left if the scheduler is still idle (memory_release.cpp).
  const bool release_due = core_.memory_release_due(*this, core_.idle().all_parked());
  Reactor& reactor = core_.reactor();
  if (!core_.stopping()) {
    if (reactor.try_lock_driver()) {
      drive_while_parked(release_due);
      return;
    }
    // Someone else holds the reactor. If it has timers or sockets to watch, leave a note:
    // the holder's unlock_driver() then wakes a sleeper to take it over (the scheduler's
    // hook, SchedulerCore), so we may sleep without a timeout. The reactor is never left
    // unwatched, and an idle server's workers stay asleep.
    if (reactor.has_interest() && reactor.lock_driver_or_note()) {
      drive_while_parked(release_due);
      return;
    }
    if (!release_due) {
      parker_.park();
    } else if (!parker_.park_for(SchedulerCore::kIdleBeforeRelease)) {
      core_.release_memory_if_idle(*this);  // nobody woke us for a second
      parker_.park();
    }
    counters_.unparks.bump();  // every way out above is a waker's unpark()
  }
  // A waker took us off the sleepers and counted us as searching.
  searching_ = !core_.stopping();
}

void Worker::drive_while_parked(bool release_due) {
  Reactor& reactor = core_.reactor();
  const bool unparked = park_driving_reactor(release_due);
  reactor.unlock_driver();
  leave_parked();                 // before queueing what the reactor gave us
  bool counted_searching = true;  // what a waker does when it unparks us
  // Woken by the reactor rather than by a waker: nobody took us off the sleepers, so we
  // do it ourselves — as a worker with work in hand, not a searcher, so that take_polled()
  // may wake a helper for the rest of the batch.
  if (!unparked) {
    if (core_.idle().unpark_self(index_)) {
      counted_searching = false;
    } else {
      // A waker took us off the sleepers (counting us as searching) but its unpark() has
      // not landed yet. Wait for that token now: left for a later park, it would wake us
      // while we are counted asleep and corrupt the idle counts.
      parker_.park();
    }
  }
  if (counted_searching) counters_.unparks.bump();  // a waker's unpark() ended the sleep
  searching_ = counted_searching && !core_.stopping();
  // We stop watching the reactor to run what it gave us: if others sleep, one takes over
  // (more than one task: take_polled() woke a helper already).
  if (take_polled() <= 1) core_.notify_parked();
}

namespace {
void interrupt_poll(void* reactor) noexcept { static_cast<Reactor*>(reactor)->wake(); }
}  // namespace

bool Worker::park_driving_reactor(bool release_due) {
  Reactor& reactor = core_.reactor();
  // Real time, not the reactor's clock: a test's manual clock must not hold the release off.
  const auto release_at = std::chrono::steady_clock::now() + SchedulerCore::kIdleBeforeRelease;
  for (;;) {
    std::chrono::nanoseconds max_wait(-1);
    if (release_due) {
      max_wait =
          std::max(std::chrono::nanoseconds(0), release_at - std::chrono::steady_clock::now());
    }
    const bool unparked =
        parker_.park_driving([&] { reactor.poll(max_wait, polled_); }, &interrupt_poll, &reactor);
    // A round that produced nothing (a doorbell for an earlier timer, a stale event): keep
    // sleeping in the reactor.
    if (unparked || !polled_.empty() || core_.stopping()) return unparked;
    if (release_due && std::chrono::steady_clock::now() >= release_at) {
      core_.release_memory_if_idle(*this);  // nobody woke us for a second
      release_due = false;
    }
  }
}

void Worker::poll_reactor_now() {
  Reactor& reactor = core_.reactor();
  if (!reactor.has_interest() || !reactor.try_lock_driver()) return;
  reactor.poll(std::chrono::nanoseconds(0), polled_);
  reactor.unlock_driver();
  // Nobody was blocked in the reactor (we got it), yet workers may be asleep: wake one, which
  // finds nothing to do and parks in the reactor, so that I/O and timers are watched again
  // while we stay busy.
  if (take_polled() <= 1) core_.notify_parked();  // more than one: take_polled() did it
}

// Go's findrunnable looks at the global queue, then polls the network, before it steals: on
// a busy server the next work is usually a socket that became ready, and reaching it
// through search() -> park() -> the reactor costs a spin of kSearchRounds and two
// idle-state transitions per round of events. Measured: ~12% more requests/s on one worker
// (HTTP plaintext, docs/BENCHMARKS.md).
std::coroutine_handle<> Worker::poll_ready_io() {
  if (auto global = take_from_global()) return global;
  Reactor& reactor = core_.reactor();
  if (!reactor.has_interest() || !reactor.try_lock_driver()) return {};
  reactor.poll(std::chrono::nanoseconds(0), polled_);
  reactor.unlock_driver();  // wakes a sleeper if one wanted the reactor meanwhile
  if (polled_.empty()) return {};
  // As in poll_reactor_now: we leave the reactor unwatched while we run what it gave us.
  if (take_polled() <= 1) core_.notify_parked();
  return next_local();
}

std::size_t Worker::take_polled() noexcept {
  const std::size_t count = polled_.size();
  if (count == 0) return 0;
  // Newest first, so that our LIFO pops run them in the order their events came.
  for (auto it = polled_.rbegin(); it != polled_.rend(); ++it) queue_.push(it->address());
  // More than we can start at once: let a sleeping worker steal some.
  if (count > 1) core_.notify_parked();
  polled_.clear();
  return count;
}

void Worker::discard_queued() noexcept {
  lifo_slot_ = nullptr;
  deferred_.clear();
  while (queue_.pop()) {
  }
}

std::coroutine_handle<> queue_fork_continuation_slow(void* parent, std::coroutine_handle<> child) {
  ForkQueue& local = tl_fork_queue;
  // Only the push that makes the queue non-empty wakes a sleeper: later ones find one awake.
  if (local.queue->push(parent) == 1) local.executor->fork_continuation_queued();
  return child;
}

}  // namespace tiny_coro::detail
