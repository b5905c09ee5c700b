// Coroutine frames come from a per-thread cache of size classes instead of operator new on
// every call (Asio's recycling allocator does the same): spawn-heavy workloads allocate and
// free a frame per task, and the general-purpose allocator's locking and bookkeeping would
// dominate. A frame may be freed on another thread than the one that made it; it then joins
// that thread's cache, and a cache that overflows passes a batch to a shared depot, from
// which a thread whose cache ran dry takes a batch back (so frames flow from the workers
// that finish tasks to the ones that spawn them). ASan builds bypass all of this so that
// use-after-free on a frame is still caught.
#pragma once

#include <cstddef>

namespace tiny_coro::detail {

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

// Bytes of frames handed back to operator delete so far (the caches were full): how a
// scheduler tells that a burst of tasks has ended and memory is worth giving back.
std::size_t frame_bytes_released() noexcept;
// Frees the shared depot's cached frames and the calling thread's own (after a burst).
void release_cached_frames() noexcept;

}  // namespace tiny_coro::detail
