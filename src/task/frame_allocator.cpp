#include <tiny_coro/detail/frame_allocator.h>

#include <array>
#include <cstdint>
#include <new>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::detail {
namespace {

// Size classes of 64 bytes up to 1 KiB cover the frames the runtime's own tasks and typical
// handlers produce; bigger frames go straight to operator new.
constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 16;
constexpr std::size_t kMaxCachedSize = kGranule * kClasses;
// Per class and thread: enough to absorb a burst of short tasks, small enough that a thread
// that only frees (its frames were made elsewhere) does not hoard memory.
constexpr std::uint32_t kMaxBlocksPerClass = 1024;

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible on purpose: frames freed during thread exit, after the cleaner below
// has run, still find valid storage and are sent to operator delete.
struct FrameCache {
  std::array<FreeBlock*, kClasses> heads{};
  std::array<std::uint32_t, kClasses> counts{};
  bool closed = false;
};
thread_local FrameCache tl_cache;

struct FrameCacheCleaner {
  ~FrameCacheCleaner() {
    tl_cache.closed = true;
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* block = tl_cache.heads[c]) {
        tl_cache.heads[c] = block->next;
        ::operator delete(block);
      }
      tl_cache.counts[c] = 0;
    }
  }
};
thread_local FrameCacheCleaner tl_cleaner;

constexpr std::size_t size_class(std::size_t size) noexcept { return (size - 1) / kGranule; }

}  // namespace

#ifdef TINY_CORO_ASAN

void* allocate_frame(std::size_t size) { return ::operator new(size); }
void free_frame(void* frame, std::size_t) noexcept { ::operator delete(frame); }

#else

void* allocate_frame(std::size_t size) {
  if (size > kMaxCachedSize) return ::operator new(size);
  const std::size_t c = size_class(size);
  if (FreeBlock* block = tl_cache.heads[c]) {
    tl_cache.heads[c] = block->next;
    --tl_cache.counts[c];
    return block;
  }
  (void)&tl_cleaner;  // odr-use: registers this thread's cleaner before its cache fills
  return ::operator new((c + 1) * kGranule);
}

void free_frame(void* frame, std::size_t size) noexcept {
  if (size > kMaxCachedSize) {
    ::operator delete(frame);
    return;
  }
  const std::size_t c = size_class(size);
  if (tl_cache.closed || tl_cache.counts[c] >= kMaxBlocksPerClass) {
    ::operator delete(frame);
    return;
  }
  if (tl_cache.counts[c] == 0) (void)&tl_cleaner;  // a thread that only frees needs it too
  auto* block = static_cast<FreeBlock*>(frame);
  block->next = tl_cache.heads[c];
  tl_cache.heads[c] = block;
  ++tl_cache.counts[c];
}

#endif

}  // namespace tiny_coro::detail
