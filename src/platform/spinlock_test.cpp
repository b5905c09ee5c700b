#include <tiny_coro/spinlock.h>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace tiny_coro {
namespace {

TEST(SpinLock, ExcludesConcurrentIncrements) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50000;
  SpinLock lock;
  long counter = 0;  // plain: only the lock protects it
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter, long{kThreads} * kIncrements);
}

TEST(SpinLock, TryLockFailsWhileHeld) {
  SpinLock lock;
  ASSERT_TRUE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

}  // namespace
}  // namespace tiny_coro
