#include "runtime/blocking_pool.h"

#include <algorithm>
#include <iterator>
#include <system_error>
#include <utility>

#include <tiny_coro/cancel.h>

#include "platform/signal_mask.h"
#include "runtime/worker.h"
#include "runtime/worker_counters.h"  // steady_ns

namespace tiny_coro::detail {

using State = BlockingJob::State;

void BlockingPool::set_options(const BlockingPoolOptions& options) {
  std::lock_guard lock(mutex_);
  options_ = options;
  if (options_.max_threads == 0) options_.max_threads = 1;
}

void BlockingPool::push(BlockingJob& job) noexcept {
  job.next = nullptr;
  job.prev = tail_;
  (tail_ != nullptr ? tail_->next : head_) = &job;
  tail_ = &job;
  ++queued_;
}

BlockingJob* BlockingPool::pop() noexcept {
  BlockingJob* job = head_;
  if (job == nullptr) return nullptr;
  head_ = job->next;
  (head_ != nullptr ? head_->prev : tail_) = nullptr;
  --queued_;
  return job;
}

bool BlockingPool::submit(BlockingJob& job) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    // relaxed, here and below under the lock: the lock orders every move of a queued job.
    if (stopping_ || job.state.load(std::memory_order_relaxed) == State::kCancelledEarly) {
      return false;
    }
    job.state.store(State::kQueued, std::memory_order_relaxed);
    push(job);
    if (idle_ > 0) {
      --idle_;
      ++wakeups_;
      claims_hint_.store(wakeups_, std::memory_order_relaxed);  // relaxed: a spinner's hint
      wake = true;
    } else if (live_ < options_.max_threads) {
      try {
        start_thread();
      } catch (const std::system_error&) {
        // Out of threads: the running ones will get to it, unless there are none.
        if (live_ == 0) {
          (void)withdraw_locked(job);
          return false;
        }
      }
    }
  }
  // After unlocking: a thread woken while we still held the lock would wake only to block on
  // it again (glibc's mutex does not spin), a second context switch per call.
  if (wake) work_or_stop_.notify_one();
  return true;
}

bool BlockingPool::withdraw_locked(BlockingJob& job) noexcept {
  if (job.state.load(std::memory_order_relaxed) != State::kQueued) return false;
  (job.prev != nullptr ? job.prev->next : head_) = job.next;
  (job.next != nullptr ? job.next->prev : tail_) = job.prev;
  --queued_;
  job.state.store(State::kCancelled, std::memory_order_relaxed);
  return true;
}

bool BlockingPool::withdraw(BlockingJob& job) noexcept {
  std::lock_guard lock(mutex_);
  if (job.state.load(std::memory_order_relaxed) == State::kNew) {
    job.state.store(State::kCancelledEarly, std::memory_order_relaxed);  // submit() will see it
    return false;
  }
  return withdraw_locked(job);
}

void BlockingPool::start_thread() {
  reap_exited();
  threads_.emplace_back();
  const auto self = std::prev(threads_.end());
  try {
    const AsyncSignalsBlocked blocked;  // signals go to whoever awaits them (signal_set.h)
    *self = std::thread([this, self] { run_thread(self); });
  } catch (...) {
    threads_.erase(self);
    throw;
  }
  ++live_;
  ++threads_started_;
}

void BlockingPool::note_call_took(std::int64_t ns) noexcept {
  // relaxed: a hint (header); two threads updating at once may lose one sample.
  const std::int64_t typical = typical_call_ns_.load(std::memory_order_relaxed);
  typical_call_ns_.store(typical == 0 ? ns : typical + (ns - typical) / 8,
                         std::memory_order_relaxed);
}

std::chrono::nanoseconds BlockingPool::short_call_wait() const noexcept {
  if (!calls_running()) return std::chrono::nanoseconds(0);
  const std::int64_t typical = typical_call_ns_.load(std::memory_order_relaxed);  // a hint
  const std::int64_t longest = std::chrono::nanoseconds(kLongestWaitedCall).count();
  if (typical <= 0 || typical > longest) return std::chrono::nanoseconds(0);
  // Half again the typical call: the one running may have started a moment ago.
  return std::chrono::nanoseconds(std::min(typical + typical / 2, longest));
}

void BlockingPool::reap_exited() {
  for (auto& thread : exited_) thread.join();  // each has left its loop: a short wait at most
  exited_.clear();
}

