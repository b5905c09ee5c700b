#include <tiny_coro/steal_queue.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

TEST(StealQueue, OwnerPopsLifoAndThievesStealFifo) {
  StealQueue<std::uintptr_t, 4> queue;
  for (std::uintptr_t i = 1; i <= 3; ++i) queue.push(i);
  EXPECT_EQ(queue.pop(), 3u);
  auto stolen = queue.steal();
  ASSERT_EQ(stolen.status, StealStatus::kSuccess);
  EXPECT_EQ(stolen.value, 1u);
  EXPECT_EQ(queue.pop(), 2u);
  EXPECT_EQ(queue.pop(), std::nullopt);
  EXPECT_EQ(queue.steal().status, StealStatus::kEmpty);
}

TEST(StealQueue, GrowsWhenFullAndKeepsEveryItem) {
  StealQueue<std::uintptr_t, 4> queue;
  for (std::uintptr_t i = 1; i <= 100; ++i) queue.push(i);
  EXPECT_GE(queue.capacity(), 100u);
  for (std::uintptr_t i = 1; i <= 50; ++i) {
    auto stolen = queue.steal();
    ASSERT_EQ(stolen.status, StealStatus::kSuccess);
    EXPECT_EQ(stolen.value, i);
  }
  for (std::uintptr_t i = 100; i > 50; --i) EXPECT_EQ(queue.pop(), i);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(StealQueue, WrapsAroundWithoutGrowingWhenDrainedInStep) {
  StealQueue<std::uintptr_t, 4> queue;
  for (std::uintptr_t i = 0; i < 1000; ++i) {
    queue.push(i);
    queue.push(i + 1);
    EXPECT_EQ(queue.pop(), i + 1);
    EXPECT_EQ(queue.steal().value, i);
  }
  EXPECT_EQ(queue.capacity(), 4u);
}

TEST(StealQueue, TheOwnerTakesTheOldestItemsInOnePieceOrNotAtAll) {
  StealQueue<std::uintptr_t, 4> queue;
  for (std::uintptr_t i = 1; i <= 10; ++i) queue.push(i);
  std::uintptr_t batch[4];
  EXPECT_EQ(queue.take_oldest(std::span<std::uintptr_t>(batch), 7), 0u);  // would leave 6 < 7
  ASSERT_EQ(queue.take_oldest(std::span<std::uintptr_t>(batch), 6), 4u);
  EXPECT_EQ(batch[0], 1u);
  EXPECT_EQ(batch[3], 4u);
  EXPECT_EQ(queue.steal().value, 5u);  // thieves continue after the batch
  EXPECT_EQ(queue.pop(), 10u);
  EXPECT_EQ(queue.approx_size(), 4u);
}

TEST(StealQueue, TheOwnerTakesBackOnlyTheNewestItem) {
  StealQueue<std::uintptr_t, 4> queue;
  EXPECT_FALSE(queue.pop_if_newest(1));  // empty
  for (std::uintptr_t i = 1; i <= 3; ++i) queue.push(i);
  EXPECT_FALSE(queue.pop_if_newest(2));
  EXPECT_FALSE(queue.pop_if_newest(1));
  EXPECT_EQ(queue.approx_size(), 3u);
  EXPECT_TRUE(queue.pop_if_newest(3));
  EXPECT_EQ(queue.steal().value, 1u);
  EXPECT_TRUE(queue.pop_if_newest(2));
  EXPECT_FALSE(queue.pop_if_newest(2));  // its slot still holds it, but it is gone
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(StealQueue, ATakeBackPutsTheQueueInLightModeUntilTheOwnerLeavesIt) {
  const bool offered = detail::asymmetric_fences_available();
  StealQueue<std::uintptr_t, 4> queue;
  EXPECT_FALSE(queue.in_light_mode());
  for (std::uintptr_t i = 1; i <= 3; ++i) queue.push(i);
  EXPECT_TRUE(queue.pop_if_newest(3));
  EXPECT_EQ(queue.in_light_mode(), offered);
  EXPECT_EQ(queue.steal().value, 1u);  // a thief pays the heavy fence, and takes the oldest
  queue.leave_light_mode();
  EXPECT_FALSE(queue.in_light_mode());
  EXPECT_EQ(queue.steal().value, 2u);
  queue.push(4);
  EXPECT_FALSE(queue.pop_if_newest(2));  // a take-back that finds another item changes nothing
  EXPECT_FALSE(queue.in_light_mode());
  EXPECT_TRUE(queue.pop_if_newest(4));
  EXPECT_EQ(queue.in_light_mode(), offered);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(StealQueue, TheCheapPushLeavesTheFirstItemAndGrowthToPush) {
  StealQueue<std::uintptr_t, 4> queue;
  EXPECT_FALSE(queue.push_if_cheap(1));  // empty: the push that fills it may owe a wake-up
  EXPECT_EQ(queue.approx_size(), 0u);
  queue.push(1);
  for (std::uintptr_t i = 2; i <= 4; ++i) EXPECT_TRUE(queue.push_if_cheap(i));
  EXPECT_FALSE(queue.push_if_cheap(5));  // full: the ring must grow
  EXPECT_EQ(queue.capacity(), 4u);
  queue.push(5);
  EXPECT_TRUE(queue.push_if_cheap(6));
  EXPECT_EQ(queue.steal().value, 1u);
  for (std::uintptr_t i = 6; i >= 2; --i) EXPECT_EQ(queue.pop(), i);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

// Oracle: each pushed item is taken exactly once, by the owner or one thief. The owner's
// take-backs run in light mode (steal_queue.h) where the system offers it; with
// `switch_modes` the owner leaves it every fourth item, so that thieves also meet the mode's
// changes.
void stress(int thieves, std::size_t items, bool switch_modes = false) {
  StealQueue<std::uintptr_t, 4> queue;  // tiny ring: growth and wrap-around all the time
  std::vector<std::atomic<std::uint8_t>> taken(items + 1);
  std::atomic<bool> done{false};
  std::atomic<std::size_t> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thieves; ++t) {
    threads.emplace_back([&] {
      std::size_t mine = 0;
      for (;;) {
        auto stolen = queue.steal();
        if (stolen.status == StealStatus::kSuccess) {
          taken[stolen.value].fetch_add(1, std::memory_order_relaxed);
          ++mine;
        } else if (stolen.status == StealStatus::kEmpty && done.load(std::memory_order_acquire)) {
          break;
        }
      }
      total.fetch_add(mine);
    });
  }
  std::size_t owner_took = 0;
  for (std::uintptr_t i = 1; i <= items; ++i) {
    // Half the pushes as a fork makes them (fork_queue.h): the cheap push, else the full one.
    if (i % 2 != 0 || !queue.push_if_cheap(i)) queue.push(i);
    // A join taking back the task it just spawned, racing the thieves for it; and one whose
    // task is no longer the newest, which must leave the queue as it is.
    if (i % 5 == 0 && queue.pop_if_newest(i)) {
      taken[i].fetch_add(1, std::memory_order_relaxed);
      ++owner_took;
    }
    // Item i is the newest here, or a thief took it as the only item and the queue is empty.
    if (i % 7 == 0 && i % 5 != 0) {
      EXPECT_FALSE(queue.pop_if_newest(i - 1));
    }
    if (switch_modes && i % 4 == 0) queue.leave_light_mode();
    if (i % 3 == 0) {  // the owner pops too, racing the thieves for the last item
      if (auto item = queue.pop()) {
        taken[*item].fetch_add(1, std::memory_order_relaxed);
        ++owner_took;
      }
    }
    if (i % 64 == 0) {  // and now and then takes a batch from the thieves' end
      std::uintptr_t batch[8];
      const std::size_t n = queue.take_oldest(std::span<std::uintptr_t>(batch), 1);
      for (std::size_t k = 0; k < n; ++k) taken[batch[k]].fetch_add(1, std::memory_order_relaxed);
      owner_took += n;
    }
  }
  while (auto item = queue.pop()) {
    taken[*item].fetch_add(1, std::memory_order_relaxed);
    ++owner_took;
  }
  done.store(true, std::memory_order_release);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(total.load() + owner_took, items);
  std::size_t wrong = 0;
  for (std::size_t i = 1; i <= items; ++i) wrong += taken[i].load() != 1;
  EXPECT_EQ(wrong, 0u) << "items lost or taken twice";
}

TEST(StealQueue, OneThiefTakesEveryItemExactlyOnceWithTheOwner) {
  stress(1, test::scaled(2'000'000));
}
TEST(StealQueue, TwoThievesTakeEveryItemExactlyOnceWithTheOwner) {
  stress(2, test::scaled(2'000'000));
}
TEST(StealQueue, ThreeThievesTakeEveryItemExactlyOnceWithTheOwner) {
  stress(3, test::scaled(2'000'000));
}
TEST(StealQueue, TwoThievesTakeEveryItemExactlyOnceWhileTheOwnerSwitchesModes) {
  stress(2, test::scaled(2'000'000), /*switch_modes=*/true);
}

}  // namespace
}  // namespace tiny_coro
