// BlockingJob: one call handed to the blocking pool (blocking.h), and the wait of the task
// that handed it over.
//
// A job is a node the pool queues without allocating; it lives in the awaiter (in the
// awaiting frame) unless it is abandonable, in which case it is on the heap and whoever is
// last of the pool and the awaiter frees it. Its state moves
//
//   kNew -> kQueued -> kRunning -> kDone          (the pool ran it; the waiter is scheduled)
//   kNew -> kCancelledEarly                       (cancelled before it was handed over)
//   kQueued -> kCancelled                         (cancelled while queued: never runs)
//   kRunning -> kAbandoned                        (abandonable only: the waiter left; the
//                                                  pool finishes the call and frees the job)
//
// Every move but the last two happens under the pool's mutex, which is also what the
// canceller takes; kDone and kAbandoned race each other as an exchange against a CAS.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/executor.h>

namespace tiny_coro::detail {

class BlockingPool;

struct BlockingJob {
  enum class State : std::uint8_t {
    kNew,
    kCancelledEarly,
    kQueued,
    kCancelled,
    kRunning,
    kDone,
    kAbandoned,
  };
  using RunFunction = void (*)(BlockingJob& job) noexcept;
  using FreeFunction = void (*)(BlockingJob& job) noexcept;

  BlockingJob(RunFunction run_function, void* run_context,
              FreeFunction free_function = nullptr) noexcept
      : run(run_function), free(free_function), context(run_context) {}
  BlockingJob(const BlockingJob&) = delete;
  BlockingJob& operator=(const BlockingJob&) = delete;

  bool abandonable() const noexcept { return free != nullptr; }

  RunFunction run;    // calls the user's function and stores its outcome; never throws
  FreeFunction free;  // abandonable jobs: deletes the job once its waiter has left
  void* context;      // what run and free work on (the awaiter, or the heap object)
  std::coroutine_handle<> waiter;
  Executor* executor = nullptr;  // where the waiter is resumed
  BlockingJob* next = nullptr;   // the pool's queue (doubly linked: a cancel unlinks)
  BlockingJob* prev = nullptr;
  std::atomic<State> state{State::kNew};
  // Write-behind: nobody is held up by this call until later (FileWriter's writes), so the
  // worker that handed it over need not wait for it (Worker::wait_for_short_call).
  bool behind = false;
};

// The awaiting side of a job, as a cancellation point: arms itself, hands the job to the
// pool, and takes it back if a cancel comes before a pool thread has started it (or, for an
// abandonable job, at any time before it finished).
class BlockingWait final : public CancelPoint {
 public:
  BlockingWait(BlockingPool* pool, BlockingJob& job) noexcept
      : CancelPoint(&CancelPoint::cancel_of<BlockingWait>), pool_(pool), job_(job) {}

  // False: do not suspend (cancelled before the hand-over, or the pool is shut down).
  bool suspend(std::coroutine_handle<> waiting, CancelState* state, Executor& executor) noexcept;
  // After resumption (or a false suspend()). Throws TaskCancelled if the call never ran, or
  // (abandonable) its waiter left before it ended; true if it ran and its outcome is there.
  void finish();
  // An abandoned job belongs to the pool now: the awaiter must not free it.
  bool abandoned() const noexcept { return outcome_ == Outcome::kAbandoned; }

 private:
  friend class CancelPoint;
  std::coroutine_handle<> cancel() noexcept;

  enum class Outcome : std::uint8_t { kPending, kRan, kNeverRan, kAbandoned };
  BlockingPool* pool_;  // null for a call that runs inline (BlockingCall)
  BlockingJob& job_;
  Outcome outcome_ = Outcome::kPending;
};

}  // namespace tiny_coro::detail
