#include <tiny_coro/signal_set.h>

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace tiny_coro {

SignalSet::SignalSet(Reactor* reactor, std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signal_number : signals) {
    if (sigaddset(&set, signal_number) != 0) {
      error_ = EINVAL;
      return;
    }
  }
  // Blocked before the descriptor exists: a signal arriving in between stays pending, and
  // the signalfd reports pending signals too.
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    error_ = err;
    return;
  }
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    error_ = errno;
    return;
  }
  try {
    io_ = detail::IoHandle(*reactor, fd, /*tcp=*/false);
  } catch (const std::system_error& e) {
    error_ = e.code().value();
  }
}

}  // namespace tiny_coro
