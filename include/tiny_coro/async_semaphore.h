// (Named async_*.h: a plain semaphore.h/event.h on the include path would shadow the
// system headers of that name, which <semaphore> itself includes.)
//
// Semaphore: a counting semaphore for coroutines (Tokio's Semaphore, Go's buffered-channel
// idiom). acquire() takes a permit, suspending while none is free; release() returns one,
// handing it straight to the longest waiter (FIFO). A waiter resumes on a worker, scheduled by
// the release() that gave it the permit.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>

#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

class Semaphore {
 public:
  Semaphore(Scheduler& scheduler, std::size_t permits) noexcept
      : scheduler_(scheduler), permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore() { std::lock_guard lock(guard_); }  // orders after the last release()

  [[nodiscard]] bool try_acquire() noexcept;
  // Returns `count` permits; each goes to a waiter if one is queued.
  void release(std::size_t count = 1) noexcept;
  std::size_t approx_available() const noexcept;

  // Cancelling an acquire() that waits (cancel.h) takes the waiter out of the queue and
  // throws TaskCancelled; a waiter that release() already gave a permit to keeps it. No permit
  // is ever lost.
  class [[nodiscard]] AcquireAwaiter {
   public:
    const char* await_kind() const noexcept { return "acquire"; }  // dump_tasks()
    explicit AcquireAwaiter(Semaphore& semaphore) noexcept
        : semaphore_(semaphore), wait_(semaphore.guard_, semaphore.waiters_) {}
    bool await_ready() noexcept { return semaphore_.try_acquire(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
      return wait_.suspend(waiting, detail::cancel_state_of(waiting), [this]() noexcept {
        if (semaphore_.permits_ == 0) return false;
        --semaphore_.permits_;
        return true;
      });
    }
    void await_resume() { wait_.finish(); }

   private:
    Semaphore& semaphore_;
    detail::ListWait<SpinLock> wait_;
  };
  // `co_await sem.acquire()` returns once this coroutine holds a permit.
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

 private:
  Scheduler& scheduler_;
  mutable SpinLock guard_;  // protects the two fields below
  std::size_t permits_;
  detail::WaitList waiters_;
};

}  // namespace tiny_coro
