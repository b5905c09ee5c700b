#pragma once

#include <cerrno>
#include <system_error>

namespace tiny_coro::detail {

// Throws std::system_error for the current errno; for setup failures (epoll_create, eventfd)
// where there is nothing sensible to return.
[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

}  // namespace tiny_coro::detail
