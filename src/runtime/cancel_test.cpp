// JoinHandle::cancel() at every stage of a task's life, on 1 and 2 workers; sleeps, yields,
// join waits and nested awaits as cancellation points; shield() and the polling checks.
#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <latch>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;
using test::LifetimeProbe;

class CancelShapes : public ::testing::TestWithParam<std::size_t> {};

INSTANTIATE_TEST_SUITE_P(Workers, CancelShapes, ::testing::Values(1, 2),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param) + "_workers";
                         });

Task<int> sleep_then_answer(Scheduler& sched, std::atomic<int>& stage, LifetimeProbe) {
  stage.store(1);
  co_await sleep_for(sched, 1h);
  stage.store(2);
  co_return 42;
}

Task<int> never_started(std::atomic<bool>& ran) {
  ran.store(true);
  co_return 1;
}

Task<void> block_worker(std::latch& started, std::latch& release) {
  started.count_down();
  release.wait();
  co_return;
}

// How a combinator tells a cancelled child from a failed one: the shared TaskCancelled a
// cancelled task stores, one the user threw, and a WriteCancelled all count; nothing else.
TEST(Cancel, TellsACancellationFromAFailure) {
  Scheduler sched(1);
  auto cancelled_at_a_sleep =
      sched.spawn([](Scheduler& s) -> Task<void> { co_await sleep_for(s, 1h); }(sched));
  cancelled_at_a_sleep.cancel();
  cancelled_at_a_sleep.wait_blocking();
  std::exception_ptr stored;
  try {
    cancelled_at_a_sleep.take_result();
  } catch (...) {
    stored = std::current_exception();
  }
  EXPECT_TRUE(detail::is_task_cancelled(stored));
  EXPECT_TRUE(detail::is_task_cancelled(std::make_exception_ptr(TaskCancelled())));
  EXPECT_TRUE(detail::is_task_cancelled(std::make_exception_ptr(WriteCancelled(3))));
  EXPECT_FALSE(detail::is_task_cancelled(std::make_exception_ptr(std::runtime_error("no"))));
  EXPECT_FALSE(detail::is_task_cancelled(std::make_exception_ptr(42)));
  EXPECT_FALSE(detail::is_task_cancelled(nullptr));
}

TEST(Cancel, ATaskCancelledBeforeItStartsNeverRuns) {
  Scheduler sched(1);
  std::latch started(1), release(1);
  sched.spawn(block_worker(started, release));  // the one worker is busy: the next task waits
  started.wait();
  std::atomic<bool> ran{false};
  auto handle = sched.spawn(never_started(ran));
  handle.cancel();
  release.count_down();
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
  EXPECT_FALSE(ran.load());
}

TEST_P(CancelShapes, ASleepingTaskIsResumedAtOnceWithTaskCancelled) {
  const long probes_before = LifetimeProbe::live();
  Scheduler sched(GetParam());
  std::atomic<int> stage{0};
  {
    auto handle = sched.spawn(sleep_then_answer(sched, stage, LifetimeProbe{}));
    while (sched.reactor()->pending_timers() == 0) std::this_thread::yield();  // it is asleep
    handle.cancel();
    handle.wait_blocking();  // returns long before the hour: the cancel resumed it
    EXPECT_THROW(handle.take_result(), TaskCancelled);
  }
  EXPECT_EQ(stage.load(), 1);
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);  // the sleep's node is gone
  sched.shutdown();
  EXPECT_EQ(LifetimeProbe::live(), probes_before);
}

TEST_P(CancelShapes, CancellingTwiceAndFromManyThreadsIsOneCancellation) {
  Scheduler sched(GetParam());
  std::atomic<int> stage{0};
  auto handle = sched.spawn(sleep_then_answer(sched, stage, LifetimeProbe{}));
  std::vector<std::thread> cancellers;
  for (int i = 0; i < 4; ++i) {
    cancellers.emplace_back([&handle] {
      handle.cancel();
      handle.cancel();
    });
  }
  for (auto& t : cancellers) t.join();
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
}

TEST_P(CancelShapes, CancellingAFinishedTaskKeepsItsValue) {
  Scheduler sched(GetParam());
  auto handle = sched.spawn([]() -> Task<int> { co_return 7; }());
  handle.wait_blocking();
  handle.cancel();
  EXPECT_EQ(handle.take_result(), 7);
}

Task<int> spin_until_released(std::atomic<bool>& running, std::atomic<bool>& release,
                              std::atomic<int>& after) {
  running.store(true);
  while (!release.load()) std::this_thread::yield();
  after.store(1);  // not a suspension point: the running task gets this far
  co_await yield_now();
  after.store(2);
  co_return 1;
}

