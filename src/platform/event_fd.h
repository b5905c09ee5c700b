#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include <tiny_coro/unique_fd.h>

#include "platform/system_error.h"

namespace tiny_coro::detail {

// A counter file descriptor that makes a blocked epoll_wait return (the reactor's doorbell).
class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_.valid()) throw_errno("eventfd");
  }
  int fd() const noexcept { return fd_.get(); }

  void notify() noexcept {
    const std::uint64_t one = 1;
    // Only EAGAIN (counter saturated, so already signalled) can fail here; both are fine.
    [[maybe_unused]] const auto written = ::write(fd_.get(), &one, sizeof one);
  }
  void drain() noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto read = ::read(fd_.get(), &count, sizeof count);
  }

 private:
  UniqueFd fd_;
};

}  // namespace tiny_coro::detail
