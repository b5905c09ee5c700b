// Files read and written without blocking a worker (SPEC §6), like tokio::fs: every call
// that can block on the disk — open, read, write, fsync, close — runs on the scheduler's
// blocking pool (blocking.h) while the task waits.
//
//   tiny_coro::File file = co_await tiny_coro::File::open(sched, "data.bin", O_WRONLY | O_CREAT);
//   if (!file) std::cerr << file.error().message();
//   ssize_t n = co_await file.write(buf, len);     // every byte, or < 0
//   co_await file.fsync();
//   co_await file.close();                          // or let the destructor close it
//
//   std::optional<std::string> text = co_await tiny_coro::read_file(sched, "notes.txt");
//
// Errors: each operation returns -errno (and sets errno on the awaiting thread, so perror
// works right after the co_await); open gives a File that tests false, with error() saying why.
//
// Cancellation: a call is cancellable until a pool thread starts it — it then never ran and
// the co_await throws TaskCancelled: a cancelled write wrote nothing, a cancelled read
// consumed nothing. Once started it runs to its end (a disk write cannot be taken back) and
// the co_await returns its result; the task throws at its next suspension point.
//
// Concurrency: read() and write() use the file's own offset, so one at a time per File;
// pread()/pwrite() take an offset and may overlap. Buffers must stay valid until the
// co_await returns (the awaiting frame's locals do). A File must not outlive its Scheduler.
// io_uring could later serve the same API without the pool hop.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <tiny_coro/blocking.h>
#include <tiny_coro/unique_fd.h>

namespace tiny_coro {

namespace detail {
// The blocking side of each operation: a plain function of the descriptor, -errno on failure.
ssize_t file_open(const std::string& path, int flags, mode_t mode) noexcept;
ssize_t file_read(int fd, void* buf, std::size_t size, off_t offset) noexcept;  // offset < 0: the file's
ssize_t file_write(int fd, const void* buf, std::size_t len, off_t offset) noexcept;  // all bytes
ssize_t file_sync(int fd, bool data_only) noexcept;
ssize_t file_size(int fd) noexcept;
ssize_t file_close(int fd) noexcept;  // -EBADF for -1

// A file call on the pool, whose failure also lands in errno on the awaiting thread.
template <class F>
class [[nodiscard]] FileCall : public BlockingCall<F> {
 public:
  FileCall(Scheduler& scheduler, F function) : BlockingCall<F>(scheduler, std::move(function)) {}
  const char* await_kind() const noexcept { return "file"; }  // dump_tasks()
  ssize_t await_resume() {
    const ssize_t result = BlockingCall<F>::await_resume();
    if (result < 0) errno = static_cast<int>(-result);
    return result;
  }
};
template <class F>
FileCall<F> file_call(Scheduler& scheduler, F function) {
  return FileCall<F>(scheduler, std::move(function));
}
}  // namespace detail

class File;

// co_await File::open(...): an open File, or one that tests false (see error()).
class [[nodiscard]] FileOpen {
 public:
  FileOpen(Scheduler& scheduler, std::string path, int flags, mode_t mode)
      : scheduler_(scheduler),
        call_(scheduler, Open{std::move(path), flags, mode}) {}
  const char* await_kind() const noexcept { return "file open"; }  // dump_tasks()
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiting) noexcept {
    return call_.await_suspend(waiting);
  }
  File await_resume();

 private:
  struct Open {
    std::string path;
    int flags;
    mode_t mode;
    ssize_t operator()() const noexcept { return detail::file_open(path, flags, mode); }
  };
  Scheduler& scheduler_;
  BlockingCall<Open> call_;
};

class File {
 public:
  File() noexcept = default;
  // Adopts `fd`, an open file; its calls run on `scheduler`'s blocking pool.
  File(Scheduler& scheduler, int fd) noexcept : scheduler_(&scheduler), fd_(fd) {}
  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  ~File() = default;  // closes at once, on the calling thread (close() is the async way)

  // open(2) on the pool. O_CLOEXEC is always added; `mode` applies with O_CREAT.
  static FileOpen open(Scheduler& scheduler, std::string path, int flags = O_RDONLY,
                       mode_t mode = 0644) {
    return FileOpen(scheduler, std::move(path), flags, mode);
  }

  // Bytes read (0 at end of file), or < 0.
  auto read(void* buf, std::size_t size) {
    return detail::file_call(*scheduler_, [fd = fd(), buf, size] {
      return detail::file_read(fd, buf, size, -1);
    });
  }
  auto pread(void* buf, std::size_t size, off_t offset) {
    return detail::file_call(*scheduler_, [fd = fd(), buf, size, offset] {
      return detail::file_read(fd, buf, size, offset);
    });
  }
  // Every byte (the length), or < 0 (an unknown prefix may then be written).
  auto write(const void* buf, std::size_t len) {
    return detail::file_call(*scheduler_, [fd = fd(), buf, len] {
      return detail::file_write(fd, buf, len, -1);
    });
  }
  auto pwrite(const void* buf, std::size_t len, off_t offset) {
    return detail::file_call(*scheduler_, [fd = fd(), buf, len, offset] {
      return detail::file_write(fd, buf, len, offset);
    });
  }
  // fsync(2) (data_only: fdatasync(2)): 0, or < 0.
  auto fsync(bool data_only = false) {
    return detail::file_call(*scheduler_,
                             [fd = fd(), data_only] { return detail::file_sync(fd, data_only); });
  }
  // The file's size in bytes (fstat), or < 0.
  auto size() {
    return detail::file_call(*scheduler_, [fd = fd()] { return detail::file_size(fd); });
  }
  // Closes on the pool (a close can block: NFS flushes, the last reference to a big deleted
  // file). 0, or < 0 — the file is closed either way.
  // A close cancelled before it started closes the descriptor at once instead.
  auto close() {
    return detail::file_call(*scheduler_, [fd = std::move(fd_)]() mutable {
      return detail::file_close(fd.release());
    });
  }

  int fd() const noexcept { return fd_.get(); }
  Scheduler* scheduler() const noexcept { return scheduler_; }
  bool is_open() const noexcept { return fd_.get() >= 0; }
  explicit operator bool() const noexcept { return is_open(); }
  // For a File that tests false: why the open failed.
  std::error_code error() const noexcept {
    return error_ == 0 ? std::error_code() : std::error_code(error_, std::system_category());
  }

 private:
  friend class FileOpen;
  Scheduler* scheduler_ = nullptr;
  UniqueFd fd_;
  int error_ = 0;
};

inline File FileOpen::await_resume() {
  const ssize_t fd = call_.await_resume();
  if (fd < 0) {
    File failed;
    failed.scheduler_ = &scheduler_;
    failed.error_ = static_cast<int>(-fd);
    errno = failed.error_;
    return failed;
  }
  return File(scheduler_, static_cast<int>(fd));
}

// The whole file as a string, or nullopt with errno set (tokio::fs::read_to_string).
Task<std::optional<std::string>> read_file(Scheduler& scheduler, std::string path);
// Writes `data` to `path`, created or truncated: 0, or -errno (tokio::fs::write).
Task<ssize_t> write_file(Scheduler& scheduler, std::string path, std::string data);

}  // namespace tiny_coro
