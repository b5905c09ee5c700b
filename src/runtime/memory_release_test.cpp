// The scheduler gives memory back once a burst has ended and it has stayed idle
// (src/runtime/memory_release.cpp). Under TSan this runs the release beside live workers.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include <tiny_coro/detail/frame_allocator.h>
#include <tiny_coro/detail/page_allocator.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/task.h>
#include <tiny_coro/timer.h>

#include "runtime/scheduler_core.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

Task<int> add(int a, int b) { co_return a + b; }

Task<void> sleep_briefly(Scheduler& sched) { co_await sleep_for(sched, 1); }

TEST(MemoryRelease, AnIdleSchedulerGivesBackWhatABurstLeftAndKeepsWorking) {
  Scheduler sched(2);
  auto& core = static_cast<detail::SchedulerCore&>(detail::executor_of(sched));
  const std::uint32_t releases_before = core.memory_releases();
  // The end of a burst as the frame allocator sees it: far more frames freed than a thread's
  // cache keeps, so most are kept in the shared depot as spare.
  constexpr std::size_t kFrameSize = 512;
  constexpr std::size_t kFrames = (std::size_t{100} << 20) / kFrameSize;
  std::vector<void*> frames;
  frames.reserve(kFrames);
  for (std::size_t i = 0; i < kFrames; ++i) frames.push_back(detail::allocate_frame(kFrameSize));
  for (void* frame : frames) detail::free_frame(frame, kFrameSize);
  if (detail::frame_bytes_in_depot() < (std::size_t{64} << 20)) {
    GTEST_SKIP() << "frames are not cached in this build (ASan bypasses the cache)";
  }
  // And a large array's pages, kept for the next burst's.
  detail::PageAllocator<char> pages;
  constexpr std::size_t kArrayBytes = std::size_t{4} << 20;
  pages.deallocate(pages.allocate(kArrayBytes), kArrayBytes);
  // Work that leaves the timer heap and the task tables something to give back, then lets
  // the workers fall asleep: the last of them releases a second later.
  std::vector<JoinHandle<void>> sleepers;
  for (int i = 0; i < 2000; ++i) sleepers.push_back(sched.spawn(sleep_briefly(sched)));
  for (auto& sleeper : sleepers) sleeper.wait_blocking();
  ASSERT_TRUE(test::wait_for([&] { return core.memory_releases() > releases_before; }));
  // The burst's frames left the depot with the release (a few batches may have come back
  // since, from the sleepers' frames).
  EXPECT_LT(detail::frame_bytes_in_depot(), std::size_t{1} << 20);
  EXPECT_EQ(detail::page_bytes_kept(), 0u);
  // Everything still works: spawning, timers, and the frames it allocates afresh.
  EXPECT_EQ(sched.block_on(add(2, 3)), 5);
  sched.block_on(sleep_briefly(sched));
}

}  // namespace
}  // namespace tiny_coro
