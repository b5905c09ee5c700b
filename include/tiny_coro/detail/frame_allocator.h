// Coroutine frames come from a per-thread cache of size classes instead of operator new on
// every call (Asio's recycling allocator does the same): spawn-heavy workloads allocate and
// free a frame per task, and the general-purpose allocator's locking and bookkeeping would
// dominate. A frame may be freed on another thread than the one that made it; it then joins
// that thread's cache. Each class keeps a bounded number of blocks; the rest go back to the
// system. ASan builds bypass the cache so that use-after-free on a frame is still caught.
#pragma once

#include <cstddef>

namespace tiny_coro::detail {

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

}  // namespace tiny_coro::detail
