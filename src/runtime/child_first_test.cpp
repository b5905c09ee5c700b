// The combinators' child-first start (ChildSet::start, SchedulerCore::start_child): children
// that end or suspend at once run on the parent's worker as it starts them; long ones, and
// a scope's first, are queued so that idle workers run them side by side. What must hold
// whichever way each child started: exact results, losers that had not started never run,
// deep trees of combinators do not exhaust a worker's stack, and every frame is freed.
#include <tiny_coro/async_event.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/timer.h>
#include <tiny_coro/when.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

Task<int> entered_then(std::atomic<int>& entered, int value) {
  entered.fetch_add(1);
  co_return value;
}

Task<int> entered_then_throw(std::atomic<int>& entered) {
  entered.fetch_add(1);
  throw std::runtime_error("child failed");
  co_return 0;
}

class ChildFirst : public ::testing::TestWithParam<std::size_t> {};

// Many more children than a start batch, each ending at once: every value in order, and
// every frame gone afterwards (the scheduler's live-task count is back where it was).
TEST_P(ChildFirst, ManyChildrenThatEndAtOnceGiveEveryValueInOrder) {
  Scheduler sched(GetParam());
  const std::uint64_t alive_before = sched.metrics().tasks_alive;
  constexpr int kChildren = 200'000;
  std::atomic<int> entered{0};
  std::vector<Task<int>> children;
  for (int i = 0; i < kChildren; ++i) children.push_back(entered_then(entered, i));
  const std::vector<int> values = sched.block_on(when_all(std::move(children)));
  ASSERT_EQ(values.size(), static_cast<std::size_t>(kChildren));
  for (int i = 0; i < kChildren; ++i) ASSERT_EQ(values[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(entered.load(), kChildren);
  EXPECT_EQ(sched.metrics().tasks_alive, alive_before);
}

// A child that fails while it is being started stops the starting: children after it never
// run (cancelled before they started), and its exception is what the when_all throws.
TEST_P(ChildFirst, AFailureStopsTheChildrenNotYetStarted) {
  Scheduler sched(GetParam());
  constexpr int kChildren = 10'000;
  std::atomic<int> entered{0};
  std::vector<Task<int>> children;
  for (int i = 0; i < kChildren; ++i) {
    children.push_back(i == 5 ? entered_then_throw(entered) : entered_then(entered, i));
  }
  EXPECT_THROW(sched.block_on(when_all(std::move(children))), std::runtime_error);
  // Children 0-5 may have run, and with several workers a few more that were queued and
  // taken by another worker before the failure was seen; never all of them.
  EXPECT_GE(entered.load(), 1);
  EXPECT_LT(entered.load(), kChildren / 2);
}

// The first child to end wins a when_any; the losers that had not started never run.
TEST_P(ChildFirst, WhenAnyLosersNotYetStartedNeverRun) {
  Scheduler sched(GetParam());
  constexpr int kChildren = 10'000;
  std::atomic<int> entered{0};
  std::vector<Task<int>> children;
  for (int i = 0; i < kChildren; ++i) children.push_back(entered_then(entered, i * 10));
  const auto [winner, value] = sched.block_on(when_any(std::move(children)));
  EXPECT_EQ(value, static_cast<int>(winner) * 10);
  EXPECT_GE(entered.load(), 1);
  EXPECT_LT(entered.load(), kChildren / 2);
}

// Children that suspend before they end: started here, they finish wherever their wake-up
// runs them, and the parent still counts each exactly once.
Task<int> wait_then(Event& go, int value) {
  co_await go.wait();
  co_return value;
}

Task<std::vector<int>> wait_for_all(Event& go, int children, std::atomic<bool>& started) {
  std::vector<Task<int>> tasks;
  for (int i = 0; i < children; ++i) tasks.push_back(wait_then(go, i));
  started.store(true);
  co_return co_await when_all(std::move(tasks));
}

TEST_P(ChildFirst, ChildrenThatSuspendFinishElsewhereAndAreCountedOnce) {
  Scheduler sched(GetParam());
  Event go(sched);
  constexpr int kChildren = 5'000;
  std::atomic<bool> started{false};
  auto parent = sched.spawn(wait_for_all(go, kChildren, started));
  // The set() races the children's starts (the parent sets `started` first): a wake-up that
  // comes while a child is still being started must not lose it either.
  while (!started.load()) std::this_thread::yield();
  go.set();
  parent.wait_blocking();
  const std::vector<int> values = parent.take_result();
  ASSERT_EQ(values.size(), static_cast<std::size_t>(kChildren));
  for (int i = 0; i < kChildren; ++i) ASSERT_EQ(values[static_cast<std::size_t>(i)], i);
}

// A tree of combinators whose children start combinators of their own at once: 200,000
// levels overflow a worker's stack if every level runs nested in the one above. (Fewer
// under sanitizers, where g++'s symmetric transfer is not a tail call and the chain of
// completions would overflow it on its own; support/scale.h.)
Task<int> leaf() { co_return 1; }

Task<int> levels_below(int depth) {
  if (depth == 0) co_return 1;
  auto [left, right] = co_await when_all(leaf(), levels_below(depth - 1));
  co_return left + right;
}

TEST_P(ChildFirst, ADeepTreeOfCombinatorsDoesNotExhaustTheStack) {
  Scheduler sched(GetParam());
  constexpr int kDepth = test::deep_symmetric_transfer_supported() ? 200'000 : 2'000;
  EXPECT_EQ(sched.block_on(levels_below(kDepth)), kDepth + 1);
}

INSTANTIATE_TEST_SUITE_P(Workers, ChildFirst, ::testing::Values(1, 2, 4),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param) + "_workers";
                         });

// Two children that each need the other running at the same time: the scope's first child
// is queued, so another worker takes it while the second runs here. (Each child blocks its
// thread, which real code must not do; it stands for two long computations.)
Task<void> meet(std::atomic<int>& arrived) {
  arrived.fetch_add(1);
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (arrived.load() < 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  if (arrived.load() < 2) throw std::runtime_error("the other child never ran alongside");
  co_return;
}

TEST(ChildFirstParallel, TwoLongChildrenRunSideBySide) {
  Scheduler sched(2);
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> arrived{0};
    EXPECT_NO_THROW(sched.block_on(when_all(meet(arrived), meet(arrived))));
  }
}

// Keeps its thread busy for a while: far longer than the stretch that makes a parent queue
// the rest of its children (100 us).
Task<void> compute_for(std::chrono::microseconds busy) {
  const auto until = std::chrono::steady_clock::now() + busy;
  while (std::chrono::steady_clock::now() < until) {
  }
  co_return;
}

Task<void> quick() { co_return; }

// Child 1 runs here and takes long, so the parent queues the children after it: children 2
// and 3 then each need the other running at the same time, which only a second worker can
// give them. Run here one after the other, the first would wait in vain.
TEST(ChildFirstParallel, ChildrenAfterALongOneAreQueuedForOtherWorkers) {
  Scheduler sched(2);
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> arrived{0};
    std::vector<Task<void>> children;
    children.push_back(quick());
    children.push_back(compute_for(2ms));
    children.push_back(meet(arrived));
    children.push_back(meet(arrived));
    for (int i = 0; i < 4; ++i) children.push_back(quick());
    EXPECT_NO_THROW(sched.block_on(when_all(std::move(children))));
  }
}

}  // namespace
}  // namespace tiny_coro
