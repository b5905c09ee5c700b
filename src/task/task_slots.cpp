#include "task/task_slots.h"

namespace tiny_coro::detail {

void TaskSlots::start_chunk(std::size_t chunk) noexcept {
  chunk_ = chunk;
  cursor_ = chunks_[chunk].get();
  chunk_end_ = cursor_ + kChunkSlots;
}

void TaskSlots::advance() {
  for (;;) {
    if (chunks_.empty()) {
      auto first = std::make_unique<Slot[]>(kChunkSlots);
      const std::lock_guard layout(layout_mutex_);
      chunks_.push_back(std::move(first));
      start_chunk(0);
      lap_busy_ = 0;
    }
    while (cursor_ != chunk_end_) {
      // acquire: as add()'s.
      if (cursor_->load(std::memory_order_acquire) == nullptr) return;
      ++lap_busy_;
      ++cursor_;
    }
    if (chunk_ + 1 < chunks_.size()) {
      start_chunk(chunk_ + 1);
      continue;
    }
    // A lap is over. Mostly full (the cursor stepped over more busy slots than half the
    // table): double it, so that the next lap is at least as far away as this one was long;
    // the cursor goes on in the first new chunk.
    const std::size_t slots = chunks_.size() * kChunkSlots;
    if (lap_busy_ * 2 > slots) {
      const std::size_t first_new = chunks_.size();
      std::vector<std::unique_ptr<Slot[]>> added;
      added.reserve(first_new);
      for (std::size_t c = 0; c < first_new; ++c)
        added.push_back(std::make_unique<Slot[]>(kChunkSlots));
      {
        const std::lock_guard layout(layout_mutex_);
        chunks_.reserve(2 * first_new);
        for (auto& chunk : added) chunks_.push_back(std::move(chunk));
      }
      start_chunk(first_new);
    } else {
      start_chunk(0);
    }
    lap_busy_ = 0;
  }
}

void TaskSlots::trim() noexcept {
  auto holds_no_task = [](const Slot* chunk) {
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      // acquire: as add()'s; a cleared slot's task no longer touches it, so its chunk may go.
      if (chunk[i].load(std::memory_order_acquire) != nullptr) return false;
    }
    return true;
  };
  {
    const std::lock_guard layout(layout_mutex_);
    while (!chunks_.empty() && holds_no_task(chunks_.back().get())) chunks_.pop_back();
  }
  // The cursor may have pointed into a freed chunk: start the next lap afresh.
  if (chunks_.empty()) {
    cursor_ = chunk_end_ = nullptr;
  } else {
    start_chunk(0);
  }
  lap_busy_ = 0;
}

std::size_t TaskSlots::count_recorded() const {
  const std::lock_guard layout(layout_mutex_);
  std::size_t recorded = 0;
  for (const auto& chunk : chunks_) {
    for (std::size_t i = 0; i < kChunkSlots; ++i) {
      // relaxed: a count; nothing is read through the pointer.
      if (chunk[i].load(std::memory_order_relaxed) != nullptr) ++recorded;
    }
  }
  return recorded;
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
  return tasks;
}

}  // namespace tiny_coro::detail
