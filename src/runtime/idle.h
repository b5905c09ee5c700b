// Idle: which workers sleep and how many are looking for work — the throttle that keeps a
// burst of spawns from waking every worker at once (Tokio's idle.rs, Go's nmspinning).
//
// state_ packs two counters, changed only with seq_cst RMWs:
//   low 16 bits   searching: workers out of local work, currently scanning other queues
//   high 16 bits  unparked:  workers not asleep (running or searching)
// Invariants: searching <= unparked <= workers; sleepers_ holds exactly the parked workers
// (workers - unparked of them), guarded by mutex_.
// Rules:
//   * At most half the workers search at once (try_begin_search); the others park at once.
//   * Whoever makes work available wakes a sleeper only if nobody searches: a searcher will
//     find the work. The woken worker starts out searching (counted by its waker), and when it
//     finds work and was the last searcher it wakes the next sleeper: wake-ups ramp up one by
//     one instead of stampeding.
//   * The last searcher to park re-checks every queue after its decrement; with the waker's
//     "publish work, StoreLoad fence, read state_", one of the two always sees the other.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include <tiny_coro/detail/cache_padded.h>

namespace tiny_coro::detail {

class Idle {
 public:
  explicit Idle(std::size_t workers);

  [[nodiscard]] bool try_begin_search() noexcept;
  // Returns true if the caller was the last searcher.
  [[nodiscard]] bool end_search() noexcept;
  // A sleeper to unpark (already counted as unparked and searching), if one should be woken.
  [[nodiscard]] std::optional<std::size_t> worker_to_notify();
  // Records `worker` as asleep. Returns true if it was the last searcher.
  [[nodiscard]] bool transition_to_parked(std::size_t worker, bool was_searching);
  // `worker` woke up by itself (the reactor it slept in had work): off the sleepers and
  // counted as unparked, not searching (it has work in hand, and should be free to wake a
  // helper). Returns false if a waker had already done it (counting it as searching).
  [[nodiscard]] bool unpark_self(std::size_t worker);
  // Racy: whether every worker is asleep (the scheduler has gone idle).
  bool all_parked() const noexcept {
    return (state_->load(std::memory_order_relaxed) & ~kSearchingMask) == 0;  // relaxed: a hint
  }

 private:
  static constexpr std::uint32_t kUnparkedOne = 1u << 16;
  static constexpr std::uint32_t kSearchingMask = kUnparkedOne - 1;
  bool should_notify(std::uint32_t state) const noexcept;

  const std::uint32_t workers_;
  // Padded: thieves update it around every steal, so it must not share a line with anything
  // the workers read on every task (the stop flag, the global queue's length).
  CachePadded<std::atomic<std::uint32_t>> state_;
  std::mutex mutex_;
  std::vector<std::size_t> sleepers_;
};

}  // namespace tiny_coro::detail