bool BlockingPool::wait_for_work(std::unique_lock<std::mutex>& lock) {
  ++idle_;
  // One idle thread at a time spins briefly before it sleeps: a call that comes within the
  // spin costs no futex wake, and on a VM no halted vCPU's wake (~50-100 µs here) — the
  // difference between a disk kept busy by back-to-back writes and one that idles.
  if (!spinning_ && !stopping_ && wakeups_ == 0) {
    spinning_ = true;
    lock.unlock();
    const auto give_up = std::chrono::steady_clock::now() + kSpin;
    // relaxed: a hint only; the claim is taken under the lock below.
    while (claims_hint_.load(std::memory_order_relaxed) == 0 &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    lock.lock();
    spinning_ = false;
  }
  for (;;) {
    if (wakeups_ > 0) {  // a submit claimed this thread (and took it off idle_)
      --wakeups_;
      claims_hint_.store(wakeups_, std::memory_order_relaxed);  // relaxed: a hint (above)
      return true;
    }
    if (stopping_) {
      --idle_;
      return false;
    }
    if (work_or_stop_.wait_for(lock, options_.keep_alive) == std::cv_status::timeout &&
        wakeups_ == 0 && !stopping_) {
      --idle_;
      return head_ != nullptr;  // a job no claim covers (it found nobody idle) is still work
    }
  }
}

void BlockingPool::run_thread(std::list<std::thread>::iterator self) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (BlockingJob* job = pop()) {
      job->state.store(State::kRunning, std::memory_order_relaxed);  // under the lock
      ++jobs_run_;
      lock.unlock();
      running_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint (header)
      const std::int64_t began = steady_ns();
      job->run(*job);
      note_call_took(steady_ns() - began);
      const std::coroutine_handle<> waiter = job->waiter;
      Executor* executor = job->executor;
      // acq_rel: release publishes the outcome to the waiter, who reads the state with
      // acquire after it resumes; acquire pairs with an abandoning canceller's CAS.
      if (job->state.exchange(State::kDone, std::memory_order_acq_rel) == State::kAbandoned) {
        job->free(*job);  // its waiter left: the job is ours to free
      } else {
        executor->schedule(waiter);
      }
      // After the schedule, so that a worker waiting for this call (short_call_wait) most
      // likely finds its waiter queued once it sees no call running.
      running_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint (header)
      lock.lock();
      continue;
    }
    if (!wait_for_work(lock)) break;
  }
  --live_;
  exited_.splice(exited_.end(), threads_, self);
  if (live_ == 0) all_exited_.notify_all();
}

void BlockingPool::shutdown() noexcept {
  std::list<std::thread> to_join;
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    // Queued jobs never run; their frames are destroyed by the scheduler's shutdown next.
    while (BlockingJob* job = pop()) job->state.store(State::kCancelled, std::memory_order_relaxed);
    work_or_stop_.notify_all();
    all_exited_.wait(lock, [this] { return live_ == 0; });
    to_join.splice(to_join.end(), exited_);
    to_join.splice(to_join.end(), threads_);
  }
  for (auto& thread : to_join) thread.join();
}

BlockingPoolMetrics BlockingPool::metrics() const {
  std::lock_guard lock(mutex_);
  BlockingPoolMetrics metrics;
  metrics.threads = live_;
  metrics.idle_threads = idle_;
  metrics.queued = queued_;
  metrics.calls_run = jobs_run_;
  metrics.threads_started = threads_started_;
  return metrics;
}

// --- the awaiting side ---

bool BlockingWait::suspend(std::coroutine_handle<> waiting, CancelState* state,
                           Executor& executor) noexcept {
  job_.waiter = waiting;
  job_.executor = &executor;
  if (!arm(state)) {
    outcome_ = Outcome::kNeverRan;
    return false;
  }
  // Read before the submit: from then on a pool thread may finish the call and the waiter
  // be resumed elsewhere and end, taking this awaiter (and job_) with its frame.
  const bool behind = job_.behind;
  if (!pool_->submit(job_)) {
    outcome_ = Outcome::kNeverRan;
    return false;
  }
  // The task this worker is running now waits for the call: if the worker finds nothing
  // else to do, the call's return is its next work (Worker::wait_for_short_call). Not so for
  // a write-behind call, whose waiter nobody waits for yet.
  if (Worker* worker = Worker::current(); worker != nullptr && !behind) {
    worker->note_task_awaits_blocking_call();
  }
  return true;
}

std::coroutine_handle<> BlockingWait::cancel() noexcept {
  if (pool_->withdraw(job_)) {
    outcome_ = Outcome::kNeverRan;
    return job_.waiter;
  }
  if (!job_.abandonable()) return {};
  auto expected = State::kRunning;
  // acq_rel: pairs with the pool thread's exchange; whichever lands first decides who frees
  // the job and who resumes the waiter.
  if (job_.state.compare_exchange_strong(expected, State::kAbandoned, std::memory_order_acq_rel)) {
    outcome_ = Outcome::kAbandoned;
    return job_.waiter;
  }
  return {};
}

void BlockingWait::finish() {
  disarm();
  if (outcome_ != Outcome::kPending) throw_task_cancelled();
  // acquire: pairs with the pool thread's exchange, so the call's outcome is visible.
  if (job_.state.load(std::memory_order_acquire) != State::kDone) throw_task_cancelled();
  outcome_ = Outcome::kRan;
}

}  // namespace tiny_coro::detail
