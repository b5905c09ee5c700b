// Writes a file that appears whole or not at all. The bytes go to an unnamed file in the
// target's directory (O_TMPFILE): nobody can open it while it grows. commit() links it under
// a short temporary name and renames that over the target (atomic: same directory).
// Destroyed uncommitted, it leaves nothing and the target as it was. Where the file system
// has no O_TMPFILE, a named temporary (a dot-name) stands in, removed the same way.
//
// The directory is held open from the start, so the file lands in the directory that was
// checked when open() ran even if a path component is swapped for a symlink meanwhile.
// No fsync here: a crash may lose a committed upload's data unless the writer synced it
// (FileSaveOptions::fsync_before_rename).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

#include <tiny_coro/unique_fd.h>

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
  // The temporary's descriptor, which the body is written to (FileWriter); -1 if none.
  int fd() const noexcept { return file_ ? file_->get() : -1; }
  // The same, shared: a write still running when the upload is abandoned keeps it open.
  const std::shared_ptr<UniqueFd>& shared_fd() const noexcept { return file_; }
  // Renames the temporary over the target. `replaced`: a file was there before.
  std::error_code commit(bool* replaced = nullptr);

 private:
  std::error_code create_temporary();
  std::error_code link_anonymous();
  void discard() noexcept;

  int dir_fd_ = -1;
  bool owns_dir_ = false;
  std::string name_;
  std::string temp_name_;   // the named temporary, while one exists
  bool anonymous_ = false;  // file_ is an O_TMPFILE file, not yet linked
  std::shared_ptr<UniqueFd> file_;
};

}  // namespace tiny_coro::detail
