// BlockingPool: the threads that run spawn_blocking()/run_blocking() calls (blocking.h), apart
// from the workers, so a call that blocks stalls nobody else.
//
// Shaped like Tokio's blocking pool: a thread is started when a job arrives and no thread is
// idle, up to `max_threads`; a thread idle for `keep_alive` exits. One mutex guards the
// queue and the counts: a job costs a lock, a condition-variable signal if a thread sleeps,
// and the call itself, which is what it is there for (a blocking call is microseconds at
// least).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>

#include <tiny_coro/blocking.h>
#include <tiny_coro/detail/blocking_job.h>

namespace tiny_coro::detail {

class BlockingPool {
 public:
  BlockingPool() = default;
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { shutdown(); }

  void set_options(const BlockingPoolOptions& options);
  // Queues `job` (state kNew or kCancelledEarly, under the lock). False, queuing nothing, if it
  // was cancelled meanwhile or the pool is shut down.
  bool submit(BlockingJob& job);
  // The canceller's half (BlockingWait::cancel): under the lock, unlinks a queued job.
  // True if it did (the job will never run).
  bool withdraw(BlockingJob& job) noexcept;
  // Marks a job not yet handed over as cancelled, under the lock (submit() then refuses it).
  void cancel_early(BlockingJob& job) noexcept;

  // Stops taking jobs, forgets the queued ones (their frames are about to be destroyed) and
  // waits for the running ones to end. Idempotent.
  void shutdown() noexcept;

  BlockingPoolMetrics metrics() const;

  // Any thread: how long a worker that runs out of work should keep looking before it
  // sleeps, because a call is running that, going by the calls before it, will soon be back
  // (a loop of file writes: each write's waiter resumes a few hundred microseconds after
  // the last). Zero when no call runs or calls lately took longer than kLongestWaitedCall.
  std::chrono::nanoseconds short_call_wait() const noexcept;
  bool calls_running() const noexcept {
    return running_.load(std::memory_order_relaxed) > 0;  // relaxed: a hint
  }
  static constexpr std::chrono::microseconds kLongestWaitedCall{500};
  // A call took `ns` (the pool threads after each call; tests, to set the average).
  void note_call_took(std::int64_t ns) noexcept;

 private:
  void run_thread(std::list<std::thread>::iterator self);
  void start_thread();  // under the lock
  void reap_exited();   // under the lock: joins threads that have left their loop
  // Waits (lock held) for a job or the stop; false once idle for keep_alive, or stopping.
  bool wait_for_work(std::unique_lock<std::mutex>& lock);
  bool withdraw_locked(BlockingJob& job) noexcept;
  void push(BlockingJob& job) noexcept;
  BlockingJob* pop() noexcept;

  mutable std::mutex mutex_;
  std::condition_variable work_or_stop_;
  std::condition_variable all_exited_;
  BlockingJob* head_ = nullptr;
  BlockingJob* tail_ = nullptr;
  std::size_t queued_ = 0;
  std::size_t idle_ = 0;     // threads waiting and not yet claimed by a submit
  std::size_t wakeups_ = 0;  // claims made (each a notify) that no thread has taken yet
  std::atomic<std::size_t> claims_hint_{0};  // wakeups_, for the spinner to poll unlocked
  bool spinning_ = false;                    // an idle thread spins (wait_for_work)
  static constexpr std::chrono::microseconds kSpin{50};
  // Calls running now, and a moving average of how long calls took (each new one weighs
  // 1/8): hints for short_call_wait(), written by the pool threads. Relaxed throughout: a
  // worker that reads them stale only waits more or less; a waiter it misses is caught by
  // the park protocol like any other work (Worker::park_without_accounting).
  std::atomic<std::uint32_t> running_{0};
  std::atomic<std::int64_t> typical_call_ns_{0};
  std::size_t live_ = 0;  // threads started and not yet out of their loop
  std::uint64_t jobs_run_ = 0;
  std::uint64_t threads_started_ = 0;
  bool stopping_ = false;
  BlockingPoolOptions options_;
  std::list<std::thread> threads_;  // running ones
  std::list<std::thread> exited_;   // out of their loop, to be joined
};

}  // namespace tiny_coro::detail
