// Job frames (job.h) come from a per-thread list per size class that keeps no count on its
// hot path: a take is a pop and a free a push. The frame cache (frame_allocator.h) keeps a
// count and sorts out blocks from other threads' part of the heap on every free, which was
// about 11 of the 185 instructions a node of fib cost as a Job (callgrind, fib(30) on one
// worker). A Job tree frees its frames mostly on the thread that made them, in about the
// order it made them, so the lists stay about as long as the tree is deep; what bounds them
// instead is the worker's fairness turn, which hands whatever a list holds past
// kJobFramesKept to the frame cache (every 61 turns of the loop; a tree gives the loop a
// turn every 61 forks), the memory release after a burst, and the thread's exit. Misses are served
// by the frame cache, whose blocks are the same sizes. ASan builds go straight to it, so that a use
// after free is still caught.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <tiny_coro/detail/atomic.h>
#include <tiny_coro/detail/frame_allocator.h>

namespace tiny_coro::detail {

namespace job_frames {
// Trivial on purpose, as frame_cache::Cache: constinit, so the inline paths reach it without
// a TLS wrapper call, and frees during thread exit still find valid storage.
struct Cache {
  std::array<frame_cache::FreeBlock*, frame_cache::kClasses> heads{};
  bool open = false;    // the thread's cleaner is registered: frees may stay here
  bool closed = false;  // the cleaner ran: frees go to the frame cache
};
extern constinit thread_local Cache tl_cache;
}  // namespace job_frames

// What a list keeps at a worker's fairness turn: a tree deeper than this is rare, and a
// thread holds at most this many spare frames of each size between turns.
inline constexpr std::uint32_t kJobFramesKept = 256;

// A thread's first free of a Job frame, or one after its cleaner ran (task/job_frames.cpp).
void free_job_frame_slow(void* frame, std::size_t size) noexcept;
// Hands what the calling thread's lists hold past `keep` blocks each to the frame cache.
void trim_job_frames(std::uint32_t keep) noexcept;
// How many blocks of `size` the calling thread's list holds (tests).
std::size_t job_frames_held(std::size_t size) noexcept;

inline void* allocate_job_frame(std::size_t size) {
#ifndef TINY_CORO_ASAN
  if (size <= frame_cache::kMaxCachedSize) {
    job_frames::Cache& cache = job_frames::tl_cache;
    const std::size_t c = frame_cache::size_class(size);
    if (frame_cache::FreeBlock* block = frame_cache::pop_block(cache.heads[c])) [[likely]] {
      return block;
    }
  }
#endif
  return allocate_frame(size);
}

inline void free_job_frame(void* frame, std::size_t size) noexcept {
#ifndef TINY_CORO_ASAN
  if (size <= frame_cache::kMaxCachedSize) {
    job_frames::Cache& cache = job_frames::tl_cache;
    if (cache.open) [[likely]] {
      frame_cache::push_block(cache.heads[frame_cache::size_class(size)], frame);
      return;
    }
  }
#endif
  free_job_frame_slow(frame, size);
}

}  // namespace tiny_coro::detail
