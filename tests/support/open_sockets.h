#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace tiny_coro::test {

// How many sockets this process holds open. Tests that check "no attempt outlives the call"
// count sockets, not every descriptor: a sanitizer runtime or libc may hold a /proc or /sys
// file open for a moment on another thread while the test counts, which once made a count
// taken at the start larger than the one at the end.
inline std::size_t open_sockets() {
  std::size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    char target[64];
    const ssize_t length = ::readlink(link.c_str(), target, sizeof target);
    if (length > 7 && std::memcmp(target, "socket:", 7) == 0) ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace tiny_coro::test
