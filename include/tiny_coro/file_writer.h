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
// (blocking.h) while the task fills the next, with up to `depth` writes handed over at once,
// so that the next write is queued when one ends and no pool round trip leaves the disk idle
// (docs/BENCHMARKS.md, "Blocking pool and files"). The writes are pwrites at their own
// offsets, but one at a time per writer: a filesystem takes one buffered write to a file at
// a time anyway, and a second waiting for it in the kernel spins (ext4's inode lock: a fifth
// of the CPU in a profile here). space()/filled() let a reader fill the buffer directly (a
// socket read into it, as chunked uploads do), with no copy.
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
#include <mutex>
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

// Buffers start small and double while a stream goes on: each time the bytes handed to the
// pool reach four buffers' worth, up to max_buffer_size. A short file costs one small buffer;
// a long stream pays a pool round trip per 1 MiB instead of per 128 KiB (for a 1 GiB file
// here, 0.6× dd's rate became about 0.9×). Not 2 MiB: 2 MiB writes, dd's as well, ran 2-3×
// slower into a new file on this machine (docs/BENCHMARKS.md). Memory: at most depth + 1
// buffers.
struct FileWriterOptions {
  std::size_t buffer_size = 128 * 1024;           // the first buffer
  std::size_t max_buffer_size = 1024 * 1024;  // where doubling stops
  std::size_t depth = 4;       // writes in flight at most
  std::uint64_t expected = 0;  // the total, if known: buffers no larger than it needs
  off_t offset = 0;            // where the first byte goes
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
  void grow_while_streaming() noexcept;

  std::shared_ptr<UniqueFd> fd_;
  std::shared_ptr<std::mutex> one_at_a_time_ = std::make_shared<std::mutex>();
  detail::Executor* executor_;  // where pool writes are spawned; null: off the workers
  std::size_t capacity_;  // of the buffers handed out from now on
  std::size_t max_capacity_;
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
