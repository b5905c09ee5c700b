#include <tiny_coro/detail/frame_allocator.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::detail {

#ifdef TINY_CORO_ASAN

void* allocate_frame_slow(std::size_t size) { return ::operator new(size); }
void free_frame_slow(void* frame, std::size_t) noexcept { ::operator delete(frame); }
std::size_t frame_bytes_released() noexcept { return 0; }  // nothing cached: nothing to give
void release_cached_frames() noexcept {}

#else

namespace frame_cache {
constinit thread_local Cache tl_cache;
}  // namespace frame_cache

namespace {

using namespace frame_cache;

// The depot's bound per class; past it blocks go back to the system.
constexpr std::size_t kMaxDepotBatches = 64;

// Counts only what overflowed the caches (a batch at a time), not every large frame.
std::atomic<std::size_t> released_bytes{0};

void delete_list(FreeBlock* block) noexcept {
  while (block != nullptr) {
    FreeBlock* next = block->next;
    ::operator delete(block);
    block = next;
  }
}

class Depot {
 public:
  // Takes ownership of a list of kBatch blocks, or frees it if the depot is full.
  void give(std::size_t size_class, FreeBlock* batch) noexcept {
    {
      std::lock_guard lock(mutex_);
      auto& batches = batches_[size_class];
      if (batches.size() < kMaxDepotBatches) {
        batches.push_back(batch);
        return;
      }
    }
    delete_list(batch);
    // relaxed: a statistic; whoever acts on it takes its own locks.
    released_bytes.fetch_add(kBatch * (size_class + 1) * kGranule, std::memory_order_relaxed);
  }
  // Frees every cached batch.
  void release_all() noexcept {
    std::array<std::vector<FreeBlock*>, kClasses> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(batches_);
    }
    for (auto& batches : taken) {
      for (FreeBlock* batch : batches) delete_list(batch);
    }
  }
  FreeBlock* take(std::size_t size_class) noexcept {
    std::lock_guard lock(mutex_);
    auto& batches = batches_[size_class];
    if (batches.empty()) return nullptr;
    FreeBlock* batch = batches.back();
    batches.pop_back();
    return batch;
  }
  ~Depot() {
    for (auto& batches : batches_) {
      for (FreeBlock* batch : batches) delete_list(batch);
    }
  }

 private:
  std::mutex mutex_;
  std::array<std::vector<FreeBlock*>, kClasses> batches_;
};

Depot& depot() noexcept {
  // Leaked deliberately: threads may free frames during static destruction.
  static Depot* instance = new Depot();
  return *instance;
}

struct FrameCacheCleaner {
  ~FrameCacheCleaner() {
    tl_cache.closed = true;  // after this, every free goes to operator delete
    for (std::size_t c = 0; c < kClasses; ++c) {
      delete_list(tl_cache.heads[c]);
      tl_cache.heads[c] = nullptr;
      tl_cache.counts[c] = 0;
    }
  }
};
thread_local FrameCacheCleaner tl_cleaner;

}  // namespace

void* allocate_frame_slow(std::size_t size) {
  if (size > kMaxCachedSize) return ::operator new(size);
  const std::size_t c = size_class(size);
  if (tl_cache.heads[c] == nullptr && !tl_cache.closed) {
    (void)&tl_cleaner;  // odr-use: registers this thread's cleaner before its cache fills
    if (FreeBlock* batch = depot().take(c)) {
      tl_cache.heads[c] = batch;
      tl_cache.counts[c] = kBatch;
    }
  }
  if (FreeBlock* block = tl_cache.heads[c]) {
    tl_cache.heads[c] = block->next;
    --tl_cache.counts[c];
    return block;
  }
  return ::operator new((c + 1) * kGranule);
}

std::size_t frame_bytes_released() noexcept {
  return released_bytes.load(std::memory_order_relaxed);  // relaxed: a statistic
}

void release_cached_frames() noexcept {
  depot().release_all();
  for (std::size_t c = 0; c < kClasses; ++c) {
    delete_list(tl_cache.heads[c]);
    tl_cache.heads[c] = nullptr;
    tl_cache.counts[c] = 0;
  }
}

void free_frame_slow(void* frame, std::size_t size) noexcept {
  if (size > kMaxCachedSize || tl_cache.closed) {
    ::operator delete(frame);
    return;
  }
  const std::size_t c = size_class(size);
  if (tl_cache.counts[c] == 0) (void)&tl_cleaner;  // a thread that only frees needs it too
  auto* block = static_cast<FreeBlock*>(frame);
  block->next = tl_cache.heads[c];
  tl_cache.heads[c] = block;
  if (++tl_cache.counts[c] < kMaxBlocksPerClass) return;
  // Full: hand the newest kBatch blocks to the depot in one piece.
  FreeBlock* batch = tl_cache.heads[c];
  FreeBlock* last = batch;
  for (std::uint32_t i = 1; i < kBatch; ++i) last = last->next;
  tl_cache.heads[c] = last->next;
  last->next = nullptr;
  tl_cache.counts[c] -= kBatch;
  depot().give(c, batch);
}

#endif

}  // namespace tiny_coro::detail
