// TaskSlots: where the scheduler keeps every spawned task that has not finished, so that
// shutdown can destroy the frames still suspended (Tokio's OwnedTasks does this job).
//
// Design: a table of slots in fixed chunks that never move. Spawning takes a free slot and
// stores the task there; the task remembers its slot and, when it finishes — on whatever
// thread — clears it with one atomic store. Only the table's owner (a worker, or whoever
// holds the lock of the table for outside threads) hands out slots: a cursor walks the table
// in order and takes the next cleared slot, so a spawn is a load and two stores while the
// tasks finish about as fast as they start (the cursor finds its next slot free). A lap of
// the table that finds fewer than half its slots free doubles it, so the walk stays O(1)
// amortised when many tasks stay alive.
//
// Rejected: an intrusive doubly-linked list under sharded spin locks. Every completion on a
// thief then locked the spawner's shard and wrote two neighbouring frames, which cost a
// quarter of spawn_many's time in cache-line transfers. A free list of slot addresses,
// refilled by sweeping the table, cost a vector write per slot per sweep besides.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro::detail {

class TaskSlots {
 public:
  // Owner only: records `task` and sets its registry_slot_. Inline: once per spawn.
  void add(PromiseBase& task) {
    // acquire: pairs with remove()'s release store; the finished task no longer touches it.
    if (cursor_ == chunk_end_ || cursor_->load(std::memory_order_acquire) != nullptr) advance();
    Slot* slot = cursor_++;
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
  // Owner only: frees the chunks at the end of the table that hold no task, after a burst
  // of tasks has finished.
  void trim() noexcept;
  // Owner, with no other thread using the table any more: every task still recorded.
  std::vector<PromiseBase*> take_all();
  // Any thread: how many tasks are recorded now (RuntimeMetrics::tasks_alive). A scan of the
  // table, so the hot path counts nothing; exact when no task starts or ends meanwhile.
  std::size_t count_recorded() const;
  // Any thread: calls visit(task) for the recorded tasks in slots [first, first + count) of
  // the table, under its layout lock; returns the slot after the last one looked at, or
  // npos once the table ends. The caller keeps the tasks from finishing meanwhile (the
  // dump pauses the workers).
  template <class Visit>
  std::size_t visit_recorded(std::size_t first, std::size_t count, Visit&& visit) const {
    const std::lock_guard layout(layout_mutex_);
    const std::size_t end = chunks_.size() * kChunkSlots;
    // The frames are scattered over the heap: ask for a few ahead while one is read.
    constexpr std::size_t kAhead = 8;
    auto prefetch = [&](std::size_t ahead) {
      if (ahead >= end) return;
      // relaxed: as below.
      if (const PromiseBase* task =
              chunks_[ahead / kChunkSlots][ahead % kChunkSlots].load(std::memory_order_relaxed)) {
        __builtin_prefetch(task);
        __builtin_prefetch(reinterpret_cast<const char*>(task) + 64);
        __builtin_prefetch(reinterpret_cast<const char*>(task) + 128);
      }
    };
    for (std::size_t ahead = first; ahead < first + kAhead; ++ahead) prefetch(ahead);
    std::size_t slot = first;
    for (; slot < end && slot < first + count; ++slot) {
      prefetch(slot + kAhead);
      // relaxed: the caller's pause (or lock) orders the owner's add() before this.
      if (PromiseBase* task =
              chunks_[slot / kChunkSlots][slot % kChunkSlots].load(std::memory_order_relaxed)) {
        visit(*task);
      }
    }
    return slot < end ? slot : npos;
  }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  static constexpr std::size_t kChunkSlots = 1024;
  using Slot = std::atomic<PromiseBase*>;

  // Moves the cursor to the next free slot, growing the table if a lap found it too full.
  void advance();
  void start_chunk(std::size_t chunk) noexcept;

  // Changes of chunks_ (owner only) happen under this lock, so count_recorded() may walk the
  // chunks from another thread; the owner reads chunks_ without it.
  mutable std::mutex layout_mutex_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::size_t chunk_ = 0;      // the chunk the cursor is in
  Slot* cursor_ = nullptr;     // the next slot to try
  Slot* chunk_end_ = nullptr;  // the end of the cursor's chunk
  std::size_t lap_busy_ = 0;   // busy slots stepped over since the lap began
};

}  // namespace tiny_coro::detail
