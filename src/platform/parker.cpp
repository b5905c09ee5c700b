#include <tiny_coro/parker.h>

namespace tiny_coro {

bool Parker::try_consume_token() noexcept {
  std::uint32_t expected = kNotified;
  // acquire: pairs with the exchange in unpark(), so whatever the unparker published is seen.
  return state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void Parker::park() {
  if (try_consume_token()) return;
  std::unique_lock lock(mutex_);
  std::uint32_t expected = kEmpty;
  // relaxed on success: the mutex orders this against unpark()'s notify; acquire on failure
  // pairs with unpark()'s exchange, whose token we then consume.
  if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_relaxed,
                                      std::memory_order_acquire)) {
    // relaxed: the failed CAS already acquired the token; no unparker needs what we write.
    state_.store(kEmpty, std::memory_order_relaxed);
    return;
  }
  condvar_.wait(lock, [this] { return try_consume_token(); });
}

bool Parker::park_for(std::chrono::nanoseconds timeout) {
  if (try_consume_token()) return true;
  std::unique_lock lock(mutex_);
  std::uint32_t expected = kEmpty;
  // As in park(): relaxed on success (the mutex orders it against unpark()'s notify); acquire
  // on failure pairs with unpark()'s exchange, whose token we consume.
  if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_relaxed,
                                      std::memory_order_acquire)) {
    state_.store(kEmpty, std::memory_order_relaxed);  // relaxed: as in park()
    return true;
  }
  if (condvar_.wait_for(lock, timeout, [this] { return try_consume_token(); })) return true;
  // Timed out: withdraw from kParked unless a token arrived at the last moment.
  expected = kParked;
  // relaxed on success: we received nothing; acquire on failure pairs with the exchange in
  // the unpark() that left the token at the last moment, so what it published is seen.
  if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_relaxed,
                                     std::memory_order_acquire)) {
    return false;
  }
  state_.store(kEmpty, std::memory_order_relaxed);  // relaxed: as in park()
  return true;
}

void Parker::unpark() noexcept {
  // acq_rel: release publishes the caller's writes to the parked thread (pairs with the acquire
  // in try_consume_token); acquire makes the kParked we may read happen-before our notify.
  const std::uint32_t previous = state_.exchange(kNotified, std::memory_order_acq_rel);
  if (previous == kParkedDriving) {
    interrupt_(interrupt_context_);
    return;
  }
  if (previous != kParked) return;
  // Taking the mutex closes the gap between the parker's CAS to kParked and its wait().
  { std::lock_guard lock(mutex_); }
  condvar_.notify_one();
}

}  // namespace tiny_coro
