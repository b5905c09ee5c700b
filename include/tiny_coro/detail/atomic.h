// The one seam through which tiny_coro's lock-free code issues fences.
//
// ThreadSanitizer does not model std::atomic_thread_fence (and g++ warns with -Wtsan when it
// sees one), so a fence-based protocol would both break a -Werror build and produce false
// race reports. Under TSan the fences below vanish and the accesses they ordered are made
// seq_cst / release / acquire instead — the same proof, spelled in a form TSan can check.
// This is crossbeam's `crossbeam_sanitize_thread` trick (crossbeam-deque/src/deque.rs).
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define TINY_CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TINY_CORO_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TINY_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TINY_CORO_ASAN 1
#endif
#endif

namespace tiny_coro::detail {

#ifdef TINY_CORO_TSAN
inline constexpr bool kFencesModelled = false;
#else
inline constexpr bool kFencesModelled = true;
#endif

// The order for an access that a neighbouring fence() orders in normal builds.
constexpr std::memory_order around_fence(std::memory_order normal) noexcept {
  return kFencesModelled ? normal : std::memory_order_seq_cst;
}

// A full StoreLoad barrier. In TSan builds the accesses it orders are seq_cst instead, and
// the barrier becomes a seq_cst read-modify-write of a dummy variable: still a full barrier
// on the hardware (lock xadd on x86), for the sites whose other accesses stay relaxed (the
// wake protocol's "publish work, barrier, read idle state"), and no -Wtsan fence warning.
// On x86-64 it is a locked no-op on the thread's own stack, as g++ and Linux's smp_mb()
// emit: clang emits mfence for the standard fence, which orders more than plain memory
// (non-temporal stores, I/O) and costs far more on AMD cores — it made clang builds of the
// fork path 1.5x slower, where the child's end takes its parent back (fork_queue.h).
inline void fence_seq_cst() noexcept {
#if defined(TINY_CORO_TSAN)
  static std::atomic<int> barrier{0};
  barrier.fetch_add(0, std::memory_order_seq_cst);
#elif defined(__x86_64__)
  asm volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// Publishes every write before it to whoever acquires `var` and sees `value`.
template <class Atomic, class Value>
inline void publish(Atomic& var, Value value) noexcept {
#ifdef TINY_CORO_TSAN
  var.store(value, std::memory_order_release);
#else
  // The fence makes this relaxed store a release (pairs with the reader's acquire); TSan
  // does not model fences, hence the plain release store above.
  std::atomic_thread_fence(std::memory_order_release);
  var.store(value, std::memory_order_relaxed);
#endif
}

}  // namespace tiny_coro::detail
