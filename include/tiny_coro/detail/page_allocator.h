// PageAllocator: for the runtime's arrays that grow to megabytes in a burst and shrink after
// it (the timer heap under a million sleepers, a combinator's handles to a million children).
//
// Why not operator new: glibc serves a large block from mmap only while it is above a
// threshold that rises to the size of the largest mmapped block ever freed (up to 32 MiB),
// and keeps up to twice that at the top of each thread's arena when it is freed. So after
// one burst, the next burst's arrays come from the workers' arenas, and freeing them leaves
// them resident; malloc_trim() does not shrink a thread arena's top. Mapping our own pages
// puts their return in our hands, every burst alike: a freed mapping is kept for the next
// burst's array of the same size (up to a bound) and unmapped by the scheduler's release
// when it goes idle after a burst, as the frame depot is (runtime/memory_release.cpp).
//
// Arrays no bigger than a coroutine frame come from the calling thread's frame cache, as
// frames do (a combinator's links and handles for a few children: no malloc per scope);
// those in between from operator new; and every array under ASan from operator new, since
// ASan watches the heap for overflows but not our mappings.
#pragma once

#include <cstddef>
#include <limits>
#include <new>

#include <tiny_coro/detail/atomic.h>
#include <tiny_coro/detail/frame_allocator.h>

namespace tiny_coro::detail {

// The pages for at least `bytes` (a whole number of pages); throws std::bad_alloc.
void* map_pages(std::size_t bytes);
// Takes back what map_pages(bytes) returned: kept for reuse, or unmapped.
void unmap_pages(void* pages, std::size_t bytes) noexcept;
// The bytes of freed mappings kept for reuse, and their release (after a burst).
std::size_t page_bytes_kept() noexcept;
void release_kept_pages() noexcept;

// glibc's own threshold before it starts to rise.
inline constexpr std::size_t kMappedBytes = std::size_t{128} << 10;

template <class T>
struct PageAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "operator new's alignment is assumed");
  using value_type = T;

  PageAllocator() noexcept = default;
  template <class U>
  PageAllocator(const PageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= frame_cache::kMaxCachedSize) return static_cast<T*>(allocate_frame(bytes));
    if (mapped(bytes)) return static_cast<T*>(map_pages(bytes));
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= frame_cache::kMaxCachedSize) {
      free_frame(p, bytes);
    } else if (mapped(bytes)) {
      unmap_pages(p, bytes);
    } else {
      ::operator delete(p);
    }
  }
  friend bool operator==(PageAllocator, PageAllocator) noexcept { return true; }

 private:
  static constexpr bool mapped(std::size_t bytes) noexcept {
#ifdef TINY_CORO_ASAN
    (void)bytes;
    return false;
#else
    return bytes >= kMappedBytes;
#endif
  }
};

}  // namespace tiny_coro::detail
