// CancelState: the cancellation word of a task (or of a scope inside one), and the protocol by
// which a request reaches the one operation the task is suspended in.
//
// Every spawned task owns a CancelState; the frames it awaits (nested Tasks, the slow paths
// of socket operations) point at it, so a whole await chain shares one word. A scope
// (CancelScope: timeout, with_stop_token) gives the frames under it a state of its own and,
// for as long as they run, arms itself in the enclosing state so that a request there
// reaches it. A shield gives them a state linked to nothing, so no request reaches them.
//
// Protocol. A suspension point that can be cancelled is a Canceller. Before it suspends (and,
// where a waker could find it, under the same lock the waker takes) it arms itself in the
// state; after it resumes it disarms. A request sets the sticky kRequested bit and, if a
// Canceller is armed, marks the word kInvoking and calls it — once, on the requesting
// thread. The Canceller takes its operation back from whatever would have completed it (a
// wait list, the timer heap, a readiness queue) if it can, and then returns the coroutine to
// resume, which the request schedules on the state's executor; if a waker got there first it
// returns null and the operation completes normally. disarm() waits out a Canceller still
// running, so once it returns nothing refers to the awaiter any more.
//
// Rules that keep it deadlock-free: a Canceller never resumes anything inline and never waits
// for the awaiter; an awaiter never disarms while holding a lock its Canceller takes.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <thread>
#include <type_traits>

#include <tiny_coro/detail/executor.h>

namespace tiny_coro::detail {

// The one TaskCancelled (cancel.h) that every cancelled operation throws: a cancellation then
// allocates no exception object of its own, and a million cancelled tasks store a million
// pointers to one object rather than a million copies.
const std::exception_ptr& shared_task_cancelled();
// Throws it. Forced inline (compilers keep a call to a noreturn function out of line, as
// cold): every frame between a throw and its handler costs the unwinder ~350 ns on this
// machine, twice (search, then cleanup), and a helper frame here made each throw a third
// slower.
[[noreturn]] [[gnu::always_inline]] inline void throw_task_cancelled() {
  std::rethrow_exception(shared_task_cancelled());
}
// Whether `error` holds a TaskCancelled (or a class derived from it). Without a throw for the
// shared one, which is nearly every one: a group of 10,000 cancelled children would otherwise
// pay a second unwinding each.
bool is_task_cancelled(const std::exception_ptr& error) noexcept;

// A cancellable suspension point, seen from a request: one function pointer, not a virtual
// call, so awaiters stay free of vtables (and UBSan's vptr checks, which need a free file
// descriptor to run, never meet them).
class Canceller {
 public:
  // Called at most once, on the requesting thread, while armed. Returns the coroutine to
  // resume with "cancelled", or null if the operation is completing on its own.
  std::coroutine_handle<> invoke() noexcept { return cancel_(*this); }

 protected:
  using CancelFunction = std::coroutine_handle<> (*)(Canceller& self) noexcept;
  explicit Canceller(CancelFunction cancel) noexcept : cancel_(cancel) {}
  Canceller(const Canceller&) = default;
  Canceller& operator=(const Canceller&) = default;
  ~Canceller() = default;

 private:
  CancelFunction cancel_;
};

class CancelState {
 public:
  CancelState() = default;
  CancelState(const CancelState&) = delete;
  CancelState& operator=(const CancelState&) = delete;

  bool requested() const noexcept {
    // acquire: pairs with request()'s release, so whatever the requester wrote before
    // asking (a scope's reason) is visible to whoever sees the request.
    return (word_.load(std::memory_order_acquire) & kRequested) != 0;
  }

  // Arms `canceller` for the operation about to suspend. False if cancellation was already
  // requested: the operation must not suspend (nothing was armed).
  [[nodiscard]] bool arm(Canceller& canceller) noexcept {
    std::uintptr_t expected = 0;
    // release: publishes the canceller's fields to the requester (pairs with its acq_rel
    // CAS); acquire on failure: we see the request and what preceded it.
    return word_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(&canceller),
                                         std::memory_order_release, std::memory_order_acquire);
  }

