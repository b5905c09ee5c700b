// Signals as something a task awaits (tokio::signal, Asio's signal_set), on signalfd(2).
//
//   tiny_coro::SignalSet signals(sched.reactor(), {SIGINT, SIGTERM, SIGHUP});  // from main()
//   for (;;) {
//     int signal_number = co_await signals.wait();
//     if (signal_number == SIGHUP) { reload(); continue; }
//     break;                                                 // SIGINT or SIGTERM: shut down
//   }
//
// How delivery works, and the one rule it brings: a signal reaches a signalfd only while no
// thread has it unblocked. The constructor blocks the set's signals in the thread that calls
// it, and every thread tiny_coro starts (workers, the blocking pool) keeps them blocked from
// birth (src/platform/signal_mask.h). So create the SignalSet on the main thread, before
// starting threads of your own (they inherit the mask); a thread started earlier with the
// signal unblocked would take it instead, with its default action. The signals stay blocked
// after the SignalSet is gone: a signal that arrives then stays pending.
//
// Standard signals coalesce: the same signal sent twice before a wait reads it is seen once
// (real-time signals queue). Each signal should have one SignalSet; two sets sharing a
// signal compete for it.
//
// Errors: wait() returns the signal number, or < 0: -ETIMEDOUT (its deadline passed),
// -ECANCELED (the set was closed meanwhile), -EBADF (closed, or the constructor failed: see
// error()). Cancellation (cancel.h): a cancelled wait consumed nothing — a signal that comes
// later is there for the next wait.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <initializer_list>
#include <system_error>

#include <tiny_coro/deadline.h>
#include <tiny_coro/detail/io_handle.h>
#include <tiny_coro/detail/io_request.h>
#include <tiny_coro/reactor.h>

namespace tiny_coro {

// co_await signals.wait(): the number of the signal that arrived, or < 0.
class [[nodiscard]] SignalAwaiter : public detail::IoAwaiterBase {
 public:
  SignalAwaiter(const detail::IoRef& io, Deadline deadline) noexcept
      : IoAwaiterBase(detail::IoRequest::Kind::kRead, io, deadline, [this](detail::IoRequest& r) {
          r.single = iovec{&info_, sizeof(info_)};
        }) {}
  const char* await_kind() const noexcept { return "signal"; }  // dump_tasks()
  int await_resume() {
    const ssize_t result = outcome();
    return result < 0 ? static_cast<int>(result) : static_cast<int>(info_.ssi_signo);
  }

 private:
  signalfd_siginfo info_{};  // the read's buffer (lives in the awaiting frame)
};

class SignalSet : public detail::IoOwner {
 public:
  // Blocks `signals` in the calling thread and listens for them. On failure the set tests
  // false and error() says why.
  SignalSet(Reactor* reactor, std::initializer_list<int> signals);
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;
  ~SignalSet() = default;  // closes (pending waits return -ECANCELED); the mask stays

  SignalAwaiter wait(Deadline deadline = {}) noexcept { return {io_.ref(), deadline}; }

  // is_open(), operator bool, error() — why the constructor failed — and close(), which
  // stops listening (a pending wait returns -ECANCELED): detail::IoOwner.
};

}  // namespace tiny_coro
