// Where a coroutine last awaited, for Scheduler::dump_tasks(). Two ways to know it:
//
// * A suspension's program counter. Where the library builds with libbacktrace (g++:
//   TINY_CORO_AWAIT_PCS), its own awaiters of the hottest waits (a Task call, a join, a sleep,
//   a yield, a channel send or recv, a mutex lock: NotesItsWait) note, when they suspend, the
//   address of the instruction doing it, which the dump turns into `function file:line`
//   through the debug information: the outermost frame at that address is the coroutine that
//   wrote the co_await, since a co_await cannot sit in a function inlined into it. An await
//   of theirs that completes at once pays nothing, which noting its site could not do
//   (docs/BENCHMARKS.md, "Task dump and metrics").
// * Its source position. Every other co_await in a tiny_coro coroutine passes its position
//   through the promise's await_transform (default arguments, evaluated at the co_await),
//   which notes it here; what the awaiter waits for and, if it is a Task, the callee's
//   promise are noted when it suspends (PassedAwaiter).
//
// Every suspension of a tiny_coro coroutine is noted one way or the other, so a dump, which
// reads only suspended coroutines, never sees a note older than the suspension (the task
// that takes the dump runs, and its notes are not read: task_dump.cpp). From the callees a
// dump walks from a spawned task down to the coroutine that is suspended.
#pragma once

#include <atomic>
#include <bit>
#include <concepts>
#include <coroutine>
#include <cstdint>
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
// Defined to 1 by CMake (for the library and every program that links it) when the library
// can turn program counters into source lines (libbacktrace, src/runtime/code_address.cpp).
#ifndef TINY_CORO_AWAIT_PCS
#define TINY_CORO_AWAIT_PCS 0
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

// Whether this translation unit's library awaiters note program counters. Not on clang
// before 19, whose every co_await goes through PassedAwaiter anyway (above); only where an
// instruction can read its own address.
#if TINY_CORO_TRACK_AWAITS && TINY_CORO_AWAIT_PCS && !TINY_CORO_SUSPEND_NEEDS_A_CALL && \
    defined(__cpp_lib_source_location) && (defined(__x86_64__) || defined(__aarch64__))
#define TINY_CORO_NOTES_PCS 1
#else
#define TINY_CORO_NOTES_PCS 0
#endif

// A library awaiter that notes its own suspension (note_own_wait, first thing in its
// await_suspend) and so needs nothing from await_transform: it declares notes_its_wait.
template <class Awaiter>
concept NotesItsWait = (TINY_CORO_NOTES_PCS != 0) && requires {
  std::remove_cvref_t<Awaiter>::notes_its_wait;
};

// What a library call such as chan.recv() returns instead of its awaiter, which may be too
// big to copy or may not be copied at all: the few words (or none) from which
// await_transform makes the awaiter in place (operator co_await), taken by value so that no
// temporary of it lands in the frame. It declares is_await_request.
template <class Request>
concept AwaitRequest = requires {
  Request::is_await_request;
};

// The request of an awaiter made from its owner alone (a channel's recv, a mutex's lock).
template <class Awaiter, class Owner>
class [[nodiscard]] OwnerRequest {
 public:
  static constexpr bool is_await_request = true;
  explicit OwnerRequest(Owner& owner) noexcept : owner_(&owner) {}
  Awaiter operator co_await() const noexcept { return Awaiter(*owner_); }

 private:
  Owner* owner_;
};

// The address of the instruction that reads it, in the code it is inlined into: volatile so
// that it stays where it is written.
[[gnu::always_inline]] inline const void* current_code_address() noexcept {
  const void* here;
#if defined(__x86_64__)
  asm volatile("lea 0(%%rip), %0" : "=r"(here));
#elif defined(__aarch64__)
  asm volatile("adr %0, ." : "=r"(here));
#else
  here = nullptr;
#endif
  return here;
}

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
    if constexpr (!NotesItsWait<Awaiter>) {
      awaiting.promise().await_.note_wait(await_kind_of(awaiter), awaited_promise_of(awaiter));
    }
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

// What a suspension that notes its program counter waits for: a static object per awaiter
// type (its address is a constant of the code), aligned so that its address leaves the low
// bits free for AwaitRecord's tags.
struct alignas(8) WaitKind {
  const char* name;
};

// Where a suspended coroutine awaits: its source position, or the program counter of its
// suspension (neither if it noted none yet); what it waits for; and the Task it awaits.
struct AwaitNote {
  AwaitSite site;
  const void* code_address = nullptr;
  const char* kind = nullptr;  // null: noted a site but has not suspended there
  PromiseBase* callee = nullptr;
  bool known() const noexcept { return site.file != nullptr || code_address != nullptr; }
};

