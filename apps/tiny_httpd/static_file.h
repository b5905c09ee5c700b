// One regular file as responses see it: its type and validators, and its bytes — in memory
// for a small file (copied into the response batch, so pipelined answers leave in one send),
// else an open descriptor for sendfile (no copy through user space).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <tiny_coro/unique_fd.h>

#include "preconditions.h"

namespace tiny_httpd {

// Files up to this size are hashed for a strong ETag (they are read once anyway); larger ones
// get inode-size-mtime, as nginx's.
inline constexpr std::uint64_t kHashedFileLimit = 256 * 1024;
// Files up to this size are kept and sent from memory; larger ones from their descriptor.
inline constexpr std::uint64_t kInMemoryFileLimit = 16 * 1024;

struct StaticFile {
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds
  std::string content_type;
  std::string etag;  // strong, quoted
  // Content-Type and Accept-Ranges lines, then the validator lines (Last-Modified, ETag),
  // which a 304 sends alone.
  std::string fields;
  std::size_t validator_fields_at = 0;
  bool in_memory = false;
  std::string bytes;               // the whole file, when in_memory
  tiny_coro::UniqueFd descriptor;  // otherwise

  Validators validators() const noexcept { return {etag, mtime}; }
  std::string_view validator_fields() const noexcept {
    return std::string_view(fields).substr(validator_fields_at);
  }
};
using StaticFilePtr = std::shared_ptr<StaticFile>;

// Loads the regular file open as `fd` (taking ownership of it), whose fstat is `info`, named
// `name` for its type. nullptr if reading it failed (errno says why).
StaticFilePtr load_static_file(tiny_coro::UniqueFd fd, const struct stat& info,
                               std::string_view name);

// The ETag load_static_file would give the regular file open as `fd`, without keeping it:
// what a PUT's preconditions are checked against.
std::string etag_of(int fd, const struct stat& info);

}  // namespace tiny_httpd