TEST_P(CancelShapes, ARunningTaskGetsItAtItsNextSuspension) {
  Scheduler sched(GetParam());
  std::atomic<bool> running{false}, release{false};
  std::atomic<int> after{0};
  auto handle = sched.spawn(spin_until_released(running, release, after));
  while (!running.load()) std::this_thread::yield();
  handle.cancel();
  release.store(true);
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
  EXPECT_EQ(after.load(), 1);
}

Task<int> finish_without_suspending(std::atomic<bool>& running, std::atomic<bool>& release) {
  running.store(true);
  while (!release.load()) std::this_thread::yield();
  co_return 5;
}

TEST_P(CancelShapes, ARunningTaskThatFinishesWithoutSuspendingKeepsItsValue) {
  Scheduler sched(GetParam());
  std::atomic<bool> running{false}, release{false};
  auto handle = sched.spawn(finish_without_suspending(running, release));
  while (!running.load()) std::this_thread::yield();
  handle.cancel();
  release.store(true);
  handle.wait_blocking();
  EXPECT_EQ(handle.take_result(), 5);
}

Task<void> nested_sleeper(Scheduler& sched, LifetimeProbe, std::atomic<int>& unwound) {
  struct CountOnUnwind {
    std::atomic<int>& count;
    ~CountOnUnwind() { count.fetch_add(1); }
  } guard{unwound};
  co_await sleep_for(sched, 1h);
}

Task<void> three_deep(Scheduler& sched, std::atomic<int>& unwound, int depth) {
  if (depth == 0) {
    co_await nested_sleeper(sched, LifetimeProbe{}, unwound);
  } else {
    co_await three_deep(sched, unwound, depth - 1);
  }
  unwound.fetch_add(100);  // never reached: the exception passes through every frame
}

TEST_P(CancelShapes, ANestedAwaitChainUnwindsThroughEveryFrame) {
  const long probes_before = LifetimeProbe::live();
  Scheduler sched(GetParam());
  std::atomic<int> unwound{0};
  {
    auto handle = sched.spawn(three_deep(sched, unwound, 3));
    while (sched.reactor()->pending_timers() == 0) std::this_thread::yield();
    handle.cancel();
    handle.wait_blocking();
    EXPECT_THROW(handle.take_result(), TaskCancelled);
  }
  EXPECT_EQ(unwound.load(), 1);
  EXPECT_EQ(LifetimeProbe::live(), probes_before);
}

Task<int> await_handle(JoinHandle<int> handle, std::atomic<int>& outcome) {
  outcome.store(-2);  // about to wait
  try {
    const int v = co_await std::move(handle);
    outcome.store(v);
    co_return v;
  } catch (const TaskCancelled&) {
    outcome.store(-1);
    throw;
  }
}

TEST_P(CancelShapes, CancellingAJoinerLeavesTheTaskItAwaitsRunning) {
  Scheduler sched(GetParam());
  std::atomic<int> stage{0};
  auto inner = sched.spawn(sleep_then_answer(sched, stage, LifetimeProbe{}));
  std::atomic<int> outcome{0};
  auto outer = sched.spawn(await_handle(std::move(inner), outcome));
  // Both in place: the joiner about to wait, and the inner task asleep (on two workers the
  // joiner may get there before the inner task has armed its timer).
  while (outcome.load() != -2 || sched.reactor()->pending_timers() != 1) {
    std::this_thread::yield();
  }
  outer.cancel();
  outer.wait_blocking();
  EXPECT_THROW(outer.take_result(), TaskCancelled);
  EXPECT_EQ(outcome.load(), -1);
  EXPECT_EQ(sched.reactor()->pending_timers(), 1u);  // the inner task sleeps on, detached
  sched.shutdown();
}

Task<void> count_on_cancel(Scheduler& sched, std::atomic<int>& cancelled, std::atomic<int>& slept) {
  try {
    co_await sleep_for(sched, 1h);
    slept.fetch_add(1);
  } catch (const TaskCancelled&) {
    cancelled.fetch_add(1);
  }
  co_await yield_now();  // sticky: the next suspension point throws too
  slept.fetch_add(100);
}

TEST_P(CancelShapes, CancellationIsSticky) {
  Scheduler sched(GetParam());
  std::atomic<int> cancelled{0}, slept{0};
  auto handle = sched.spawn(count_on_cancel(sched, cancelled, slept));
  while (sched.reactor()->pending_timers() == 0) std::this_thread::yield();
  handle.cancel();
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
  EXPECT_EQ(cancelled.load(), 1);
  EXPECT_EQ(slept.load(), 0);
}

Task<int> cleanup(Scheduler& sched, std::atomic<int>& steps) {
  co_await sleep_for(sched, 1ms);  // would throw if the outer cancellation reached it
  steps.fetch_add(1);
  co_await yield_now();
  steps.fetch_add(1);
  co_return 3;
}

