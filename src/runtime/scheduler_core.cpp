// Scheduler construction, task submission, waking, and the shutdown order:
//   1. stopping_ = true, then every worker is unparked; workers leave their loop after the
//      task they are running (no task is resumed after this point).
//   2. Worker threads are joined (they unregister from EBR as they exit).
//   2b. The blocking pool stops: queued calls never run, running ones are waited for (their
//      completions are queued, and forgotten in step 5).
//   3. The reactor is stopped (a no-op: idle workers drove it, and they are joined): no
//      timer or fd event can schedule anything any more.
//   4. Every task still in a TaskSlots table (spawned, unfinished) is cancelled: its JoinHandle
//      will report TaskCancelled, and its frame — with the frames it was awaiting — is
//      destroyed now if its handle was dropped, else by the handle's owner (if that owner is
//      itself a suspended frame, it is destroyed in this same step).
//   5. Queued handles are forgotten; they pointed into frames destroyed in step 4.
#include "runtime/scheduler_core.h"

#include <tiny_coro/detail/atomic.h>

#include "platform/signal_mask.h"
#include "runtime/worker.h"
#include "task/root_completion.h"

namespace tiny_coro::detail {

SchedulerCore::SchedulerCore(std::size_t workers, NowFunction clock)
    : idle_(workers), reactor_(*this, clock) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
  // No reactor thread: idle workers drive the reactor (Worker::park).
  threads_.reserve(workers);
  const AsyncSignalsBlocked blocked;  // from birth (platform/signal_mask.h)
  for (auto& worker : workers_) threads_.emplace_back([w = worker.get()] { w->run(); });
}

SchedulerCore::~SchedulerCore() { shutdown(); }

void SchedulerCore::submit(PromiseBase& promise, std::coroutine_handle<> handle) {
  // A spawned task obeys its own cancellation word, whose cancelled operations come back here.
  promise.own_cancel_.set_executor(this);
  promise.cancel_ = &promise.own_cancel_;
  if (Worker* worker = current_worker()) {  // workers run only before shutdown joins them
    promise.spawned_at_ns_ = worker->coarse_now_ns();
    worker->spawned_tasks().add(promise);  // may throw; then nothing was submitted
    worker->note_spawned();
    worker->schedule_local(handle);  // no-throw (out of memory here terminates)
    return;
  }
  {
    promise.spawned_at_ns_ = steady_ns();
    // Checked under the table's lock, which shutdown also takes to empty the table: a task
    // is either recorded before shutdown looks, or sees the flag.
    std::lock_guard lock(outside_tasks_mutex_);
    spawned_outside_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    if (!stopping_->load(std::memory_order_acquire)) {
      outside_tasks_.add(promise);
    } else {
      cancel_root(promise, handle);  // too late to run: ends as if shutdown had found it
      return;
    }
  }
  try {
    global_.push(handle.address());
  } catch (...) {
    TaskSlots::remove(promise);  // not submitted after all: the caller still owns the frame
    spawned_outside_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
    throw;
  }
  notify_parked();
}

namespace {
// Deep enough for any tree of combinators, or of spawns joined where they were spawned, that
// a program writes by hand; each level costs a few hundred bytes of the worker's stack.
constexpr std::uint32_t kMaxNestedStarts = 128;
}  // namespace

bool SchedulerCore::join_here(PromiseBase& child, std::coroutine_handle<> handle) noexcept {
  Worker* worker = current_worker();
  if (worker == nullptr || worker->nesting() >= kMaxNestedStarts) return false;
  // A dump waiting for a safe point, or the loop's fairness turn, gets the worker back: the
  // parent suspends as it would have without this path.
  if (pause_requested() || worker->fairness_turn_due()) return false;
  if (!worker->take_back(handle.address())) return false;  // stolen, started, or not ours
  worker->count_nested_tick();
  PromiseBase* const outer_child = std::exchange(nested_child, &child);
  worker->run_nested(handle);
  // complete_root() cleared it: the child ended before returning here.
  const bool ended = nested_child == nullptr;
  nested_child = outer_child;
  return ended;
}

void SchedulerCore::adopt_orphan(PromiseBase& child) noexcept {
  const std::lock_guard lock(orphans_mutex_);
  orphans_.insert(&child);
}

