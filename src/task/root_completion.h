#pragma once

#include <coroutine>

#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro::detail {

// Shutdown's end for a spawned task that never finished: marks it cancelled for its
// JoinHandle and drops the scheduler's reference (destroying the frame if that was the last).
void cancel_root(PromiseBase& promise, std::coroutine_handle<> self) noexcept;

}  // namespace tiny_coro::detail
