// FileWriter: sequential writes to a file at the speed of writing from one thread, without
// blocking a worker — write-behind, as tokio::fs::File does it.
//
//   tiny_coro::File file = co_await tiny_coro::File::open(sched, "out.bin", O_WRONLY | O_CREAT);
//   tiny_coro::FileWriter writer(file);
//   for (const auto& piece : pieces) {
//     if (co_await writer.write(piece.data(), piece.size()) < 0) { ... }   // copies, returns
//   }
//   std::error_code error = co_await writer.finish(/*sync=*/true);       // all on disk
//
// Bytes are copied into buffers; each full buffer is written on the blocking pool
// (blocking.h) while the task fills the next, with up to `depth` writes in flight (pwrite at
// their own offsets, so they may run on several pool threads at once). A pool round trip per
// write would otherwise leave the disk idle between writes (docs/BENCHMARKS.md, "Files"). space()/filled() let a reader fill
// the buffer directly (a socket read into it, as uploads do), with no copy.
//
// Errors: a failed write is reported by the next write(), flush() or finish() (write-behind
// cannot report it sooner), and every later one; the file's contents are then unknown.
// finish() must be awaited for the data to be complete: a writer destroyed before it lets the
// writes in flight end on their own (each owns its buffer and a share of the descriptor, so
// nothing refers to the abandoned frame), and what was still buffered is dropped.
// Cancellation: the co_awaits are cancellation points; a cancelled writer is only good for
// dropping.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include <tiny_coro/file.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/task.h>
#include <tiny_coro/unique_fd.h>

namespace tiny_coro {

namespace detail {
// A page-aligned buffer: the kernel copies whole pages from it into the page cache. From a
// malloc'd (16-byte-aligned) buffer, writing ran 15% slower here — what dd avoids the same way.
class PageBuffer {
 public:
  PageBuffer() noexcept = default;
  explicit PageBuffer(std::size_t size);  // throws std::bad_alloc
  char* data() const noexcept { return bytes_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  struct Free {
    void operator()(char* bytes) const noexcept;
  };
  std::unique_ptr<char, Free> bytes_;
  std::size_t size_ = 0;
};
}  // namespace detail

// The defaults were the fastest measured here for 1 GiB files and uploads alike: smaller
// buffers, more of them in flight, keep each pool write's source in cache.
struct FileWriterOptions {
  std::size_t buffer_size = 128 * 1024;
  std::size_t depth = 4;     // writes in flight at most
  std::uint64_t expected = 0;  // the total, if known: buffers no larger than it needs
  off_t offset = 0;          // where the first byte goes
};

class FileWriter {
 public:
  // Writes to `file` (a duplicate of its descriptor: the File may be closed meanwhile), on
  // its scheduler's pool.
  explicit FileWriter(const File& file, FileWriterOptions options = {});
  // Writes to `fd`, shared with its owner, on the pool of the worker that awaits.
  explicit FileWriter(std::shared_ptr<UniqueFd> fd, FileWriterOptions options = {}) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  // Copies `len` bytes in (and hands full buffers to the pool): len, or -errno of a write
  // that failed (this one's bytes are then dropped).
  Task<ssize_t> write(const void* data, std::size_t len);
  // Where the next bytes may go: never empty. Then filled(n), and flush() once full().
  std::span<char> space();
  void filled(std::size_t bytes) noexcept { used_ += bytes; }
  bool full() const noexcept { return used_ == current_.size(); }
  // Hands the buffer to the pool (waiting first if `depth` writes are in flight).
  Task<std::error_code> flush();
  // Writes what is left, waits for every write, and with `sync` fsync(2)s the file. Lets go
  // of the descriptor then.
  Task<std::error_code> finish(bool sync = false);
  // Bytes accepted so far.
  std::uint64_t written() const noexcept { return static_cast<std::uint64_t>(next_offset_ - start_) + used_; }

  struct Done {  // what a pool write gives back
    std::error_code error;
    detail::PageBuffer buffer;  // for reuse
  };

 private:
  Task<std::error_code> wait_oldest();
  Task<std::error_code> start_write(bool sync);

  std::shared_ptr<UniqueFd> fd_;
  detail::Executor* executor_;  // where pool writes are spawned; null: off the workers
  std::size_t capacity_;
  std::size_t depth_;
  off_t start_;
  off_t next_offset_;  // of the buffer being filled
  detail::PageBuffer current_;
  std::vector<detail::PageBuffer> spare_;
  std::size_t used_ = 0;
  std::deque<JoinHandle<Done>> in_flight_;
  std::error_code error_;  // the first failure, reported from then on
};

}  // namespace tiny_coro
