#pragma once

#include <cstddef>
#include <utility>

namespace tiny_coro::detail {

// 128, not 64: on x86-64 the adjacent-line prefetcher pulls 64-byte lines in pairs, so two hot
// atomics 64 bytes apart still bounce together (crossbeam-utils cache_padded.rs, Tokio core.rs).
inline constexpr std::size_t kFalseSharingRange = 128;

template <class T>
struct alignas(kFalseSharingRange) CachePadded {
  T value;

  CachePadded() = default;
  template <class... Args>
  explicit CachePadded(Args&&... args) : value(std::forward<Args>(args)...) {}

  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
};

}  // namespace tiny_coro::detail
