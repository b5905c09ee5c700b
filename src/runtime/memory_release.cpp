// Giving memory back after a burst, as Go's scavenger and jemalloc's decay do: a million
// tasks spawned and finished leave their frames in the allocator's free lists, the timer heap
// and task tables at their peak size, and RSS where the burst left it — for good, in a server
// that had one bad minute.
//
// When: the threads' frame caches are bounded (task/frame_allocator.cpp), so a burst that
// ends sends its frames on to the shared depot, a batch at a time, which keeps them for the
// next burst (and, once full, hands them to operator delete and counts their bytes). When the
// last worker falls asleep (a burst still running elsewhere is not trimmed under its feet)
// and kBurstBytes are spare (frames held by the depot or deleted past it since the last
// release, and large arrays' mappings kept for reuse), it sleeps at most kIdleBeforeRelease —
// in the reactor or on its parker, whichever it was going to — and if nobody woke it
// meanwhile and every worker still sleeps, it releases: the depot's and its own cached
// frames, the timer heap's spare room, the kept mappings, the outside-spawn task table's
// empty chunks, then malloc_trim (glibc) so the freed pages leave the process. Each
// worker trims its own task table the next time it goes idle (the tables are owner-only).
// Only an idle worker pays, once per burst (25 ms after a million cancelled sleepers, during
// which a worker driving the reactor does not poll it); the idle second keeps bursts that
// follow each other (a benchmark's repetitions) warm, and nothing changes how a sleeping
// worker is woken.
#include "runtime/scheduler_core.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <tiny_coro/detail/frame_allocator.h>
#include <tiny_coro/detail/job_frames.h>
#include <tiny_coro/detail/page_allocator.h>

#include "runtime/worker.h"

namespace tiny_coro::detail {
namespace {
constexpr std::size_t kBurstBytes = std::size_t{64} << 20;

// Memory to spare since the release before: the frames the depot holds and the ones that went
// past it to operator delete since then (`at_last`: frame_bytes_released() at that release),
// and the large arrays' mappings kept for reuse (page_allocator.h).
std::size_t spare_bytes(std::size_t at_last) noexcept {
  return frame_bytes_in_depot() + (frame_bytes_released() - at_last) + page_bytes_kept();
}
}  // namespace

bool SchedulerCore::memory_release_due(Worker& worker, bool idle) noexcept {
  // relaxed: a hint; a worker that misses a new count trims at its next park.
  worker.trim_after_release(memory_releases_.load(std::memory_order_relaxed));
  // relaxed: statistics, compared only to decide whether to wait for a release.
  return idle && spare_bytes(released_at_last_trim_.load(std::memory_order_relaxed)) >= kBurstBytes;
}

void SchedulerCore::release_memory_if_idle(Worker& worker) noexcept {
  if (!idle_.all_parked()) return;  // work came meanwhile: the next idle moment waits again
  const std::size_t released = frame_bytes_released();
  std::size_t at_last = released_at_last_trim_.load(std::memory_order_relaxed);
  if (spare_bytes(at_last) < kBurstBytes) return;
  // relaxed: picks one releaser when frames went past the depot; when only the depot is full,
  // a second releaser racing this one finds it emptied (each step below takes its own lock).
  if (!released_at_last_trim_.compare_exchange_strong(at_last, released,
                                                      std::memory_order_relaxed)) {
    return;
  }
  trim_job_frames(0);  // into the frame cache, which the next line empties
  release_cached_frames();
  reactor_.release_spare_memory();
  release_kept_pages();  // after the timer heap's shrink, which may free into it
  {
    std::lock_guard lock(outside_tasks_mutex_);
    outside_tasks_.trim();
  }
  // relaxed: a hint for the other workers' next idle moment.
  const std::uint32_t releases = memory_releases_.fetch_add(1, std::memory_order_relaxed) + 1;
  worker.trim_after_release(releases);
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

void Worker::trim_after_release(std::uint32_t releases) noexcept {
  if (releases == memory_releases_seen_) return;
  memory_releases_seen_ = releases;
  spawned_tasks_.trim();
  trim_job_frames(0);  // into this thread's frame cache, bounded as ever
}

}  // namespace tiny_coro::detail
