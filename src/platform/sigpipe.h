#pragma once

#include <pthread.h>
#include <signal.h>

namespace tiny_coro::detail {

// sendfile(2) cannot be told MSG_NOSIGNAL: to a peer that has gone away it raises SIGPIPE in
// the calling thread, and the default action of that kills the process. The threads that run
// tasks keep it blocked, so it stays pending there and is never delivered; the sendfile still
// returns -EPIPE. The process's own disposition of SIGPIPE is left as the program set it.
inline void block_sigpipe_in_this_thread() noexcept {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
}

}  // namespace tiny_coro::detail
