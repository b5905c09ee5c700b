// Stress counts shrink under sanitizers, which slow atomics and allocation 5-20x; the oracle
// (exact counts) stays the same.
#pragma once

#include <cstddef>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::test {

#if defined(TINY_CORO_TSAN) || defined(TINY_CORO_ASAN)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

constexpr std::size_t scaled(std::size_t full, std::size_t divisor = 10) noexcept {
  return kSanitized ? (full / divisor > 0 ? full / divisor : 1) : full;
}

// Whether a chain of `depth` nested co_awaits fits on the stack: symmetric transfer is a
// guaranteed tail call with clang, and with g++ only when optimising without sanitizers.
constexpr bool deep_symmetric_transfer_supported() noexcept {
#if defined(__clang__)
  return true;
#elif defined(__OPTIMIZE__) && !defined(TINY_CORO_TSAN) && !defined(TINY_CORO_ASAN)
  return true;
#else
  return false;
#endif
}

}  // namespace tiny_coro::test
