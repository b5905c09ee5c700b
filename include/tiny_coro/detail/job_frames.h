// Job frames (job.h) come from a per-thread list per size class that keeps no count on its
// hot path: a take is a pop (which also notes the frame's size class for its promise) and a
// free a push. The frame cache (frame_allocator.h) keeps a count and sorts out blocks from
// other threads' part of the heap on every free, which was about 11 of the 185 instructions
// a node of fib cost as a Job (callgrind, fib(30) on one worker). A Job tree frees its
// frames mostly on the thread that made them, in about the order it made them, so the lists
// stay about as long as the tree is deep; what bounds them instead is the worker's fairness
// turn, which hands whatever a list holds past kJobFramesKept to the frame cache (every 61
// turns of the loop; a tree gives the loop a turn every 61 forks), the memory release after
// a burst, and the thread's exit. Misses are served by the frame cache, whose blocks are the
// same sizes. ASan builds go straight to it, so that a use after free is still caught.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <tiny_coro/detail/atomic.h>
#include <tiny_coro/detail/frame_allocator.h>

namespace tiny_coro::detail {

// A frame of no list's size class (or any frame, in ASan builds).
inline constexpr std::uint8_t kNoJobFrameClass = 0xff;
static_assert(frame_cache::kClasses < kNoJobFrameClass);

namespace job_frames {
// Trivial on purpose, as frame_cache::Cache: constinit, so the inline paths reach it without
// a TLS wrapper call, and frees during thread exit still find valid storage.
struct Cache {
  std::array<frame_cache::FreeBlock*, frame_cache::kClasses> heads{};
  bool open = false;    // the thread's cleaner is registered: frees may stay here
  bool closed = false;  // the cleaner ran: frees go to the frame cache
  // The size class of the Job frame this thread allocated last (kNoJobFrameClass: none of
  // the lists'), for the promise constructed in it next (job_promise.h, frame_class_), so
  // that the Job's end can free the frame without destroy(). That promise takes it and
  // leaves kNoJobFrameClass, and so does a frame freed before its promise was made (a
  // parameter's copy threw): a promise whose frame was not the last allocated (the compiler
  // elided its allocation, or its parameters' copies made other Jobs) finds none.
  std::uint8_t made_class = kNoJobFrameClass;
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
  job_frames::Cache& cache = job_frames::tl_cache;
  if (size <= frame_cache::kMaxCachedSize) {
    const std::size_t c = frame_cache::size_class(size);
    cache.made_class = static_cast<std::uint8_t>(c);
    if (frame_cache::FreeBlock* block = frame_cache::pop_block(cache.heads[c])) [[likely]] {
      return block;
    }
  } else {
    cache.made_class = kNoJobFrameClass;
  }
#endif
  return allocate_frame(size);
}

// The size class allocate_job_frame() last served on this thread, unless a promise took it
// or a frame was freed since (then kNoJobFrameClass); none is left behind.
inline std::uint8_t take_job_frame_class() noexcept {
#ifndef TINY_CORO_ASAN
  return std::exchange(job_frames::tl_cache.made_class, kNoJobFrameClass);
#else
  return kNoJobFrameClass;
#endif
}

// free_job_frame() for a frame of size class `size_class` (not kNoJobFrameClass).
inline void free_job_frame_of_class(void* frame, std::uint8_t size_class) noexcept {
#ifndef TINY_CORO_ASAN
  job_frames::Cache& cache = job_frames::tl_cache;
  if (cache.open) [[likely]] {
    frame_cache::push_block(cache.heads[size_class], frame);
    return;
  }
#endif
  free_job_frame_slow(frame, frame_cache::class_bytes(size_class));
}

inline void free_job_frame(void* frame, std::size_t size) noexcept {
#ifndef TINY_CORO_ASAN
  job_frames::Cache& cache = job_frames::tl_cache;
  // This may be a frame whose promise was never made; a later promise must not take its class.
  cache.made_class = kNoJobFrameClass;
  if (size <= frame_cache::kMaxCachedSize) {
    if (cache.open) [[likely]] {
      frame_cache::push_block(cache.heads[frame_cache::size_class(size)], frame);
      return;
    }
  }
#endif
  free_job_frame_slow(frame, size);
}

}  // namespace tiny_coro::detail
