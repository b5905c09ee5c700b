// Parker: puts one thread to sleep until another unparks it, without ever losing a wake-up.
//
// Protocol (the three-state word of Tokio's park.rs, written for a condvar):
//   state_ is kEmpty, kParked (the owner is, or is about to be, asleep) or kNotified (a token
//   is waiting). unpark() swaps in kNotified and only touches the mutex when it saw kParked,
//   so waking a running thread costs one atomic exchange. park() consumes a token if there is
//   one; otherwise it moves kEmpty -> kParked under the mutex and sleeps until the state
//   becomes kNotified. An unpark that lands before park() leaves the token, so the next park
//   returns at once: the wake cannot be lost in the window between "decide to sleep" and
//   "sleep".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tiny_coro {

class Parker {
 public:
  Parker() = default;
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  // Blocks the calling thread (the one owner) until a token is available, then consumes it.
  void park();
  // As park(), but gives up after `timeout`. Returns true if it consumed a token.
  bool park_for(std::chrono::nanoseconds timeout);
  // Hands the owner one token, waking it if it sleeps. Any thread; tokens do not accumulate.
  void unpark() noexcept;

 private:
  enum : std::uint32_t { kEmpty, kParked, kNotified };
  bool try_consume_token() noexcept;

  std::atomic<std::uint32_t> state_{kEmpty};
  std::mutex mutex_;
  std::condition_variable condvar_;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Parker;
#endif
