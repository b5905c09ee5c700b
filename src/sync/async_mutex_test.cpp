#include <tiny_coro/async_mutex.h>

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

Task<void> increment(AsyncMutex& mutex, long& counter, int times) {
  for (int i = 0; i < times; ++i) {
    auto guard = co_await mutex.lock();
    ++counter;  // plain: only the mutex orders these (TSan checks)
  }
}

Task<void> contend(Scheduler& sched, AsyncMutex& mutex, long& counter, int tasks, int times) {
  std::vector<JoinHandle<void>> handles;
  for (int t = 0; t < tasks; ++t) handles.push_back(sched.spawn(increment(mutex, counter, times)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(AsyncMutex, AThousandTasksTimesAThousandIncrementsGiveExactlyTheProduct) {
  const int tasks = static_cast<int>(test::scaled(1000));
  const int times = static_cast<int>(test::scaled(1000));
  long counter = 0;
  Scheduler sched(4);
  AsyncMutex mutex(sched);
  sched.block_on(contend(sched, mutex, counter, tasks, times));
  EXPECT_EQ(counter, long{tasks} * times);
}

Task<void> record_when_locked(AsyncMutex& mutex, std::vector<int>& order, int id, int& asked) {
  ++asked;  // one worker: from here to the suspension inside lock() nothing else runs
  auto guard = co_await mutex.lock();
  order.push_back(id);
}

Task<void> queue_waiters_in_order(Scheduler& sched, AsyncMutex& mutex, std::vector<int>& order,
                                  int waiters) {
  auto held = co_await mutex.lock();
  std::vector<JoinHandle<void>> handles;
  int asked = 0;
  for (int id = 0; id < waiters; ++id) {
    handles.push_back(sched.spawn(record_when_locked(mutex, order, id, asked)));
    // Let waiter `id` queue on the mutex before the next one is spawned.
    while (asked < id + 1) co_await yield_now();
  }
  held.unlock();
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(AsyncMutex, WaitersGetTheLockInTheOrderTheyAskedForIt) {
  std::vector<int> order;
  Scheduler sched(1);
  AsyncMutex mutex(sched);
  sched.block_on(queue_waiters_in_order(sched, mutex, order, 50));
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

TEST(AsyncMutex, TryLockFailsWhileHeldAndScopedLockReleases) {
  Scheduler sched(1);
  AsyncMutex mutex(sched);
  ASSERT_TRUE(mutex.try_lock());
  EXPECT_FALSE(mutex.try_lock());
  {
    ScopedLock adopted(mutex);
    ScopedLock moved(std::move(adopted));
    EXPECT_FALSE(adopted.owns_lock());
    EXPECT_TRUE(moved.owns_lock());
  }
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

Task<void> wait_for_lock_forever(AsyncMutex& mutex, test::LifetimeProbe, std::atomic<int>& queued) {
  queued.fetch_add(1);
  auto guard = co_await mutex.lock();
}

TEST(AsyncMutex, WaitersDestroyedByShutdownLeaveTheQueue) {
  const long before = test::LifetimeProbe::live();
  std::atomic<int> queued{0};
  Scheduler sched(2);
  AsyncMutex mutex(sched);
  ASSERT_TRUE(mutex.try_lock());  // held by the test for good
  for (int i = 0; i < 100; ++i)
    sched.spawn(wait_for_lock_forever(mutex, test::LifetimeProbe{}, queued));
  ASSERT_TRUE(test::wait_for([&] { return queued.load() == 100; }));
  sched.shutdown();  // destroys the waiting frames: each unlinks its node
  EXPECT_EQ(test::LifetimeProbe::live(), before);
  mutex.unlock();  // the queue is empty again: unlock frees it instead of waking a ghost
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

}  // namespace
}  // namespace tiny_coro
