// Counts live instances, so "every frame was destroyed" is an assertion: put a probe in a
// coroutine's parameters or locals and check live() afterwards.
#pragma once

#include <atomic>

namespace tiny_coro::test {

class LifetimeProbe {
 public:
  LifetimeProbe() noexcept { created_.fetch_add(1, std::memory_order_relaxed); }
  LifetimeProbe(const LifetimeProbe&) noexcept { created_.fetch_add(1, std::memory_order_relaxed); }
  LifetimeProbe(LifetimeProbe&&) noexcept { created_.fetch_add(1, std::memory_order_relaxed); }
  LifetimeProbe& operator=(const LifetimeProbe&) = default;
  ~LifetimeProbe() { destroyed_.fetch_add(1, std::memory_order_relaxed); }

  // relaxed: read after joins / shutdown, which synchronise with every thread that counted.
  static long live() noexcept {
    return created_.load(std::memory_order_relaxed) - destroyed_.load(std::memory_order_relaxed);
  }

 private:
  static inline std::atomic<long> created_{0};
  static inline std::atomic<long> destroyed_{0};
};

}  // namespace tiny_coro::test
