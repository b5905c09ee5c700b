// fork() (fork.h): continuation stealing. Exact results and every frame freed for deep and
// wide trees, a failure and a cancellation in the middle of a tree, a continuation that is
// stolen against one taken back by its child, a child that suspends, dropped handles, and
// shutdown with forks in flight.
#include <tiny_coro/async_event.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/fork.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/stop_token.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/halfway_stop.h"
#include "support/lifetime_probe.h"
#include "support/live_count.h"
#include "support/scale.h"
#include "support/thread_now.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using test::HalfwayStop;
using test::LifetimeProbe;
using test::thread_now;

// --- skynet: every node forks its ten children, then joins them in order ---

Task<std::int64_t> skynet(std::int64_t first_leaf, std::int64_t leaves) {
  LifetimeProbe probe;
  if (leaves == 1) co_return first_leaf;
  const std::int64_t per_child = leaves / 10;
  ForkHandle<std::int64_t> children[10];
  for (int i = 0; i < 10; ++i) {
    children[i] = co_await fork(skynet(first_leaf + i * per_child, per_child));
  }
  std::int64_t sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

class Fork : public ::testing::TestWithParam<int> {};

TEST_P(Fork, SkynetSumsExactlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  const std::int64_t leaves = 1'000'000;
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_EQ(sched.block_on(skynet(0, leaves)), leaves * (leaves - 1) / 2);
  EXPECT_EQ(LifetimeProbe::live(), live_before);  // joined means destroyed, before shutdown
}

// The size the fork-join issue asks for under TSan as well: 10^7 leaves on two workers.
TEST(ForkTree, TenMillionLeafSkynetOnTwoWorkersSumsExactlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  const std::int64_t leaves = 10'000'000;
  Scheduler sched(2);
  EXPECT_EQ(sched.block_on(skynet(0, leaves)), leaves * (leaves - 1) / 2);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  // Both workers took part: the continuations were stolen, not only taken back.
  EXPECT_GT(sched.metrics().workers.at(0).tasks_run, 0u);
  EXPECT_GT(sched.metrics().workers.at(1).tasks_run, 0u);
}

// `live` counts the frames that exist at once: each made at its fork, freed at its join.
Task<std::int64_t> counted_skynet(test::LiveCount& live, std::int64_t first_leaf,
                                  std::int64_t leaves) {
  if (leaves == 1) co_return first_leaf;
  const std::int64_t per_child = leaves / 10;
  ForkHandle<std::int64_t> children[10];
  for (int i = 0; i < 10; ++i) {
    live.made();
    children[i] = co_await fork(counted_skynet(live, first_leaf + i * per_child, per_child));
  }
  std::int64_t sum = 0;
  for (auto& child : children) {
    sum += co_await std::move(child);  // the join freed the child's frame
    live.gone();
  }
  co_return sum;
}

// Depth first: a worker holds at most the 10 children of each node on its path (done but not
// yet joined, or running), and the paths it stole continuations from; not a level of the tree.
TEST_P(Fork, AForkedTreeUnfoldsDepthFirst) {
  const std::int64_t leaves = test::kSanitized ? 100'000 : 1'000'000;
  const long depth = test::kSanitized ? 5 : 6;
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  test::LiveCount live;
  EXPECT_EQ(sched.block_on(counted_skynet(live, 0, leaves)), leaves * (leaves - 1) / 2);
  EXPECT_EQ(live.now.load(), 0);
  const long bound = static_cast<long>(GetParam()) * 10 * (depth + 1) * 4;
  EXPECT_LE(live.peak.load(), bound) << "of " << leaves * 10 / 9 << " frames";
}

// --- fib: fork fib(n-1), call fib(n-2), join; one leaf throws ---

struct LeafFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FibLeaves {
  std::atomic<std::int64_t> visited{0};
  std::int64_t failing = -1;  // the ordinal of the leaf that throws
};

Task<std::int64_t> fib(FibLeaves& leaves, int n) {
  LifetimeProbe probe;
  if (n < 2) {
    // relaxed: only an ordinal; nothing is published through it.
    if (leaves.visited.fetch_add(1, std::memory_order_relaxed) == leaves.failing) {
      throw LeafFailure("leaf " + std::to_string(leaves.failing));
    }
    co_return n;
  }
  auto first = co_await fork(fib(leaves, n - 1));
  const std::int64_t second = co_await fib(leaves, n - 2);
  co_return co_await std::move(first) + second;
}

TEST_P(Fork, Fib25IsExactAndVisitsEveryLeafOnce) {
  const long live_before = LifetimeProbe::live();
  FibLeaves leaves;
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_EQ(sched.block_on(fib(leaves, 25)), 75'025);
  EXPECT_EQ(leaves.visited.load(), 121'393);  // fib(26): the calls with n < 2
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

TEST_P(Fork, ALeafThatThrowsInFib25ReachesTheRootAndNoFrameLeaks) {
  const long live_before = LifetimeProbe::live();
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 random(seed);
  FibLeaves leaves;
  leaves.failing = std::uniform_int_distribution<std::int64_t>(0, 121'392)(random);
  {
    Scheduler sched(static_cast<std::size_t>(GetParam()));
    try {
      (void)sched.block_on(fib(leaves, 25));
      ADD_FAILURE() << "fib(25) returned although a leaf threw";
    } catch (const LeafFailure& failure) {
      EXPECT_EQ(std::string(failure.what()), "leaf " + std::to_string(leaves.failing));
    }
    // The failing leaf's ancestors dropped the handles they had not joined yet: those
    // children were asked to stop and free themselves when they end; shutdown waits for none
    // of them, so count after it.
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- a tree cancelled half-way ---

Task<void> fork_tree(HalfwayStop& state, int depth) {
  LifetimeProbe probe;
  if (depth == 0) {
    state.leaf_ran();
    co_return;
  }
  ForkHandle<void> children[10];
  for (auto& child : children) child = co_await fork(fork_tree(state, depth - 1));
  for (auto& child : children) co_await std::move(child);
}

TEST_P(Fork, ATreeCancelledHalfwayStopsEarlyAndShutdownLeavesNoFrame) {
  const long live_before = LifetimeProbe::live();
  HalfwayStop state;
  {
    Scheduler sched(static_cast<std::size_t>(GetParam()));
    EXPECT_THROW(sched.block_on(with_stop_token(state.stop.get_token(),
                                                fork_tree(state, HalfwayStop::depth()))),
                 TaskCancelled);
    // Children still running when their parent unwound were asked to stop and end on their
    // own; shutdown frees whichever has not yet.
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  EXPECT_GE(state.leaves_run.load(), HalfwayStop::halfway);
  EXPECT_LT(state.leaves_run.load(), HalfwayStop::leaves()) << "the cancel stopped nothing";
}

INSTANTIATE_TEST_SUITE_P(Workers, Fork, ::testing::Values(1, 2, 4), [](const auto& param_info) {
  return std::to_string(param_info.param) + "_workers";
});

// --- a continuation that is stolen, and one that its child takes back ---

struct Seen {
  std::thread::id child_on;
  std::thread::id continuation_on;
};

// Holds its worker until the parent's continuation has run: only a thief can run it.
Task<int> child_that_waits_for_a_thief(Seen& seen, std::latch& continued) {
  LifetimeProbe probe;
  seen.child_on = thread_now();
  continued.wait();
  co_return 7;
}

Task<int> quick_child(Seen& seen) {
  LifetimeProbe probe;
  seen.child_on = thread_now();
  co_return 11;
}

Task<int> fork_stolen(Seen& seen, std::latch& continued) {
  auto child = co_await fork(child_that_waits_for_a_thief(seen, continued));
  seen.continuation_on = thread_now();
  continued.count_down();
  co_return co_await std::move(child);  // a real wait: the child may still be finishing
}

Task<int> fork_taken_back(Seen& seen) {
  auto child = co_await fork(quick_child(seen));
  seen.continuation_on = thread_now();
  co_return co_await std::move(child);
}

TEST(ForkSteal, AStolenContinuationAndATakenBackOneCompleteJoinAndFreeAlike) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  Seen stolen;
  std::latch continued(1);
  EXPECT_EQ(sched.block_on(fork_stolen(stolen, continued)), 7);
  EXPECT_NE(stolen.continuation_on, stolen.child_on) << "the continuation was not stolen";
  Seen local;
  EXPECT_EQ(sched.block_on(fork_taken_back(local)), 11);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  Scheduler one(1);
  Seen alone;
  EXPECT_EQ(one.block_on(fork_taken_back(alone)), 11);
  EXPECT_EQ(alone.continuation_on, alone.child_on);  // one worker: taken back, or run by it
}

// --- a child that suspends: its worker's loop runs the parent meanwhile ---

Task<int> child_waiting_for(Event& event) {
  LifetimeProbe probe;
  co_await event.wait();
  co_return 5;
}

// On one worker this deadlocks unless the continuation runs while the child is suspended.
Task<int> parent_releases_its_child(Event& event) {
  auto child = co_await fork(child_waiting_for(event));
  event.set();
  co_return co_await std::move(child) + 1;
}

TEST(ForkSuspend, AChildThatWaitsForItsParentFinishesOnOneWorker) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(1);
  Event event(sched);
  EXPECT_EQ(sched.block_on(parent_releases_its_child(event)), 6);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// A called Task may join its caller's fork: the caller waits in the call meanwhile.
Task<int> release_and_join(Event& event, ForkHandle<int> child) {
  event.set();
  co_return co_await std::move(child) + 10;
}

Task<int> join_in_a_called_task(Event& event) {
  auto child = co_await fork(child_waiting_for(event));
  co_return co_await release_and_join(event, std::move(child));
}

TEST(ForkSuspend, ACalledTaskJoinsItsCallersFork) {
  const long live_before = LifetimeProbe::live();
  for (std::size_t workers : {1u, 2u}) {
    Scheduler sched(workers);
    Event event(sched);
    EXPECT_EQ(sched.block_on(join_in_a_called_task(event)), 15);
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- dropped handles, cancellation while joining, shutdown ---

struct CountDownOnExit {
  std::latch& gone;
  ~CountDownOnExit() { gone.count_down(); }
};

Task<int> child_that_signals_its_end(Event& event, std::latch& gone) {
  CountDownOnExit on_exit{gone};
  LifetimeProbe probe;
  co_await event.wait();
  co_return 5;
}

// Forks `child` and drops the handle unjoined: the child is asked to stop, and frees itself
// when it ends.
Task<int> fork_and_drop(Task<int> child) {
  { auto handle = co_await fork(std::move(child)); }
  co_return 3;
}

TEST(ForkDrop, ADroppedHandleStopsItsSuspendedChildAndTheChildFreesItself) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  Event never(sched);
  std::latch gone(1);
  EXPECT_EQ(sched.block_on(fork_and_drop(child_that_signals_its_end(never, gone))), 3);
  gone.wait();  // the child's cancelled wait threw, and its body has ended
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

Task<int> join_a_waiting_child(Event& never, std::atomic<bool>& joining) {
  auto child = co_await fork(child_waiting_for(never));
  joining.store(true);
  co_return co_await std::move(child);
}

// Spawns a task that forks a child waiting on `never` and joins it; returns once it joins.
JoinHandle<int> spawn_joiner_of_a_waiting_child(Scheduler& sched, Event& never) {
  std::atomic<bool> joining{false};
  auto root = sched.spawn(join_a_waiting_child(never, joining));
  EXPECT_TRUE(test::wait_for([&] { return joining.load(); }));
  return root;
}

TEST(ForkCancel, CancellingAParentInTheJoinStopsTheChildAndThenThrows) {
  const long live_before = LifetimeProbe::live();
  {
    Scheduler sched(2);
    Event never(sched);
    auto root = spawn_joiner_of_a_waiting_child(sched, never);
    root.cancel();
    root.wait_blocking();
    EXPECT_THROW((void)root.take_result(), TaskCancelled);
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

Task<int> count_a_run(std::atomic<int>& runs) {
  runs.fetch_add(1);
  co_return 1;
}

// Started, then waits until cancelled; catches that, and forks.
Task<int> fork_after_cancel(Event& never, std::atomic<bool>& waiting, std::atomic<int>& runs) {
  try {
    waiting.store(true);
    co_await never.wait();
  } catch (const TaskCancelled&) {
  }
  auto child = co_await fork(count_a_run(runs));
  co_return co_await std::move(child);
}

TEST(ForkCancel, ACancelledTaskForksNothing) {
  Scheduler sched(1);
  Event never(sched);
  std::atomic<bool> waiting{false};
  std::atomic<int> runs{0};
  auto handle = sched.spawn(fork_after_cancel(never, waiting, runs));
  ASSERT_TRUE(test::wait_for([&] { return waiting.load(); }));
  handle.cancel();
  handle.wait_blocking();
  EXPECT_THROW((void)handle.take_result(), TaskCancelled);
  EXPECT_EQ(runs.load(), 0);
}

// A fork tree under timeout(): the timer cancels the parent waiting in the join, the join
// stops the sleeping child, and timeout() reports the overrun once the child has ended.
Task<int> sleeper(Scheduler& sched) {
  LifetimeProbe probe;
  co_await sleep_for(sched, std::chrono::hours(1));
  co_return 1;
}

Task<int> fork_a_sleeper_and_join(Scheduler& sched) {
  auto child = co_await fork(sleeper(sched));
  co_return co_await std::move(child);
}

Task<bool> times_out(Scheduler& sched) {
  try {
    const int value =
        co_await timeout(sched, std::chrono::milliseconds(20), fork_a_sleeper_and_join(sched));
    ADD_FAILURE() << "the hour-long sleep returned " << value;
  } catch (const TimedOut&) {
    co_return true;
  }
  co_return false;
}

TEST(ForkCancel, ATimeoutReachesAForkedChildThroughTheJoin) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  EXPECT_TRUE(sched.block_on(times_out(sched)));
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

TEST(ForkShutdown, ShutdownFreesForkedChildrenThatNeverEnd) {
  const long live_before = LifetimeProbe::live();
  {
    Scheduler sched(2);
    Event never(sched);
    auto root = spawn_joiner_of_a_waiting_child(sched, never);
    sched.shutdown();
    EXPECT_THROW((void)root.take_result(), TaskCancelled);
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// Deaf to the stop its dropped handle asks for: it stays suspended until shutdown.
Task<int> child_that_outlives_its_handle(Event& never, std::latch& waiting) {
  LifetimeProbe probe;
  waiting.count_down();
  co_await shield(child_waiting_for(never));
  co_return 1;
}

TEST(ForkShutdown, ShutdownFreesAChildWhoseHandleWasDroppedAndThatNeverEnds) {
  const long live_before = LifetimeProbe::live();
  {
    Scheduler sched(2);
    Event never(sched);
    std::latch waiting(1);
    EXPECT_EQ(sched.block_on(fork_and_drop(child_that_outlives_its_handle(never, waiting))), 3);
    waiting.wait();
    EXPECT_GT(LifetimeProbe::live(), live_before);  // the orphan is still there
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- off the workers a fork is a call ---

TEST(ForkOffWorker, ATaskResumedByHandRunsItsForksAsCalls) {
  FibLeaves leaves;
  Task<std::int64_t> task = fib(leaves, 12);
  task.handle().resume();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.handle().promise().take_result(), 144);
}

}  // namespace
}  // namespace tiny_coro
