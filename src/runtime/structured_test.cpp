// Structured concurrency: timeout, when_all, when_any, TaskGroup and with_stop_token — their
// results, and that no child outlives the co_await that owns it.
#include <tiny_coro/async_event.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/stop_token.h>
#include <tiny_coro/task_group.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>
#include <tiny_coro/when.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/random_cancel.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// Counts live instances: a child's frame holds one until it is destroyed.
struct Alive {
  explicit Alive(std::atomic<int>& count) : count_(count) { count_.fetch_add(1); }
  Alive(const Alive&) = delete;
  Alive& operator=(const Alive&) = delete;
  ~Alive() { count_.fetch_sub(1); }
  std::atomic<int>& count_;
};

Task<int> value_after(Scheduler& sched, int value, std::chrono::milliseconds delay) {
  if (delay.count() > 0) co_await sleep_for(sched, delay);
  co_return value;
}

Task<void> sleep_forever(Scheduler& sched, std::atomic<int>& alive) {
  Alive guard(alive);
  co_await sleep_for(sched, 1h);
}

Task<int> fail_after(Scheduler& sched, std::chrono::milliseconds delay) {
  co_await sleep_for(sched, delay);
  throw std::runtime_error("child failed");
}

using test::ended_cancelled;

// --- timeout ---

Task<int> bounded(Scheduler& sched, std::chrono::milliseconds limit,
                  std::chrono::milliseconds work) {
  co_return co_await timeout(sched, limit, value_after(sched, 7, work));
}

TEST(Timeout, ReturnsTheValueOfATaskThatFinishesInTime) {
  Scheduler sched(2);
  EXPECT_EQ(sched.block_on(bounded(sched, 10s, 0ms)), 7);
  EXPECT_EQ(sched.block_on(bounded(sched, 10s, 1ms)), 7);
}

TEST(Timeout, CancelsTheTaskAndThrowsTimedOutOnceItHasFinished) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto run = [&]() -> Task<bool> {
    try {
      co_await timeout(sched, 20ms, sleep_forever(sched, alive));
    } catch (const TimedOut&) {
      co_return alive.load() == 0;  // the bounded task has unwound before TimedOut
    }
    co_return false;
  };
  EXPECT_TRUE(sched.block_on(run()));
}

TEST(Timeout, AZeroDurationCancelsAtTheFirstSuspension) {
  Scheduler sched(1);
  std::atomic<int> alive{0};
  EXPECT_THROW(sched.block_on(timeout(sched, 0ms, sleep_forever(sched, alive))), TimedOut);
  EXPECT_EQ(sched.block_on(timeout(sched, 0ms, value_after(sched, 3, 0ms))), 3);
}

TEST(Timeout, CancellingTheAwaiterCancelsTheBoundedTaskWithTaskCancelled) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto handle = sched.spawn(timeout(sched, 1h, sleep_forever(sched, alive)));
  handle.cancel();
  EXPECT_TRUE(ended_cancelled(handle));
  EXPECT_EQ(alive.load(), 0);
}

TEST(Timeout, PassesOnTheTasksOwnException) {
  Scheduler sched(1);
  EXPECT_THROW(sched.block_on(timeout(sched, 1h, fail_after(sched, 1ms))), std::runtime_error);
}

Task<int> nested_timeouts(Scheduler& sched, std::atomic<int>& alive) {
  try {
    co_await timeout(sched, 1h, timeout(sched, 10ms, sleep_forever(sched, alive)));
  } catch (const TimedOut&) {
    co_return 1;  // the inner one
  }
  co_return 0;
}

TEST(Timeout, NestsAndTheInnerDeadlineWins) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  EXPECT_EQ(sched.block_on(nested_timeouts(sched, alive)), 1);
  EXPECT_EQ(alive.load(), 0);
}

Task<std::optional<int>> recv_or_give_up(Scheduler& sched, Channel<int>& chan) {
  try {
    co_return co_await timeout(sched, 1ms, [](Channel<int>& c) -> Task<std::optional<int>> {
      co_return co_await c.recv();
    }(chan));
  } catch (const TimedOut&) {
    co_return std::nullopt;
  }
}

