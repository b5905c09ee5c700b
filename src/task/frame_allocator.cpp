#include <tiny_coro/detail/frame_allocator.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::detail {

#ifdef TINY_CORO_ASAN

void* allocate_frame_slow(std::size_t size) { return ::operator new(size); }
void free_frame_slow(void* frame, std::size_t) noexcept { ::operator delete(frame); }
std::size_t frame_bytes_released() noexcept { return 0; }  // nothing cached: nothing to give
std::size_t frame_bytes_in_depot() noexcept { return 0; }
void release_cached_frames() noexcept {}

#else

namespace frame_cache {
constinit thread_local Cache tl_cache;
}  // namespace frame_cache

namespace {

using namespace frame_cache;

// The depot's bound, all classes together; past it batches go back to the system. Large on
// purpose: a burst of a million small tasks (when_all over a vector, a million sleepers
// cancelled) frees about 128 MB of frames, and a next burst that takes them back from here
// skips malloc, the page faults and glibc's trimming in between: making and dropping a
// million tasks went from 64-90 to 28 ns per task (docs/BENCHMARKS.md, cancellation). What
// the depot holds goes back when the scheduler has been idle a while
// (runtime/memory_release.cpp).
constexpr std::size_t kMaxDepotBytes = std::size_t{256} << 20;

// Counts what went past the depot back to operator delete (a batch at a time), not every
// large frame: with what the depot holds, the sign that a burst of tasks has ended.
std::atomic<std::size_t> released_bytes{0};
// The depot's byte count, readable without its lock (a worker asks on its way to park).
std::atomic<std::size_t> depot_bytes{0};

constexpr std::size_t batch_bytes(std::size_t size_class) noexcept {
  return kBatch * class_bytes(size_class);
}

void delete_list(FreeBlock* block) noexcept {
  while (block != nullptr) {
    FreeBlock* next = block->next;
    ::operator delete(block);
    block = next;
  }
}

// A batch's first block also links the batches of its class, so keeping a batch allocates
// nothing (every block has room for two pointers: the smallest class is 24 bytes).
struct BatchHead {
  FreeBlock* next;  // the batch's own list, as in FreeBlock
  FreeBlock* next_batch;
};
static_assert(sizeof(BatchHead) <= class_bytes(0));
FreeBlock*& next_batch(FreeBlock* head) noexcept {
  return reinterpret_cast<BatchHead*>(head)->next_batch;
}

class Depot {
 public:
  // Takes ownership of a list of kBatch blocks. When the depot is full, a batch of the class
  // holding the most other bytes makes room (the newest burst is the likeliest to come
  // again: a burst of one frame size must not keep another's out until the next release);
  // if every byte is of this class already, the new batch goes back to the system.
  void give(std::size_t size_class, FreeBlock* batch) noexcept {
    FreeBlock* evicted = nullptr;  // batches, linked as in the depot
    std::size_t evicted_bytes = 0;
    {
      std::lock_guard lock(mutex_);
      while (bytes_ + batch_bytes(size_class) > kMaxDepotBytes) {
        const std::size_t victim = largest_class_but(size_class);
        if (victim == kClasses) break;  // every byte is of this class already
        FreeBlock* out = pop(victim);
        next_batch(out) = evicted;
        evicted = out;
        evicted_bytes += batch_bytes(victim);
      }
      if (bytes_ + batch_bytes(size_class) <= kMaxDepotBytes) {
        push(size_class, batch);
      } else {
        next_batch(batch) = evicted;
        evicted = batch;
        evicted_bytes += batch_bytes(size_class);
      }
    }
    if (evicted == nullptr) return;
    delete_batches(evicted);
    // relaxed: a statistic; whoever acts on it takes its own locks.
    released_bytes.fetch_add(evicted_bytes, std::memory_order_relaxed);
  }
  // Frees every cached batch.
  void release_all() noexcept {
    std::array<FreeBlock*, kClasses> taken{};
    {
      std::lock_guard lock(mutex_);
      taken.swap(batches_);
      counts_.fill(0);
      bytes_ = 0;
      depot_bytes.store(0, std::memory_order_relaxed);  // relaxed: a statistic
    }
    for (FreeBlock* batch : taken) delete_batches(batch);
  }
  FreeBlock* take(std::size_t size_class) noexcept {
    std::lock_guard lock(mutex_);
    return counts_[size_class] == 0 ? nullptr : pop(size_class);
  }
  ~Depot() {
    for (FreeBlock* batch : batches_) delete_batches(batch);
  }

