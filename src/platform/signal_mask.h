// The threads the runtime starts (workers, blocking-pool threads, a reactor thread) keep the
// asynchronous signals blocked:
// - a signal a program awaits (signal.h) must reach its SignalSet's signalfd, which happens
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

inline void block_async_signals() noexcept {
  const sigset_t set = async_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace tiny_coro::detail
