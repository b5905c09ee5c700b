// Deadline: when a socket operation gives up and returns -ETIMEDOUT — never (the default), at
// a point on the reactor's clock, or a duration after the operation first has to wait.
//
//   co_await socket.read(buf, size, 2s);            // at most 2 s of waiting
//   co_await socket.read(buf, size, head_due);      // a TimePoint shared by several reads
//
// It is the cheap form of timeout() (timeout.h) for one operation: the readiness wait that
// the operation parks in already has a timer node, so the deadline costs no scope, and an
// operation that completes at once never reads the clock. Either way the wait is ended the
// same way a cancellation ends it — the timer takes the waiter back under the socket's lock
// (detail/readiness_wait.h) — only the outcome differs: -ETIMEDOUT instead of TaskCancelled.
#pragma once

#include <chrono>

#include <tiny_coro/reactor.h>

namespace tiny_coro {

namespace detail {
// now + within, saturating: a huge duration means none, not an instant timeout.
inline TimePoint deadline_after(TimePoint now, std::chrono::nanoseconds within) noexcept {
  if (within.count() <= 0) return TimePoint::max();
  return within < TimePoint::max() - now ? now + within : TimePoint::max();
}
}  // namespace detail

class Deadline {
 public:
  constexpr Deadline() noexcept = default;
  // At `at` on the reactor's clock (TimePoint::max(): never). Implicit, like the duration form.
  constexpr Deadline(TimePoint at) noexcept : at_(at) {}  // NOLINT(google-explicit-constructor)
  // `within` after the operation first waits; zero or negative: never (the manual's "0: none").
  template <class Rep, class Period>
  constexpr Deadline(std::chrono::duration<Rep, Period> within) noexcept  // NOLINT
      : within_(saturating_nanoseconds(within)) {}

  static constexpr Deadline never() noexcept { return {}; }

  bool is_never() const noexcept { return within_.count() <= 0 && at_ == TimePoint::max(); }
  // The absolute deadline; reads `reactor`'s clock only for the relative form.
  TimePoint resolve(const Reactor& reactor) const noexcept {
    return within_.count() > 0 ? detail::deadline_after(reactor.now(), within_) : at_;
  }

 private:
  template <class Rep, class Period>
  static constexpr std::chrono::nanoseconds saturating_nanoseconds(
      std::chrono::duration<Rep, Period> within) noexcept {
    using Nanos = std::chrono::nanoseconds;
    // Compared as floating nanoseconds: a cast of Nanos::max() to `within`'s own type could
    // overflow that type (an int of milliseconds), and `within` to Nanos could overflow Nanos.
    using Wide = std::chrono::duration<double, std::nano>;
    if (Wide(within) >= Wide(Nanos::max())) return Nanos::max();
    return std::chrono::ceil<Nanos>(within);
  }

  TimePoint at_ = TimePoint::max();
  std::chrono::nanoseconds within_{0};
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Deadline;
#endif
