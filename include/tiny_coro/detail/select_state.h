#pragma once

#include <atomic>
#include <cstddef>
#include <limits>

namespace tiny_coro::detail {

// The one decision of a select: which case won. Every channel operation that finds a node of
// a suspended select in a wait list claims the select for that node's case first; only the
// first claim succeeds, so a select never completes two cases (Go's selectDone).
class SelectState {
 public:
  static constexpr std::size_t kUndecided = std::numeric_limits<std::size_t>::max();

  // Under the lock of the channel whose list holds case `index`'s node.
  [[nodiscard]] bool try_claim(std::size_t index) noexcept {
    std::size_t expected = kUndecided;
    // acq_rel: release publishes nothing by itself (the value is delivered after, under the
    // channel lock, and the select learns of it through the scheduling that resumes it);
    // acquire orders the claim after a competing claimer's, so only one proceeds.
    return winner_.compare_exchange_strong(expected, index, std::memory_order_acq_rel,
                                           std::memory_order_acquire);
  }
  // The selecting coroutine itself, deciding while it holds every lock (nobody can compete).
  // relaxed: a claimer reads it only after taking one of those locks, whose release publishes it.
  void decide(std::size_t index) noexcept { winner_.store(index, std::memory_order_relaxed); }
  // The selecting coroutine taking back a decision nobody could have observed: it still holds
  // every lock, and only a peer holding one of them could have tried to claim.
  void undecide() noexcept { winner_.store(kUndecided, std::memory_order_relaxed); }
  std::size_t winner() const noexcept { return winner_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::size_t> winner_{kUndecided};
};

}  // namespace tiny_coro::detail
