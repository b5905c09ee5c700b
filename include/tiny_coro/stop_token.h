// with_stop_token: let a C++20 std::stop_token cancel a task.
//
//   std::stop_source stop;
//   auto handle = sched.spawn(tiny_coro::with_stop_token(stop.get_token(), serve(listener)));
//   ...
//   stop.request_stop();  // the task gets TaskCancelled at its suspension point
//
// The task runs inline under a cancellation scope (detail/cancel_scope.h) that a
// std::stop_callback cancels; code written against stop tokens (std::jthread, P2300's
// senders) can stop tiny_coro work this way. A token already stopped cancels the task from
// the start (it finishes normally only if it never suspends). The co_await rethrows what the
// task ended with: TaskCancelled when the token stopped it.
#pragma once

#include <optional>
#include <stop_token>
#include <utility>

#include <tiny_coro/detail/cancel_scope.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

namespace detail {
struct RequestScope {
  CancelScope* scope;
  void operator()() const noexcept { scope->request(); }
};
}  // namespace detail

template <class T>
Task<T> with_stop_token(std::stop_token token, Task<T> task) {
  detail::CancelScope scope(nullptr, TimePoint::max());
  // Registered for the task's run only; its destructor waits out a callback in progress.
  std::optional<std::stop_callback<detail::RequestScope>> on_stop;
  on_stop.emplace(std::move(token), detail::RequestScope{&scope});
  co_return co_await scope.run(task);
}

}  // namespace tiny_coro
