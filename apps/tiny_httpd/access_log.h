// The access log: one line per response on stdout, written by a thread of its own.
//
// Workers only format a line and queue it; the writer thread does the blocking write. A
// reader that stops draining stdout (a full pipe) therefore stalls only the writer: past
// kMaxQueued lines new ones are dropped and counted, and serving goes on. The writer waits for
// the pipe with poll() and writes at most PIPE_BUF at a time, so stopping it never hangs.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <tiny_coro/http_server.h>

namespace tiny_httpd {

class AccessLog {
 public:
  static constexpr std::size_t kMaxQueued = 16384;

  explicit AccessLog(int fd);
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  ~AccessLog();  // writes what is queued (for up to a second), then stops

  void record(const tiny_coro::HttpAccessRecord& record);

 private:
  void run();
  bool write_all(const std::string& text);

  const int fd_;
  std::mutex lock_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t dropped_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace tiny_httpd
