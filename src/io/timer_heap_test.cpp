#include "io/timer_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace tiny_coro::detail {
namespace {

TEST(TimerHeap, PopsInDeadlineOrderAndTiesInArmOrder) {
  const TimePoint base{};
  std::vector<TimerNode> nodes(200);
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].deadline = base + std::chrono::milliseconds(rng() % 20);  // many ties
  }
  TimerHeap heap;
  for (auto& node : nodes) heap.push(node);
  const TimerNode* previous = nullptr;
  while (!heap.empty()) {
    const TimerNode& node = heap.pop();
    EXPECT_FALSE(node.armed());
    if (previous != nullptr) {
      EXPECT_TRUE(
          previous->deadline < node.deadline ||
          (previous->deadline == node.deadline && armed_before(previous->sequence, node.sequence)));
    }
    previous = &node;
  }
}

// Arm numbers wrap at 2^32: the order still holds across the wrap.
TEST(TimerHeap, ArmOrderHoldsAcrossTheWrapOfItsCounter) {
  static_assert(armed_before(0u, 1u) && !armed_before(1u, 0u) && !armed_before(5u, 5u));
  static_assert(armed_before(0xFFFF'FFFFu, 0u) && !armed_before(0u, 0xFFFF'FFFFu));
  static_assert(armed_before(0xFFFF'FFF0u, 0x10u) && armed_before(0x7FFF'FFFEu, 0x8000'0000u));
  EXPECT_TRUE(armed_before(0xFFFF'FFFEu, 3u));
}

TEST(TimerHeap, RemovingFromTheMiddleKeepsTheOrder) {
  const TimePoint base{};
  std::vector<TimerNode> nodes(500);
  std::mt19937 rng(11);
  TimerHeap heap;
  for (auto& node : nodes) {
    node.deadline = base + std::chrono::microseconds(rng() % 100000);
    heap.push(node);
  }
  std::size_t removed = 0;
  for (std::size_t i = 0; i < nodes.size(); i += 3) {
    EXPECT_TRUE(heap.remove(nodes[i]));
    EXPECT_FALSE(heap.remove(nodes[i]));  // twice is a no-op
    ++removed;
  }
  EXPECT_EQ(heap.size(), nodes.size() - removed);
  TimePoint last = TimePoint::min();
  std::size_t popped = 0;
  while (!heap.empty()) {
    const TimerNode& node = heap.pop();
    EXPECT_GE(node.deadline, last);
    last = node.deadline;
    ++popped;
  }
  EXPECT_EQ(popped, nodes.size() - removed);
}

// Random pushes, removals and pops against a sorted reference: every pop is the earliest
// node left, by deadline and then by arm order, through many sifts of every depth.
TEST(TimerHeap, MatchesASortedReferenceUnderRandomPushesRemovalsAndPops) {
  const TimePoint base{};
  std::vector<TimerNode> nodes(20'000);
  std::mt19937 rng(23);
  TimerHeap heap;
  std::vector<TimerNode*> armed;  // the reference: what the heap holds
  auto by_order = [](const TimerNode* a, const TimerNode* b) {
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && armed_before(a->sequence, b->sequence));
  };
  std::size_t next = 0;
  std::size_t popped = 0;
  while (next < nodes.size() || !armed.empty()) {
    const unsigned action = rng() % 4;
    if (next < nodes.size() && action < 2) {
      TimerNode& node = nodes[next++];
      node.deadline = base + std::chrono::microseconds(rng() % 5'000);  // some ties
      heap.push(node);
      armed.push_back(&node);
    } else if (!armed.empty() && action == 2) {
      const std::size_t victim = rng() % armed.size();
      ASSERT_TRUE(heap.remove(*armed[victim]));
      EXPECT_FALSE(armed[victim]->armed());
      armed.erase(armed.begin() + static_cast<std::ptrdiff_t>(victim));
    } else if (!armed.empty()) {
      const auto earliest = std::min_element(armed.begin(), armed.end(), by_order);
      ASSERT_EQ(&heap.pop(), *earliest);
      armed.erase(earliest);
      ++popped;
    }
    ASSERT_EQ(heap.size(), armed.size());
  }
  EXPECT_TRUE(heap.empty());
  EXPECT_GT(popped, 1'000u);
}

}  // namespace
}  // namespace tiny_coro::detail
