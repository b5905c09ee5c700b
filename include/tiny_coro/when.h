// when_all and when_any: run tasks concurrently and wait for all of them, or for the first.
//
//   auto [user, cart] = co_await tiny_coro::when_all(fetch_user(id), fetch_cart(id));
//   auto first = co_await tiny_coro::when_any(connect(a), connect(b));  // std::variant
//
// The tasks run as children of the awaiting task, on its scheduler, each as its own spawned
// task (so they run in parallel on the workers). Structured: the co_await completes only
// once every child has finished — losers, failed siblings and the children of a cancelled
// parent included — so no child outlives it or refers to a dead frame.
//
// Children start in argument order, child-first (as in Cilk or libfork): the awaiting
// worker runs each at once until it first suspends or ends, so a child that waits for I/O,
// or ends at once, costs no queue round trip, steal or wake-up. The first child, and every
// child once two run here took more than about a microsecond each, are queued instead, and
// idle workers take them: long children run side by side as spawned tasks do. Once a child
// has failed (when_all) or won (when_any), the children not yet started never run.
//
// when_all: the values in argument order (std::monostate for Task<void>). The first child to
// fail cancels the others, and its exception is rethrown once all have finished.
// when_any: the first child to finish wins and the others are cancelled; its value (or its
// exception) is the result: a std::variant whose index is the winner's position, or for a
// vector the winner's index and value.
//
// Losers run on other workers, so one may complete before its cancel lands; when_any
// discards its result. The library's operations are cancel-safe (a cancelled recv consumed
// nothing), but to race operations whose results must never be dropped, use select()
// (channels), or let each task record what it did.
//
// Cancelling the awaiting task cancels every child; once all have finished, the co_await
// throws TaskCancelled — unless the outcome was already settled (when_any's winner finished
// with a value, or every when_all child did): a value that was produced is never dropped.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/child_set.h>
#include <tiny_coro/detail/page_allocator.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

namespace detail {

// What a child's value becomes in a combinator's result.
template <class T>
using ChildValue = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
ChildValue<T> take_child(JoinHandle<T>& handle) {
  if constexpr (std::is_void_v<T>) {
    handle.take_result();
    return {};
  } else {
    return handle.take_result();
  }
}

// The promise of an unstarted task, or null for an empty Task.
template <class T>
PromiseBase* promise_of(Task<T>& task) noexcept {
  return task.handle() ? &task.handle().promise() : nullptr;
}

// Marks a loser's result as seen, so its exception is not reported as unobserved.
template <class T>
void discard_child(JoinHandle<T>& handle) noexcept {
  handle.ignore_result();
}

// How far ahead a combinator's loops prefetch its children's frames.
inline constexpr std::size_t kFramesAhead = 8;

// How many children a combinator links and publishes at a time before starting them: one
// publish (a seq_cst store and load) per batch rather than per child.
inline constexpr std::size_t kStartBatch = 64;

// Starts every task as a child of `set`, in order, each at once on this worker or queued
// (ChildSet::start). Stops starting once the set is cancelling (a child failed, or won a
// when_any): the children not started then never run. Stops, too, at the first child that
// cannot be started: the ones already started are cancelled, and the error returned. The
// caller waits for the started ones either way, and keeps `tasks` (the frames of those
// never started, still linked) until then.
template <class TaskAt, class StartEach>
std::exception_ptr start_children(ChildSet& set, std::size_t count, StartEach&& start_each,
                                  TaskAt&& task_at) {
  std::size_t started = 0;
  auto give_up_the_rest = [&] {
    set.abandon(started);
    set.unexpect(count - set.linked());
  };
  set.expect(count);
  try {
    set.reserve_links(count);
    for (std::size_t first = 0; first < count; first += kStartBatch) {
      const std::size_t end = std::min(count, first + kStartBatch);
      for (std::size_t i = first; i < end; ++i) {
        PromiseBase* child = task_at(i);
        if (child == nullptr) {
          throw std::invalid_argument("tiny_coro: an empty Task given to a combinator");
        }
        set.link(*child);
        if (i + kFramesAhead < count) {
          if (PromiseBase* ahead = task_at(i + kFramesAhead)) prefetch_frame(ahead->frame());
        }
      }
      set.publish();
      for (; started < end; ++started) {
        if (set.cancelling()) {
          give_up_the_rest();
          return {};
        }
        start_each(started);
      }
    }
  } catch (...) {
    give_up_the_rest();
    set.cancel_all();
    return std::current_exception();
  }
  return {};
}

template <class... Ts, std::size_t... I>
std::exception_ptr spawn_children(Executor& executor, ChildSet& set,
                                  std::tuple<JoinHandle<Ts>...>& handles,
                                  std::tuple<Task<Ts>...>& tasks, std::index_sequence<I...>) {
  PromiseBase* const promises[] = {promise_of(std::get<I>(tasks))...};
  return start_children(
      set, sizeof...(Ts),
      [&](std::size_t index) {
        ((I == index ? (std::get<I>(handles) = set.start(executor, std::get<I>(tasks), I), 0) : 0),
         ...);
      },
      [&](std::size_t index) { return promises[index]; });
}

// A vector combinator's handles: its own pages once large (page_allocator.h), so that a
// million children's handles are given back after the burst, not parked in a worker's arena.
template <class T>
using ChildHandles = std::vector<JoinHandle<T>, PageAllocator<JoinHandle<T>>>;

// Takes each child's outcome in order (`take` throws what the child threw) and lets go of its
// frame at once, while it is still in the cache, the frames further on already on their way.
template <class T, class Take>
void take_each_child(ChildHandles<T>& handles, Take&& take) {
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i + kFramesAhead < handles.size()) {
      prefetch_frame(handles[i + kFramesAhead].handle().address());
    }
    take(handles[i]);
    handles[i].detach();  // the outcome is taken: destroys the frame
  }
}

