// Giving memory back after a burst, as Go's scavenger and jemalloc's decay do: a million
// tasks spawned and finished leave their frames in the allocator's free lists, the timer heap
// and task tables at their peak size, and RSS where the burst left it — for good, in a server
// that had one bad minute.
//
// When: the frame caches are bounded (task/frame_allocator.cpp), so a burst that ends sends
// frames back to operator delete, a batch at a time, and counts their bytes. When the last
// worker falls asleep (a burst still running elsewhere is not trimmed under its feet) and
// kBurstBytes have gone back since the last release, it arms a timer. If the scheduler is
// still idle when the timer fires, the worker driving the reactor releases: the cached frames,
// the timer heap's spare room, the outside-spawn task table's empty chunks, then malloc_trim
// (glibc) so the freed pages leave the process. Each worker trims its own task table the next
// time it goes idle (the tables are owner-only). Only an idle worker pays, once per burst; the
// reactor waits meanwhile (a few milliseconds).
#include "runtime/scheduler_core.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>

#include <tiny_coro/detail/frame_allocator.h>

#include "runtime/worker.h"

namespace tiny_coro::detail {
namespace {
constexpr std::size_t kBurstBytes = std::size_t{64} << 20;
// How long the scheduler must stay idle before memory goes back: a program that runs bursts
// back to back (a benchmark's repetitions, a batch job) keeps its frames warm.
constexpr std::chrono::seconds kIdleBeforeRelease{1};
}  // namespace

void SchedulerCore::release_memory_if_due(Worker& worker, bool idle) noexcept {
  // relaxed: a hint; a worker that misses a new count trims at its next park.
  const std::uint32_t releases = memory_releases_.load(std::memory_order_relaxed);
  worker.trim_after_release(releases);
  // relaxed: the note's exchange below decides alone; what the release frees is guarded by
  // the locks it takes (or owned by this thread).
  if (release_requested_.load(std::memory_order_relaxed) &&
      release_requested_.exchange(false, std::memory_order_relaxed)) {
    // The timer fired. Released only if still idle; otherwise the next idle moment waits
    // its second again.
    if (idle) release_memory(worker);
    return;
  }
  if (!idle) return;
  // relaxed: statistics, compared only to decide whether to arm the timer.
  if (frame_bytes_released() - released_at_last_trim_.load(std::memory_order_relaxed) <
      kBurstBytes) {
    return;
  }
  // acquire: pairs with the expiry's release, so the poller is done with the node we rewrite.
  if (release_timer_armed_.exchange(true, std::memory_order_acquire)) return;
  release_timer_.core = this;
  release_timer_.on_expire = &SchedulerCore::release_timer_expired;
  release_timer_.deadline = reactor_.now() + kIdleBeforeRelease;
  try {
    reactor_.add_timer(release_timer_);
  } catch (...) {
    // Out of memory for the heap: try again at the next idle moment.
    release_timer_armed_.store(false, std::memory_order_relaxed);  // relaxed: never armed
  }
}

// The poller, under the reactor's timer lock: only leaves a note for the worker driving the
// reactor, which acts on it after its round (Worker::park_driving_reactor).
std::coroutine_handle<> SchedulerCore::release_timer_expired(TimerNode& node) noexcept {
  SchedulerCore& core = *static_cast<ReleaseTimer&>(node).core;
  // release: the node is popped and no longer read (pairs with the arming exchange).
  core.release_timer_armed_.store(false, std::memory_order_release);
  core.release_requested_.store(true, std::memory_order_relaxed);  // relaxed: a note
  return {};
}

void SchedulerCore::release_memory(Worker& worker) noexcept {
  // relaxed: only this thread acts on it (the note was taken by one exchange).
  released_at_last_trim_.store(frame_bytes_released(), std::memory_order_relaxed);
  release_cached_frames();
  reactor_.release_spare_memory();
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
}

}  // namespace tiny_coro::detail
