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

  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(Gate& gate) noexcept : gate_(gate) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() { leave_if_linked(gate_.guard_, gate_.waiters_, node_); }
    bool await_ready() const noexcept { return gate_.is_open(); }
    bool await_suspend(std::coroutine_handle<> waiting) noexcept;
    void await_resume() const noexcept {}

   private:
    Gate& gate_;
    WaitNode node_;
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
