// Giving memory back after a burst, as Go's scavenger and jemalloc's decay do: a million
// tasks spawned and finished leave their frames in the allocator's free lists, the timer heap
// and task tables at their peak size, and RSS where the burst left it — for good, in a server
// that had one bad minute.
//
// When: the frame caches are bounded (task/frame_allocator.cpp), so a burst that ends sends
// frames back to operator delete, a batch at a time, and counts their bytes. A worker about to
// go idle — the last of them to fall asleep, so that a burst still running elsewhere is not
// trimmed under its feet — compares that count with the one at the last release; past
// kBurstBytes, it releases: the cached frames, the timer heap's spare room, the outside-spawn task
// table's empty chunks, then malloc_trim (glibc) so the freed pages leave the process. Each
// worker trims its own task table the next time it goes idle (the tables are owner-only).
// Never on a busy path: only a worker with nothing to run pays, once per burst.
#include "runtime/scheduler_core.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <tiny_coro/detail/frame_allocator.h>

#include "runtime/worker.h"

namespace tiny_coro::detail {
namespace {
constexpr std::size_t kBurstBytes = std::size_t{64} << 20;
}  // namespace

void SchedulerCore::release_memory_if_due(Worker& worker, bool idle) noexcept {
  // relaxed, both: statistics; the claim below picks one releaser, and what it frees is
  // guarded by the locks it takes (or owned by its thread).
  const std::uint32_t releases = memory_releases_.load(std::memory_order_relaxed);
  worker.trim_after_release(releases);
  if (!idle) return;
  const std::size_t released = frame_bytes_released();
  std::size_t at_last = released_at_last_trim_.load(std::memory_order_relaxed);
  if (released - at_last < kBurstBytes) return;
  // relaxed: only decides who releases; each step below synchronises on its own lock.
  if (!released_at_last_trim_.compare_exchange_strong(at_last, released,
                                                      std::memory_order_relaxed)) {
    return;
  }
  release_cached_frames();
  reactor_.release_spare_memory();
  {
    std::lock_guard lock(outside_tasks_mutex_);
    outside_tasks_.trim();
  }
  // relaxed: a hint for the other workers' next idle moment.
  memory_releases_.fetch_add(1, std::memory_order_relaxed);
  worker.trim_after_release(releases + 1);
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

void Worker::trim_after_release(std::uint32_t releases) noexcept {
  if (releases == memory_releases_seen_) return;
  memory_releases_seen_ = releases;
  spawned_tasks_.trim();
}

}  // namespace tiny_coro::detail
