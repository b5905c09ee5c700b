// Reactor: the event loop behind the scheduler. It waits in epoll for file descriptors and
// for the earliest timer, and hands every coroutine that became ready back in one batch. A
// Scheduler's idle workers take turns running it (poll()); start() runs it on a thread of
// its own instead, as the manual draws it.
//
// Timers are TimerNodes in a 4-ary min-heap ordered by (deadline, arm order), each node
// knowing its heap index, so cancelling is O(log n). A caller-owned node (add_timer(node):
// sleeps, I/O deadlines, timeouts) is intrusive, kept in the waiting frame, so arming it
// allocates nothing of its own; only the heap's array of (deadline, node) entries may grow.
// The manual's add_timer(expiry, handle) has no frame to keep a node in: it allocates one
// the reactor owns and frees once it fires (or with the reactor).
// A timer never fires early: the loop only pops nodes whose deadline is <= now.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <tiny_coro/detail/executor.h>

namespace tiny_coro {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Where a reactor reads the time. The default is the steady clock; tests hand the Scheduler a
// manual clock that moves only when told to, so timer tests jump instead of waiting.
using NowFunction = TimePoint (*)() noexcept;
inline TimePoint steady_now() noexcept { return Clock::now(); }

// One armed timer. Lives wherever its waiter lives (usually an awaiter inside a suspended
// coroutine frame); the reactor only links it. Fields other than `deadline` and `handle` are
// the reactor's, written under its lock.
//
// 32-bit bookkeeping: a node lives in every sleeping task's and every waiting socket's frame
// (an idle connection's), and 8 bytes less there is 8 bytes less per connection.
struct TimerNode {
  static constexpr std::uint32_t kNotInHeap = std::numeric_limits<std::uint32_t>::max();

  TimePoint deadline{};
  // What the deadline does, set by whoever owns the node before arming it: called by the
  // poller, under the reactor's timer lock (so cancel_timer() returning false means it has
  // finished), returning the coroutine to resume, if any. The node is passed back, so a
  // waiter that embeds (or derives from) it finds itself; a node that only resumes one
  // coroutine is a HandleTimer. One pointer for both cases, not a handle beside it: a node
  // lives in every waiting socket's frame (an idle connection's), and ReadinessWait never
  // needed the handle.
  std::coroutine_handle<> (*on_expire)(TimerNode& node) noexcept = nullptr;
  // Arm order, counted modulo 2^32: equal deadlines fire in the order armed, as long as two
  // nodes with the very same deadline are armed fewer than 2^31 arms apart.
  std::uint32_t sequence = 0;
  std::uint32_t heap_index = kNotInHeap;  // kNotInHeap: not armed, or already fired/cancelled
  // Last: a class deriving from TimerNode (ReadinessWait) packs its first small members
  // into the padding after it.
  bool owned_by_reactor = false;  // a HandleTimer made by add_timer(expiry, handle); freed on fire

  bool armed() const noexcept { return heap_index != kNotInHeap; }
};

// A timer whose expiry resumes `handle` and does nothing else.
struct HandleTimer : TimerNode {
  HandleTimer() noexcept { on_expire = &HandleTimer::resume; }
  std::coroutine_handle<> handle;

 private:
  static std::coroutine_handle<> resume(TimerNode& node) noexcept {
    return static_cast<HandleTimer&>(node).handle;
  }
};

namespace detail {
struct IoSource;
}

class Reactor {
 public:
  explicit Reactor(detail::Executor& executor, NowFunction clock = &steady_now);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Starts and stops the reactor thread. stop() returns once the thread has exited; armed
  // timers and registrations stay (cancel_timer still works) until the Reactor is destroyed.
  void start();
  void stop();

  // Driven mode, how a Scheduler runs its reactor (docs/ARCHITECTURE.md, "Reactor"): no
  // thread of its own; a worker with nothing to do blocks in poll() (Tokio's and Go's
  // placement), so a task whose socket became ready runs on the thread that saw the event.
  // try_lock_driver() elects one poller at a time. poll() runs one round on the calling
  // thread: waits up to `max_wait` (negative: until an event, a due timer or wake()), then
  // appends what became ready to `ready` instead of scheduling it.
  [[nodiscard]] bool try_lock_driver() noexcept;
  // try_lock_driver(), and if the driver stays taken, a note that the caller wanted it: the
  // holder's unlock_driver() then calls the executor's driver_wanted(), so the caller may
  // sleep until woken instead of polling for the lock.
  [[nodiscard]] bool lock_driver_or_note() noexcept;
  void unlock_driver() noexcept;
  void poll(std::chrono::nanoseconds max_wait, std::vector<std::coroutine_handle<>>& ready);
  // A hint: whether anything could become ready through poll() (armed timers, registered
  // I/O). Busy workers poll now and then only when it says so.
  bool has_interest() const noexcept;

  // The manual's API: resume `handle` once `expiry` has passed (the reactor owns the node).
  void add_timer(TimePoint expiry, std::coroutine_handle<> handle);
  void add_timer(TimePoint expiry, void* handle);

  // Arms a caller-owned node; `node` must stay put until it fires or is cancelled.
  void add_timer(TimerNode& node);
  // Disarms `node`. True if it had not fired: its coroutine will not be resumed by it.
  // False if it already fired (or was never armed): the resumption is on its way or done.
  bool cancel_timer(TimerNode& node) noexcept;

  // Resume `handle` once `fd` is readable / writable (one-shot; re-register to wait again).
  void register_read(int fd, void* handle);
  void register_read(int fd, std::coroutine_handle<> handle);
  void register_write(int fd, void* handle);
  void register_write(int fd, std::coroutine_handle<> handle);
  // Forgets `fd`'s registrations without resuming them (call before closing it).
  void deregister(int fd) noexcept;

  // I/O sources, what sockets use (src/io/io_source.h): `fd` registered once, edge-triggered,
  // for both directions; waiters retry their syscall after each readiness edge. attach()
  // throws std::system_error if epoll refuses the fd. detach() wakes every waiter with
  // "closed", makes events still in flight for it harmless, and closes `fd` — at once, or,
  // if a woken operation is retrying its syscall, when the last one ends.
  detail::IoSource& attach(int fd);
  void detach(detail::IoSource& source, int fd) noexcept;
  // Brackets a retry by a woken operation; false (no bracket) if the source was closed or
  // reused since the operation began (`generation`).
  [[nodiscard]] bool begin_operation(detail::IoSource& source, std::uint32_t generation) noexcept;
  void end_operation(detail::IoSource& source) noexcept;

  // Where woken coroutines go.
  detail::Executor& executor() noexcept;

  std::size_t pending_timers() const;
  // File descriptors watched now: attached I/O sources and fds with a one-shot registration.
  std::size_t io_sources() const;
  // Gives back memory a burst of timers left reserved (the scheduler calls it when idle).
  void release_spare_memory() noexcept;
  // The earliest armed deadline, or TimePoint::max() when no timer is armed.
  TimePoint next_deadline() const;

  // The time as this reactor's clock tells it; timers compare deadlines against it.
  TimePoint now() const noexcept { return now_(); }
  // A time no earlier than now(), and at most two clock ticks later: the kernel's
  // tick-updated clock plus its lag, a quarter of now()'s cost here, for a deadline that may
  // never be needed. A test's manual clock is read exactly.
  TimePoint coarse_upper_bound() const noexcept;
  // Makes the poller (thread or worker) look at its clock and timers again at once (after a manual
  // clock moved). Any thread.
  void wake() noexcept;

 private:
  class Impl;
  NowFunction now_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Reactor;
#endif