// Tokio's classic: a value that arrives as the timeout fires is never dropped.
TEST(Timeout, ARecvRacingItsTimeoutLosesNoValue) {
  const int rounds = static_cast<int>(test::scaled(2'000, 5));
  Scheduler sched(2);
  Channel<int> chan(sched, 1);
  std::vector<int> got;
  auto consumer = [&]() -> Task<void> {
    while (static_cast<int>(got.size()) < rounds) {
      const std::optional<int> v = co_await recv_or_give_up(sched, chan);
      if (v) got.push_back(*v);
    }
  };
  auto producer = [&]() -> Task<void> {
    for (int i = 0; i < rounds; ++i) {
      co_await chan.send(i);
      if (i % 3 == 0) co_await sleep_for(sched, 1ms);
    }
  };
  auto p = sched.spawn(producer());
  sched.block_on(consumer());
  p.wait_blocking();
  ASSERT_EQ(static_cast<int>(got.size()), rounds);
  for (int i = 0; i < rounds; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], i);
}

// The deadline counts from the call, read on a coarse clock and refined when the task first
// waits: whether the task waits at once or computes first, TimedOut never comes early.
TEST(Timeout, NeverTimesOutBeforeItsDurationHasPassed) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  constexpr auto kLimit = 30ms;
  auto computes_then_sleeps = [&](std::chrono::milliseconds busy) -> Task<void> {
    const auto until = std::chrono::steady_clock::now() + busy;
    while (std::chrono::steady_clock::now() < until) {
    }
    co_await sleep_forever(sched, alive);
  };
  for (const auto busy : {0ms, 5ms}) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(sched.block_on(timeout(sched, kLimit, computes_then_sleeps(busy))), TimedOut);
    EXPECT_GE(std::chrono::steady_clock::now() - start, kLimit) << "busy " << busy.count() << " ms";
  }
  EXPECT_EQ(alive.load(), 0);
}

// A task that finishes without waiting never needs its deadline: no timer is armed for it.
// One that waits has its timer armed while it waits.
TEST(Timeout, ArmsItsTimerOnlyOnceTheTaskWaits) {
  Scheduler sched(1);
  Reactor& reactor = *sched.reactor();
  auto timers_seen = [&]() -> Task<std::pair<std::size_t, std::size_t>> {
    const std::size_t before_waiting = reactor.pending_timers();
    co_await yield_now();
    co_return std::pair{before_waiting, reactor.pending_timers()};
  };
  const auto [before_waiting, while_waiting] = sched.block_on(timeout(sched, 1h, timers_seen()));
  EXPECT_EQ(before_waiting, 0u);
  EXPECT_EQ(while_waiting, 1u);
  EXPECT_EQ(reactor.pending_timers(), 0u);
}

// The awaiting task is cancelled while the bounded task runs its first stretch, before
// anything is armed: the bounded task's first wait is still cancelled, promptly.
TEST(Timeout, ACancelDuringTheTasksFirstStretchReachesItsFirstWait) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  Event handle_stored(sched);
  JoinHandle<void> handle;
  auto cancels_its_awaiter = [&]() -> Task<void> {
    handle.cancel();
    co_await sleep_forever(sched, alive);
  };
  auto awaiter = [&]() -> Task<void> {
    co_await handle_stored.wait();
    co_await timeout(sched, 1h, cancels_its_awaiter());
  };
  handle = sched.spawn(awaiter());
  handle_stored.set();
  EXPECT_TRUE(ended_cancelled(handle));
  EXPECT_EQ(alive.load(), 0);
}

// The bounded task suspends and is finished by another worker around the moment its
// awaiter hands itself over: each value is received exactly once, by the right awaiter.
TEST(Timeout, ATaskFinishedOnAnotherWorkerAsItsAwaiterWaitsIsAwaitedOnce) {
  const int rounds = static_cast<int>(test::scaled(20'000, 10));
  Scheduler sched(2);
  Channel<int> chan(sched, 1);
  long long sum = 0;
  int received = 0;
  auto consumer = [&]() -> Task<void> {
    for (int i = 0; i < rounds; ++i) {
      sum += co_await timeout(
          sched, 1h, [](Channel<int>& c) -> Task<int> { co_return *co_await c.recv(); }(chan));
      ++received;
    }
  };
  auto producer = [&]() -> Task<void> {
    for (int i = 1; i <= rounds; ++i) co_await chan.send(i);
  };
  auto p = sched.spawn(producer());
  sched.block_on(consumer());
  p.wait_blocking();
  EXPECT_EQ(received, rounds);
  EXPECT_EQ(sum, static_cast<long long>(rounds) * (rounds + 1) / 2);
  EXPECT_EQ(sched.reactor()->pending_timers(), 0u);
}

// --- when_all ---

TEST(WhenAll, ReturnsEveryValueInArgumentOrder) {
  Scheduler sched(2);
  auto run = [&]() -> Task<std::tuple<int, int, std::monostate>> {
    co_return co_await when_all(value_after(sched, 1, 5ms), value_after(sched, 2, 0ms),
                                []() -> Task<void> { co_await yield_now(); }());
  };
  const auto [a, b, c] = sched.block_on(run());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  (void)c;
}

TEST(WhenAll, OfAVectorReturnsAVector) {
  Scheduler sched(2);
  auto run = [&]() -> Task<std::vector<int>> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 100; ++i)
      tasks.push_back(value_after(sched, i, std::chrono::milliseconds(i % 3)));
    co_return co_await when_all(std::move(tasks));
  };
  const std::vector<int> values = sched.block_on(run());
  ASSERT_EQ(values.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], i);
  auto none = []() -> Task<std::vector<int>> {
    co_return co_await when_all(std::vector<Task<int>>{});
  };
  EXPECT_TRUE(sched.block_on(none()).empty());
}

