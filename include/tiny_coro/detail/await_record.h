// Where a coroutine last awaited, for Scheduler::dump_tasks(): every co_await in a tiny_coro
// coroutine passes its source position through the promise's await_transform (default
// arguments, evaluated at the co_await), which notes it here. What the awaiter waits for and,
// if it is a Task, the callee's promise are noted only when it suspends (PassedAwaiter), so
// that an await that completes at once pays for one store; a dump reads only suspended
// coroutines, whose last await did suspend. From the callees a dump walks from a spawned
// task down to the coroutine that is suspended.
#pragma once

#include <atomic>
#include <bit>
#include <concepts>
#include <coroutine>
#include <type_traits>
#include <version>
#if __has_include(<source_location>)
#include <source_location>
#endif

// Noting every co_await costs a store or three (docs/BENCHMARKS.md, "Task dump and metrics"); a
// build that wants none of it configures with -DTINY_CORO_TRACK_AWAITS=OFF (CMake), which defines
// this as 0 for the library and everything that links it, so that all agree. Its dumps then
// list tasks, states and ages without their await chains.
#ifndef TINY_CORO_TRACK_AWAITS
#define TINY_CORO_TRACK_AWAITS 1
#endif

namespace tiny_coro::detail {

class PromiseBase;

// What an awaiter waits for ("sleep", "recv", ...): its await_kind(), else "await".
template <class Awaitable>
const char* await_kind_of(const Awaitable& awaitable) noexcept {
  if constexpr (requires {
                  { awaitable.await_kind() } -> std::convertible_to<const char*>;
                }) {
    return awaitable.await_kind();
  } else {
    return "await";
  }
}

// The promise of the Task an awaiter awaits, or null.
template <class Awaitable>
PromiseBase* awaited_promise_of(const Awaitable& awaitable) noexcept {
  if constexpr (requires { awaitable.awaited_promise(); }) {
    return awaitable.awaited_promise();
  } else {
    return nullptr;
  }
}

// The awaiter `co_await awaitable` would use: its operator co_await's result (owned), or the
// awaitable itself (borrowed: a temporary lives to the end of the co_await's expression).
template <class Awaitable>
decltype(auto) awaiter_of(Awaitable&& awaitable) {
  if constexpr (requires { static_cast<Awaitable&&>(awaitable).operator co_await(); }) {
    return static_cast<Awaitable&&>(awaitable).operator co_await();
  } else if constexpr (requires { operator co_await(static_cast<Awaitable&&>(awaitable)); }) {
    return operator co_await(static_cast<Awaitable&&>(awaitable));
  } else {
    return static_cast<Awaitable&&>(awaitable);
  }
}

// An await_suspend that hands its coroutine to another thread (a queue push, a CAS that
// publishes the frame) must not be inlined into the coroutine by clang before 19: its
// coroutine lowering treats the inlined body as running before the suspension, so it may
// spill a value computed there into the frame, or reload one from it, after the handle was
// published, while a thief already runs the coroutine (a fork's stale flag made a stolen
// parent throw TaskCancelled). clang 19 fences await_suspend off itself
// (llvm.coro.await.suspend); g++ lowers coroutines before inlining and keeps awaiters in
// the frame. So there every co_await goes through PassedAwaiter, with tracking or without
// (promise_base.h), and its suspend stays a call for any awaiter that does not say it only
// jumps into a coroutine on this thread (suspends_in_place).
#if defined(__clang__) && __clang_major__ < 19
#define TINY_CORO_PUBLISHING_SUSPEND [[gnu::noinline]]
#define TINY_CORO_SUSPEND_NEEDS_A_CALL 1
#else
#define TINY_CORO_PUBLISHING_SUSPEND
#define TINY_CORO_SUSPEND_NEEDS_A_CALL 0
#endif

// An awaiter whose await_suspend hands `awaiting` to no other thread, only jumps into a
// coroutine on this one (a called Task): it may be inlined into the awaiting coroutine.
template <class Awaiter>
concept SuspendsInPlace = std::remove_cvref_t<Awaiter>::suspends_in_place;

// What await_transform hands back: the same awaiter, passed through, which notes what it
// waits for when it suspends. (Handing back the awaitable itself by reference made g++ 12
// copy it into the frame, which an awaiter that cannot be copied does not allow.)
template <class Awaiter>
struct PassedAwaiter {
  Awaiter awaiter;  // a value, or a reference to the caller's temporary
  [[gnu::always_inline]] bool await_ready() { return awaiter.await_ready(); }
  template <class Promise>
  [[gnu::always_inline]] decltype(auto) await_suspend(std::coroutine_handle<Promise> awaiting) {
    if constexpr (SuspendsInPlace<Awaiter>) {
      return suspend(awaiting);
    } else {
      return suspend_as_call(awaiting);
    }
  }
  [[gnu::always_inline]] decltype(auto) await_resume() { return awaiter.await_resume(); }

