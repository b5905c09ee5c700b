#include "http/file_receiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace tiny_coro::detail {
namespace {

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

}  // namespace

FileReceiver::~FileReceiver() { discard(); }

std::error_code FileReceiver::open(std::string path) {
  discard();
  path_ = std::move(path);
  const std::size_t slash = path_.rfind('/');
  const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  const std::string dir = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
  // A dot-name, so a directory listing or a static server hides it while it grows.
  temp_path_ = dir + "." + base + ".tmp.XXXXXX";
  fd_ = ::mkostemp(temp_path_.data(), O_CLOEXEC);
  if (fd_ < 0) {
    temp_path_.clear();
    return last_error();
  }
  // mkostemp makes it 0600; a stored upload should be readable like other served files.
  ::fchmod(fd_, 0644);
  return {};
}

std::error_code FileReceiver::write(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

std::error_code FileReceiver::commit(bool* replaced) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (::close(fd_) != 0) {
    fd_ = -1;
    const std::error_code error = last_error();
    discard();
    return error;
  }
  fd_ = -1;
  if (replaced != nullptr) {
    struct stat existing {};
    *replaced = ::stat(path_.c_str(), &existing) == 0;
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const std::error_code error = last_error();
    discard();
    return error;
  }
  temp_path_.clear();
  return {};
}

void FileReceiver::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

}  // namespace tiny_coro::detail
