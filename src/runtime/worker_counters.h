// A worker's own statistics (RuntimeMetrics, include/tiny_coro/metrics.h): each written by
// one thread only, so a bump is a load and a store, not a locked read-modify-write; any
// thread may read them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tiny_coro::detail {

class OwnedCounter {
 public:
  // The owning thread only.
  void bump(std::uint64_t by = 1) noexcept { set(value_.load(std::memory_order_relaxed) + by); }
  // relaxed: a statistic with one writer; readers want a recent value, not an order.
  void set(std::uint64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  // relaxed: as bump().
  std::uint64_t read() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Per-task figures are counted in plain owner fields (Worker::HotTallies) and copied
// here every fairness tick and before parking, so they lag by at most that much; the rest is
// counted here directly, off the hot path.
struct WorkerCounters {
  OwnedCounter tasks_run;
  OwnedCounter lifo_slot_hits;
  OwnedCounter tasks_spawned;
  OwnedCounter steals;
  OwnedCounter steal_attempts;
  OwnedCounter global_batches;
  OwnedCounter spills;
  OwnedCounter parks;
  OwnedCounter unparks;  // counted by the worker when it wakes, so no other thread writes here
  // Busy time: awake spells already ended, plus the current one if awake_since_ns >= 0.
  OwnedCounter busy_ns;
  std::atomic<std::int64_t> awake_since_ns{-1};  // steady clock; -1 while asleep
};

inline std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tiny_coro::detail