void SchedulerCore::release_orphan(PromiseBase& child) noexcept {
  const std::lock_guard lock(orphans_mutex_);
  orphans_.erase(&child);
}

bool SchedulerCore::start_child(PromiseBase& promise, std::coroutine_handle<> handle,
                                ChildStart how) {
  Worker* worker = current_worker();
  if (worker == nullptr) {
    submit(promise, handle);
    return false;
  }
  promise.own_cancel_.set_executor(this);
  promise.cancel_ = &promise.own_cancel_;
  promise.spawned_at_ns_ = worker->coarse_now_ns();
  worker->spawned_tasks().add(promise);  // may throw; then nothing has started
  worker->note_spawned();
  // Queued, too, past a depth of nested starts: children that start combinators of their own
  // at once would otherwise stack up without bound on this thread.
  if (how == ChildStart::kQueued ||
      (how == ChildStart::kFirstOfScope && !worker->approx_has_work()) ||
      worker->nesting() >= kMaxNestedStarts) {
    worker->schedule_stealable(handle);
    return false;
  }
  worker->run_nested(handle);
  return true;
}

RuntimeMetrics SchedulerCore::metrics() const {
  RuntimeMetrics metrics;
  // Each worker's busy time, then whether it sleeps: a spell that ends between the two loads
  // is missed by this read, never counted twice; and a sleeping worker's counts, read after
  // the acquire, are complete.
  std::vector<std::uint64_t> busy_before(workers_.size());
  std::vector<std::int64_t> awake_since(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    busy_before[i] = workers_[i]->counters().busy_ns.read();
    // acquire: pairs with Worker::end_busy_spell()'s release store of -1 (asleep).
    awake_since[i] = workers_[i]->counters().awake_since_ns.load(std::memory_order_acquire);
  }
  std::uint64_t spawned = spawned_outside_.load(std::memory_order_relaxed);
  const std::int64_t now = steady_ns();
  metrics.workers.reserve(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Worker* worker = workers_[i].get();
    const WorkerCounters& counters = worker->counters();
    WorkerMetrics& figures = metrics.workers.emplace_back();
    figures.tasks_run = counters.tasks_run.read();
    figures.lifo_slot_hits = counters.lifo_slot_hits.read();
    figures.tasks_spawned = counters.tasks_spawned.read();
    figures.steals = counters.steals.read();
    figures.steal_attempts = counters.steal_attempts.read();
    figures.global_batches = counters.global_batches.read();
    figures.spills = counters.spills.read();
    figures.parks = counters.parks.read();
    figures.unparks = counters.unparks.read();
    figures.parked = awake_since[i] < 0;
    std::uint64_t busy = figures.parked ? counters.busy_ns.read() : busy_before[i];
    if (!figures.parked && now > awake_since[i]) {
      busy += static_cast<std::uint64_t>(now - awake_since[i]);
    }
    figures.busy_time = std::chrono::nanoseconds(busy);
    figures.local_queue_depth = worker->approx_queue_depth();
    spawned += figures.tasks_spawned;
  }
  metrics.tasks_spawned = spawned;
  // Alive: what the task tables hold (a scan; the hot path counts no ends).
  std::uint64_t alive = outside_tasks_.count_recorded();
  for (const auto& worker : workers_) alive += worker->spawned_tasks().count_recorded();
  metrics.tasks_alive = alive;
  metrics.global_queue_depth = global_.approx_size();
  metrics.timers_armed = reactor_.pending_timers();
  metrics.io_sources = reactor_.io_sources();
  metrics.blocking = blocking_pool_.metrics();
  metrics.uptime = std::chrono::steady_clock::now() - started_;
  return metrics;
}

void SchedulerCore::schedule(std::coroutine_handle<> ready) noexcept {
  if (Worker* worker = current_worker()) {
    worker->schedule_local(ready);
    return;
  }
  global_.push(ready.address());
  notify_parked();
}

void SchedulerCore::defer(std::coroutine_handle<> current) noexcept {
  if (Worker* worker = current_worker()) {
    worker->defer(current);
  } else {
    schedule(current);
  }
}

