#include "http/file_receiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace tiny_coro::detail {
namespace {

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

// Short (so any target name that fits NAME_MAX still works) and distinct per attempt within
// the process; the pid keeps processes apart, and O_EXCL / linkat's EEXIST any collision.
std::string temporary_name() {
  static std::atomic<unsigned> counter{0};
  // relaxed: only uniqueness matters.
  const unsigned n = counter.fetch_add(1, std::memory_order_relaxed);
  return ".tc-upload-" + std::to_string(::getpid()) + "-" + std::to_string(n);
}

}  // namespace

FileReceiver::~FileReceiver() {
  discard();
  if (owns_dir_ && dir_fd_ >= 0) ::close(dir_fd_);
}

std::error_code FileReceiver::open(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return last_error();
  const std::error_code error =
      open_in(dir_fd, slash == std::string::npos ? path : path.substr(slash + 1));
  owns_dir_ = true;
  return error;
}

std::error_code FileReceiver::open_in(int dir_fd, const std::string& name) {
  discard();
  if (owns_dir_ && dir_fd_ >= 0) ::close(dir_fd_);
  dir_fd_ = dir_fd;
  owns_dir_ = false;
  name_ = name;
  if (name_.empty() || name_.find('/') != std::string::npos) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  return create_temporary();
}

namespace {

// Naming an unnamed file needs /proc (linkat of /proc/self/fd/N); a chroot may lack it.
bool proc_fd_available() noexcept {
  static const bool available = ::access("/proc/self/fd", X_OK) == 0;
  return available;
}

}  // namespace

std::error_code FileReceiver::create_temporary() {
  if (proc_fd_available()) {
    const int fd = ::openat(dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      file_ = std::make_shared<UniqueFd>(fd);
      anonymous_ = true;
      return {};
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return last_error();
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_name_ = temporary_name();
    const int fd = ::openat(dir_fd_, temp_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      file_ = std::make_shared<UniqueFd>(fd);
      return {};
    }
    if (errno != EEXIST) break;
  }
  const std::error_code error = last_error();
  temp_name_.clear();
  return error;
}

// Gives the finished unnamed file a (temporary) name beside the target.
std::error_code FileReceiver::link_anonymous() {
  const std::string self = "/proc/self/fd/" + std::to_string(fd());
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_name_ = temporary_name();
    if (::linkat(AT_FDCWD, self.c_str(), dir_fd_, temp_name_.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      anonymous_ = false;
      return {};
    }
    if (errno != EEXIST) break;
  }
  const std::error_code error = last_error();
  temp_name_.clear();
  return error;
}

std::error_code FileReceiver::commit(bool* replaced) {
  if (!file_) return std::make_error_code(std::errc::bad_file_descriptor);
  if (anonymous_) {
    if (const std::error_code error = link_anonymous()) {
      discard();
      return error;
    }
  }
  // The last owner closes, and hears a write error that only close reports (NFS); a writer
  // still holding the descriptor has finished with it by now (it waited for its writes).
  const std::shared_ptr<UniqueFd> file = std::move(file_);
  if (file.use_count() == 1 && ::close(file->release()) != 0) {
    const std::error_code error = last_error();
    discard();
    return error;
  }
  if (replaced != nullptr) {
    struct stat existing {};
    *replaced = ::fstatat(dir_fd_, name_.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  }
  if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str()) != 0) {
    const std::error_code error = last_error();
    discard();
    return error;
  }
  temp_name_.clear();
  return {};
}

void FileReceiver::discard() noexcept {
  file_.reset();  // an unnamed file is gone with its last descriptor
  anonymous_ = false;
  if (!temp_name_.empty()) {
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    temp_name_.clear();
  }
}

}  // namespace tiny_coro::detail
