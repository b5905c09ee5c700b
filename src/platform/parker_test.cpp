#include <tiny_coro/parker.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tiny_coro {
namespace {

TEST(Parker, UnparkBeforeParkIsNotLost) {
  Parker parker;
  parker.unpark();
  parker.park();  // returns at once: the token was waiting
  SUCCEED();
}

TEST(Parker, TokensDoNotAccumulate) {
  Parker parker;
  parker.unpark();
  parker.unpark();
  parker.park();
  EXPECT_FALSE(parker.park_for(std::chrono::milliseconds(20)));
}

TEST(Parker, ParkForTimesOutWithoutAToken) {
  Parker parker;
  EXPECT_FALSE(parker.park_for(std::chrono::milliseconds(10)));
}

TEST(Parker, EveryHandOffBetweenTwoThreadsWakesThePeer) {
  // Ping-pong: each side unparks the other and parks; a lost wake-up hangs the test.
  constexpr int kRounds = 20000;
  Parker ping;
  Parker pong;
  int shared = 0;  // written alternately; the parker must order the accesses (TSan checks)
  std::thread other([&] {
    for (int i = 0; i < kRounds; ++i) {
      pong.park();
      ++shared;
      ping.unpark();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    ++shared;
    pong.unpark();
    ping.park();
  }
  other.join();
  EXPECT_EQ(shared, 2 * kRounds);
}

}  // namespace
}  // namespace tiny_coro
