#include "safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <tiny_coro/http_server.h>

namespace tiny_httpd {

std::string RequestPath::relative() const {
  if (segments.empty()) return ".";
  std::string joined;
  for (const std::string& segment : segments) {
    if (!joined.empty()) joined.push_back('/');
    joined += segment;
  }
  return joined;
}

RequestPath parse_request_path(std::string_view encoded) {
  RequestPath path;
  const auto decoded = tiny_coro::percent_decode_path(encoded);
  if (!decoded || decoded->empty() || decoded->front() != '/') {
    path.error_status = 400;
    return path;
  }
  path.trailing_slash = decoded->back() == '/';
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      path.error_status = 400;
      return path;
    }
    path.segments.emplace_back(segment);
  }
  return path;
}

namespace {

// Kernels before 5.6: one segment at a time, never following a symlink.
int open_without_symlinks(int root_fd, const std::string& relative, int flags) {
  int dir = ::dup(root_fd);
  if (dir < 0) return -1;
  std::string_view rest = relative;
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string segment(rest.substr(0, slash));
    const bool last = slash == std::string_view::npos;
    const int next =
        ::openat(dir, segment.c_str(),
                 last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int saved = errno;
    ::close(dir);
    if (next < 0 || last) {
      errno = saved;
      return next;
    }
    dir = next;
    rest = rest.substr(slash + 1);
  }
}

}  // namespace

int open_beneath(int root_fd, const std::string& relative, int flags, bool follow_symlinks) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  if (!follow_symlinks) how.resolve |= RESOLVE_NO_SYMLINKS;
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a rename raced the lookup; a few retries, then give up with it.
    if (errno == EINTR || (errno == EAGAIN && attempt < 8)) continue;
    if (errno == ENOSYS) return open_without_symlinks(root_fd, relative, flags | O_CLOEXEC);
    return -1;
  }
}

bool is_canonical_spelling(std::string_view encoded, const RequestPath& path) {
  std::size_t expected = 1;  // the leading '/'
  for (const std::string& segment : path.segments) expected += segment.size() + 1;
  if (!path.trailing_slash && !path.segments.empty()) --expected;
  std::size_t decoded_length = 0;
  for (std::size_t i = 0; i < encoded.size(); ++i, ++decoded_length) {
    if (encoded[i] != '%' || i + 2 >= encoded.size()) continue;
    const auto hex = [](char c) {
      return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    };
    const char c = static_cast<char>(hex(encoded[i + 1]) * 16 + hex(encoded[i + 2]));
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || c == '/') return false;  // "%2F" would be a second spelling of a '/'

    i += 2;
  }
  // Same length once decoded as the segments joined: nothing was dropped ("//", "/./").
  return decoded_length == expected;
}

}  // namespace tiny_httpd
