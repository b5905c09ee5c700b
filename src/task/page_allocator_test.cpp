// PageAllocator (detail/page_allocator.h): large arrays live in their own pages, which leave
// the process when the scheduler releases memory after a burst, and until then serve the
// next burst's arrays of the same size; small ones come from the frame cache.
#include <sys/mman.h>
#include <unistd.h>

#include <tiny_coro/detail/page_allocator.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace tiny_coro::detail {
namespace {

TEST(PageAllocator, AVectorKeepsItsElementsAsItGrowsPastTheThreshold) {
  std::vector<std::uint64_t, PageAllocator<std::uint64_t>> values;
  constexpr std::uint64_t kCount = 1'000'000;  // 8 MB: every growth past 128 KiB is mapped
  for (std::uint64_t i = 0; i < kCount; ++i) values.push_back(i * 3);
  for (std::uint64_t i = 0; i < kCount; ++i) ASSERT_EQ(values[i], i * 3);
  values.resize(10);
  values.shrink_to_fit();  // back below the threshold: from operator new again
  EXPECT_EQ(values.back(), 27u);
}

// A few elements (a combinator's links for a handful of children) come from the thread's
// frame cache, as coroutine frames do: no malloc per small scope.
TEST(PageAllocator, ASmallArrayIsServedByTheFrameCache) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "ASan builds serve frames from operator new";
#else
  PageAllocator<std::uint64_t> allocator;
  constexpr std::size_t kCount = 40;  // 320 bytes: one of the cache's classes
  std::uint64_t* first = allocator.allocate(kCount);
  for (std::size_t i = 0; i < kCount; ++i) first[i] = i;
  allocator.deallocate(first, kCount);
  // The cache hands the block it took last back first; so does the frame allocator itself.
  std::uint64_t* second = allocator.allocate(kCount);
  EXPECT_EQ(second, first);
  allocator.deallocate(second, kCount);
  void* frame = allocate_frame(kCount * sizeof(std::uint64_t));
  EXPECT_EQ(frame, static_cast<void*>(first));
  free_frame(frame, kCount * sizeof(std::uint64_t));
#endif
}

#ifndef TINY_CORO_ASAN  // ASan builds never map pages of their own
bool mapped(const void* address) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  unsigned char resident = 0;
  errno = 0;
  if (::mincore(const_cast<void*>(address), page, &resident) == 0) return true;
  EXPECT_EQ(errno, ENOMEM);
  return false;
}
#endif

TEST(PageAllocator, AFreedLargeArrayIsReusedUntilReleasedThenUnmapped) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "ASan builds take every array from operator new";
#else
  release_kept_pages();
  PageAllocator<char> allocator;
  constexpr std::size_t kBytes = std::size_t{4} << 20;
  char* block = allocator.allocate(kBytes);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(block) % page, 0u);
  for (std::size_t i = 0; i < kBytes; i += page) block[i] = 1;
  allocator.deallocate(block, kBytes);
  EXPECT_EQ(page_bytes_kept(), kBytes);
  // The next burst's array of that size gets the same pages, already faulted in.
  char* again = allocator.allocate(kBytes);
  EXPECT_EQ(again, block);
  EXPECT_EQ(page_bytes_kept(), 0u);
  EXPECT_EQ(again[page], 1);
  allocator.deallocate(again, kBytes);
  // The scheduler's release after a burst: the range is no longer mapped at all (nothing
  // else in this test maps memory meanwhile).
  release_kept_pages();
  EXPECT_EQ(page_bytes_kept(), 0u);
  EXPECT_FALSE(mapped(block));
#endif
}

TEST(PageAllocator, KeepsNoMoreThanItsBound) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "ASan builds take every array from operator new";
#else
  release_kept_pages();
  PageAllocator<char> allocator;
  constexpr std::size_t kBytes = std::size_t{1} << 20;
  std::vector<char*> blocks(40);  // more mappings than are kept
  for (char*& block : blocks) block = allocator.allocate(kBytes);
  for (char* block : blocks) allocator.deallocate(block, kBytes);
  const std::size_t kept = page_bytes_kept();
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, blocks.size() * kBytes);
  // The ones not kept left at once.
  EXPECT_FALSE(mapped(blocks.back()));
  release_kept_pages();
  for (char* block : blocks) EXPECT_FALSE(mapped(block));
#endif
}

}  // namespace
}  // namespace tiny_coro::detail
