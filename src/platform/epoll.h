#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <span>

#include <tiny_coro/unique_fd.h>

namespace tiny_coro::detail {

// A thin epoll wrapper: registration calls return errno values instead of throwing.
class Epoll {
 public:
  Epoll();
  int fd() const noexcept { return fd_.get(); }

  int add(int fd, std::uint32_t events, std::uint64_t data) noexcept;
  int modify(int fd, std::uint32_t events, std::uint64_t data) noexcept;
  int remove(int fd) noexcept;

  // Waits up to `timeout` (negative: forever) with nanosecond precision where the kernel has
  // epoll_pwait2. Returns the number of events written, 0 on timeout or EINTR.
  int wait(std::span<epoll_event> events, std::chrono::nanoseconds timeout) noexcept;

 private:
  UniqueFd fd_;
  bool have_pwait2_ = true;
};

}  // namespace tiny_coro::detail
