#include <tiny_coro/async_event.h>

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "support/wait_for.h"

namespace tiny_coro {
namespace {

Task<void> wait_then_count(Event& event, std::atomic<int>& waiting, std::atomic<int>& passed) {
  waiting.fetch_add(1);
  co_await event.wait();
  passed.fetch_add(1);
}

TEST(Event, SetReleasesEveryWaiterAndLetsLaterWaitsThrough) {
  std::atomic<int> waiting{0};
  std::atomic<int> passed{0};
  Scheduler sched(2);
  Event event(sched);
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < 50; ++i)
    handles.push_back(sched.spawn(wait_then_count(event, waiting, passed)));
  ASSERT_TRUE(test::wait_for([&] { return waiting.load() == 50; }));
  EXPECT_EQ(passed.load(), 0);  // nobody passes before set()
  event.set();                  // from a thread that is not a worker
  for (auto& handle : handles) ASSERT_TRUE(test::wait_for([&] { return handle.is_finished(); }));
  EXPECT_EQ(passed.load(), 50);
  auto late = sched.spawn(wait_then_count(event, waiting, passed));
  ASSERT_TRUE(test::wait_for([&] { return late.is_finished(); }));
  EXPECT_EQ(passed.load(), 51);
  event.reset();
  EXPECT_FALSE(event.is_set());
}

Task<void> work_then_done(WaitGroup& group, std::atomic<int>& finished) {
  co_await yield_now();
  finished.fetch_add(1);
  group.done();
}

Task<int> wait_for_group(Scheduler& sched, WaitGroup& group, std::atomic<int>& finished) {
  group.add(100);
  for (int i = 0; i < 100; ++i) sched.spawn(work_then_done(group, finished));
  co_await group.wait();
  co_return finished.load();
}

TEST(WaitGroup, WaitReturnsOnlyAfterEveryPieceOfWorkIsDone) {
  std::atomic<int> finished{0};
  Scheduler sched(2);
  WaitGroup group(sched);
  EXPECT_EQ(sched.block_on(wait_for_group(sched, group, finished)), 100);
}

}  // namespace
}  // namespace tiny_coro
