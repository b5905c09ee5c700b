#include "task/task_slots.h"

namespace tiny_coro::detail {

void TaskSlots::refill() {
  for (auto& chunk : chunks_) {
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      // acquire: pairs with remove()'s release store; the finished task no longer touches it.
      if (chunk[i].load(std::memory_order_acquire) == nullptr) free_.push_back(&chunk[i]);
    }
  }
  // Mostly full: grow, so that the next sweep is at least as far away as this one was long.
  if (free_.size() * 2 < chunks_.size() * kChunkSlots || chunks_.empty()) {
    const std::size_t grow = chunks_.empty() ? 1 : chunks_.size();
    for (std::size_t c = 0; c < grow; ++c) {
      auto chunk = std::make_unique<Slot[]>(kChunkSlots);
      for (std::size_t i = 0; i < kChunkSlots; ++i) free_.push_back(&chunk[i]);
      chunks_.push_back(std::move(chunk));
    }
  }
}

void TaskSlots::trim() noexcept {
  std::vector<Slot*>().swap(free_);  // no slot handed out below is in it any more
  auto holds_no_task = [](const Slot* chunk) {
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      // acquire: as refill's; a cleared slot's task no longer touches it, so its chunk may go.
      if (chunk[i].load(std::memory_order_acquire) != nullptr) return false;
    }
    return true;
  };
  while (!chunks_.empty() && holds_no_task(chunks_.back().get())) chunks_.pop_back();
}

std::vector<PromiseBase*> TaskSlots::take_all() {
  std::vector<PromiseBase*> tasks;
  for (auto& chunk : chunks_) {
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      // acquire: pairs with remove()'s release store; the joins of the workers order the rest.
      if (PromiseBase* task = chunk[i].exchange(nullptr, std::memory_order_acquire)) {
        tasks.push_back(task);
      }
    }
  }
  free_.clear();
  return tasks;
}

}  // namespace tiny_coro::detail
