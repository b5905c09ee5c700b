// Writes a file that appears whole or not at all: bytes go to a temporary file beside the
// target (same directory, so the final rename is atomic), which commit() renames over the
// target. Destroyed uncommitted, it removes the temporary, leaving the target as it was.
//
// The directory is held open from the start, so the file lands in the directory that was
// checked when open() ran even if a path component is swapped for a symlink meanwhile.
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

  // The target is `path` (relative to the working directory, or absolute).
  std::error_code open(const std::string& path);
  // The target is `name` (one path component) in the directory `dir_fd` (not taken over).
  std::error_code open_in(int dir_fd, const std::string& name);
  std::error_code write(const char* data, std::size_t size);
  // Renames the temporary over the target. `replaced`: a file was there before.
  std::error_code commit(bool* replaced = nullptr);

 private:
  std::error_code create_temporary();
  void discard() noexcept;

  int dir_fd_ = -1;
  bool owns_dir_ = false;
  std::string name_;
  std::string temp_name_;
  int fd_ = -1;
};

}  // namespace tiny_coro::detail