template <class T>
std::exception_ptr spawn_children(Executor& executor, ChildSet& set, ChildHandles<T>& handles,
                                  std::vector<Task<T>>& tasks) {
  try {
    handles.reserve(tasks.size());  // first: a push_back below must not throw
  } catch (...) {
    return std::current_exception();
  }
  return start_children(
      set, tasks.size(),
      [&](std::size_t index) { handles.push_back(set.start(executor, tasks[index], index)); },
      [&](std::size_t index) { return promise_of(tasks[index]); });
}

// After the wait: the scope's own failure (a spawn that failed, a child's first exception),
// once every child's result has been marked seen (discard_child).
inline void rethrow_scope_failure(const std::exception_ptr& spawn_error, const ChildSet& set) {
  if (spawn_error) std::rethrow_exception(spawn_error);
  if (set.first_failure()) std::rethrow_exception(set.first_failure());
}

template <class... Ts, std::size_t... I>
std::variant<ChildValue<Ts>...> take_winner(std::tuple<JoinHandle<Ts>...>& handles,
                                            std::size_t winner, std::index_sequence<I...>) {
  std::optional<std::variant<ChildValue<Ts>...>> result;
  (((I == winner)
        ? (result.emplace(std::in_place_index<I>, take_child(std::get<I>(handles))), void())
        : discard_child(std::get<I>(handles))),
   ...);
  return std::move(*result);
}

}  // namespace detail

template <class... Ts>
Task<std::tuple<detail::ChildValue<Ts>...>> when_all(Task<Ts>... tasks) {
  detail::Executor& executor = co_await detail::current_executor();
  std::tuple<Task<Ts>...> pending(std::move(tasks)...);
  std::tuple<JoinHandle<Ts>...> handles;  // before the set: it must die first (child_set.h)
  detail::ChildSet set(detail::ChildSet::Policy::kAll);
  const std::exception_ptr spawn_error =
      detail::spawn_children(executor, set, handles, pending, std::index_sequence_for<Ts...>{});
  co_await detail::ChildSetWait{set};
  if (spawn_error || set.first_failure()) {
    std::apply([](auto&... h) { (detail::discard_child(h), ...); }, handles);
    detail::rethrow_scope_failure(spawn_error, set);
  }
  if (!set.all_started()) detail::throw_task_cancelled();  // cancelled before it started them all
  // Braced: evaluated in order. A child cancelled because the parent was throws TaskCancelled.
  co_return std::apply(
      [](auto&... h) { return std::tuple<detail::ChildValue<Ts>...>{detail::take_child(h)...}; },
      handles);
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(
    std::vector<Task<T>> tasks) {
  detail::Executor& executor = co_await detail::current_executor();
  detail::ChildHandles<T> handles;
  detail::ChildSet set(detail::ChildSet::Policy::kAll);
  const std::exception_ptr spawn_error = detail::spawn_children(executor, set, handles, tasks);
  co_await detail::ChildSetWait{set};
  tasks.clear();  // after the wait: an abandoned child's frame is still linked until then
  if (spawn_error || set.first_failure()) {
    for (auto& h : handles) detail::discard_child(h);
    detail::rethrow_scope_failure(spawn_error, set);
  }
  if (!set.all_started()) detail::throw_task_cancelled();  // cancelled before it started them all
  if constexpr (std::is_void_v<T>) {
    detail::take_each_child(handles, [](JoinHandle<T>& h) { h.take_result(); });
  } else {
    std::vector<T> values;
    values.reserve(handles.size());
    detail::take_each_child(handles,
                            [&values](JoinHandle<T>& h) { values.push_back(h.take_result()); });
    co_return values;
  }
}

template <class... Ts>
Task<std::variant<detail::ChildValue<Ts>...>> when_any(Task<Ts>... tasks) {
  static_assert(sizeof...(Ts) > 0, "when_any needs at least one task");
  detail::Executor& executor = co_await detail::current_executor();
  std::tuple<Task<Ts>...> pending(std::move(tasks)...);
  std::tuple<JoinHandle<Ts>...> handles;
  detail::ChildSet set(detail::ChildSet::Policy::kAny);
  const std::exception_ptr spawn_error =
      detail::spawn_children(executor, set, handles, pending, std::index_sequence_for<Ts...>{});
  co_await detail::ChildSetWait{set};
  if (spawn_error) std::rethrow_exception(spawn_error);
  co_return detail::take_winner(handles, set.winner(), std::index_sequence_for<Ts...>{});
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, std::size_t, std::pair<std::size_t, T>>> when_any(
    std::vector<Task<T>> tasks) {
  if (tasks.empty()) throw std::invalid_argument("tiny_coro: when_any of no tasks");
  detail::Executor& executor = co_await detail::current_executor();
  detail::ChildHandles<T> handles;
  detail::ChildSet set(detail::ChildSet::Policy::kAny);
  const std::exception_ptr spawn_error = detail::spawn_children(executor, set, handles, tasks);
  co_await detail::ChildSetWait{set};
  tasks.clear();  // after the wait: an abandoned child's frame is still linked until then
  if (spawn_error) std::rethrow_exception(spawn_error);
  const std::size_t winner = set.winner();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i != winner) detail::discard_child(handles[i]);
  }
  if constexpr (std::is_void_v<T>) {
    handles[winner].take_result();
    co_return winner;
  } else {
    co_return std::pair<std::size_t, T>(winner, handles[winner].take_result());
  }
}

}  // namespace tiny_coro
