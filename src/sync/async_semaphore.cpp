#include <tiny_coro/async_semaphore.h>

namespace tiny_coro {

bool Semaphore::try_acquire() noexcept {
  std::lock_guard lock(guard_);
  if (permits_ == 0) return false;
  --permits_;
  return true;
}

std::size_t Semaphore::approx_available() const noexcept {
  std::lock_guard lock(guard_);
  return permits_;
}

void Semaphore::release(std::size_t count) noexcept {
  detail::WaitList woken;
  {
    std::lock_guard lock(guard_);
    for (; count > 0; --count) {
      detail::WaitNode* waiter = waiters_.pop_front();
      if (waiter == nullptr) break;
      woken.push_back(*waiter);  // the permit goes straight to it
    }
    permits_ += count;
  }
  // The nodes live in the waiters' frames: read each before its coroutine can run.
  while (detail::WaitNode* waiter = woken.pop_front()) {
    const std::coroutine_handle<> handle = waiter->waiter;
    detail::executor_of(scheduler_).schedule(handle);
  }
}

}  // namespace tiny_coro
