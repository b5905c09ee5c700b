// Coroutine frames come from a per-thread cache of size classes instead of operator new on
// every call (Asio's recycling allocator does the same): spawn-heavy workloads allocate and
// free a frame per task, and the general-purpose allocator's locking and bookkeeping would
// dominate. The hit path is inline here: a frame's size is a constant of its coroutine, so
// taking one is a thread-local list pop (as cheap as bumping a pointer) and freeing one a
// push. A frame may be freed on another thread than the one that made it; it then joins
// that thread's cache, usually as a stray (below), and a cache that overflows passes a batch to a
// shared depot, from which a thread whose cache ran dry takes a batch back (so frames flow
// from the workers that finish tasks to the ones that spawn them). The depot also keeps
// what a burst of tasks leaves, up to a bound, for the next burst, until a scheduler gives
// it back while idle. ASan builds bypass all of this so that use-after-free on a frame is
// still caught.
//
// Strays. Blocks are not cache-line aligned (aligned, an idle connection cost about 85
// bytes more), so neighbouring blocks share a line. Were a block made by one thread reused
// by another, the two would write that line at every call while each reuses its own hot
// blocks: a stolen fork-join parent frees its earlier children, which the worker it was
// stolen from made, and skynet on 2 workers ran 1.6-2.2 s instead of 1.1-1.35. So a thread
// keeps the blocks from its own part of the heap on its hot list (glibc gives each thread
// an arena of 64 MiB-aligned heaps: the blocks within the 64 MiB of the thread's first
// block from operator new), and every other block on a list of strays, drawn on only when
// the hot list is empty, and handed to the depot first. A block misjudged costs nothing
// but its place in that order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::detail {

// The misses (and every frame in ASan builds): task/frame_allocator.cpp.
void* allocate_frame_slow(std::size_t size);
void free_frame_slow(void* frame, std::size_t size) noexcept;

// Spare frames after a burst, as a scheduler tells that one has ended and memory is worth
// giving back: the bytes the shared depot holds now, and the bytes handed back to operator
// delete so far because it was full.
std::size_t frame_bytes_in_depot() noexcept;
std::size_t frame_bytes_released() noexcept;
// Frees the shared depot's cached frames and the calling thread's own (after a burst).
void release_cached_frames() noexcept;

namespace frame_cache {
// Size classes 16 bytes apart up to about 1 KiB cover the frames the runtime's own tasks and
// typical handlers produce; bigger frames go straight to operator new. Fine classes waste
// little of frames that live long: an idle HTTP connection is one frame (docs/BENCHMARKS.md,
// memory per connection). Each class is 8 bytes short of a multiple of 16, because that is
// what glibc's malloc hands out: a chunk is the request plus an 8-byte header, rounded up to
// 16, so a 384-byte block would take a 400-byte chunk, and 392 bytes fit the same chunk.
inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kClasses = 64;
constexpr std::size_t class_bytes(std::size_t size_class) noexcept {
  return (size_class + 1) * kGranule + 8;
}
inline constexpr std::size_t kMaxCachedSize = class_bytes(kClasses - 1);
// A thread keeps up to two batches per class. Beyond that a batch moves to the shared depot;
// an empty thread takes a batch back from it. One lock per batch lets frames flow from the
// threads that free them (thieves) back to the threads that make them (spawners) — without
// it, a producer/consumer pair of workers pays malloc plus a cross-thread free per task.
inline constexpr std::uint32_t kBatch = 256;
inline constexpr std::uint32_t kMaxBlocksPerClass = 2 * kBatch;

struct FreeBlock {
  FreeBlock* next;
};
// A free list's two operations (here and in job_frames.h). The pop returns null if empty.
inline FreeBlock* pop_block(FreeBlock*& head) noexcept {
  FreeBlock* const block = head;
  if (block != nullptr) head = block->next;
  return block;
}
inline void push_block(FreeBlock*& head, void* frame) noexcept {
  auto* const block = static_cast<FreeBlock*>(frame);
  block->next = head;
  head = block;
}

// Trivially constructible and destructible on purpose: constinit, so that the inline paths
// reach it without a TLS wrapper call, and frames freed during thread exit, after the
// thread's cleaner has emptied it, still find valid storage (the slow path then sends them
// to operator delete).
struct Cache {
  std::array<FreeBlock*, kClasses> heads{};   // blocks from this thread's part of the heap
  std::array<FreeBlock*, kClasses> strays{};  // the others (above)
  // How many more frees of each class stay inline: kMaxBlocksPerClass - 1 less the blocks
  // it holds (on both lists). Zero until the thread's cleaner is registered and again once the
  // cache is closed, so that one test on the inline free sends all three cases the slow way.
  std::array<std::uint32_t, kClasses> room{};
  // The thread's part of the heap: its first block from operator new (0: none yet, and
  // every block it frees is a stray).
  std::uintptr_t home = 0;
  bool closed = false;
  bool open = false;  // the cleaner is registered (slow paths only)
};
extern constinit thread_local Cache tl_cache;

// The span of a glibc thread arena's heap (HEAP_MAX_SIZE on 64-bit), which a thread's own
// blocks share.
inline constexpr unsigned kHomeShift = 26;
inline bool from_home(const Cache& cache, const void* block) noexcept {
  return ((reinterpret_cast<std::uintptr_t>(block) ^ cache.home) >> kHomeShift) == 0;
}

// The smallest class that holds `size` bytes (class 0 for anything up to 24).
constexpr std::size_t size_class(std::size_t size) noexcept {
  return ((size > kGranule ? size : kGranule) + 7) / kGranule - 1;
}
}  // namespace frame_cache

inline void* allocate_frame(std::size_t size) {
#ifndef TINY_CORO_ASAN
  if (size <= frame_cache::kMaxCachedSize) {
    frame_cache::Cache& cache = frame_cache::tl_cache;
    const std::size_t c = frame_cache::size_class(size);
    // Both lists empty (also: a closed cache, emptied for good) goes the slow way.
    if (frame_cache::FreeBlock* block = frame_cache::pop_block(cache.heads[c])) [[likely]] {
      ++cache.room[c];
      return block;
    }
    // Its own ran out. Taken here, not the slow way: a chain of tasks that hop between
    // workers frees a stray for about every block it makes.
    if (frame_cache::FreeBlock* block = frame_cache::pop_block(cache.strays[c])) {
      ++cache.room[c];
      return block;
    }
  }
#endif
  return allocate_frame_slow(size);
}

inline void free_frame(void* frame, std::size_t size) noexcept {
#ifndef TINY_CORO_ASAN
  if (size <= frame_cache::kMaxCachedSize) {
    frame_cache::Cache& cache = frame_cache::tl_cache;
    const std::size_t c = frame_cache::size_class(size);
    // No room: a thread's first free (it must register its cleaner), a closed cache, or a
    // full class (it hands a batch to the depot); all go the slow way.
    if (const std::uint32_t room = cache.room[c]; room != 0) {
      cache.room[c] = room - 1;
      // A branch, not a select: the common case then costs a compare and no address math.
      if (frame_cache::from_home(cache, frame)) [[likely]] {
        frame_cache::push_block(cache.heads[c], frame);
        return;
      }
      frame_cache::push_block(cache.strays[c], frame);
      return;
    }
  }
#endif
  free_frame_slow(frame, size);
}

}  // namespace tiny_coro::detail
