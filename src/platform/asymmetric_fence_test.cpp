#include <tiny_coro/detail/asymmetric_fence.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace tiny_coro::detail {
namespace {

// The store-buffering litmus test with one light and one heavy side: each thread stores its
// flag and loads the other's; with a fence pair at least one load sees the other store. A
// light_fence() alone on both sides lets x86 return 0 from both loads (the stores still sit
// in their store buffers), which is what the heavy side must rule out. Two threads only (a
// third spinning one would starve on two cores): this one runs the rounds and the light
// side, the other the heavy side; each waits a varying few iterations before its store, so
// that in some rounds the two overlap to the nanosecond.
TEST(AsymmetricFence, ALightAndAHeavyFenceNeverBothMissTheOtherStore) {
  if (!asymmetric_fences_available()) GTEST_SKIP() << "membarrier is not available here";
  constexpr std::uint32_t kRounds = 20'000;
  std::atomic<std::uint32_t> started{0};   // the round the heavy side may start
  std::atomic<std::uint32_t> finished{0};  // the round the heavy side has finished
  // relaxed: the litmus test itself; the fences under test order these accesses, and the
  // round counters (acquire/release) order the rounds.
  std::atomic<int> light_flag{0};
  std::atomic<int> heavy_flag{0};
  std::atomic<int> heavy_saw{0};
  auto pause = [](std::uint32_t iterations) {
    for (std::uint32_t i = 0; i < iterations; ++i)
      std::atomic_signal_fence(std::memory_order_seq_cst);
  };
  std::thread heavy_side([&] {
    for (std::uint32_t r = 1; r <= kRounds; ++r) {
      while (started.load(std::memory_order_acquire) != r) {
      }
      pause(r % 7 * 8);
      heavy_flag.store(1, std::memory_order_relaxed);
      heavy_fence();
      heavy_saw.store(light_flag.load(std::memory_order_relaxed), std::memory_order_relaxed);
      finished.store(r, std::memory_order_release);
    }
  });
  std::uint32_t both_missed = 0;
  for (std::uint32_t r = 1; r <= kRounds; ++r) {
    light_flag.store(0, std::memory_order_relaxed);
    heavy_flag.store(0, std::memory_order_relaxed);
    started.store(r, std::memory_order_release);  // publishes the resets above
    pause(r % 11 * 8);
    light_flag.store(1, std::memory_order_relaxed);
    light_fence();
    const int light_saw = heavy_flag.load(std::memory_order_relaxed);
    while (finished.load(std::memory_order_acquire) != r) {
    }
    both_missed += light_saw == 0 && heavy_saw.load(std::memory_order_relaxed) == 0;
  }
  heavy_side.join();
  EXPECT_EQ(both_missed, 0u) << "rounds in which neither side saw the other's store";
}

// Registration belongs to a process: a child of fork() issues the heavy fence too (it
// registers again if it must) instead of stopping.
TEST(AsymmetricFence, AForkedChildIssuesTheHeavyFenceToo) {
  if (!asymmetric_fences_available()) GTEST_SKIP() << "membarrier is not available here";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    heavy_fence();
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace tiny_coro::detail
