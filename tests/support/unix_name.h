// Unix socket names no other test (or test process) uses: a path in the temporary directory,
// or an abstract name. Both stay short, far inside sun_path's 107 bytes.
#pragma once

#include <unistd.h>

#include <atomic>
#include <string>

namespace tiny_coro::test {

inline std::string unique_unix_suffix() {
  static std::atomic<int> next{0};
  return std::to_string(::getpid()) + "-" + std::to_string(next.fetch_add(1));
}

// A path in /tmp that does not exist yet; the listener bound to it removes it on close.
inline std::string unique_unix_path() { return "/tmp/tiny_coro-" + unique_unix_suffix() + ".sock"; }

inline std::string unique_abstract_name() { return "@tiny_coro-" + unique_unix_suffix(); }

}  // namespace tiny_coro::test
