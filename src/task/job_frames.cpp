#include <tiny_coro/detail/job_frames.h>

#include <utility>

namespace tiny_coro::detail {

#ifdef TINY_CORO_ASAN

void free_job_frame_slow(void* frame, std::size_t size) noexcept { free_frame(frame, size); }
void trim_job_frames(std::uint32_t) noexcept {}
std::size_t job_frames_held(std::size_t) noexcept { return 0; }

#else

namespace job_frames {
constinit thread_local Cache tl_cache;
}  // namespace job_frames

namespace {

using frame_cache::FreeBlock;

// Hands a list to the frame cache, which bounds what it keeps and shares the rest.
void give_back(FreeBlock* block, std::size_t size_class) noexcept {
  while (block != nullptr) {
    FreeBlock* next = block->next;
    free_frame(block, frame_cache::class_bytes(size_class));
    block = next;
  }
}

struct JobFramesCleaner {
  ~JobFramesCleaner() {
    job_frames::tl_cache.open = false;
    job_frames::tl_cache.closed = true;  // later frees go to the frame cache
    for (std::size_t c = 0; c < frame_cache::kClasses; ++c) {
      give_back(std::exchange(job_frames::tl_cache.heads[c], nullptr), c);
    }
  }
};
thread_local JobFramesCleaner tl_cleaner;

}  // namespace

void free_job_frame_slow(void* frame, std::size_t size) noexcept {
  job_frames::Cache& cache = job_frames::tl_cache;
  if (size > frame_cache::kMaxCachedSize || cache.closed) {
    free_frame(frame, size);
    return;
  }
  (void)&tl_cleaner;  // odr-use: registers the cleaner before the list holds anything
  cache.open = true;
  free_job_frame(frame, size);
}

void trim_job_frames(std::uint32_t keep) noexcept {
  job_frames::Cache& cache = job_frames::tl_cache;
  if (!cache.open) return;
  for (std::size_t c = 0; c < frame_cache::kClasses; ++c) {
    FreeBlock** link = &cache.heads[c];
    for (std::uint32_t kept = 0; kept < keep && *link != nullptr; ++kept) link = &(*link)->next;
    give_back(std::exchange(*link, nullptr), c);
  }
}

std::size_t job_frames_held(std::size_t size) noexcept {
  std::size_t held = 0;
  for (const FreeBlock* block = job_frames::tl_cache.heads[frame_cache::size_class(size)];
       block != nullptr; block = block->next) {
    ++held;
  }
  return held;
}

#endif

}  // namespace tiny_coro::detail
