#include <tiny_coro/detail/bounded_ring.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/scale.h"

namespace tiny_coro::detail {
namespace {

TEST(BoundedRing, KeepsFifoOrderAndReportsFullAndEmpty) {
  BoundedRing<int> ring(3);  // not a power of two: the index uses %
  std::optional<int> out;
  EXPECT_EQ(ring.try_pop(out), RingStatus::kBlocked);
  for (int lap = 0; lap < 5; ++lap) {  // several laps over the same slots
    for (int v = 0; v < 3; ++v) {
      EXPECT_EQ(ring.try_push([&]() noexcept { return lap * 10 + v; }), RingStatus::kDone);
    }
    EXPECT_TRUE(ring.full());
    bool called = false;
    EXPECT_EQ(ring.try_push([&]() noexcept { return called = true, -1; }), RingStatus::kBlocked);
    EXPECT_FALSE(called) << "a push that fails must not construct the value";
    for (int v = 0; v < 3; ++v) {
      out.reset();
      ASSERT_EQ(ring.try_pop(out), RingStatus::kDone);
      EXPECT_EQ(out, lap * 10 + v);
    }
    EXPECT_TRUE(ring.empty());
  }
}

TEST(BoundedRing, CapacityOneAlternates) {
  BoundedRing<int> ring(1);
  std::optional<int> out;
  for (int v = 0; v < 100; ++v) {
    ASSERT_EQ(ring.try_push([&]() noexcept { return v; }), RingStatus::kDone);
    ASSERT_EQ(ring.try_push([&]() noexcept { return v; }), RingStatus::kBlocked);
    ASSERT_EQ(ring.try_pop(out), RingStatus::kDone);
    ASSERT_EQ(out, v);
    ASSERT_EQ(ring.try_pop(out), RingStatus::kBlocked);
  }
}

TEST(BoundedRing, CloseRefusesPushesButDrainsWhatIsBuffered) {
  BoundedRing<std::unique_ptr<int>> ring(4);
  ASSERT_EQ(ring.try_push([]() noexcept { return std::make_unique<int>(1); }), RingStatus::kDone);
  ASSERT_EQ(ring.try_push([]() noexcept { return std::make_unique<int>(2); }), RingStatus::kDone);
  EXPECT_TRUE(ring.close());
  EXPECT_FALSE(ring.close());
  EXPECT_EQ(ring.try_push([]() noexcept { return std::make_unique<int>(3); }), RingStatus::kClosed);
  std::optional<std::unique_ptr<int>> out;
  ASSERT_EQ(ring.try_pop(out), RingStatus::kDone);
  EXPECT_EQ(**out, 1);
  ASSERT_EQ(ring.try_pop(out), RingStatus::kDone);
  EXPECT_EQ(**out, 2);
  EXPECT_EQ(ring.try_pop(out), RingStatus::kClosed);
}

TEST(BoundedRing, DestroysWhatIsLeftInIt) {
  const long before = test::LifetimeProbe::live();
  {
    BoundedRing<test::LifetimeProbe> ring(8);
    for (int i = 0; i < 13; ++i) {  // wraps, leaving 5 behind
      ASSERT_EQ(ring.try_push([]() noexcept { return test::LifetimeProbe{}; }), RingStatus::kDone);
      if (i < 8) {
        std::optional<test::LifetimeProbe> out;
        ASSERT_EQ(ring.try_pop(out), RingStatus::kDone);
      }
    }
    EXPECT_EQ(test::LifetimeProbe::live(), before + 5);
  }
  EXPECT_EQ(test::LifetimeProbe::live(), before);
}

// Threads hammer a small ring (many wrap-arounds, constant full/empty transitions and
// half-finished slots); every value must come out exactly once, and in each producer's order.
void stress(std::size_t capacity, int producers, int consumers) {
  const std::uint64_t per_producer = test::scaled(200'000);
  BoundedRing<std::uint64_t> ring(capacity);
  std::vector<std::atomic<std::uint8_t>> seen(per_producer * static_cast<std::uint64_t>(producers));
  std::atomic<int> producers_left{producers};
  std::atomic<bool> order_broken{false};

  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      const std::uint64_t base = static_cast<std::uint64_t>(p) * per_producer;
      for (std::uint64_t i = 0; i < per_producer;) {
        if (ring.try_push([&]() noexcept { return base + i; }) == RingStatus::kDone) {
          ++i;
        } else {
          std::this_thread::yield();
        }
      }
      if (producers_left.fetch_sub(1) == 1) ring.close();
    });
  }
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      // A consumer sees each producer's values in increasing order (FIFO per producer).
      std::vector<std::uint64_t> last(static_cast<std::size_t>(producers), 0);
      std::vector<bool> any(static_cast<std::size_t>(producers), false);
      std::optional<std::uint64_t> out;
      for (;;) {
        const RingStatus status = ring.try_pop(out);
        if (status == RingStatus::kClosed) return;
        if (status == RingStatus::kBlocked) {
          std::this_thread::yield();
          continue;
        }
        const std::uint64_t v = *out;
        seen[v].fetch_add(1, std::memory_order_relaxed);
        const auto from = static_cast<std::size_t>(v / per_producer);
        if (any[from] && v <= last[from]) order_broken.store(true);
        any[from] = true;
        last[from] = v;
      }
    });
  }
  for (auto& t : threads) t.join();

  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  EXPECT_EQ(wrong, 0u) << "values lost or popped twice";
  EXPECT_FALSE(order_broken.load()) << "a producer's values overtook each other";
}

TEST(BoundedRing, StressCapacityOne) { stress(1, 2, 2); }
TEST(BoundedRing, StressCapacityThree) { stress(3, 3, 3); }
TEST(BoundedRing, StressCapacitySixtyFour) { stress(64, 4, 4); }

}  // namespace
}  // namespace tiny_coro::detail
