// AsyncMutex: a mutex for coroutines. A contended lock() suspends the coroutine, never the
// thread; unlock() hands the lock straight to the longest waiter (baton passing, FIFO: no
// waiter starves and nobody can barge past the queue) and schedules it on the scheduler.
//
//   auto guard = co_await mutex.lock();   // ScopedLock: unlocks when it goes out of scope
//
// Cancelling a lock() (cancel.h) that waits takes the waiter out of the queue and throws
// TaskCancelled from the co_await; a waiter that unlock() already handed the lock to keeps it
// (its co_await returns the ScopedLock). Either way the mutex is never left locked by
// nobody, and the next waiter is never left asleep.
//
// Where a waiter resumes: on a worker of the scheduler, queued by the unlock() that passed it
// the lock (on that worker's LIFO slot when unlock() ran on a worker) — never inline inside
// unlock(), so a chain of hand-offs cannot grow the stack. An uncontended lock/unlock is a
// spin-lock round trip and a flag: no syscall, no allocation.
#pragma once

#include <coroutine>
#include <mutex>
#include <utility>

#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

class AsyncMutex;

// Holds an AsyncMutex locked; unlocks on destruction (or earlier with unlock()).
class [[nodiscard]] ScopedLock {
 public:
  ScopedLock() noexcept = default;
  explicit ScopedLock(AsyncMutex& mutex) noexcept : mutex_(&mutex) {}  // adopts a held lock
  ScopedLock(ScopedLock&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
  ScopedLock& operator=(ScopedLock&& other) noexcept;
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;
  ~ScopedLock() { unlock(); }

  bool owns_lock() const noexcept { return mutex_ != nullptr; }
  void unlock() noexcept;

 private:
  AsyncMutex* mutex_ = nullptr;
};

class AsyncMutex {
 public:
  explicit AsyncMutex(Scheduler& scheduler) noexcept : scheduler_(scheduler) {}
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;
  // Precondition: unlocked, nobody waiting. The lock orders destruction after the last
  // unlock()'s critical section on whatever worker ran it.
  ~AsyncMutex() { std::lock_guard lock(guard_); }

  // Locks it now if it is free; never suspends.
  [[nodiscard]] bool try_lock() noexcept;
  // Releases the lock, passing it to the first waiter if there is one.
  void unlock() noexcept;

  class [[nodiscard]] LockWait {
   public:
    // dump_tasks() (detail/await_record.h)
    static constexpr bool notes_its_wait = true;
    static constexpr detail::WaitKind kWaitKind{"lock"};
    const char* await_kind() const noexcept { return kWaitKind.name; }
    explicit LockWait(AsyncMutex& mutex) noexcept
        : mutex_(mutex), wait_(mutex.guard_, mutex.waiters_) {}

    bool await_ready() noexcept { return mutex_.try_lock(); }
    template <class Promise>
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
      detail::note_own_wait(waiting, *this);
      return wait_.suspend(waiting, detail::cancel_state_of(waiting), [this]() noexcept {
        return std::exchange(mutex_.locked_, true) == false;  // freed since await_ready: take it
      });
    }
    ScopedLock await_resume() {
      wait_.finish();
      return ScopedLock(mutex_);
    }

   private:
    AsyncMutex& mutex_;
    detail::ListWait<SpinLock> wait_;
  };
  // What lock() returns: the mutex, from which the LockWait is made where it is awaited
  // (detail/await_record.h, AwaitRequest).
  using LockAwaiter = detail::OwnerRequest<LockWait, AsyncMutex>;
  // `co_await m.lock()` yields a ScopedLock once this coroutine holds the mutex.
  LockAwaiter lock() noexcept { return LockAwaiter(*this); }

 private:
  Scheduler& scheduler_;
  SpinLock guard_;       // protects the two fields below
  bool locked_ = false;  // held by someone (including a waiter it was handed to)
  detail::WaitList waiters_;
};

inline ScopedLock& ScopedLock::operator=(ScopedLock&& other) noexcept {
  if (this != &other) {
    unlock();
    mutex_ = std::exchange(other.mutex_, nullptr);
  }
  return *this;
}

inline void ScopedLock::unlock() noexcept {
  if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->unlock();
}

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::AsyncMutex;
using tiny_coro::ScopedLock;
#endif
