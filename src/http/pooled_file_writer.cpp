#include "http/pooled_file_writer.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <tiny_coro/blocking.h>
#include <tiny_coro/detail/child_set.h>
#include <tiny_coro/file.h>

namespace tiny_coro::detail {
namespace {

// Large enough that a pool round trip (~10-20 µs) is small beside the write it carries.
constexpr std::size_t kBufferCapacity = 256 * 1024;
constexpr std::size_t kSmallestBuffer = 16 * 1024;

std::error_code errno_code(ssize_t negative) noexcept {
  return {static_cast<int>(-negative), std::system_category()};
}

// Owns everything it touches: see the top of pooled_file_writer.h.
struct PoolWrite {
  std::shared_ptr<UniqueFd> fd;
  std::vector<char> buffer;
  std::size_t length;
  bool sync;

  PooledFileWriter::Written operator()() {
    PooledFileWriter::Written written;
    ssize_t result = file_write(fd->get(), buffer.data(), length, -1);
    if (result >= 0 && sync) result = file_sync(fd->get(), false);
    if (result < 0) written.error = errno_code(result);
    written.buffer = std::move(buffer);
    return written;
  }
};

Task<PooledFileWriter::Written> pool_write(PoolWrite write) {
  co_return co_await run_blocking(std::move(write));
}

}  // namespace

PooledFileWriter::PooledFileWriter(std::uint64_t expected) noexcept
    : capacity_(expected == 0 ? kBufferCapacity
                              : static_cast<std::size_t>(std::clamp<std::uint64_t>(
                                    expected, kSmallestBuffer, kBufferCapacity))) {}

PooledFileWriter::~PooledFileWriter() {
  // A write still in flight runs on, detached, on what it owns.
  if (in_flight_.valid()) in_flight_.ignore_result();
}

std::span<char> PooledFileWriter::space() {
  if (current_.empty()) current_.resize(capacity_);
  return {current_.data() + used_, current_.size() - used_};
}

Task<std::error_code> PooledFileWriter::wait_in_flight() {
  if (!in_flight_.valid()) co_return std::error_code();
  Written written = co_await std::move(in_flight_);
  spare_ = std::move(written.buffer);
  co_return written.error;
}

Task<std::error_code> PooledFileWriter::flush() {
  if (used_ == 0) co_return std::error_code();
  if (const std::error_code error = co_await wait_in_flight()) co_return error;
  Executor* executor = executor_here();
  PoolWrite write{fd_, std::move(current_), used_, false};
  current_ = std::move(spare_);
  spare_ = {};
  used_ = 0;
  if (executor == nullptr) co_return write().error;  // off the workers: write here
  in_flight_ = spawn_on(*executor, pool_write(std::move(write)));
  co_return std::error_code();
}

Task<std::error_code> PooledFileWriter::finish(bool sync) {
  if (const std::error_code error = co_await wait_in_flight()) co_return error;
  if (used_ == 0 && !sync) {
    fd_.reset();
    co_return std::error_code();
  }
  PoolWrite write{std::move(fd_), std::move(current_), used_, sync};
  used_ = 0;
  co_return (co_await run_blocking(std::move(write))).error;
}

}  // namespace tiny_coro::detail