TEST(WhenAll, TheFirstFailureCancelsTheOthersAndIsRethrownAfterAllFinished) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto run = [&]() -> Task<int> {
    try {
      co_await when_all(sleep_forever(sched, alive), fail_after(sched, 5ms),
                        sleep_forever(sched, alive));
    } catch (const std::runtime_error& e) {
      co_return std::string(e.what()) == "child failed" && alive.load() == 0 ? 1 : 2;
    }
    co_return 0;
  };
  EXPECT_EQ(sched.block_on(run()), 1);
}

TEST(WhenAll, CancellingTheParentOfAThousandSleepersReturnsAfterEveryDestructorRan) {
  const int children = static_cast<int>(test::scaled(1'000, 2));
  Scheduler sched(2);
  std::atomic<int> alive{0};
  std::atomic<int> started{0};
  auto sleeper = [&]() -> Task<void> {
    Alive guard(alive);
    started.fetch_add(1);
    co_await sleep_for(sched, 1h);
  };
  std::atomic<int> alive_when_parent_resumed{-1};
  auto parent = [&]() -> Task<void> {
    std::vector<Task<void>> tasks;
    for (int i = 0; i < children; ++i) tasks.push_back(sleeper());
    try {
      co_await when_all(std::move(tasks));
    } catch (const TaskCancelled&) {
      alive_when_parent_resumed.store(alive.load());
      throw;
    }
  };
  auto handle = sched.spawn(parent());
  while (started.load() < children) std::this_thread::yield();  // all are asleep (or about to be)
  handle.cancel();
  EXPECT_TRUE(ended_cancelled(handle));
  EXPECT_EQ(alive_when_parent_resumed.load(), 0);
  EXPECT_EQ(alive.load(), 0);
}

// --- when_any ---

TEST(WhenAny, TheFirstToFinishWinsAndTheLosersHaveFinished) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto run = [&]() -> Task<bool> {
    auto result = co_await when_any(sleep_forever(sched, alive), value_after(sched, 42, 2ms));
    co_return result.index() == 1 && std::get<1>(result) == 42 && alive.load() == 0;
  };
  EXPECT_TRUE(sched.block_on(run()));
}

TEST(WhenAny, OfAVectorNamesTheWinner) {
  Scheduler sched(2);
  auto run = [&]() -> Task<std::pair<std::size_t, int>> {
    std::vector<Task<int>> tasks;
    tasks.push_back(value_after(sched, 10, 1000ms));
    tasks.push_back(value_after(sched, 11, 1ms));
    tasks.push_back(value_after(sched, 12, 1000ms));
    co_return co_await when_any(std::move(tasks));
  };
  const auto [index, value] = sched.block_on(run());
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 11);
}

// A recv racing a short sleep, many rounds: every value sent is received exactly once and in
// order — by a recv that won or by one that completed before its cancel landed (when_any
// discards a loser's result, so the recv records what it took itself). A recv the cancel
// reached consumed nothing.
Task<void> recv_into(Channel<int>& chan, std::vector<int>& got) {
  const std::optional<int> v = co_await chan.recv();
  if (v) got.push_back(*v);  // rounds are sequential: one recv at a time touches `got`
}