 private:
  // Under mutex_.
  void push(std::size_t size_class, FreeBlock* batch) noexcept {
    next_batch(batch) = batches_[size_class];
    batches_[size_class] = batch;
    ++counts_[size_class];
    bytes_ += batch_bytes(size_class);
    depot_bytes.store(bytes_, std::memory_order_relaxed);  // relaxed: a statistic
  }
  FreeBlock* pop(std::size_t size_class) noexcept {
    FreeBlock* batch = batches_[size_class];
    batches_[size_class] = next_batch(batch);
    --counts_[size_class];
    bytes_ -= batch_bytes(size_class);
    depot_bytes.store(bytes_, std::memory_order_relaxed);  // relaxed: a statistic
    return batch;
  }
  // The class other than `excluded` that holds the most bytes, or kClasses if none holds any.
  std::size_t largest_class_but(std::size_t excluded) const noexcept {
    std::size_t largest = kClasses;
    std::size_t largest_bytes = 0;
    for (std::size_t c = 0; c < kClasses; ++c) {
      const std::size_t held = counts_[c] * batch_bytes(c);
      if (c != excluded && held > largest_bytes) {
        largest = c;
        largest_bytes = held;
      }
    }
    return largest;
  }

  static void delete_batches(FreeBlock* batch) noexcept {
    while (batch != nullptr) {
      FreeBlock* following = next_batch(batch);
      delete_list(batch);
      batch = following;
    }
  }

  std::mutex mutex_;
  std::array<FreeBlock*, kClasses> batches_{};  // per class, a stack of batches
  std::array<std::size_t, kClasses> counts_{};  // batches per class
  std::size_t bytes_ = 0;
};

Depot& depot() noexcept {
  // Leaked deliberately: threads may free frames during static destruction.
  static Depot* instance = new Depot();
  return *instance;
}

// Frees the blocks the calling thread's cache holds of class c.
void delete_cached(std::size_t c) noexcept {
  delete_list(std::exchange(tl_cache.heads[c], nullptr));
  delete_list(std::exchange(tl_cache.strays[c], nullptr));
}

struct FrameCacheCleaner {
  ~FrameCacheCleaner() {
    tl_cache.closed = true;  // after this, every free goes to operator delete
    tl_cache.open = false;
    for (std::size_t c = 0; c < kClasses; ++c) {
      delete_cached(c);
      tl_cache.room[c] = 0;
    }
  }
};
thread_local FrameCacheCleaner tl_cleaner;

// Registers this thread's cleaner and gives every class its room; once per thread. Until
// then every class is empty: blocks enter a thread's cache only on paths that open it first.
void open_cache() noexcept {
  (void)&tl_cleaner;  // odr-use: registers the cleaner before the cache holds anything
  tl_cache.open = true;
  tl_cache.room.fill(kMaxBlocksPerClass - 1);
}

}  // namespace

void* allocate_frame_slow(std::size_t size) {
  if (size > kMaxCachedSize) return ::operator new(size);
  const std::size_t c = size_class(size);
  if (tl_cache.heads[c] == nullptr && !tl_cache.closed) {
    if (!tl_cache.open) open_cache();
    // Both lists are empty (allocate_frame took a stray if there was one).
    if (FreeBlock* batch = depot().take(c)) {
      tl_cache.heads[c] = batch;
      tl_cache.room[c] = kMaxBlocksPerClass - 1 - kBatch;
    }
  }
  if (FreeBlock* block = tl_cache.heads[c]) {
    tl_cache.heads[c] = block->next;
    ++tl_cache.room[c];
    return block;
  }
  void* fresh = ::operator new(class_bytes(c));
  if (tl_cache.home == 0) tl_cache.home = reinterpret_cast<std::uintptr_t>(fresh);
  return fresh;
}

std::size_t frame_bytes_released() noexcept {
  return released_bytes.load(std::memory_order_relaxed);  // relaxed: a statistic
}

std::size_t frame_bytes_in_depot() noexcept {
  return depot_bytes.load(std::memory_order_relaxed);  // relaxed: a statistic
}

void release_cached_frames() noexcept {
  depot().release_all();
  for (std::size_t c = 0; c < kClasses; ++c) {
    delete_cached(c);
    if (tl_cache.open) tl_cache.room[c] = kMaxBlocksPerClass - 1;
  }
}

void free_frame_slow(void* frame, std::size_t size) noexcept {
  if (size > kMaxCachedSize || tl_cache.closed) {
    ::operator delete(frame);
    return;
  }
  const std::size_t c = size_class(size);
  if (!tl_cache.open) {
    open_cache();             // a thread that only frees needs its cleaner too
    free_frame(frame, size);  // which now finds room
    return;
  }
  // The class is full: it takes this block, then hands kBatch blocks to the depot in one
  // piece, strays first (they belong elsewhere), then the newest of its own.
  tl_cache.room[c] = 1;
  free_frame(frame, size);  // kept on its list as the inline path keeps it; full again
  FreeBlock* batch = nullptr;
  FreeBlock** tail = &batch;
  std::uint32_t taken = 0;
  for (FreeBlock** source : {&tl_cache.strays[c], &tl_cache.heads[c]}) {
    while (taken < kBatch && *source != nullptr) {
      FreeBlock* moved = *source;
      *source = moved->next;
      *tail = moved;
      tail = &moved->next;
      ++taken;
    }
  }
  *tail = nullptr;
  tl_cache.room[c] = kBatch - 1;  // it held kMaxBlocksPerClass = 2 * kBatch: kBatch are left
  depot().give(c, batch);
}

#endif

}  // namespace tiny_coro::detail
