// A 10-ary tree of depth depth() whose leaves request a stop when half of them have run:
// a cancellation that lands in the middle of a tree (fork_join_test, fork_test).
#pragma once

#include <atomic>
#include <stop_token>
#include <thread>

#include "support/scale.h"

namespace tiny_coro::test {

constexpr int kHalfwayTreeDepth = kSanitized ? 4 : 5;
constexpr long tree_leaves(int depth) noexcept {
  return depth == 0 ? 1 : 10 * tree_leaves(depth - 1);
}

struct HalfwayStop {
  static constexpr int depth() noexcept { return kHalfwayTreeDepth; }
  static constexpr long leaves() noexcept { return tree_leaves(kHalfwayTreeDepth); }
  static constexpr long halfway = tree_leaves(kHalfwayTreeDepth) / 2;

  // Called by each leaf; the one that completes the first half requests the stop. A leaf of
  // the second half waits until that request has returned, by when the cancellation has
  // reached every task that waits for its children: otherwise, on a loaded machine, the
  // other workers could run the whole second half while the requesting one is descheduled,
  // and nothing would be left to stop. So at most one leaf per other worker runs after it.
  void leaf_ran() {
    const long ran = leaves_run.fetch_add(1) + 1;
    if (ran == halfway) {
      stop.request_stop();
      stop_returned.store(true);
    } else if (ran > halfway) {
      while (!stop_returned.load()) std::this_thread::yield();
    }
  }

  std::atomic<long> leaves_run{0};
  std::atomic<bool> stop_returned{false};
  std::stop_source stop;
};

}  // namespace tiny_coro::test
