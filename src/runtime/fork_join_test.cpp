// Fork-join trees at full size: exact results, every frame freed (ASan and the probes), a
// failure or a cancellation in the middle of a tree, and a child that is stolen against one
// that is not. The per-task fast path (a child spawned, run and joined on one worker) and
// the stolen path must end the same way.
#include <tiny_coro/scheduler.h>
#include <tiny_coro/stop_token.h>
#include <tiny_coro/task_group.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/halfway_stop.h"
#include "support/lifetime_probe.h"
#include "support/scale.h"
#include "support/thread_now.h"

namespace tiny_coro {
namespace {

using test::HalfwayStop;
using test::LifetimeProbe;
using test::thread_now;

// --- skynet: every node spawns its ten children, then joins them in order ---

Task<std::int64_t> skynet(Scheduler& sched, std::int64_t first_leaf, std::int64_t leaves) {
  LifetimeProbe probe;
  if (leaves == 1) co_return first_leaf;
  const std::int64_t per_child = leaves / 10;
  JoinHandle<std::int64_t> children[10];
  for (int i = 0; i < 10; ++i) {
    children[i] = sched.spawn(skynet(sched, first_leaf + i * per_child, per_child));
  }
  std::int64_t sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

// The size the issue asks for under TSan as well: 10^7 leaves, about 1.1 * 10^7 tasks.
TEST(ForkJoin, TenMillionLeafSkynetOnTwoWorkersSumsExactlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  const std::int64_t leaves = 10'000'000;
  {
    Scheduler sched(2);
    EXPECT_EQ(sched.block_on(skynet(sched, 0, leaves)), leaves * (leaves - 1) / 2);
    EXPECT_EQ(LifetimeProbe::live(), live_before);  // joined means destroyed, before shutdown
  }
}

// --- fib: spawn fib(n-1), await fib(n-2) in place, join; one leaf throws ---

struct LeafFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FibLeaves {
  std::atomic<std::int64_t> visited{0};
  std::int64_t failing;  // the ordinal of the leaf that throws
};

Task<std::int64_t> fib(Scheduler& sched, FibLeaves& leaves, int n) {
  LifetimeProbe probe;
  if (n < 2) {
    // relaxed: only an ordinal; nothing is published through it.
    if (leaves.visited.fetch_add(1, std::memory_order_relaxed) == leaves.failing) {
      throw LeafFailure("leaf " + std::to_string(leaves.failing));
    }
    co_return n;
  }
  auto first = sched.spawn(fib(sched, leaves, n - 1));
  const std::int64_t second = co_await fib(sched, leaves, n - 2);
  co_return co_await std::move(first) + second;
}

TEST(ForkJoin, ALeafThatThrowsInFib25ReachesTheRootAndNoFrameLeaks) {
  const long live_before = LifetimeProbe::live();
  const std::int64_t leaf_count = 121'393;  // fib(26): the calls of fib(25) with n < 2
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 random(seed);
  FibLeaves leaves;
  leaves.failing = std::uniform_int_distribution<std::int64_t>(0, leaf_count - 1)(random);
  {
    Scheduler sched(2);
    try {
      (void)sched.block_on(fib(sched, leaves, 25));
      ADD_FAILURE() << "fib(25) returned although a leaf threw";
    } catch (const LeafFailure& failure) {
      EXPECT_EQ(std::string(failure.what()), "leaf " + std::to_string(leaves.failing));
    }
    // The failing leaf's ancestors dropped the handles they had not joined yet: those
    // subtrees run on, detached. Shutdown ends whatever is still running, and frees it.
    sched.shutdown();
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  // Without a failure the same tree gives the right answer (and visits every leaf).
  FibLeaves clean;
  clean.failing = -1;
  {
    Scheduler sched(2);
    EXPECT_EQ(sched.block_on(fib(sched, clean, 25)), 75'025);
  }
  EXPECT_EQ(clean.visited.load(), leaf_count);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- a structured tree (a TaskGroup per node) cancelled when half its leaves have run ---

Task<void> group_tree(Scheduler& sched, HalfwayStop& state, int depth) {
  LifetimeProbe probe;
  if (depth == 0) {
    state.leaf_ran();
    co_await yield_now();  // a suspension point: a leaf running as the cancel lands stops here
    co_return;
  }
  TaskGroup group(sched);
  for (int i = 0; i < 10; ++i) group.spawn(group_tree(sched, state, depth - 1));
  co_await group.join();
}

TEST(ForkJoin, ATreeCancelledHalfwayStopsEarlyAndEveryFrameIsGoneWhenTheRootReturns) {
  const long live_before = LifetimeProbe::live();
  HalfwayStop state;
  Scheduler sched(2);
  EXPECT_THROW(sched.block_on(with_stop_token(state.stop.get_token(),
                                              group_tree(sched, state, HalfwayStop::depth()))),
               TaskCancelled);
  // Structured: join() returned only after every child had finished, all the way down.
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  EXPECT_GE(state.leaves_run.load(), HalfwayStop::halfway);
  EXPECT_LT(state.leaves_run.load(), HalfwayStop::leaves()) << "the cancel stopped nothing";
}

// --- a stolen child and a child run where it was spawned ---

struct StealProbe {
  std::atomic<std::thread::id> stolen_ran_on{};
  std::atomic<bool> stolen_started{false};
  std::atomic<bool> local_finished{false};
  std::thread::id local_ran_on;
};

void wait_for(const std::atomic<bool>& flag) {
  while (!flag.load()) std::this_thread::yield();
}

// Starts on whichever worker took it, then stays running until the local child has finished:
// its parent is by then suspended in the join, and this child's end resumes it from here.
Task<int> stolen_child(StealProbe& probe) {
  LifetimeProbe lifetime;
  probe.stolen_ran_on.store(thread_now());
  probe.stolen_started.store(true);
  wait_for(probe.local_finished);
  co_return 7;
}

Task<int> local_child(StealProbe& probe) {
  LifetimeProbe lifetime;
  probe.local_ran_on = thread_now();
  probe.local_finished.store(true);
  co_return 11;
}

struct ParentSaw {
  std::thread::id spawned_on;
  std::thread::id resumed_on;
  int stolen_result = 0;
  int local_result = 0;
};

Task<ParentSaw> steal_one_of_two(Scheduler& sched, StealProbe& probe) {
  ParentSaw saw;
  saw.spawned_on = thread_now();
  auto stolen = sched.spawn(stolen_child(probe));
  // The second spawn takes the LIFO slot and pushes the first into this worker's stealable
  // queue; holding the worker until the first has started leaves a thief the only way in.
  auto local = sched.spawn(local_child(probe));
  wait_for(probe.stolen_started);
  saw.stolen_result = co_await std::move(stolen);  // suspends: runs the local child meanwhile
  saw.resumed_on = thread_now();
  saw.local_result = co_await std::move(local);  // finished already: no suspension
  co_return saw;
}

TEST(ForkJoin, AStolenChildAndALocalChildCompleteJoinAndFreeAlike) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  StealProbe probe;
  const ParentSaw saw = sched.block_on(steal_one_of_two(sched, probe));
  EXPECT_EQ(saw.stolen_result, 7);
  EXPECT_EQ(saw.local_result, 11);
  EXPECT_NE(probe.stolen_ran_on.load(), saw.spawned_on) << "the child was not stolen";
  EXPECT_EQ(probe.local_ran_on, saw.spawned_on);
  // The stolen child finished last, on the thief, and resumed its parent there.
  EXPECT_EQ(saw.resumed_on, probe.stolen_ran_on.load());
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

}  // namespace
}  // namespace tiny_coro
