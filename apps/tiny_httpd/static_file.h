// One regular file as responses see it: its type and validators, and its bytes — in memory
// for a small file (copied into the response batch, so pipelined answers leave in one send),
// else an open descriptor for sendfile (no copy through user space).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
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
  // Content-Type, Accept-Ranges, Content-Encoding (a sidecar's), then what a 304 repeats:
  // Vary (when sidecars exist), Last-Modified, ETag.
  std::string fields;
  std::size_t after_content_type = 0;
  std::size_t validator_fields_at = 0;
  bool in_memory = false;
  std::string bytes;               // the whole file, when in_memory
  tiny_coro::UniqueFd descriptor;  // otherwise

  Validators validators() const noexcept { return {etag, mtime}; }
  std::string_view validator_fields() const noexcept {
    return std::string_view(fields).substr(validator_fields_at);
  }
  std::string_view fields_but_content_type() const noexcept {
    return std::string_view(fields).substr(after_content_type);
  }
};
using StaticFilePtr = std::shared_ptr<StaticFile>;

// A file and the precompressed forms stored beside it (FILE.gz, FILE.br; nginx's gzip_static).
struct StaticResource {
  StaticFilePtr identity;
  StaticFilePtr gzip;    // or nullptr
  StaticFilePtr brotli;  // or nullptr
};
using StaticResourcePtr = std::shared_ptr<const StaticResource>;

// The sidecars' suffixes, which a cache must watch for beside the file.
inline constexpr std::string_view kSidecarSuffixes[] = {".gz", ".br"};

// Loads the regular file open as `fd` (taking ownership of it), whose fstat is `info`, named
// `name` for its type; `coding`: "" for the file itself, else its sidecar's ("gzip", "br").
// nullptr if reading it failed (errno says why).
StaticFilePtr load_static_file(tiny_coro::UniqueFd fd, const struct stat& info,
                               std::string_view name, std::string_view coding = {},
                               bool has_sidecars = false);

// Loads the file open as `fd` at `relative` beneath `root_fd` with whichever sidecars exist
// (regular files, opened beneath the root too). `opened`, if set, sees each sidecar's
// descriptor before it is examined or read (a cache watches it there) and may refuse it,
// which fails the load; it also means symlinks are not followed to a sidecar. nullptr on
// failure.
StaticResourcePtr load_static_resource(tiny_coro::UniqueFd fd, const struct stat& info, int root_fd,
                                       const std::string& relative, std::string_view name,
                                       const std::function<bool(int)>& opened = {});

// The ETag load_static_file would give the regular file open as `fd`, without keeping it:
// what a PUT's preconditions are checked against.
std::string etag_of(int fd, const struct stat& info);

}  // namespace tiny_httpd
