// A 10-ary tree of depth depth() whose leaves request a stop when half of them have run:
// a cancellation that lands in the middle of a tree (fork_join_test, fork_test).
#pragma once

#include <atomic>
#include <stop_token>

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

  // Called by each leaf; the one that completes the first half requests the stop.
  void leaf_ran() {
    if (leaves_run.fetch_add(1) + 1 == halfway) stop.request_stop();
  }

  std::atomic<long> leaves_run{0};
  std::stop_source stop;
};

}  // namespace tiny_coro::test