Task<int> shielded_cleanup_after_cancel(Scheduler& sched, std::atomic<int>& steps,
                                        std::atomic<int>& result) {
  bool was_cancelled = false;
  try {
    co_await sleep_for(sched, 1h);
  } catch (const TaskCancelled&) {
    was_cancelled = true;
  }
  if (was_cancelled) result.store(co_await shield(cleanup(sched, steps)));
  co_await yield_now();  // unshielded again: throws
  co_return 0;
}

TEST_P(CancelShapes, AShieldedTaskRunsToItsEndInsideACancelledOne) {
  Scheduler sched(GetParam());
  std::atomic<int> steps{0}, result{0};
  auto handle = sched.spawn(shielded_cleanup_after_cancel(sched, steps, result));
  while (sched.reactor()->pending_timers() == 0) std::this_thread::yield();
  handle.cancel();
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
  EXPECT_EQ(steps.load(), 2);
  EXPECT_EQ(result.load(), 3);
}

Task<long> crunch(std::atomic<bool>& started, std::atomic<bool>& saw_request) {
  started.store(true);
  long iterations = 0;
  while (!co_await cancellation_requested()) ++iterations;
  saw_request.store(true);
  co_await throw_if_cancelled();
  co_return iterations;
}

TEST_P(CancelShapes, ACpuBoundLoopPollsForCancellationWithoutSuspending) {
  Scheduler sched(GetParam());
  std::atomic<bool> started{false}, saw_request{false};
  auto handle = sched.spawn(crunch(started, saw_request));
  while (!started.load()) std::this_thread::yield();
  handle.cancel();
  handle.wait_blocking();
  EXPECT_TRUE(saw_request.load());
  EXPECT_THROW(handle.take_result(), TaskCancelled);
}

// Cancel-safety of a sleep: cancellation races the timer's expiry. Either outcome is fine;
// what must hold is that every task ends, none hangs, and no timer node is left behind.
Task<int> short_sleep(Scheduler& sched, std::chrono::microseconds d) {
  co_await sleep_for(sched, d);
  co_return 1;
}

TEST_P(CancelShapes, CancelRacingATimerLeavesNoNodeAndLosesNoTask) {
  Scheduler sched(GetParam());
  const std::size_t rounds = test::scaled(10'000, 5);
  std::mt19937 rng(1234);
  std::size_t completed = 0, cancelled = 0;
  std::vector<JoinHandle<int>> batch;
  for (std::size_t i = 0; i < rounds; ++i) {
    batch.push_back(sched.spawn(short_sleep(sched, std::chrono::microseconds(rng() % 50))));
    if (rng() % 2 == 0) std::this_thread::yield();
    batch.back().cancel();
    if (batch.size() == 64 || i + 1 == rounds) {
      for (auto& h : batch) {
        h.wait_blocking();
        try {
          completed += static_cast<std::size_t>(h.take_result());
        } catch (const TaskCancelled&) {
          ++cancelled;
        }
      }
      batch.clear();
    }
  }
  EXPECT_EQ(completed + cancelled, rounds);
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);
}

// Cancel-safety of a join wait: the awaited task completes while the awaiter is cancelled.
// The awaiter either gets the value or TaskCancelled; never both, never neither, no hang.
TEST_P(CancelShapes, CancelRacingACompletionOfTheAwaitedTaskIsExact) {
  Scheduler sched(GetParam());
  const std::size_t rounds = test::scaled(10'000, 5);
  std::mt19937 rng(99);
  std::size_t values = 0, cancelled = 0;
  std::vector<std::atomic<int>> outcomes(rounds);
  std::vector<JoinHandle<int>> batch;
  for (std::size_t i = 0; i < rounds; ++i) {
    auto inner = sched.spawn(short_sleep(sched, std::chrono::microseconds(rng() % 20)));
    batch.push_back(sched.spawn(await_handle(std::move(inner), outcomes[i])));
    if (rng() % 2 == 0) std::this_thread::yield();
    batch.back().cancel();
    if (batch.size() == 64 || i + 1 == rounds) {
      for (auto& h : batch) {
        h.wait_blocking();
        try {
          values += static_cast<std::size_t>(h.take_result());
        } catch (const TaskCancelled&) {
          ++cancelled;
        }
      }
      batch.clear();
    }
  }
  EXPECT_EQ(values + cancelled, rounds);
  // The awaiter saw the value exactly when its task returned it; otherwise it was cancelled
  // while waiting (-1), before it started (0) or just as it started (-2).
  std::size_t saw_value = 0, saw_cancel = 0;
  for (auto& o : outcomes) {
    saw_value += o.load() == 1;
    saw_cancel += o.load() == -1 || o.load() == 0 || o.load() == -2;
  }
  EXPECT_EQ(saw_value, values);
  EXPECT_EQ(saw_cancel, cancelled);
  sched.shutdown();
}

}  // namespace
}  // namespace tiny_coro
