// The cooperative budget (Tokio's coop module): a task that keeps finding its sockets ready
// never suspends, and on a cooperative scheduler would starve every other task on its
// worker. Each worker grants the task it is about to run kCoopBudget operations; an I/O
// operation that finds the budget spent yields first (behind the other ready tasks), then
// proceeds.
#pragma once

namespace tiny_coro::detail {

inline constexpr int kCoopBudget = 128;

inline thread_local int tl_coop_budget = kCoopBudget;

inline void reset_coop_budget() noexcept { tl_coop_budget = kCoopBudget; }

// False once the running task has used its budget: the caller should yield before going on.
inline bool consume_coop_budget() noexcept { return --tl_coop_budget >= 0; }

}  // namespace tiny_coro::detail