// Plain fields read and written through std::atomic_ref (relaxed): written by the coroutine's
// own thread at each co_await (the site) and each suspension (the rest), read by dump_tasks()
// only while every worker that could run the coroutine is paused, whose handshake orders the
// two. A suspension that notes its program counter writes two words, where_ and what_ (a
// WaitKind, or the callee's promise, tagged); one that noted its site at the co_await writes
// kind_ and what_ (the callee's promise, untagged).
class AwaitRecord {
 public:
#if defined(__cpp_lib_source_location)
  // `where`: what __builtin_source_location() gave at the co_await.
  void note_site(const void* where) noexcept {
    std::atomic_ref(where_).store(where, std::memory_order_relaxed);
  }
  // At a suspension that notes its program counter (note_own_wait): what it waits for.
  void note_suspension(const void* code_address, const WaitKind& kind) noexcept {
    // + rather than |, the same on an aligned address, lets the compiler fold the tag into
    // the instruction that takes the address.
    note_code(code_address,
              reinterpret_cast<std::uintptr_t>(reinterpret_cast<const char*>(&kind) + kCodeNoted));
  }
  // The same for a call of a Task, whose promise `callee` is.
  void note_call(const void* code_address, PromiseBase* callee) noexcept {
    note_code(code_address, reinterpret_cast<std::uintptr_t>(callee) | kCodeNoted | kCallee);
  }
  AwaitNote read() const noexcept {
    static_assert(sizeof(std::source_location) == sizeof(const void*),
                  "a source_location is the pointer __builtin_source_location() returns");
    const void* where =
        std::atomic_ref(const_cast<const void*&>(where_)).load(std::memory_order_relaxed);
    const std::uintptr_t what = load_what();
    if ((what & kCodeNoted) != 0) {
      const std::uintptr_t pointer = what & ~kTags;
      if ((what & kCallee) != 0)
        return {{}, where, "call", reinterpret_cast<PromiseBase*>(pointer)};
      return {{}, where, reinterpret_cast<const WaitKind*>(pointer)->name, nullptr};
    }
    AwaitNote note{{}, nullptr, load_kind(), reinterpret_cast<PromiseBase*>(what)};
    if (where != nullptr) {
      const auto site = std::bit_cast<std::source_location>(where);
      note.site = {site.file_name(), site.function_name(), static_cast<int>(site.line())};
    }
    return note;
  }
#else
  void note_site(AwaitSite where) noexcept {
    std::atomic_ref(where_.file).store(where.file, std::memory_order_relaxed);
    std::atomic_ref(where_.function).store(where.function, std::memory_order_relaxed);
    std::atomic_ref(where_.line).store(where.line, std::memory_order_relaxed);
  }
  AwaitNote read() const noexcept {
    auto& self = const_cast<AwaitSite&>(where_);
    return {{std::atomic_ref(self.file).load(std::memory_order_relaxed),
             std::atomic_ref(self.function).load(std::memory_order_relaxed),
             std::atomic_ref(self.line).load(std::memory_order_relaxed)},
            nullptr,
            load_kind(),
            reinterpret_cast<PromiseBase*>(load_what())};
  }
#endif
  // At a suspension whose site was noted at the co_await: what it waits for, and the Task it
  // awaits (null if not a Task).
  void note_wait(const char* what, PromiseBase* awaited) noexcept {
    std::atomic_ref(kind_).store(what, std::memory_order_relaxed);
    std::atomic_ref(what_).store(reinterpret_cast<std::uintptr_t>(awaited),
                                 std::memory_order_relaxed);
  }

 private:
  // In what_: a program counter is in where_ (and what_ holds no plain callee); and what_
  // points at a callee's promise rather than a WaitKind. Promises are 16-aligned.
  static constexpr std::uintptr_t kCodeNoted = 1;
  static constexpr std::uintptr_t kCallee = 2;
  static constexpr std::uintptr_t kTags = kCodeNoted | kCallee;

#if defined(__cpp_lib_source_location)
  void note_code(const void* code_address, std::uintptr_t what) noexcept {
    std::atomic_ref(where_).store(code_address, std::memory_order_relaxed);
    std::atomic_ref(what_).store(what, std::memory_order_relaxed);
  }
#endif
  const char* load_kind() const noexcept {
    return std::atomic_ref(const_cast<const char*&>(kind_)).load(std::memory_order_relaxed);
  }
  std::uintptr_t load_what() const noexcept {
    return std::atomic_ref(const_cast<std::uintptr_t&>(what_)).load(std::memory_order_relaxed);
  }

#if defined(__cpp_lib_source_location)
  const void* where_ = nullptr;
#else
  AwaitSite where_{};
#endif
  const char* kind_ = nullptr;
  std::uintptr_t what_ = 0;
};

}  // namespace tiny_coro::detail
