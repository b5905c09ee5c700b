// One regular file as responses see it: its type and validators, and its bytes — in memory
// for a small file (so a cache can keep it), else an open descriptor for sendfile.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <tiny_coro/unique_fd.h>

#include "preconditions.h"

namespace tiny_httpd {

struct StaticFile {
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds
  std::string content_type;
  std::string etag;  // strong: the content's hash for a file in memory, else inode-size-mtime
  // Content-Type and Accept-Ranges lines, then the validator lines (Last-Modified, ETag),
  // which a 304 sends alone.
  std::string fields;
  std::size_t validator_fields_at = 0;
  bool in_memory = false;
  std::string bytes;        // the whole file, when in_memory
  tiny_coro::UniqueFd descriptor;  // otherwise

  Validators validators() const noexcept { return {etag, mtime}; }
  std::string_view validator_fields() const noexcept {
    return std::string_view(fields).substr(validator_fields_at);
  }
};
using StaticFilePtr = std::shared_ptr<StaticFile>;

// Files up to this size are read into memory (and may be cached); larger ones are sent
// from their descriptor.
inline constexpr std::uint64_t kDefaultInMemoryLimit = 256 * 1024;

// Loads the regular file open as `fd` (taking ownership of it), whose fstat is `info`, named
// `name` for its type. nullptr if reading it failed (errno says why).
StaticFilePtr load_static_file(tiny_coro::UniqueFd fd, const struct stat& info,
                               std::string_view name, std::uint64_t in_memory_limit);

// The validators of the regular file open as `fd` without keeping it: what a PUT's
// preconditions are checked against. Same ETag as load_static_file gives.
std::string etag_of(int fd, const struct stat& info, std::uint64_t in_memory_limit);

}  // namespace tiny_httpd