  // Withdraws the armed canceller; returns once no request can still be using it.
  void disarm() noexcept {
    // acquire: pairs with request()'s release store that ends an invocation, so the
    // canceller's last writes (its "cancelled" flag) are visible to the awaiter.
    std::uintptr_t word = word_.load(std::memory_order_acquire);
    for (int spins = 0;;) {
      if ((word & ~kRequested) == 0) return;  // nothing armed (a request already cleared it)
      if ((word & kInvoking) != 0) {          // a request is inside the canceller: wait it out
        if (++spins > 64) std::this_thread::yield();
        word = word_.load(std::memory_order_acquire);
        continue;
      }
      // acquire on both outcomes: as the load above.
      if (word_.compare_exchange_weak(word, word & kRequested, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        return;
      }
    }
  }

  // Requests cancellation; sticky and idempotent. Any thread. Returns true for the first
  // request.
  bool request() noexcept {
    // relaxed: only a first guess for the CAS below (its failures are relaxed for the same
    // reason: the loop decides nothing from a value it has not CAS'd).
    std::uintptr_t word = word_.load(std::memory_order_relaxed);
    std::uintptr_t desired = 0;
    do {
      if ((word & kRequested) != 0) return false;
      desired = kRequested | ((word & ~kFlags) != 0 ? (word | kInvoking) : 0);
      // acq_rel: acquire the armed canceller's fields (pairs with arm()'s release); release
      // what this thread wrote before asking (pairs with requested()'s acquire).
    } while (!word_.compare_exchange_weak(word, desired, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
    auto* canceller = reinterpret_cast<Canceller*>(word & ~kFlags);
    if (canceller == nullptr) return true;
    Executor* executor = executor_;
    const std::coroutine_handle<> resume = canceller->invoke();
    // release: the canceller is done with the awaiter (pairs with disarm()'s acquire). After
    // this store the awaiter may be gone; `resume` is only a value until scheduled.
    word_.store(kRequested, std::memory_order_release);
    if (resume) executor->schedule(resume);
    return true;
  }

  // Where a cancelled operation's coroutine is sent. Set before the state is shared (by
  // spawn, or by the scope that owns it) and never changed while it is.
  void set_executor(Executor* executor) noexcept { executor_ = executor; }
  Executor* executor() const noexcept { return executor_; }

 private:
  static constexpr std::uintptr_t kRequested = 1;
  static constexpr std::uintptr_t kInvoking = 2;
  static constexpr std::uintptr_t kFlags = kRequested | kInvoking;

  // kRequested | kInvoking | Canceller* (the armed operation, or 0). kRequested is never
  // cleared; kInvoking is set only together with a pointer, and both go in the same store.
  std::atomic<std::uintptr_t> word_{0};
  Executor* executor_ = nullptr;
};

// The base of a suspension point that can be cancelled: it remembers where it armed itself.
// A class deriving from it passes `&CancelPoint::cancel_of<Itself>` and befriends
// CancelPoint, whose cancel_of then calls its private `cancel()`.
class CancelPoint : public Canceller {
 protected:
  explicit CancelPoint(CancelFunction cancel) noexcept : Canceller(cancel) {}
  CancelPoint(const CancelPoint&) = delete;
  CancelPoint& operator=(const CancelPoint&) = delete;
  ~CancelPoint() { disarm(); }

  template <class Derived>
  static std::coroutine_handle<> cancel_of(Canceller& self) noexcept {
    return static_cast<Derived&>(self).cancel();
  }

  // False if the task is already cancelled (then nothing is armed and it must not suspend).
  [[nodiscard]] bool arm(CancelState* state) noexcept {
    if (state == nullptr) return true;
    if (!state->arm(*this)) return false;
    armed_in_ = state;
    return true;
  }
  void disarm() noexcept {
    if (armed_in_ != nullptr) {
      armed_in_->disarm();
      armed_in_ = nullptr;
    }
  }

 private:
  CancelState* armed_in_ = nullptr;
};

}  // namespace tiny_coro::detail
