#include "runtime/idle.h"

#include <algorithm>

namespace tiny_coro::detail {

Idle::Idle(std::size_t workers)
    : workers_(static_cast<std::uint32_t>(workers)),
      state_(static_cast<std::uint32_t>(workers) * kUnparkedOne) {
  sleepers_.reserve(workers);
}

bool Idle::should_notify(std::uint32_t state) const noexcept {
  return (state & kSearchingMask) == 0 && (state >> 16) < workers_;
}

bool Idle::try_begin_search() noexcept {
  std::uint32_t state = state_->load(std::memory_order_seq_cst);
  // A CAS, not load-then-add: two workers must not both slip under the half-the-workers cap.
  do {
    if (2 * (state & kSearchingMask) >= workers_) return false;
  } while (!state_->compare_exchange_weak(state, state + 1, std::memory_order_seq_cst));
  return true;
}

bool Idle::end_search() noexcept {
  // seq_cst: this decrement and a waker's read of state_ are ordered in one total order.
  return (state_->fetch_sub(1, std::memory_order_seq_cst) & kSearchingMask) == 1;
}

std::optional<std::size_t> Idle::worker_to_notify() {
  // seq_cst: pairs with the RMWs of parking and searching workers (see the header's rules).
  if (!should_notify(state_->load(std::memory_order_seq_cst))) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (!should_notify(state_->load(std::memory_order_seq_cst)) || sleepers_.empty()) {
    return std::nullopt;
  }
  state_->fetch_add(kUnparkedOne + 1, std::memory_order_seq_cst);
  const std::size_t worker = sleepers_.back();
  sleepers_.pop_back();
  return worker;
}

bool Idle::transition_to_parked(std::size_t worker, bool was_searching) {
  std::lock_guard lock(mutex_);
  const std::uint32_t decrement = kUnparkedOne + (was_searching ? 1u : 0u);
  const std::uint32_t previous = state_->fetch_sub(decrement, std::memory_order_seq_cst);
  sleepers_.push_back(worker);
  return was_searching && (previous & kSearchingMask) == 1;
}

bool Idle::unpark_self(std::size_t worker) {
  std::lock_guard lock(mutex_);
  const auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
  if (it == sleepers_.end()) return false;  // a waker popped us; its token is on its way
  sleepers_.erase(it);
  state_->fetch_add(kUnparkedOne, std::memory_order_seq_cst);
  return true;
}

}  // namespace tiny_coro::detail