void SchedulerCore::schedule_batch(std::span<std::coroutine_handle<>> ready) noexcept {
  if (ready.empty()) return;
  if (Worker* worker = current_worker()) {
    for (auto handle : ready) worker->schedule_local(handle);
    return;
  }
  global_.push_batch(ready, [](std::coroutine_handle<> handle) { return handle.address(); });
  notify_parked();
}

void SchedulerCore::notify_parked() noexcept {
  // StoreLoad: the work we just published must be visible to a worker that parks after
  // reading our update of state_ below ... or we must see its parking (runtime/idle.h).
  fence_seq_cst();
  if (auto worker = idle_.worker_to_notify()) workers_[*worker]->unpark();
}

bool SchedulerCore::approx_has_work() const noexcept {
  if (!global_.approx_empty()) return true;
  for (const auto& worker : workers_) {
    if (worker->approx_has_work()) return true;
  }
  return false;
}

void SchedulerCore::worker_stopped_running() {
  // seq_cst: the worker stored its new state first; either the dump's predicate sees that
  // state, or we see its request here and wake it (under the lock: no lost wake-up).
  if (!pause_requested_now()) return;
  const std::lock_guard lock(pause_mutex_);
  worker_paused_.notify_all();
}

void SchedulerCore::wait_while_paused() {
  std::unique_lock lock(pause_mutex_);
  worker_paused_.notify_all();  // the dump may be waiting for us (our state is kPaused now)
  pause_ended_.wait(lock, [this] { return !pause_requested_now(); });
}

bool SchedulerCore::pause_workers(const Worker* self, std::chrono::milliseconds patience,
                                  std::vector<std::size_t>& busy) {
  {
    const std::lock_guard lock(pause_mutex_);
    pause_requested_->store(true, std::memory_order_seq_cst);
  }
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Worker& worker = *workers_[i];
    if (&worker == self) continue;
    // seq_cst (run_state): the other half of the Dekker pair in Worker::leave_parked.
    // Blocking, not spinning: on a machine with as many cores as workers a spinning dumper
    // would take the CPU the worker needs to reach its safe point.
    std::unique_lock lock(pause_mutex_);
    if (!worker_paused_.wait_until(
            lock, give_up, [&] { return worker.run_state() != Worker::RunState::kRunning; })) {
      busy.push_back(i);
    }
  }
  if (busy.empty()) return true;
  resume_workers();
  return false;
}

void SchedulerCore::resume_workers() {
  {
    const std::lock_guard lock(pause_mutex_);
    pause_requested_->store(false, std::memory_order_seq_cst);
  }
  pause_ended_.notify_all();
}

void SchedulerCore::shutdown() noexcept {
  std::lock_guard lock(shutdown_mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_->store(true, std::memory_order_seq_cst);
  for (auto& worker : workers_) worker->unpark();
  for (auto& thread : threads_) thread.join();
  // release: the workers' last writes to the frames are ours now (ForkHandle::let_go).
  workers_stopped_.store(true, std::memory_order_release);
  blocking_pool_.shutdown();
  reactor_.stop();
  const std::lock_guard dump(dump_mutex_);  // a dump in progress reads the frames we destroy
  std::vector<PromiseBase*> unfinished;
  {
    std::lock_guard outside_lock(outside_tasks_mutex_);
    unfinished = outside_tasks_.take_all();
  }
  for (auto& worker : workers_) {
    auto tasks = worker->spawned_tasks().take_all();
    unfinished.insert(unfinished.end(), tasks.begin(), tasks.end());
  }
  for (PromiseBase* task : unfinished) {
    cancel_root(*task, std::coroutine_handle<>::from_address(task->frame()));
  }
  // Forked children left running by dropped handles, suspended for good now. Freeing one
  // frees its own children directly (workers_stopped), never through this list.
  std::unordered_set<PromiseBase*> orphans;
  {
    const std::lock_guard orphans_lock(orphans_mutex_);
    orphans.swap(orphans_);
  }
  for (PromiseBase* orphan : orphans)
    std::coroutine_handle<>::from_address(orphan->frame()).destroy();
  global_.clear();
  for (auto& worker : workers_) worker->discard_queued();
}

}  // namespace tiny_coro::detail
