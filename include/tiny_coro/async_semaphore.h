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

  class [[nodiscard]] AcquireAwaiter {
   public:
    explicit AcquireAwaiter(Semaphore& semaphore) noexcept : semaphore_(semaphore) {}
    AcquireAwaiter(const AcquireAwaiter&) = delete;
    AcquireAwaiter& operator=(const AcquireAwaiter&) = delete;
    ~AcquireAwaiter() { detail::leave_if_linked(semaphore_.guard_, semaphore_.waiters_, node_); }
    bool await_ready() noexcept { return semaphore_.try_acquire(); }
    bool await_suspend(std::coroutine_handle<> waiting) noexcept;
    void await_resume() const noexcept {}

   private:
    Semaphore& semaphore_;
    detail::WaitNode node_;
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