TEST(WhenAny, ACancelledRecvConsumesNothing) {
  const int rounds = static_cast<int>(test::scaled(2'000, 5));
  Scheduler sched(2);
  Channel<int> chan(sched, 4);
  std::vector<int> got;
  auto nap = [](Scheduler& s) -> Task<void> { co_await sleep_for(s, 1ms); };
  auto consumer = [&]() -> Task<int> {
    int recv_won = 0;
    while (static_cast<int>(got.size()) < rounds) {
      const auto result = co_await when_any(recv_into(chan, got), nap(sched));
      recv_won += result.index() == 0 ? 1 : 0;
    }
    co_return recv_won;
  };
  auto producer = [&]() -> Task<void> {
    for (int i = 0; i < rounds; ++i) {
      co_await chan.send(i);
      if (i % 5 == 0) co_await sleep_for(sched, 1ms);
    }
  };
  auto p = sched.spawn(producer());
  EXPECT_GT(sched.block_on(consumer()), 0);
  p.wait_blocking();
  ASSERT_EQ(static_cast<int>(got.size()), rounds);
  for (int i = 0; i < rounds; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], i);
}

// --- TaskGroup ---

TEST(TaskGroup, JoinWaitsForEveryTask) {
  Scheduler sched(2);
  std::atomic<int> done{0};
  auto run = [&]() -> Task<void> {
    TaskGroup group(sched);
    for (int i = 0; i < 100; ++i) {
      group.spawn([](Scheduler& s, std::atomic<int>& d, int n) -> Task<void> {
        co_await sleep_for(s, std::chrono::milliseconds(n % 4));
        d.fetch_add(1);
      }(sched, done, i));
    }
    co_await group.join();
  };
  sched.block_on(run());
  EXPECT_EQ(done.load(), 100);
}

TEST(TaskGroup, AFailureCancelsTheSiblingsAndJoinRethrowsIt) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto run = [&]() -> Task<bool> {
    TaskGroup group(sched);
    for (int i = 0; i < 10; ++i) group.spawn(sleep_forever(sched, alive));
    group.spawn([](Scheduler& s) -> Task<void> { co_await fail_after(s, 2ms); }(sched));
    try {
      co_await group.join();
    } catch (const std::runtime_error& e) {
      co_return std::string(e.what()) == "child failed" && alive.load() == 0;
    }
    co_return false;
  };
  EXPECT_TRUE(sched.block_on(run()));
}

TEST(TaskGroup, CancelStopsEveryTaskAndJoinReturns) {
  const int children = static_cast<int>(test::scaled(10'000, 10));
  Scheduler sched(2);
  std::atomic<int> alive{0};
  auto run = [&]() -> Task<int> {
    TaskGroup group(sched);
    for (int i = 0; i < children; ++i) group.spawn(sleep_forever(sched, alive));
    group.cancel();
    group.spawn(sleep_forever(sched, alive));  // spawned into a cancelled group: cancelled too
    co_await group.join();
    co_return alive.load();
  };
  EXPECT_EQ(sched.block_on(run()), 0);
}

TEST(TaskGroup, CancellingTheJoinerCancelsTheGroup) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  std::atomic<bool> joining{false};
  auto run = [&]() -> Task<void> {
    TaskGroup group(sched);
    for (int i = 0; i < 50; ++i) group.spawn(sleep_forever(sched, alive));
    joining.store(true);
    co_await group.join();
  };
  auto handle = sched.spawn(run());
  while (!joining.load()) std::this_thread::yield();
  handle.cancel();
  EXPECT_TRUE(ended_cancelled(handle));
  EXPECT_EQ(alive.load(), 0);
}

// --- std::stop_token ---

TEST(StopToken, RequestStopCancelsTheTask) {
  Scheduler sched(2);
  std::atomic<int> alive{0};
  std::stop_source stop;
  auto handle = sched.spawn(with_stop_token(stop.get_token(), sleep_forever(sched, alive)));
  stop.request_stop();
  EXPECT_TRUE(ended_cancelled(handle));
  EXPECT_EQ(alive.load(), 0);
  EXPECT_EQ(sched.block_on(with_stop_token(std::stop_token{}, value_after(sched, 5, 1ms))), 5);
}

TEST(StopToken, AnAlreadyStoppedTokenCancelsFromTheStart) {
  Scheduler sched(1);
  std::atomic<int> alive{0};
  std::stop_source stop;
  stop.request_stop();
  EXPECT_THROW(sched.block_on(with_stop_token(stop.get_token(), sleep_forever(sched, alive))),
               TaskCancelled);
}

// --- shutdown with cancellations in flight ---

TEST(Structured, ShutdownWhileCombinatorsAndCancelsAreInFlightLeaksNothing) {
  std::atomic<int> alive{0};
  {
    Scheduler sched(2);
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < 50; ++i) {
      handles.push_back(sched.spawn([](Scheduler& s, std::atomic<int>& a) -> Task<void> {
        std::vector<Task<void>> tasks;
        for (int j = 0; j < 10; ++j) tasks.push_back(sleep_forever(s, a));
        co_await timeout(s, 1h, when_all(std::move(tasks)));
      }(sched, alive)));
    }
    for (std::size_t i = 0; i < handles.size(); i += 2) handles[i].cancel();
    sched.shutdown();
  }
  EXPECT_EQ(alive.load(), 0);
}

}  // namespace
}  // namespace tiny_coro
