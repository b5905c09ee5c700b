#include "static_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>

#include <tiny_coro/http_server.h>

#include "mime_types.h"
#include "safe_path.h"

namespace tiny_httpd {
namespace {

// A 64-bit hash of the content for strong ETags: a rewrite within the clock's granularity at
// the same size still changes the tag, which size and mtime alone would not.
std::uint64_t content_hash(std::string_view bytes) noexcept {
  constexpr std::uint64_t kOdd1 = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t kOdd2 = 0xD6E8FEB86659FD93ULL;
  std::uint64_t hash = bytes.size() * kOdd1;
  auto mix = [&hash](std::uint64_t word) {
    hash ^= word * kOdd2;
    hash = ((hash << 27) | (hash >> 37)) * kOdd1;
  };
  std::size_t at = 0;
  for (; at + 8 <= bytes.size(); at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + at, 8);
    mix(word);
  }
  if (at < bytes.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + at, bytes.size() - at);
    mix(word);
  }
  hash ^= hash >> 31;
  hash *= kOdd2;
  hash ^= hash >> 29;
  return hash;
}

void append_hex(std::string& out, std::uint64_t value) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value, 16).ptr;
  out.append(digits, end);
}

std::string descriptor_etag(const struct stat& info) {
  std::string etag = "\"";
  append_hex(etag, static_cast<std::uint64_t>(info.st_ino));
  etag.push_back('-');
  append_hex(etag, static_cast<std::uint64_t>(info.st_size));
  etag.push_back('-');
  append_hex(etag, static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000ULL +
                       static_cast<std::uint64_t>(info.st_mtim.tv_nsec));
  etag.push_back('"');
  return etag;
}

std::string content_etag(std::string_view bytes) {
  std::string etag = "\"";
  append_hex(etag, content_hash(bytes));
  etag.push_back('-');
  append_hex(etag, bytes.size());
  etag.push_back('"');
  return etag;
}

// The whole file into `out`; false if it could not be read or its length changed meanwhile.
bool read_whole(int fd, std::uint64_t size, std::string& out) {
  out.resize(size);
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;  // shorter than fstat said: a writer is at work
      return false;
    }
    done += static_cast<std::uint64_t>(n);
  }
  char extra;
  if (::pread(fd, &extra, 1, static_cast<off_t>(size)) != 0) {  // longer than fstat said
    errno = EIO;
    return false;
  }
  return true;
}

}  // namespace

StaticFilePtr load_static_file(tiny_coro::UniqueFd fd, const struct stat& info,
                               std::string_view name, std::string_view coding, bool has_sidecars) {
  auto file = std::make_shared<StaticFile>();
  file->size = static_cast<std::uint64_t>(info.st_size);
  file->mtime = info.st_mtim.tv_sec;
  file->content_type = std::string(content_type_for(name));
  if (file->size <= kHashedFileLimit) {
    if (!read_whole(fd.get(), file->size, file->bytes)) return nullptr;
    file->etag = content_etag(file->bytes);
  } else {
    file->etag = descriptor_etag(info);
  }
  if (file->size <= kInMemoryFileLimit) {
    file->in_memory = true;
  } else {
    file->bytes = std::string();  // read for the hash only
    file->descriptor = std::move(fd);
  }
  file->fields = "Content-Type: " + file->content_type + "\r\n";
  file->after_content_type = file->fields.size();
  file->fields += "Accept-Ranges: bytes\r\n";
  if (!coding.empty()) file->fields += "Content-Encoding: " + std::string(coding) + "\r\n";
  file->validator_fields_at = file->fields.size();
  if (has_sidecars) file->fields += "Vary: Accept-Encoding\r\n";
  file->fields +=
      "Last-Modified: " + tiny_coro::http_date(file->mtime) + "\r\nETag: " + file->etag + "\r\n";
  return file;
}

StaticResourcePtr load_static_resource(tiny_coro::UniqueFd fd, const struct stat& info, int root_fd,
                                       const std::string& relative, std::string_view name,
                                       const std::function<bool(int)>& opened) {
  struct Sidecar {
    tiny_coro::UniqueFd fd;
    struct stat info {};
  };
  Sidecar sidecars[std::size(kSidecarSuffixes)];
  bool any = false;
  for (std::size_t i = 0; i < std::size(kSidecarSuffixes); ++i) {
    Sidecar& sidecar = sidecars[i];
    sidecar.fd.reset(open_beneath(root_fd, relative + std::string(kSidecarSuffixes[i]),
                                  O_RDONLY | O_NONBLOCK | O_NOCTTY,
                                  /*follow_symlinks=*/!opened));
    if (!sidecar.fd.valid()) {
      // For a cache, a sidecar it cannot open as written (a symlink: ELOOP) is not "none":
      // the load fails rather than keep a resource that a read from disk would not give.
      if (opened && errno != ENOENT) return nullptr;
      continue;
    }
    if (opened && !opened(sidecar.fd.get())) return nullptr;  // before fstat: see file_cache
    if (::fstat(sidecar.fd.get(), &sidecar.info) != 0 || !S_ISREG(sidecar.info.st_mode)) {
      sidecar.fd.reset();
      continue;
    }
    any = true;
  }
  auto resource = std::make_shared<StaticResource>();
  resource->identity = load_static_file(std::move(fd), info, name, {}, any);
  if (!resource->identity) return nullptr;
  if (sidecars[0].fd.valid()) {
    resource->gzip =
        load_static_file(std::move(sidecars[0].fd), sidecars[0].info, name, "gzip", true);
    if (!resource->gzip) return nullptr;
  }
  if (sidecars[1].fd.valid()) {
    resource->brotli =
        load_static_file(std::move(sidecars[1].fd), sidecars[1].info, name, "br", true);
    if (!resource->brotli) return nullptr;
  }
  return resource;
}

std::string etag_of(int fd, const struct stat& info) {
  if (static_cast<std::uint64_t>(info.st_size) > kHashedFileLimit) return descriptor_etag(info);
  std::string bytes;
  if (!read_whole(fd, static_cast<std::uint64_t>(info.st_size), bytes)) return {};
  return content_etag(bytes);
}

}  // namespace tiny_httpd
