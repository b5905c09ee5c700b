// The threads the runtime starts (workers, blocking-pool threads, a reactor thread) have the
// asynchronous signals blocked from birth:
// - a signal a program awaits (signal_set.h) must reach its SignalSet's signalfd, which happens
//   only while no thread has it unblocked; a worker that took it instead would run the
//   default action (exit) on the program's behalf;
// - sendfile(2) cannot be told MSG_NOSIGNAL: to a peer that has gone away it raises SIGPIPE
//   in the calling thread. Blocked, it stays pending and is never delivered; the sendfile
//   still returns -EPIPE.
// The process's dispositions are left as the program set them, and the thread that runs
// main() keeps its mask, so a plain program still dies of SIGINT as it always did.
// Synchronous signals (SIGSEGV, SIGFPE, ...) stay unblocked: blocking them is undefined.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace tiny_coro::detail {

inline sigset_t async_signals() noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int signal_number : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD,
                            SIGWINCH, SIGALRM, SIGPIPE}) {
    sigaddset(&set, signal_number);
  }
  return set;
}

// Held while the runtime creates a thread: the thread inherits the mask, so the signals are
// blocked from its first instruction. Blocking them in the new thread itself would leave a
// window, before it first runs, in which the kernel could pick it for a signal.
class AsyncSignalsBlocked {
 public:
  AsyncSignalsBlocked() noexcept {
    const sigset_t set = async_signals();
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~AsyncSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  AsyncSignalsBlocked(const AsyncSignalsBlocked&) = delete;
  AsyncSignalsBlocked& operator=(const AsyncSignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace tiny_coro::detail
