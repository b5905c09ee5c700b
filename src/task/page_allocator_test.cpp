// PageAllocator (detail/page_allocator.h): large arrays live in their own pages, which leave
// the process as soon as the array is freed.
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

TEST(PageAllocator, FreeingALargeArrayUnmapsItsPages) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "ASan builds take every array from operator new";
#else
  PageAllocator<char> allocator;
  constexpr std::size_t kBytes = std::size_t{4} << 20;
  char* block = allocator.allocate(kBytes);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(block) % page, 0u);
  for (std::size_t i = 0; i < kBytes; i += page) block[i] = 1;
  unsigned char resident = 0;
  ASSERT_EQ(::mincore(block, page, &resident), 0);
  EXPECT_EQ(resident & 1, 1);
  allocator.deallocate(block, kBytes);
  // The range is no longer mapped at all (nothing else in this test maps memory meanwhile).
  errno = 0;
  EXPECT_EQ(::mincore(block, page, &resident), -1);
  EXPECT_EQ(errno, ENOMEM);
#endif
}

}  // namespace
}  // namespace tiny_coro::detail
