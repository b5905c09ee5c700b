// (Named async_*.h: a plain semaphore.h/event.h on the include path would shadow the
// system headers of that name, which <semaphore> itself includes.)
//
// Event: a one-way gate. wait() suspends until set() is called (from any thread); set()
// releases every waiter at once and lets later waits through until reset(). Waiters resume on
// workers, scheduled by set().
//
// WaitGroup: Go's sync.WaitGroup for coroutines. add(n) before starting n pieces of work,
// done() as each finishes (any thread), `co_await wg.wait()` until the count is back to zero.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>

#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

namespace detail {
// A list of coroutines waiting for a condition that, once true, releases all of them.
class Gate {
 public:
  explicit Gate(Scheduler& scheduler) noexcept : scheduler_(scheduler) {}
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate() { std::lock_guard lock(guard_); }  // orders after the last open()

  // Cancelling a wait (cancel.h) takes the waiter out of the queue and throws TaskCancelled;
  // a waiter already released by open() completes normally.
  class [[nodiscard]] Awaiter {
   public:
    const char* await_kind() const noexcept { return "event"; }  // dump_tasks()
    explicit Awaiter(Gate& gate) noexcept : gate_(gate), wait_(gate.guard_, gate.waiters_) {}
    bool await_ready() const noexcept { return gate_.is_open(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
      return wait_.suspend(waiting, cancel_state_of(waiting),
                           [this]() noexcept { return gate_.open_; });
    }
    void await_resume() { wait_.finish(); }

   private:
    Gate& gate_;
    ListWait<SpinLock> wait_;
  };

  bool is_open() const noexcept;
  void open() noexcept;   // releases every waiter; later waits pass
  void close() noexcept;  // later waits suspend again

 private:
  Scheduler& scheduler_;
  mutable SpinLock guard_;  // protects the two fields below
  bool open_ = false;
  WaitList waiters_;
};
}  // namespace detail

class Event {
 public:
  explicit Event(Scheduler& scheduler) noexcept : gate_(scheduler) {}
  void set() noexcept { gate_.open(); }
  void reset() noexcept { gate_.close(); }
  bool is_set() const noexcept { return gate_.is_open(); }
  detail::Gate::Awaiter wait() noexcept { return detail::Gate::Awaiter(gate_); }

 private:
  detail::Gate gate_;
};

class WaitGroup {
 public:
  explicit WaitGroup(Scheduler& scheduler) noexcept : gate_(scheduler) { gate_.open(); }
  // Adds `count` pieces of outstanding work (call before starting them).
  void add(std::size_t count = 1) noexcept;
  // One piece finished; the last one releases every waiter.
  void done() noexcept;
  detail::Gate::Awaiter wait() noexcept { return detail::Gate::Awaiter(gate_); }

 private:
  SpinLock guard_;  // orders add/done with the gate's state
  std::size_t outstanding_ = 0;
  detail::Gate gate_;
};

}  // namespace tiny_coro
