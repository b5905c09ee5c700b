// SignalSet (signal_set.h): signals arrive as values a task awaits, a cancelled wait consumes
// nothing, close and deadlines end a wait, and a signal during shutdown is harmless. Each
// test is a process of its own (CTest runs them one by one), so blocking signals here
// disturbs nothing else.
#include <tiny_coro/signal_set.h>

#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

Task<int> wait_once(SignalSet& signals, Deadline deadline = {}) {
  co_return co_await signals.wait(deadline);
}

TEST(Signals, ArriveAsValuesInTheOrderSent) {
  Scheduler sched(2);
  SignalSet signals(sched.reactor(), {SIGUSR1, SIGUSR2});
  ASSERT_TRUE(signals) << signals.error().message();
  auto waiter = sched.spawn(wait_once(signals));
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  waiter.wait_blocking();
  EXPECT_EQ(waiter.take_result(), SIGUSR1);
  // Sent before anyone waits: pending, then read.
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
  EXPECT_EQ(sched.block_on(wait_once(signals)), SIGUSR2);
}

TEST(Signals, ADeadlineOrACloseEndsTheWait) {
  // It waits until the dump names each task's wait, which needs the await records.
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  Scheduler sched(2);
  SignalSet signals(sched.reactor(), {SIGUSR1});
  EXPECT_EQ(sched.block_on(wait_once(signals, 20ms)), -ETIMEDOUT);
  auto waiter = sched.spawn(wait_once(signals));
  ASSERT_TRUE(
      test::wait_for([&] { return sched.dump_tasks().find("] signal\n") != std::string::npos; }));
  signals.close();
  waiter.wait_blocking();
  EXPECT_EQ(waiter.take_result(), -ECANCELED);
  EXPECT_EQ(sched.block_on(wait_once(signals)), -EBADF);
}

TEST(Signals, ACancelledWaitConsumesNothing) {
  // It waits until the dump names each task's wait, which needs the await records.
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  Scheduler sched(2);
  SignalSet signals(sched.reactor(), {SIGUSR1});
  auto waiter = sched.spawn(wait_once(signals));
  ASSERT_TRUE(
      test::wait_for([&] { return sched.dump_tasks().find("] signal\n") != std::string::npos; }));
  waiter.cancel();
  waiter.wait_blocking();
  EXPECT_THROW(waiter.take_result(), TaskCancelled);
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  EXPECT_EQ(sched.block_on(wait_once(signals)), SIGUSR1);  // the next wait has it
}

TEST(Signals, BadSignalNumbersAreAClearError) {
  Scheduler sched(1);
  SignalSet signals(sched.reactor(), {SIGUSR1, 100000});
  EXPECT_FALSE(signals);
  EXPECT_EQ(signals.error(), std::errc::invalid_argument);
  EXPECT_EQ(sched.block_on(wait_once(signals)), -EBADF);
}

// Signals that keep arriving while the scheduler shuts down with a wait pending: nothing
// crashes, the process stays alive (the signals stay blocked, so none kills it), and the
// pending wait's frame is destroyed with the scheduler (ASan checks nothing leaks).
TEST(Signals, ASignalDuringShutdownIsHarmless) {
  std::atomic<bool> stop{false};
  {
    Scheduler sched(2);
    SignalSet signals(sched.reactor(), {SIGUSR1});
    std::atomic<int> seen{0};
    sched.spawn([](SignalSet& set, std::atomic<int>& count) -> Task<void> {
      while (co_await set.wait() == SIGUSR1) ++count;
    }(signals, seen));
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    ASSERT_TRUE(test::wait_for([&] { return seen.load() >= 1; }));
    std::thread sender([&] {
      while (!stop.load()) {
        ::kill(::getpid(), SIGUSR1);
        std::this_thread::yield();
      }
    });
    sched.shutdown();
    stop = true;
    sender.join();
  }
  SUCCEED();
}

}  // namespace
}  // namespace tiny_coro
