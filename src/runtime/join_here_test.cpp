// A task awaiting the JoinHandle of a child that its worker would run next takes the child
// back and runs it inside the join (SchedulerCore::join_here). These tests pin down that the
// path is taken, and that a child run this way ends exactly as one run by the loop: its
// value, its exception, its cancellation, a suspension in the middle, a deep chain of such
// joins; and that an awaiter already cancelled does not run the child first.
#include <tiny_coro/async_event.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <stdexcept>
#include <thread>

#include "support/scale.h"

namespace tiny_coro {
namespace {

Task<long> value_of(long value) { co_return value; }

Task<long> spawn_and_join_each(Scheduler& sched, int count) {
  long sum = 0;
  for (int i = 0; i < count; ++i) sum += co_await sched.spawn(value_of(i));
  co_return sum;
}

RuntimeMetrics wait_until_parked(Scheduler& sched) {
  for (;;) {
    RuntimeMetrics metrics = sched.metrics();
    if (metrics.all_parked()) return metrics;
    std::this_thread::yield();
  }
}

TEST(JoinHere, AChildJoinedWhereItWasSpawnedRunsInsideTheJoinNotFromTheLoop) {
  Scheduler sched(1);
  constexpr int kChildren = 1000;
  EXPECT_EQ(sched.block_on(spawn_and_join_each(sched, kChildren)),
            static_cast<long>(kChildren) * (kChildren - 1) / 2);
  const RuntimeMetrics metrics = wait_until_parked(sched);
  EXPECT_EQ(metrics.tasks_alive, 0u);
  // Every child ran (nested runs count as tasks run)...
  EXPECT_GE(metrics.total(&WorkerMetrics::tasks_run), static_cast<std::uint64_t>(kChildren));
  // ...but, without this path, each would have been taken from the LIFO slot by the loop.
  // The few that are: joins declined because the loop's fairness turn was due.
  EXPECT_LT(metrics.total(&WorkerMetrics::lifo_slot_hits), static_cast<std::uint64_t>(100));
}

Task<long> suspend_then_value(Event& event, std::atomic<bool>& suspended, long value) {
  suspended.store(true);
  co_await event.wait();
  co_return value;
}

Task<void> set_when_suspended(Event& event, std::atomic<bool>& suspended) {
  while (!suspended.load()) co_await yield_now();
  event.set();
}

Task<long> join_a_child_that_suspends(Scheduler& sched) {
  Event event(sched);
  std::atomic<bool> suspended{false};
  auto setter = sched.spawn(set_when_suspended(event, suspended));
  // Spawned last: the one the worker would run next, so the join runs it, and it suspends.
  auto child = sched.spawn(suspend_then_value(event, suspended, 42));
  const long value = co_await std::move(child);
  co_await std::move(setter);
  co_return value;
}

TEST(JoinHere, AChildThatSuspendsInsideTheJoinIsAwaitedAsUsual) {
  for (std::size_t workers : {1u, 2u}) {
    Scheduler sched(workers);
    for (int round = 0; round < 200; ++round) {
      EXPECT_EQ(sched.block_on(join_a_child_that_suspends(sched)), 42);
    }
  }
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Task<long> fail_with(const char* what) {
  throw Failure(what);
  co_return 0;
}

Task<bool> join_a_child_that_throws(Scheduler& sched) {
  try {
    co_await sched.spawn(fail_with("child"));
  } catch (const Failure&) {
    co_return true;
  }
  co_return false;
}

TEST(JoinHere, AChildsExceptionReachesTheJoin) {
  Scheduler sched(1);
  EXPECT_TRUE(sched.block_on(join_a_child_that_throws(sched)));
}

Task<long> mark_ran(std::atomic<bool>& ran) {
  ran.store(true);
  co_return 1;
}

Task<bool> join_a_child_cancelled_before_it_ran(Scheduler& sched, std::atomic<bool>& ran) {
  auto child = sched.spawn(mark_ran(ran));
  child.cancel();
  try {
    co_await std::move(child);
  } catch (const TaskCancelled&) {
    co_return true;
  }
  co_return false;
}

TEST(JoinHere, AChildCancelledBeforeItRanNeverRunsAndItsJoinThrowsTaskCancelled) {
  Scheduler sched(1);
  std::atomic<bool> ran{false};
  EXPECT_TRUE(sched.block_on(join_a_child_cancelled_before_it_ran(sched, ran)));
  EXPECT_FALSE(ran.load());
}

struct CancelledJoin {
  std::latch parent_waiting{1};
  std::latch child_ran{1};
  std::atomic<bool> join_threw{false};
  std::atomic<bool> child_saw_the_throw{false};
};

Task<void> note_when_run(CancelledJoin& state) {
  state.child_saw_the_throw.store(state.join_threw.load());
  state.child_ran.count_down();
  co_return;
}

// Cancelled while running, before it joins: its join ends at once with TaskCancelled, and
// the child, spawned with sched.spawn, is not its to run or cancel (it runs on, detached).
Task<void> join_after_being_cancelled(Scheduler& sched, CancelledJoin& state) {
  auto child = sched.spawn(note_when_run(state));
  state.parent_waiting.count_down();
  while (!co_await cancellation_requested()) std::this_thread::yield();
  try {
    co_await std::move(child);
  } catch (const TaskCancelled&) {
    state.join_threw.store(true);
  }
}

TEST(JoinHere, AnAwaiterAlreadyCancelledDoesNotRunTheChildFirst) {
  Scheduler sched(1);
  CancelledJoin state;
  auto parent = sched.spawn(join_after_being_cancelled(sched, state));
  state.parent_waiting.wait();
  parent.cancel();
  state.child_ran.wait();
  EXPECT_TRUE(state.join_threw.load());
  EXPECT_TRUE(state.child_saw_the_throw.load()) << "the child ran inside the cancelled join";
  parent.detach();
}

// Each level spawns the next and joins it at once: past the nesting limit the join
// suspends as usual, so the chain cannot exhaust the worker's stack.
Task<long> chain(Scheduler& sched, long depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await sched.spawn(chain(sched, depth - 1));
}

TEST(JoinHere, ADeepChainOfSpawnsJoinedAtOnceDoesNotExhaustTheStack) {
  constexpr long kDepth = test::deep_symmetric_transfer_supported() ? 200'000 : 2'000;
  for (std::size_t workers : {1u, 2u}) {
    Scheduler sched(workers);
    EXPECT_EQ(sched.block_on(chain(sched, kDepth)), kDepth);
  }
}

}  // namespace
}  // namespace tiny_coro
