// TaskSlots: where the scheduler keeps every spawned task that has not finished, so that
// shutdown can destroy the frames still suspended (Tokio's OwnedTasks does this job).
//
// Design: a table of slots in fixed chunks that never move. Spawning takes a free slot and
// stores the task there; the task remembers its slot and, when it finishes — on whatever
// thread — clears it with one atomic store. Only the table's owner (a worker, or whoever
// holds the lock of the table for outside threads) hands out slots; it finds the cleared ones
// by sweeping the table when its free list runs dry, and doubles the table when fewer than
// half the slots were free, so a spawn costs O(1) amortised and no lock.
//
// Rejected: an intrusive doubly-linked list under sharded spin locks. Every completion on a
// thief then locked the spawner's shard and wrote two neighbouring frames, which cost a
// quarter of spawn_many's time in cache-line transfers.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro::detail {

class TaskSlots {
 public:
  // Owner only: records `task` and sets its registry_slot_. Inline: once per spawn.
  void add(PromiseBase& task) {
    if (free_.empty()) refill();
    Slot* slot = free_.back();
    free_.pop_back();
    // relaxed: pairs with nothing. take_all() reads it after joining the workers (or under
    // the table's lock), and the queue push that follows publishes it to the task that
    // clears it.
    slot->store(&task, std::memory_order_relaxed);
    task.registry_slot_ = slot;
  }
  // Any thread, once: the task finished.
  static void remove(PromiseBase& task) noexcept {
    // release: pairs with the acquire load of the owner's sweep, which then reuses the slot.
    task.registry_slot_->store(nullptr, std::memory_order_release);
  }
  // Owner only: frees the chunks at the end of the table that hold no task, and the free
  // list (rebuilt by the next add), after a burst of tasks has finished.
  void trim() noexcept;
  // Owner, with no other thread using the table any more: every task still recorded.
  std::vector<PromiseBase*> take_all();

 private:
  static constexpr std::size_t kChunkSlots = 1024;
  using Slot = std::atomic<PromiseBase*>;

  void refill();

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<Slot*> free_;
};

}  // namespace tiny_coro::detail
