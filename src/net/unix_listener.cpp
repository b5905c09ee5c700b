#include <tiny_coro/unix_socket.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <tiny_coro/unique_fd.h>

#include "net/endpoint.h"

namespace tiny_coro {

namespace {

const sockaddr* address_of(const detail::Endpoint& endpoint) noexcept {
  return reinterpret_cast<const sockaddr*>(&endpoint.address);
}

// Whether `path` is a socket file that nobody listens on: a connect to it is refused. A live
// listener is not disturbed beyond one connection that ends at once (it accepts an EOF).
bool is_stale_socket_file(const std::string& path, const detail::Endpoint& endpoint) noexcept {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0 || !S_ISSOCK(status.st_mode)) return false;
  const UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  return ::connect(probe.get(), address_of(endpoint), endpoint.length) != 0 &&
         errno == ECONNREFUSED;
}

}  // namespace

int UnixListener::bind(std::string_view path, UnixListenOptions options) {
  close();
  detail::Endpoint endpoint;
  if (int err = detail::parse_unix_endpoint(path, endpoint); err != 0) {
    errno = err;
    return -1;
  }
  const bool abstract = detail::is_abstract_unix_path(path);
  std::string name(path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return -1;
  int rc = ::bind(fd.get(), address_of(endpoint), endpoint.length);
  // An abstract name in use always has a live owner: it vanishes with its last socket.
  if (rc != 0 && errno == EADDRINUSE && options.replace_stale && !abstract) {
    if (is_stale_socket_file(name, endpoint) && ::unlink(name.c_str()) == 0) {
      rc = ::bind(fd.get(), address_of(endpoint), endpoint.length);
    }
    if (rc != 0) errno = EADDRINUSE;  // what the caller asked about, not the probe's errno
  }
  if (rc != 0) return -1;
  // From here on the file is ours: a failure below removes it.
  auto fail = [&] {
    const int err = errno;
    if (!abstract) ::unlink(name.c_str());
    errno = err;  // what the caller sees, not unlink()'s
    return -1;
  };
  struct stat status {};
  if (!abstract && ::lstat(name.c_str(), &status) != 0) return fail();
  if (::listen(fd.get(), options.backlog) != 0) return fail();
  try {
    io_ = detail::IoHandle(*reactor_, fd.release(), /*tcp=*/false);  // accepts: no reads
  } catch (const std::system_error& e) {
    errno = e.code().value();
    return fail();
  }
  path_ = std::move(name);
  made_file_ = !abstract;
  file_device_ = status.st_dev;
  file_inode_ = status.st_ino;
  return 0;
}

void UnixListener::close() noexcept {
  io_.close();
  if (made_file_) {
    struct stat status {};
    if (::lstat(path_.c_str(), &status) == 0 && S_ISSOCK(status.st_mode) &&
        status.st_dev == file_device_ && status.st_ino == file_inode_) {
      ::unlink(path_.c_str());
    }
    made_file_ = false;
  }
  path_.clear();
}

}  // namespace tiny_coro
