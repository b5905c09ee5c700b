#include <tiny_coro/file.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace tiny_coro {
namespace detail {

namespace {
ssize_t failure() noexcept { return -static_cast<ssize_t>(errno); }
}  // namespace

ssize_t file_open(const std::string& path, int flags, mode_t mode) noexcept {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return failure();
  }
}

ssize_t file_read(int fd, void* buf, std::size_t size, off_t offset) noexcept {
  for (;;) {
    const ssize_t n = offset < 0 ? ::read(fd, buf, size) : ::pread(fd, buf, size, offset);
    if (n >= 0) return n;
    if (errno != EINTR) return failure();
  }
}

ssize_t file_write(int fd, const void* buf, std::size_t len, off_t offset) noexcept {
  const auto* bytes = static_cast<const char*>(buf);
  std::size_t written = 0;
  while (written < len) {
    const ssize_t n = offset < 0
                          ? ::write(fd, bytes + written, len - written)
                          : ::pwrite(fd, bytes + written, len - written,
                                     offset + static_cast<off_t>(written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure();
    }
    if (n == 0) return -ENOSPC;  // a regular file that takes nothing more: the disk is full
    written += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(written);
}

ssize_t file_sync(int fd, bool data_only) noexcept {
  return (data_only ? ::fdatasync(fd) : ::fsync(fd)) == 0 ? 0 : failure();
}

ssize_t file_size(int fd) noexcept {
  struct stat status {};
  return ::fstat(fd, &status) == 0 ? static_cast<ssize_t>(status.st_size) : failure();
}

ssize_t file_close(int fd) noexcept {
  if (fd < 0) return -EBADF;
  // Linux frees the descriptor even when close fails (EINTR included): never retry it.
  return ::close(fd) == 0 ? 0 : failure();
}

}  // namespace detail

Task<std::optional<std::string>> read_file(Scheduler& scheduler, std::string path) {
  // One pool call for the whole job: open, size, read, close.
  const auto outcome = co_await run_blocking(scheduler, [&path] {
    std::pair<std::string, int> result{{}, 0};
    const UniqueFd fd(static_cast<int>(detail::file_open(path, O_RDONLY, 0)));
    if (!fd.valid()) {
      result.second = errno;
      return result;
    }
    const ssize_t size = detail::file_size(fd.get());
    std::string& text = result.first;
    text.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
    std::size_t filled = 0;
    for (;;) {
      if (filled == text.size()) text.resize(text.size() + 64 * 1024);  // grew, or /proc
      const ssize_t n = detail::file_read(fd.get(), text.data() + filled, text.size() - filled, -1);
      if (n < 0) {
        result.second = static_cast<int>(-n);
        return result;
      }
      if (n == 0) break;
      filled += static_cast<std::size_t>(n);
    }
    text.resize(filled);
    return result;
  });
  if (outcome.second != 0) {
    errno = outcome.second;
    co_return std::nullopt;
  }
  co_return std::move(outcome.first);
}

Task<ssize_t> write_file(Scheduler& scheduler, std::string path, std::string data) {
  co_return co_await detail::file_call(scheduler, [&path, &data] {
    UniqueFd fd(static_cast<int>(detail::file_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)));
    if (!fd.valid()) return -static_cast<ssize_t>(errno);
    const ssize_t n = detail::file_write(fd.get(), data.data(), data.size(), -1);
    if (n < 0) return n;
    return detail::file_close(fd.release());  // a failed close can lose the data: say so
  });
}

}  // namespace tiny_coro
