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

  // For the runtime: sleep inside drive() — a blocking epoll_wait — instead of the condvar.
  // While the owner is in there, unpark() calls interrupt(context) (which must make drive()
  // return) instead of signalling the condvar. drive() runs at most once. Returns true if a
  // token was consumed (someone unparked us), false if drive() returned on its own.
  template <class Drive>
  bool park_driving(Drive&& drive, void (*interrupt)(void*) noexcept, void* context);

 private:
  enum : std::uint32_t { kEmpty, kParked, kNotified, kParkedDriving };
  bool try_consume_token() noexcept;

  std::atomic<std::uint32_t> state_{kEmpty};
  std::mutex mutex_;
  std::condition_variable condvar_;
  // Set by the owner before it publishes kParkedDriving; read by unpark() after seeing it.
  void (*interrupt_)(void*) noexcept = nullptr;
  void* interrupt_context_ = nullptr;
};

template <class Drive>
bool Parker::park_driving(Drive&& drive, void (*interrupt)(void*) noexcept, void* context) {
  if (try_consume_token()) return true;
  // Written only when they change (in practice once): a late unpark() from an earlier
  // round may still be reading them.
  if (interrupt_ != interrupt || interrupt_context_ != context) {
    interrupt_ = interrupt;
    interrupt_context_ = context;
  }
  std::uint32_t expected = kEmpty;
  // release: publishes interrupt_ to the unpark() that reads kParkedDriving (its exchange is
  // acq_rel). acquire on failure: we consume the token that unpark() published.
  if (!state_.compare_exchange_strong(expected, kParkedDriving, std::memory_order_release,
                                      std::memory_order_acquire)) {
    // relaxed: only this thread parks; the failed CAS's acquire already paired with the
    // unpark() that left the token.
    state_.store(kEmpty, std::memory_order_relaxed);
    return true;
  }
  drive();
  // acquire: pairs with unpark()'s exchange when it left a token. An unpark() that saw
  // kParkedDriving and interrupts after this point only makes the next drive() return early.
  return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;
}

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Parker;
#endif
