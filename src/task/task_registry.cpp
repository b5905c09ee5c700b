#include "task/task_registry.h"

#include <atomic>
#include <mutex>

namespace tiny_coro::detail {
namespace {
// Each thread sticks to one shard, so a worker's own spawns and completions never contend.
std::uint32_t this_thread_shard(std::size_t shards) noexcept {
  static std::atomic<std::uint32_t> next{0};
  // relaxed: only spreads threads over shards; no data is published through it.
  thread_local const std::uint32_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return static_cast<std::uint32_t>(shard % shards);
}
}  // namespace

void TaskRegistry::add(PromiseBase& task) noexcept {
  task.registry_ = this;
  task.registry_shard_ = this_thread_shard(kShards);
  Shard& shard = *shards_[task.registry_shard_];
  std::lock_guard lock(shard.lock);
  task.registry_prev_ = nullptr;
  task.registry_next_ = shard.head;
  if (shard.head != nullptr) shard.head->registry_prev_ = &task;
  shard.head = &task;
}

void TaskRegistry::remove(PromiseBase& task) noexcept {
  Shard& shard = *shards_[task.registry_shard_];
  std::lock_guard lock(shard.lock);
  if (task.registry_prev_ != nullptr) {
    task.registry_prev_->registry_next_ = task.registry_next_;
  } else {
    shard.head = task.registry_next_;
  }
  if (task.registry_next_ != nullptr) task.registry_next_->registry_prev_ = task.registry_prev_;
  task.registry_prev_ = task.registry_next_ = nullptr;
}

std::vector<PromiseBase*> TaskRegistry::take_all() {
  std::vector<PromiseBase*> tasks;
  for (auto& padded : shards_) {
    Shard& shard = *padded;
    std::lock_guard lock(shard.lock);
    for (PromiseBase* task = shard.head; task != nullptr; task = task->registry_next_) {
      tasks.push_back(task);
    }
    shard.head = nullptr;
  }
  return tasks;
}

}  // namespace tiny_coro::detail
