// The frame allocator's shared depot (task/frame_allocator.cpp): what a burst leaves is kept
// for the next one, within a bound, and the newest burst's frame size wins the room. Also the
// thread's own cache, and the Job frame lists in front of it (task/job_frames.cpp).
#include <tiny_coro/detail/frame_allocator.h>
#include <tiny_coro/detail/job_frames.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <thread>
#include <vector>

namespace tiny_coro::detail {
namespace {

// Allocates `bytes` worth of frames of `size` and frees them all: a burst that overflows the
// thread's cache into the depot.
void burst(std::size_t size, std::size_t bytes) {
  std::vector<void*> frames(bytes / size);
  for (void*& frame : frames) frame = allocate_frame(size);
  for (void* frame : frames) free_frame(frame, size);
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Every size gets the smallest class that holds it, and every class is a size that glibc's
// malloc serves without rounding up (8 bytes short of a multiple of 16).
TEST(FrameClasses, FitEverySizeTightlyAndMatchMallocsChunks) {
  for (std::size_t size = 1; size <= frame_cache::kMaxCachedSize; ++size) {
    const std::size_t c = frame_cache::size_class(size);
    ASSERT_LT(c, frame_cache::kClasses) << size;
    ASSERT_GE(frame_cache::class_bytes(c), size) << size;
    ASSERT_TRUE(c == 0 || frame_cache::class_bytes(c - 1) < size) << size;
    ASSERT_EQ(frame_cache::class_bytes(c) % 16, 8u) << size;
  }
}

TEST(FrameDepot, KeepsABurstForTheNextAndGivesRoomToTheNewestSize) {
  release_cached_frames();
  burst(512, 64 * kMiB);
  if (frame_bytes_in_depot() == 0) {
    GTEST_SKIP() << "frames are not cached in this build (ASan bypasses the cache)";
  }
  // Kept, not handed back: the depot holds almost all of it (the thread keeps a little).
  const std::size_t after_first = frame_bytes_in_depot();
  EXPECT_GE(after_first, 60 * kMiB);
  // The next burst of that size takes its frames from the depot.
  burst(512, 32 * kMiB);
  // All taken back and given back: the same, give or take the batch the thread's own cache
  // holds on to.
  const std::size_t batch = 256 * frame_cache::class_bytes(frame_cache::size_class(512));
  EXPECT_LE(frame_bytes_in_depot(), after_first + batch);
  EXPECT_GE(frame_bytes_in_depot() + batch, after_first);

  // Filling the depot past its bound with one size, then a burst of another: the new size's
  // batches take the room of the old ones, so a third burst of the new size finds them.
  burst(512, 400 * kMiB);
  const std::size_t full = frame_bytes_in_depot();
  EXPECT_LE(full, 256 * kMiB);
  EXPECT_GE(full, 250 * kMiB);
  burst(128, 16 * kMiB);
  EXPECT_GE(frame_bytes_in_depot(), full - batch);  // still full, within one batch
  std::vector<void*> frames(16 * kMiB / 128);
  for (void*& frame : frames) frame = allocate_frame(128);
  // Taken from the depot: its bytes fell by about what was allocated (a thread cache's worth
  // may have come from the thread itself).
  EXPECT_LE(frame_bytes_in_depot(), full - 15 * kMiB);
  for (void* frame : frames) free_frame(frame, 128);

  release_cached_frames();
  EXPECT_EQ(frame_bytes_in_depot(), 0u);
}

// A thread's cache holds up to kMaxBlocksPerClass - 1 blocks of a class inline, hands the
// newest kBatch to the depot when one more comes, and takes a batch back only once it has
// none of its own. The thread here starts with no cache: its first act is a free.
TEST(FrameCache, AThreadKeepsUpToItsBoundAndPassesWholeBatches) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "frames are not cached in ASan builds";
#else
  using frame_cache::kBatch;
  using frame_cache::kMaxBlocksPerClass;
  constexpr std::size_t kSize = 200;
  const std::size_t batch_bytes = kBatch * frame_cache::class_bytes(frame_cache::size_class(kSize));
  release_cached_frames();
  std::vector<void*> frames(kMaxBlocksPerClass + kBatch);
  for (void*& frame : frames) frame = allocate_frame(kSize);
  const std::size_t start = frame_bytes_in_depot();

  std::thread([&] {
    std::size_t freed = 0;
    while (freed < kMaxBlocksPerClass - 1) free_frame(frames[freed++], kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start);  // all held by this thread
    free_frame(frames[freed++], kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + batch_bytes);
    while (freed < frames.size() - 1) free_frame(frames[freed++], kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + batch_bytes);
    free_frame(frames[freed++], kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + 2 * batch_bytes);

    // It holds kMaxBlocksPerClass - kBatch blocks now: those go first, then one batch.
    for (std::size_t i = 0; i < kMaxBlocksPerClass - kBatch; ++i) frames[i] = allocate_frame(kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + 2 * batch_bytes);
    frames[kMaxBlocksPerClass - kBatch] = allocate_frame(kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + batch_bytes);
    // Those and the rest of the batch fill it again: the last free passes a batch on.
    for (std::size_t i = 0; i <= kMaxBlocksPerClass - kBatch; ++i) free_frame(frames[i], kSize);
    EXPECT_EQ(frame_bytes_in_depot(), start + 2 * batch_bytes);
  }).join();  // its own cache is freed at its exit; the depot keeps what it was given

  EXPECT_EQ(frame_bytes_in_depot(), start + 2 * batch_bytes);
  release_cached_frames();
  EXPECT_EQ(frame_bytes_in_depot(), 0u);
#endif
}

// A block made by another thread, freed here, waits behind this thread's own: reused at
// once, it would share cache lines with the blocks its maker still uses.
TEST(FrameCache, AThreadReusesItsOwnBlocksBeforeStrays) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "frames are not cached in ASan builds";
#else
  constexpr std::size_t kSize = 808;  // a class no other test here uses
  release_cached_frames();
  void* const stray = allocate_frame(kSize);  // this thread's part of the heap
  std::thread([&] {
    // Its first block comes from operator new, in its own arena: its home.
    void* const own = allocate_frame(kSize);
    if (frame_cache::from_home(frame_cache::tl_cache, stray)) {
      free_frame(own, kSize);
      free_frame(stray, kSize);
      GTEST_SKIP() << "malloc gave both threads blocks of one 64 MiB heap";
    }
    free_frame(own, kSize);
    free_frame(stray, kSize);  // freed last, yet not handed out first
    EXPECT_EQ(allocate_frame(kSize), own);
    EXPECT_EQ(allocate_frame(kSize), stray);  // once its own are gone, the strays serve
    free_frame(own, kSize);
    free_frame(stray, kSize);
  }).join();
  release_cached_frames();
#endif
}

// Job frames (detail/job_frames.h): a frame freed on a thread is the next one of its size
// taken there, and the list keeps what a trim leaves it.
TEST(JobFrames, AFrameFreedIsTheNextTakenAndATrimKeepsItsBound) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "Job frames are not cached in ASan builds";
#else
  constexpr std::size_t kSize = 200;
  void* first = allocate_job_frame(kSize);
  free_job_frame(first, kSize);
  EXPECT_EQ(job_frames_held(kSize), 1u);
  EXPECT_EQ(allocate_job_frame(kSize), first);
  EXPECT_EQ(job_frames_held(kSize), 0u);
  std::vector<void*> frames(1000);
  frames[0] = first;
  for (std::size_t i = 1; i < frames.size(); ++i) frames[i] = allocate_job_frame(kSize);
  for (void* frame : frames) free_job_frame(frame, kSize);
  EXPECT_EQ(job_frames_held(kSize), frames.size());
  trim_job_frames(kJobFramesKept);
  EXPECT_EQ(job_frames_held(kSize), kJobFramesKept);
  EXPECT_EQ(allocate_job_frame(kSize), frames.back());  // the newest stays first
  free_job_frame(frames.back(), kSize);
  trim_job_frames(0);
  EXPECT_EQ(job_frames_held(kSize), 0u);
#endif
}

}  // namespace
}  // namespace tiny_coro::detail
