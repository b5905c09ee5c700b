#include "platform/epoll.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>

#include "platform/system_error.h"

namespace tiny_coro::detail {

Epoll::Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!fd_.valid()) throw_errno("epoll_create1");
}

int Epoll::add(int fd, std::uint32_t events, std::uint64_t data) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return ::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

int Epoll::modify(int fd, std::uint32_t events, std::uint64_t data) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return ::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : errno;
}

int Epoll::remove(int fd) noexcept {
  return ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : errno;
}

int Epoll::wait(std::span<epoll_event> events, std::chrono::nanoseconds timeout) noexcept {
  const int capacity = static_cast<int>(events.size());
  int n = -1;
  if (have_pwait2_) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout.count() >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
      tsp = &ts;
    }
    n = ::epoll_pwait2(fd_.get(), events.data(), capacity, tsp, nullptr);
    // ENOSYS on old kernels; EPERM where a seccomp profile predates the syscall.
    if (n < 0 && errno != EINTR) have_pwait2_ = false;
  }
  if (!have_pwait2_) {
    // Millisecond fallback: round up so a timer is never reported due before its deadline.
    int ms = -1;
    if (timeout.count() >= 0) {
      const long long rounded_up = (timeout.count() + 999'999) / 1'000'000;
      ms = static_cast<int>(std::min<long long>(rounded_up, std::numeric_limits<int>::max()));
    }
    n = ::epoll_wait(fd_.get(), events.data(), capacity, ms);
  }
  return n < 0 ? 0 : n;
}

}  // namespace tiny_coro::detail
