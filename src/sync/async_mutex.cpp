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

bool AsyncMutex::LockAwaiter::await_suspend(std::coroutine_handle<> waiting) noexcept {
  std::lock_guard lock(mutex_.guard_);
  if (!mutex_.locked_) {  // freed since await_ready: take it and do not suspend
    mutex_.locked_ = true;
    return false;
  }
  node_.waiter = waiting;
  mutex_.waiters_.push_back(node_);
  return true;
}

AsyncMutex::LockAwaiter::~LockAwaiter() {
  detail::leave_if_linked(mutex_.guard_, mutex_.waiters_, node_);
}

}  // namespace tiny_coro
