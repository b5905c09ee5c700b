// Writes a file that appears whole or not at all: bytes go to a temporary file beside the
// target (same directory, so the final rename(2) is atomic), which commit() renames over the
// target. Destroyed uncommitted, it removes the temporary, leaving the target as it was.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

namespace tiny_coro::detail {

class FileReceiver {
 public:
  FileReceiver() = default;
  FileReceiver(const FileReceiver&) = delete;
  FileReceiver& operator=(const FileReceiver&) = delete;
  ~FileReceiver();

  // Creates the temporary beside `path` (mode 0644).
  std::error_code open(std::string path);
  std::error_code write(const char* data, std::size_t size);
  // Renames the temporary over the target. `replaced`: a file was there before.
  std::error_code commit(bool* replaced = nullptr);

 private:
  void discard() noexcept;
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
};

}  // namespace tiny_coro::detail
