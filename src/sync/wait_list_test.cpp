#include <tiny_coro/detail/wait_list.h>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <deque>
#include <random>
#include <vector>

namespace tiny_coro::detail {
namespace {

// Everything the list holds, front to back, walked through `next` until it comes around.
std::vector<WaitNode*> contents(const WaitList& list) {
  std::vector<WaitNode*> out;
  WaitNode* const head = list.front();
  if (head == nullptr) return out;
  WaitNode* node = head;
  do {
    out.push_back(node);
    EXPECT_EQ(node->next->prev, node) << "each link is mirrored by the next node's prev";
    node = node->next;
  } while (node != head && out.size() <= 64);
  return out;
}

TEST(WaitList, KeepsFifoOrderAcrossRemovalsAtEveryPosition) {
  std::array<WaitNode, 5> nodes{};
  WaitList list;
  EXPECT_TRUE(list.empty());
  for (auto& node : nodes) list.push_back(node);
  EXPECT_EQ(contents(list),
            (std::vector<WaitNode*>{&nodes[0], &nodes[1], &nodes[2], &nodes[3], &nodes[4]}));
  list.remove(nodes[2]);  // middle
  list.remove(nodes[0]);  // head
  list.remove(nodes[4]);  // tail
  EXPECT_FALSE(nodes[2].linked);
  EXPECT_EQ(nodes[0].next, nullptr);
  EXPECT_EQ(contents(list), (std::vector<WaitNode*>{&nodes[1], &nodes[3]}));
  list.push_back(nodes[0]);  // a removed node queues again, at the back
  EXPECT_EQ(list.pop_front(), &nodes[1]);
  EXPECT_EQ(list.pop_front(), &nodes[3]);
  EXPECT_EQ(list.pop_front(), &nodes[0]);
  EXPECT_EQ(list.pop_front(), nullptr);
  EXPECT_TRUE(list.empty());
}

TEST(WaitList, TheOnlyNodeLeavesAnEmptyList) {
  WaitNode node;
  WaitList list;
  list.push_back(node);
  EXPECT_EQ(node.next, &node);
  list.remove(node);
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(node.linked);
}

// Random pushes, pops and removals against a std::deque doing the same: seeded, so a failure
// replays.
TEST(WaitList, MatchesADequeUnderRandomOperations) {
  std::array<WaitNode, 16> nodes{};
  std::deque<WaitNode*> model;
  WaitList list;
  std::mt19937 random(20261205);
  for (int step = 0; step < 20'000; ++step) {
    WaitNode& node = nodes[random() % nodes.size()];
    switch (random() % 3) {
      case 0:
        if (!node.linked) {
          list.push_back(node);
          model.push_back(&node);
        }
        break;
      case 1:
        if (node.linked) {
          list.remove(node);
          std::erase(model, &node);
        }
        break;
      default: {
        WaitNode* popped = list.pop_front();
        ASSERT_EQ(popped, model.empty() ? nullptr : model.front());
        if (!model.empty()) model.pop_front();
      }
    }
    ASSERT_EQ(contents(list), std::vector<WaitNode*>(model.begin(), model.end())) << step;
  }
}

}  // namespace
}  // namespace tiny_coro::detail
