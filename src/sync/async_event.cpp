#include <tiny_coro/async_event.h>

namespace tiny_coro {
namespace detail {

bool Gate::is_open() const noexcept {
  std::lock_guard lock(guard_);
  return open_;
}

void Gate::open() noexcept {
  WaitList woken;
  {
    std::lock_guard lock(guard_);
    open_ = true;
    while (WaitNode* waiter = waiters_.pop_front()) woken.push_back(*waiter);
  }
  // Each node lives in its waiter's frame: unlink it before its coroutine can run.
  while (WaitNode* waiter = woken.pop_front()) executor_of(scheduler_).schedule(waiter->waiter);
}

void Gate::close() noexcept {
  std::lock_guard lock(guard_);
  open_ = false;
}

}  // namespace detail

void WaitGroup::add(std::size_t count) noexcept {
  std::lock_guard lock(guard_);
  if (outstanding_ == 0 && count > 0) gate_.close();
  outstanding_ += count;
}

void WaitGroup::done() noexcept {
  bool last = false;
  {
    std::lock_guard lock(guard_);
    if (outstanding_ == 0) return;  // more done() than add(): ignored rather than wrapping
    last = --outstanding_ == 0;
  }
  if (last) gate_.open();
}

}  // namespace tiny_coro