 private:
  template <class Promise>
  decltype(auto) suspend(std::coroutine_handle<Promise> awaiting) {
    // Before the awaiter publishes `awaiting`: once it has, another thread may resume it.
    awaiting.promise().await_.note_wait(await_kind_of(awaiter), awaited_promise_of(awaiter));
    return awaiter.await_suspend(awaiting);
  }
  template <class Promise>
  TINY_CORO_PUBLISHING_SUSPEND decltype(auto) suspend_as_call(
      std::coroutine_handle<Promise> awaiting) {
    return suspend(awaiting);
  }
};

// g++ has std::source_location, one pointer to a per-site constant, so noting a co_await's site
// is one store; clang 14 (the sanitizer builds) has only the builtins, which cost two more.
// The site travels as the builtin's bare pointer, not as a std::source_location: g++ keeps
// every class-type temporary of a co_await's expression in the coroutine's frame — the
// default argument and its copy, 16 bytes per co_await in every frame — but a pointer in a
// register. site() turns it back into the source_location it is the whole of.
#if defined(__cpp_lib_source_location)
#define TINY_CORO_AWAIT_SITE_PARAMS const void* where = __builtin_source_location()
#define TINY_CORO_AWAIT_SITE_ARGS where
#else
#define TINY_CORO_AWAIT_SITE_PARAMS                                             \
  const char *where_file = __builtin_FILE(), int where_line = __builtin_LINE(), \
             const char *where_function = __builtin_FUNCTION()
#define TINY_CORO_AWAIT_SITE_ARGS \
  AwaitSite { where_file, where_function, where_line }
#endif

struct AwaitSite {
  const char* file = nullptr;
  const char* function = nullptr;
  int line = 0;
};

// Plain fields read and written through std::atomic_ref (relaxed): written by the coroutine's
// own thread at each co_await (the site) and each suspension (the rest), read by dump_tasks()
// only while every worker that could run the coroutine is paused, whose handshake orders the
// two.
class AwaitRecord {
 public:
#if defined(__cpp_lib_source_location)
  // `where`: what __builtin_source_location() gave at the co_await.
  void note_site(const void* where) noexcept {
    std::atomic_ref(where_).store(where, std::memory_order_relaxed);
  }
  // The site of the last co_await; a null file if there was none yet.
  AwaitSite site() const noexcept {
    static_assert(sizeof(std::source_location) == sizeof(const void*),
                  "a source_location is the pointer __builtin_source_location() returns");
    const void* noted =
        std::atomic_ref(const_cast<const void*&>(where_)).load(std::memory_order_relaxed);
    if (noted == nullptr) return {};
    const auto where = std::bit_cast<std::source_location>(noted);
    return {where.file_name(), where.function_name(), static_cast<int>(where.line())};
  }
#else
  void note_site(AwaitSite where) noexcept {
    std::atomic_ref(where_.file).store(where.file, std::memory_order_relaxed);
    std::atomic_ref(where_.function).store(where.function, std::memory_order_relaxed);
    std::atomic_ref(where_.line).store(where.line, std::memory_order_relaxed);
  }
  AwaitSite site() const noexcept {
    auto& self = const_cast<AwaitSite&>(where_);
    return {std::atomic_ref(self.file).load(std::memory_order_relaxed),
            std::atomic_ref(self.function).load(std::memory_order_relaxed),
            std::atomic_ref(self.line).load(std::memory_order_relaxed)};
  }
#endif
  // At a suspension: what it waits for, and the Task it awaits (null if not a Task).
  void note_wait(const char* what, PromiseBase* awaited) noexcept {
    std::atomic_ref(kind_).store(what, std::memory_order_relaxed);
    std::atomic_ref(callee_).store(awaited, std::memory_order_relaxed);
  }
  // What the last suspension waits for (null if none yet), and the Task it awaits (null if
  // not a Task); those of the last co_await whenever the coroutine is suspended.
  const char* kind() const noexcept {
    return std::atomic_ref(const_cast<const char*&>(kind_)).load(std::memory_order_relaxed);
  }
  PromiseBase* callee() const noexcept {
    return std::atomic_ref(const_cast<PromiseBase*&>(callee_)).load(std::memory_order_relaxed);
  }

 private:
#if defined(__cpp_lib_source_location)
  const void* where_ = nullptr;
#else
  AwaitSite where_{};
#endif
  const char* kind_ = nullptr;
  PromiseBase* callee_ = nullptr;
};

}  // namespace tiny_coro::detail
