// Asymmetric fences: a Dekker pair whose one side runs millions of times a second and whose
// other side runs rarely can move the whole cost of the StoreLoad barrier to the rare side.
// The frequent side issues only a compiler barrier (light_fence); the rare side asks the
// kernel (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED) to run a full barrier on every CPU
// that runs a thread of this process at that moment, and on the others a context switch has
// been one already (heavy_fence). Every thread's accesses then split into those before its
// barrier and those after, which is all a seq_cst fence pair gives a Dekker pair: the
// frequent side's store before the barrier is seen by the rare side's load after it, or the
// frequent side's load after it sees the rare side's earlier store. folly's
// asymmetricHeavyBarrier and liburcu use the same system call this way.
//
// Where it pays here: a fork's child taking its parent back from the worker's queue
// (StealQueue::pop_if_newest) once per tree node, against a thief's steal a few dozen times
// a second (steal_queue.h says how the two agree on which fence the owner uses).
//
// ThreadSanitizer does not model the system call, so its builds never use it: every owner
// keeps its fence there (asymmetric_fences_available() is false).
#pragma once

#include <atomic>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro::detail {

// Whether heavy_fence() works in this process: the kernel offers the private expedited
// command (Linux 4.14) and this process registered for it, which the first call does.
// False under TSan, under valgrind (which does not know the call) and where seccomp forbids it.
bool asymmetric_fences_available() noexcept;

// The rare side: a full barrier on every thread of the process. Only after
// asymmetric_fences_available() returned true. Costs a system call and an interrupt for each
// CPU running one of our threads (about 18 us on the 2-core VM the benchmarks ran on).
void heavy_fence() noexcept;

// The frequent side: keeps the compiler from moving accesses across it; the CPU may still
// reorder a store with a later load, which heavy_fence() accounts for.
inline void light_fence() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

}  // namespace tiny_coro::detail
