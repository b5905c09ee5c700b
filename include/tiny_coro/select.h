// select: wait for the first of several channel operations, as Go's select statement.
//
//   auto from_a = chan_a.recv_case();
//   auto to_b = chan_b.send_case(42);
//   switch (co_await tiny_coro::select(from_a, to_b)) {
//     case 0: use(from_a.value()); break;   // std::optional<T>: nullopt if a was closed
//     case 1: assert(to_b.sent()); break;
//   }
//
// Exactly one case completes; the others are not consumed (no value is taken from, or given
// to, a channel whose case lost). If several are ready at once, the first in argument order
// wins. A receive on a closed, drained channel and a send on a closed channel count as ready
// (the result says so), as in Go.
//
// How (Go's selectgo): lock every channel involved, in address order; pass 1 completes the
// first case that can complete now; otherwise pass 2 queues a node per case, all pointing at
// one SelectState, and the coroutine suspends after releasing the locks. Whoever later finds
// one of those nodes claims the SelectState for that case (a single CAS; losers' nodes are
// stale and dropped) and completes it under its channel's lock, then schedules the select.
// On resumption each case unlinks its node if still queued — under its channel's lock even
// when already unlinked, because a peer that popped a losing node may still be failing its
// claim on it. Holding all locks during the two passes means nobody can claim the select
// before it has finished queueing.
#pragma once

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstddef>
#include <tuple>
#include <utility>

#include <tiny_coro/channel.h>
#include <tiny_coro/detail/select_state.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

template <class... Cases>
class [[nodiscard]] SelectAwaiter {
 public:
  explicit SelectAwaiter(Cases&... cases) noexcept : cases_(cases...) {}

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> waiting) {
    std::array<SpinLock*, sizeof...(Cases)> locks = std::apply(
        [](auto&... c) { return std::array<SpinLock*, sizeof...(Cases)>{&c.lock()...}; }, cases_);
    std::sort(locks.begin(), locks.end());
    const auto unique_end = std::unique(locks.begin(), locks.end());
    for (auto it = locks.begin(); it != unique_end; ++it) (*it)->lock();

    std::coroutine_handle<> wake;
    const bool completed = complete_first_ready(wake, std::index_sequence_for<Cases...>{});
    if (!completed) enqueue_all(waiting, std::index_sequence_for<Cases...>{});

    for (auto it = unique_end; it != locks.begin();) (*--it)->unlock();
    // The winner may have taken a waiting sender's value or fed a waiting receiver.
    if (wake) wake_through(state_.winner(), wake, std::index_sequence_for<Cases...>{});
    return !completed;  // suspended: a claimer will schedule us
  }

  // The index of the case that completed.
  std::size_t await_resume() noexcept {
    std::apply([](auto&... c) { (c.finish(), ...); }, cases_);
    return state_.winner();
  }

 private:
  template <std::size_t... I>
  bool complete_first_ready(std::coroutine_handle<>& wake, std::index_sequence<I...>) {
    // Left to right, stopping at the first case that completes.
    return ((std::get<I>(cases_).try_complete_locked(wake) && (state_.decide(I), true)) || ...);
  }

  template <std::size_t... I>
  void enqueue_all(std::coroutine_handle<> waiting, std::index_sequence<I...>) noexcept {
    (std::get<I>(cases_).enqueue_locked(state_, I, waiting), ...);
  }

  template <std::size_t... I>
  void wake_through(std::size_t index, std::coroutine_handle<> handle, std::index_sequence<I...>) {
    ((I == index ? (std::get<I>(cases_).wake(handle), 0) : 0), ...);
  }

  std::tuple<Cases&...> cases_;
  detail::SelectState state_;
};

template <class... Cases>
SelectAwaiter<Cases...> select(Cases&... cases) noexcept {
  static_assert(sizeof...(Cases) > 0, "select needs at least one case");
  return SelectAwaiter<Cases...>(cases...);
}

}  // namespace tiny_coro
