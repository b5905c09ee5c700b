// select: wait for the first of several channel operations, as Go's select statement.
//
//   auto from_a = chan_a.recv_case();
//   auto to_b = chan_b.send_case(42);
//   const std::size_t ready = co_await tiny_coro::select(from_a, to_b);
//   switch (ready) {  // bound first: GCC 12 loses exceptions thrown in a switch's co_await
//     case 0: use(from_a.value()); break;   // std::optional<T>: nullopt if a was closed
//     case 1: assert(to_b.sent()); break;
//   }
//
// Exactly one case completes; the others are not consumed (no value is taken from, or given
// to, a channel whose case lost). If several are ready at once, the first in argument order
// wins. A receive on a closed, drained channel and a send on a closed channel count as ready
// (the result says so), as in Go. The cases must outlive the co_await.
//
// Cancelling a select that waits (cancel.h) claims it for no case, so no case completes — no
// value is taken or given — and the co_await throws TaskCancelled; if a peer claimed a case
// first, that case completes and the select returns it.
//
// How (Go's selectgo): a round locks every channel involved, in address order; pass 1
// completes the first case that can complete now; otherwise pass 2 queues a node per case,
// all pointing at one SelectState, re-checks the buffered channels (their rings move without
// the lock — the waiter's half of channel.h's wait protocol), and the coroutine suspends
// after releasing the locks. Whoever later finds one of those nodes claims the SelectState
// for that case (a single CAS; losers' nodes are stale and dropped) and completes it under
// its channel's lock, then schedules the select. On a buffered channel a faster peer may
// take what the claimer meant to give; the claimed select then wakes unfinished and runs
// another round. On resumption each case unlinks its node if still queued — under its
// channel's lock even when already unlinked, because a peer that popped a losing node may
// still be failing its claim on it. Holding all locks during the passes means nobody can
// claim the select before it has finished queueing.
#pragma once

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstddef>
#include <tuple>
#include <utility>

#include <tiny_coro/cancel.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/select_state.h>
#include <tiny_coro/spinlock.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

namespace detail {

// The winner of a select round taken back by a cancellation.
inline constexpr std::size_t kSelectCancelled = SelectState::kUndecided - 1;

// One attempt: completes a case, or suspends until a peer claims one.
template <class... Cases>
class [[nodiscard]] SelectRound final : private CancelPoint {
 public:
  const char* await_kind() const noexcept { return "select"; }  // dump_tasks()

 private:
  using Indices = std::index_sequence_for<Cases...>;

 public:
  explicit SelectRound(Cases&... cases) noexcept
      : CancelPoint(&CancelPoint::cancel_of<SelectRound>), cases_(cases...) {
    std::apply([](auto&... c) { (c.start_round(), ...); }, cases_);
  }
  SelectRound(const SelectRound&) = delete;
  SelectRound& operator=(const SelectRound&) = delete;
  // Also when the select's frame is destroyed while it waits (Scheduler::shutdown): no
  // channel may keep a node pointing at this round's state.
  ~SelectRound() {
    disarm();
    finish_all();
  }

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) {
    return suspend(waiting, cancel_state_of(waiting));
  }

  std::size_t await_resume() noexcept {
    disarm();
    finish_all();
    return state_.winner();
  }

  // Whether the chosen case finished, or was only a wake-up to try again.
  bool completed(std::size_t index) const noexcept { return completed(index, Indices{}); }

 private:
  bool suspend(std::coroutine_handle<> waiting, CancelState* cancel_state) {
    waiting_ = waiting;
    std::array<SpinLock*, sizeof...(Cases)> locks = std::apply(
        [](auto&... c) { return std::array<SpinLock*, sizeof...(Cases)>{&c.lock()...}; }, cases_);
    std::sort(locks.begin(), locks.end());
    const auto unique_end = std::unique(locks.begin(), locks.end());
    for (auto it = locks.begin(); it != unique_end; ++it) (*it)->lock();

    bool completed = complete_first_ready(Indices{});
    if (!completed) {
      enqueue_all(waiting, Indices{});
      completed = recheck_buffered(Indices{});
    }
    // Armed while every lock is held: no peer can claim before, and a cancel after, this point
    // competes with them through the claim alone. Already cancelled: claim it ourselves.
    if (!completed && !arm(cancel_state)) {
      state_.decide(kSelectCancelled);
      completed = true;
    }

    for (auto it = unique_end; it != locks.begin();) (*--it)->unlock();
    // Suspended: from the unlock on, a claimer may already be resuming us on another worker,
    // so nothing here may be touched again (and a failed attempt woke nobody).
    if (!completed) return true;
    // Completing a case may have completed peers (a waiting sender's value moved in, ...).
    std::apply([](auto&... c) { (c.wake_pending(), ...); }, cases_);
    return false;
  }

  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept {
    if (!state_.try_claim(kSelectCancelled)) return {};  // a peer completed a case first
    return waiting_;
  }

  template <std::size_t... I>
  bool completed(std::size_t index, std::index_sequence<I...>) const noexcept {
    return ((I == index && std::get<I>(cases_).completed()) || ...);
  }

  template <std::size_t... I>
  bool complete_first_ready(std::index_sequence<I...>) {
    // Left to right, stopping at the first case that completes. No node is queued yet.
    return ((std::get<I>(cases_).try_complete_locked() && (state_.decide(I), true)) || ...);
  }

  template <std::size_t... I>
  void enqueue_all(std::coroutine_handle<> waiting, std::index_sequence<I...>) noexcept {
    (std::get<I>(cases_).enqueue_locked(state_, I, waiting), ...);
  }

  // Decides before trying: completing a case may settle its channel, and that must not find
  // one of this select's other queued nodes claimable.
  template <std::size_t... I>
  bool recheck_buffered(std::index_sequence<I...>) {
    auto attempt = [this](auto& c, std::size_t index) {
      state_.decide(index);
      if (c.recheck_locked()) return true;
      state_.undecide();
      return false;
    };
    return (attempt(std::get<I>(cases_), I) || ...);
  }

  void finish_all() noexcept {
    std::apply([](auto&... c) { (c.finish(), ...); }, cases_);
  }

  std::tuple<Cases&...> cases_;
  SelectState state_;
  std::coroutine_handle<> waiting_;
};

}  // namespace detail

// Runs rounds until one completes a case; returns that case's index.
template <class... Cases>
Task<std::size_t> select(Cases&... cases) {
  static_assert(sizeof...(Cases) > 0, "select needs at least one case");
  for (;;) {
    detail::SelectRound<Cases...> round(cases...);
    const std::size_t winner = co_await round;
    if (winner == detail::kSelectCancelled) detail::throw_task_cancelled();
    if (round.completed(winner)) co_return winner;
  }
}

}  // namespace tiny_coro
