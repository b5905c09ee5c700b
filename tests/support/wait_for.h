#pragma once

#include <chrono>
#include <thread>

namespace tiny_coro::test {

// Waits for a condition that other threads make true (an observable state, not elapsed time),
// yielding the CPU meanwhile. Gives up after a generous bound so that a bug fails the test
// instead of hanging it; returns whether the condition became true.
template <class Condition>
bool wait_for(Condition condition, std::chrono::seconds bound = std::chrono::seconds(30)) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace tiny_coro::test
