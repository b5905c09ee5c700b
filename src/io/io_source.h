// IoSource: one file descriptor registered with the reactor once, edge-triggered, for both
// directions (Tokio's ScheduledIo) — what sockets wait on.
//
// The wait protocol (speculative I/O): an operation first tries its syscall. Only on EAGAIN
// does it wait, and then only if no readiness edge arrived since it looked:
//   1. tick = source.tick(direction)            (before the syscall)
//   2. syscall -> EAGAIN
//   3. lock; if tick(direction) changed: unlock and retry the syscall;
//      else queue the waiter; unlock; suspend.
// The reactor, for each edge: lock; bump the tick of each direction the event concerns; pop
// that direction's waiters; unlock; schedule them. An edge after step 2 either bumps the tick
// before step 3 (retry) or finds the waiter queued (wake) — never lost. Epoll is never
// re-armed: the fd stays registered until close, so a read or write that succeeds at once
// costs no epoll_ctl at all.
//
// Sources live in a pool the reactor owns and never frees while it lives (Tokio's slab). An
// event carries (index, generation); detach() bumps the generation under the lock, so an
// event still in flight for a closed socket — or for a reused slot — is recognised and
// dropped, and a late waker never touches freed memory.
#pragma once

#include <atomic>
#include <cstdint>

#include <tiny_coro/detail/io_wait.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro::detail {

// Fields are ordered to pack (72 bytes): every connection holds one slot, and an idle
// keep-alive connection's whole cost is this, its coroutine frame and a timer.
struct IoSource {
  SpinLock lock;
  // Below, to `readers`/`writers`: written under `lock`.
  bool closed = true;
  // The reader's own notes (one read in flight per socket, so no lock): a read that
  // returned less than it asked for (or EAGAIN) emptied the socket at read tick
  // `read_drained_tick`; until the reactor bumps the tick, the next read can wait without
  // trying the syscall (Tokio clears readiness on a short read the same way).
  bool read_drained = false;
  bool read_drained_by_eagain = false;  // the kernel said so: holds whatever read_closed says
  std::uint32_t generation = 0;
  int fd = -1;
  std::uint32_t read_drained_tick = 0;
  WaitList readers;
  WaitList writers;
  // Bumped under `lock` by every readiness edge; read without it for step 1.
  std::atomic<std::uint32_t> read_tick{0};
  std::atomic<std::uint32_t> write_tick{0};
  std::uint32_t index = 0;  // in the pool; fixed
  // Woken operations retrying their syscall (under `lock`). close() while one is in flight
  // defers the ::close and the slot's release to the last one out, so no retry ever runs
  // on a closed — and perhaps already reused — fd, or touches a reused slot.
  int in_flight = 0;
  int deferred_close_fd = -1;
  // The short-read shortcut holds only for TCP, where a short recv means an empty receive
  // queue; the socket layer enables it for the sockets it makes. Written before the first
  // operation.
  bool read_shortcut = false;
  // Sticky: the peer shut down, the socket failed, or urgent data arrived (EPOLLRDHUP, HUP,
  // ERR, PRI). A short read then says nothing about the next one (it returns 0, the error,
  // or stops at the urgent mark, and no further edge comes), so the shortcut is off. Set by
  // the reactor before it bumps the read tick; relaxed, ordered by that bump (release) and
  // the reader's snapshot (acquire).
  std::atomic<bool> read_closed{false};

  std::atomic<std::uint32_t>& tick(IoDirection direction) noexcept {
    return direction == IoDirection::kRead ? read_tick : write_tick;
  }
  WaitList& waiters(IoDirection direction) noexcept {
    return direction == IoDirection::kRead ? readers : writers;
  }
};

}  // namespace tiny_coro::detail
