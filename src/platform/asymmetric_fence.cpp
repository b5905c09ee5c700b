#include <tiny_coro/detail/asymmetric_fence.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#if defined(__linux__) && !defined(TINY_CORO_TSAN)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define TINY_CORO_HAS_MEMBARRIER 1
#endif

namespace tiny_coro::detail {

#ifdef TINY_CORO_HAS_MEMBARRIER

namespace {
long membarrier(int command) noexcept { return ::syscall(SYS_membarrier, command, 0U, 0); }

bool register_for_expedited() noexcept {
  const long offered = membarrier(MEMBARRIER_CMD_QUERY);
  if (offered < 0 || (offered & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  // Until a process registers, the expedited command fails (EPERM).
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}
}  // namespace

bool asymmetric_fences_available() noexcept {
  static const bool available = register_for_expedited();
  return available;
}

void heavy_fence() noexcept {
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
  // Registration belongs to the process: a child of fork() that runs a scheduler again may
  // have to register anew.
  if (errno == EPERM && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
    return;
  }
  // Registered, the command cannot fail (its man page lists no other error); were it to, an
  // owner that skipped its fence could take an item a thief takes too. Stop instead.
  std::fputs("tiny_coro: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after registering\n",
             stderr);
  std::abort();
}

#else

bool asymmetric_fences_available() noexcept { return false; }
void heavy_fence() noexcept { fence_seq_cst(); }

#endif

}  // namespace tiny_coro::detail
