// Cancellation raced against completion: the driver shared by the cancel-safety tests and
// bench/cancel_soak.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include <tiny_coro/cancel.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/scheduler.h>

namespace tiny_coro::test {

// Waits for `handle`; whether its task ended with TaskCancelled.
template <class T>
bool ended_cancelled(JoinHandle<T>& handle) {
  handle.wait_blocking();
  try {
    handle.take_result();
  } catch (const TaskCancelled&) {
    return true;
  }
  return false;
}

// Spawns `count` tasks made by `make(i)`, cancelling each at a moment drawn from `rng` (at
// once, after a yield, after a short random spin, or never), and waits for all, 64 at a time;
// returns how many ended cancelled.
template <class Rng, class Make>
std::size_t spawn_and_cancel_randomly(Scheduler& sched, Rng& rng, std::size_t count, Make make) {
  std::vector<JoinHandle<void>> handles;
  std::size_t cancelled = 0;
  auto drain = [&] {
    for (auto& h : handles) cancelled += static_cast<std::size_t>(ended_cancelled(h));
    handles.clear();
  };
  for (std::size_t i = 0; i < count; ++i) {
    handles.push_back(sched.spawn(make(i)));
    switch (rng() % 4) {
      case 0: handles.back().cancel(); break;
      case 1: std::this_thread::yield(); handles.back().cancel(); break;
      case 2: break;  // left to finish
      default:
        for (auto spin = rng() % 400; spin > 0; --spin) {
          std::atomic_signal_fence(std::memory_order_seq_cst);  // a short, random delay
        }
        handles.back().cancel();
    }
    if (handles.size() == 64) drain();
  }
  drain();
  return cancelled;
}

}  // namespace tiny_coro::test
