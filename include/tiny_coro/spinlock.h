// SpinLock: a test-and-test-and-set lock for critical sections of a few dozen instructions.
// Waiters spin on a plain load (the line stays shared in their caches) and only attempt the
// exchange once the lock looks free; _mm_pause keeps the spinning hyperthread polite.
#pragma once

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tiny_coro {

namespace detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace detail

class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() noexcept {
    for (;;) {
      // acquire: pairs with the release in unlock(), so the previous holder's writes are visible.
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      // relaxed: only a hint that the lock may be free; the exchange above re-checks it.
      while (locked_.load(std::memory_order_relaxed)) detail::cpu_relax();
    }
  }

  [[nodiscard]] bool try_lock() noexcept {
    // relaxed pre-check keeps a failing try_lock from taking the line exclusive.
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }

  // release: publishes the critical section; pairs with the acquire exchange in lock().
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::SpinLock;
#endif
