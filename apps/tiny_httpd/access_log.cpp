#include "access_log.h"

#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

namespace tiny_httpd {

AccessLog::AccessLog(int fd) : fd_(fd), writer_([this] { run(); }) {}

AccessLog::~AccessLog() {
  {
    const std::lock_guard guard(lock_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void AccessLog::record(const tiny_coro::HttpAccessRecord& r) {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  const std::size_t when_length = std::strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &local);
  std::string line;
  line.reserve(96 + r.target.size());
  line.append(r.peer).append(" - - [").append(when, when_length).append("] \"");
  if (r.method.empty()) {
    line.append("-");
  } else {
    line.append(r.method).append(" ").append(r.target).append(" HTTP/1.");
    line.push_back(static_cast<char>('0' + r.minor_version));
  }
  line.append("\" ")
      .append(std::to_string(r.status))
      .append(" ")
      .append(std::to_string(r.body_bytes));
  line.push_back('\n');
  {
    const std::lock_guard guard(lock_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(line));
  }
  wake_.notify_one();
}

void AccessLog::run() {
  std::unique_lock guard(lock_);
  for (;;) {
    wake_.wait(guard, [&] { return stopping_ || !queue_.empty() || dropped_ > 0; });
    if (stopping_ && queue_.empty() && dropped_ == 0) return;
    std::string batch;
    while (!queue_.empty() && batch.size() < 64 * 1024) {
      batch += queue_.front();
      queue_.pop_front();
    }
    if (dropped_ > 0) {
      batch +=
          "(access log: " + std::to_string(dropped_) + " lines dropped, stdout was not read)\n";
      dropped_ = 0;
    }
    const bool stopping = stopping_;
    guard.unlock();
    const bool written = write_all(batch);
    guard.lock();
    if (!written && stopping) return;  // nobody reads stdout: give up rather than hang exit
  }
}

// Writes in pieces of at most PIPE_BUF, each after poll() says there is room for it, so no
// write blocks; false if stdout stayed full for a second or failed.
bool AccessLog::write_all(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    pollfd p{fd_, POLLOUT, 0};
    const int ready = ::poll(&p, 1, 1000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
    const std::size_t piece = std::min<std::size_t>(PIPE_BUF, text.size() - done);
    const ssize_t n = ::write(fd_, text.data() + done, piece);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace tiny_httpd
