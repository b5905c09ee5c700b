#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <latch>

#include "support/lifetime_probe.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;
using test::LifetimeProbe;

// Suspends forever (until shutdown destroys it) inside a nested await, holding a probe in
// each of its two frames.
Task<void> wait_forever_inner(Scheduler& sched, LifetimeProbe) { co_await sleep_for(sched, 24h); }

Task<void> wait_forever(Scheduler& sched, LifetimeProbe probe, std::latch& suspended) {
  suspended.count_down();
  co_await wait_forever_inner(sched, probe);
}

TEST(Shutdown, DestroysThousandsOfSuspendedTasksAndEveryFrameTheyAwait) {
  const long before = LifetimeProbe::live();
  const int count = static_cast<int>(test::scaled(5000));
  std::latch suspended(count);
  {
    Scheduler sched(2);
    for (int i = 0; i < count; ++i) sched.spawn(wait_forever(sched, LifetimeProbe{}, suspended));
    suspended.wait();
    EXPECT_GE(LifetimeProbe::live(), before + count);
  }  // the destructor shuts down
  EXPECT_EQ(LifetimeProbe::live(), before);
}

Task<int> never_finishes(Scheduler& sched) {
  co_await sleep_for(sched, 24h);
  co_return 1;
}

Task<int> join_never(JoinHandle<int> handle, std::latch& waiting) {
  waiting.count_down();
  co_return co_await std::move(handle);
}

TEST(Shutdown, TasksJoiningEachOtherAreAllDestroyed) {
  const long before = LifetimeProbe::live();
  std::latch waiting(1);
  {
    Scheduler sched(2);
    auto target = sched.spawn(never_finishes(sched));
    sched.spawn(join_never(std::move(target), waiting));
    waiting.wait();
  }
  EXPECT_EQ(LifetimeProbe::live(), before);  // ASan also checks for leaked frames
}

TEST(Shutdown, AJoinHandleOutlivingTheSchedulerReportsCancellation) {
  JoinHandle<int> handle;
  {
    Scheduler sched(1);
    handle = sched.spawn(never_finishes(sched));
    sched.shutdown();
    EXPECT_TRUE(handle.is_finished());
  }
  EXPECT_THROW(handle.take_result(), TaskCancelled);
}

TEST(Shutdown, SpawnAfterShutdownCancelsTheTaskAtOnce) {
  Scheduler sched(1);
  sched.shutdown();
  auto handle = sched.spawn(never_finishes(sched));
  EXPECT_TRUE(handle.is_finished());
  EXPECT_THROW(handle.take_result(), TaskCancelled);
}

TEST(Shutdown, IsIdempotentAndLeavesNoThreadsBehind) {
  Scheduler sched(4);
  sched.shutdown();
  sched.shutdown();
  SUCCEED();
}

}  // namespace
}  // namespace tiny_coro
