#include <tiny_coro/file_writer.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include <tiny_coro/blocking.h>
#include <tiny_coro/detail/child_set.h>
#include <tiny_coro/scheduler.h>

namespace tiny_coro {
namespace {

constexpr std::size_t kSmallestBuffer = 16 * 1024;

// One buffer's write, on a pool thread. Owns everything it touches (file_writer.h).
struct PoolWrite {
  std::shared_ptr<UniqueFd> fd;
  std::shared_ptr<std::mutex> one_at_a_time;
  detail::PageBuffer buffer;
  std::size_t length;
  off_t offset;
  bool sync;

  FileWriter::Done operator()() {
    FileWriter::Done done;
    ssize_t result = 0;
    if (length > 0) {
      const std::lock_guard writing(*one_at_a_time);
      result = detail::file_write(fd->get(), buffer.data(), length, offset);
    }
    if (result >= 0 && sync) result = detail::file_sync(fd->get(), false);
    if (result < 0) done.error = std::error_code(static_cast<int>(-result), std::system_category());
    done.buffer = std::move(buffer);
    return done;
  }
};

// Write-behind: the task that flushed has gone on; the worker need not wait for this call.
Task<FileWriter::Done> pool_write(PoolWrite write) {
  auto call = run_blocking(std::move(write));
  call.mark_behind();
  co_return co_await call;  // an lvalue: g++ 12 copies an xvalue awaiter it is given bare
}

// Bytes handed to the pool, in buffers of the current size, before buffers double.
constexpr std::uint64_t kGrowAfterBuffers = 4;

// No larger than the whole expected total, and at least kSmallestBuffer.
std::size_t capped(std::size_t size, const FileWriterOptions& options) noexcept {
  const std::size_t most = std::max(size, kSmallestBuffer);
  if (options.expected == 0) return most;
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(options.expected, kSmallestBuffer, most));
}
std::size_t first_capacity(const FileWriterOptions& options) noexcept {
  return capped(options.buffer_size, options);
}
std::size_t max_capacity(const FileWriterOptions& options) noexcept {
  return std::max(first_capacity(options), capped(options.max_buffer_size, options));
}

}  // namespace

namespace detail {
PageBuffer::PageBuffer(std::size_t size) {
  constexpr std::size_t kPage = 4096;
  const std::size_t rounded = (size + kPage - 1) / kPage * kPage;
  bytes_.reset(static_cast<char*>(std::aligned_alloc(kPage, rounded)));
  if (!bytes_) throw std::bad_alloc();
  size_ = size;
}
void PageBuffer::Free::operator()(char* bytes) const noexcept { std::free(bytes); }
}  // namespace detail

FileWriter::FileWriter(const File& file, FileWriterOptions options)
    : executor_(file.scheduler() != nullptr ? &detail::executor_of(*file.scheduler()) : nullptr),
      capacity_(first_capacity(options)),
      max_capacity_(max_capacity(options)),
      depth_(std::max<std::size_t>(options.depth, 1)),
      start_(options.offset),
      next_offset_(options.offset) {
  const int copy = file.is_open() ? ::fcntl(file.fd(), F_DUPFD_CLOEXEC, 0) : -1;
  if (copy < 0) {
    error_ = std::error_code(file.is_open() ? errno : EBADF, std::system_category());
  } else {
    fd_ = std::make_shared<UniqueFd>(copy);
  }
}

FileWriter::FileWriter(std::shared_ptr<UniqueFd> fd, FileWriterOptions options) noexcept
    : fd_(std::move(fd)),
      executor_(detail::executor_here()),
      capacity_(first_capacity(options)),
      max_capacity_(max_capacity(options)),
      depth_(std::max<std::size_t>(options.depth, 1)),
      start_(options.offset),
      next_offset_(options.offset) {}

FileWriter::~FileWriter() {
  // Writes still in flight run on, detached, on what they own.
  for (auto& write : in_flight_) write.ignore_result();
}

std::span<char> FileWriter::space() {
  if (current_.empty()) {
    if (!spare_.empty()) {
      current_ = std::move(spare_.back());
      spare_.pop_back();
      if (current_.size() < capacity_) current_ = {};  // from before the buffers grew
    }
    if (current_.empty()) current_ = detail::PageBuffer(capacity_);
  }
  return {current_.data() + used_, current_.size() - used_};
}

Task<std::error_code> FileWriter::wait_oldest() {
  Done done = co_await std::move(in_flight_.front());
  in_flight_.pop_front();
  if (done.error && !error_) error_ = done.error;
  if (!done.buffer.empty()) spare_.push_back(std::move(done.buffer));
  co_return error_;
}

void FileWriter::grow_while_streaming() noexcept {
  const auto handed = static_cast<std::uint64_t>(next_offset_ - start_);
  if (capacity_ < max_capacity_ && handed >= kGrowAfterBuffers * capacity_) {
    capacity_ = std::min(capacity_ * 2, max_capacity_);
  }
}

Task<std::error_code> FileWriter::start_write(bool sync) {
  PoolWrite write{fd_, one_at_a_time_, std::move(current_), used_, next_offset_, sync};
  next_offset_ += static_cast<off_t>(used_);
  current_ = {};
  used_ = 0;
  grow_while_streaming();
  if (executor_ == nullptr) {  // off the workers: nothing else to keep busy, write here
    Done done = write();
    if (done.error && !error_) error_ = done.error;
    co_return error_;
  }
  in_flight_.push_back(detail::spawn_on(*executor_, pool_write(std::move(write))));
  co_return error_;
}

Task<std::error_code> FileWriter::flush() {
  if (!error_ && used_ > 0 && !fd_) error_ = std::make_error_code(std::errc::bad_file_descriptor);
  if (error_ || used_ == 0) co_return error_;
  while (in_flight_.size() >= depth_) {
    const std::error_code error = co_await wait_oldest();
    if (error) co_return error;
  }
  const std::error_code error = co_await start_write(false);
  co_return error;
}

Task<ssize_t> FileWriter::write(const void* data, std::size_t len) {
  const auto* bytes = static_cast<const char*>(data);
  std::size_t copied = 0;
  while (copied < len) {
    if (error_) co_return -static_cast<ssize_t>(error_.value());
    const std::span<char> room = space();
    const std::size_t n = std::min(room.size(), len - copied);
    std::memcpy(room.data(), bytes + copied, n);
    filled(n);
    copied += n;
    if (full()) {
      const std::error_code error = co_await flush();
      if (error) break;
    }
  }
  if (error_) co_return -static_cast<ssize_t>(error_.value());
  co_return static_cast<ssize_t>(len);
}

Task<std::error_code> FileWriter::finish(bool sync) {
  while (!in_flight_.empty()) {
    const std::error_code error = co_await wait_oldest();
    (void)error;  // kept in error_; every write is waited for regardless
  }
  if (!error_ && fd_ && (used_ > 0 || sync)) {
    // The last piece and the fsync in one pool call, awaited here.
    PoolWrite write{fd_, one_at_a_time_, std::move(current_), used_, next_offset_, sync};
    next_offset_ += static_cast<off_t>(used_);
    used_ = 0;
    Done done = co_await run_blocking(std::move(write));
    if (done.error) error_ = done.error;
  }
  fd_.reset();
  co_return error_;
}

}  // namespace tiny_coro
