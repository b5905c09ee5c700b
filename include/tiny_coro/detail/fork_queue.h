// The worker's side of fork() (fork.h), inline: a fork queues its parent's continuation on
// the worker's stealable queue, and the child's end takes it back if it is still the newest
// there. Both are a few loads and stores (the take's fence is the thieves' to pay once the
// queue is in light mode: steal_queue.h); a call into the scheduler happens only when a push
// makes the queue non-empty (the wake protocol).
#pragma once

#include <cstdint>

#include <coroutine>

#include <tiny_coro/detail/executor.h>
#include <tiny_coro/steal_queue.h>

namespace tiny_coro::detail {

// Set by each worker for its thread while its loop runs (Worker::run); all null elsewhere.
struct ForkQueue {
  StealQueue<void*>* queue = nullptr;  // the worker's stealable queue
  Executor* executor = nullptr;        // its scheduler
  // Every this many takes, one is declined: the child's end returns to the worker's loop,
  // which takes a turn as it does between tasks (a task dump's safe point, the LIFO slot, and
  // every kFairnessTicks turns I/O, the global queue and yielded tasks) before it resumes
  // the parent from the queue. It also bounds the child-to-parent transfers that pile up on
  // the stack where they are not tail calls (sanitizer builds).
  static constexpr std::uint32_t kTakesPerTurn = 61;
  std::uint32_t takes_until_turn = kTakesPerTurn;
};
extern constinit thread_local ForkQueue tl_fork_queue;

// Whether the calling thread is a worker of `executor`, where a fork queues its parent.
inline bool forks_queue_here(Executor* executor) noexcept {
  return executor != nullptr && tl_fork_queue.executor == executor;
}

// The rare half of queue_fork_continuation (runtime/worker.cpp): a push that grows the
// ring or makes the queue non-empty, waking a sleeper in that case (as Worker::push_stealable
// does). Returns `child`.
std::coroutine_handle<> queue_fork_continuation_slow(void* parent, std::coroutine_handle<> child);

// On a worker (forks_queue_here): queues `parent`'s continuation where the worker's loop and
// thieves find it, and returns `child`, to run next. The common case calls nothing, so the
// fork saves no registers for the rare one, which goes out as a tail call.
inline std::coroutine_handle<> queue_fork_continuation(void* parent,
                                                       std::coroutine_handle<> child) {
  if (tl_fork_queue.queue->push_if_cheap(parent)) [[likely]]
    return child;
  return queue_fork_continuation_slow(parent, child);
}

// At a forked child's end, on whatever thread that is: takes `parent` back if this thread is
// a worker of `executor` and `parent` is still the newest item of its queue.
inline bool take_back_fork_continuation(Executor* executor, void* parent) noexcept {
  if (!forks_queue_here(executor)) return false;
  ForkQueue& local = tl_fork_queue;
  if (--local.takes_until_turn == 0) {
    local.takes_until_turn = ForkQueue::kTakesPerTurn;
    return false;
  }
  return local.queue->pop_if_newest(parent);
}

}  // namespace tiny_coro::detail
