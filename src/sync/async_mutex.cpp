#include <tiny_coro/async_mutex.h>

#include <mutex>

namespace tiny_coro {

bool AsyncMutex::try_lock() noexcept {
  std::lock_guard lock(guard_);
  if (locked_) return false;
  locked_ = true;
  return true;
}

void AsyncMutex::unlock() noexcept {
  detail::WaitNode* next = nullptr;
  {
    std::lock_guard lock(guard_);
    next = waiters_.pop_front();
    if (next == nullptr) locked_ = false;  // else: still locked, now by `next` (the baton)
  }
  if (next != nullptr) detail::executor_of(scheduler_).schedule(next->waiter);
}

}  // namespace tiny_coro
