// TaskRegistry: every spawned task that has not finished, so that Scheduler::shutdown() can
// destroy the frames still suspended (Tokio's OwnedTasks). An intrusive doubly-linked list
// through the promise, split into shards so that workers adding and removing tasks at the same
// time rarely meet on one lock.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include <tiny_coro/detail/cache_padded.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro::detail {

class TaskRegistry {
 public:
  void add(PromiseBase& task) noexcept;
  void remove(PromiseBase& task) noexcept;
  // Empties the registry, returning every task it held. Caller: shutdown, workers stopped.
  std::vector<PromiseBase*> take_all();

 private:
  static constexpr std::size_t kShards = 32;
  struct Shard {
    SpinLock lock;
    PromiseBase* head = nullptr;
  };
  std::array<CachePadded<Shard>, kShards> shards_;
};

}  // namespace tiny_coro::detail
