// Stores a request body's bytes through the blocking pool (blocking.h), so a slow disk never
// stalls the worker that serves the connection, at the speed of writing from the worker.
//
// Two buffers: while the pool writes one, the socket fills the other, so reading and writing
// overlap as they would with no pool in between. Each write owns its buffer and a share of
// the descriptor: if the upload is abandoned (the peer leaves, the task is cancelled) while
// a write runs, the write finishes on its own into the temporary that FileReceiver is
// discarding — an unnamed or unlinked file, freed with its last descriptor — and nothing
// refers to the abandoned frame. Metadata (open, link, rename) stays with FileReceiver on
// the worker: it is quick, and a commit must not suspend (HttpExchange::save_body_in).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include <tiny_coro/join_handle.h>
#include <tiny_coro/task.h>
#include <tiny_coro/unique_fd.h>

namespace tiny_coro::detail {

class PooledFileWriter {
 public:
  // `expected`: the body's size if known (0: unknown), to size the buffers no larger than
  // needed.
  explicit PooledFileWriter(std::uint64_t expected) noexcept;
  PooledFileWriter(const PooledFileWriter&) = delete;
  PooledFileWriter& operator=(const PooledFileWriter&) = delete;
  ~PooledFileWriter();

  // Writes go to `fd`, shared with its owner (FileReceiver::shared_fd).
  void attach(std::shared_ptr<UniqueFd> fd) noexcept { fd_ = std::move(fd); }
  // Where the next bytes may be read to: never empty.
  std::span<char> space();
  void filled(std::size_t bytes) noexcept { used_ += bytes; }
  bool full() const noexcept { return used_ == current_.size(); }
  // Hands the filled buffer to the pool, after waiting for the write before it; the error of
  // that earlier write, if any.
  Task<std::error_code> flush();
  // Writes what is left and waits for every write; with `sync`, fsync(2)s the file too.
  // Lets go of the descriptor then, so that its owner closes it.
  Task<std::error_code> finish(bool sync);

  struct Written {
    std::error_code error;
    std::vector<char> buffer;  // handed back for reuse
  };

 private:
  Task<std::error_code> wait_in_flight();

  std::shared_ptr<UniqueFd> fd_;
  std::size_t capacity_;
  std::vector<char> current_;
  std::vector<char> spare_;
  std::size_t used_ = 0;
  JoinHandle<Written> in_flight_;
};

}  // namespace tiny_coro::detail
