// Files kept between requests, never stale (SPEC.md §3): a small file's bytes, a larger
// one's open descriptor (sent with sendfile), with their validators and response fields.
//
// A hit costs a hash lookup under a mutex: no open, stat, read or close. Freshness comes from
// inotify, which the kernel feeds from the very syscall that changes a file, not from a
// timer: before a file is read for the cache, every directory on its path (for a rename,
// delete, create or a directory swapped for a symlink) and the file's own inode (for a write
// through any path or hard link) are watched. A thread that does nothing else wakes on each
// event and drops what it concerns at once, so a request that arrives after the change has
// been handled cannot see the old bytes; admission refuses a file if any event was handled
// while it was being read. A PUT through this server applies pending events itself before
// answering (catch_up), so its own change is seen by the very next request.
//
// Only paths without symlinks are cached (a link's target lies on a path nobody watches), and
// only under their one canonical spelling (so one file is one entry).
//
// What inotify cannot see, and so the cache cannot either: writes through a shared mmap of the
// file, and a mount placed over a directory on the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <tiny_coro/unique_fd.h>

#include "safe_path.h"
#include "static_file.h"

namespace tiny_httpd {

class FileCache {
 public:
  struct Limits {
    // Bytes of small files held in memory; 0 turns the cache off.
    std::uint64_t max_bytes = 32 << 20;
    // Larger files are held as open descriptors, as many as this.
    std::size_t max_descriptors = 1000;
  };
  // Watches beneath `root_fd` (which must outlive the cache). If inotify is unavailable the
  // cache stays empty and every request is served from disk.
  FileCache(int root_fd, Limits limits);
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;
  ~FileCache();

  bool enabled() const noexcept { return notify_.valid(); }

  // The file cached for a request path exactly as sent (before any '?'), or nullptr.
  StaticResourcePtr find(std::string_view request_path) const;

  // Reads the file that `path` names (its index.html for a directory path) into the cache
  // under `request_path`, watched first. Quietly does nothing if it cannot be kept exactly.
  void admit(std::string_view request_path, const RequestPath& path);

  // Applies every change the kernel has queued so far.
  void catch_up();

  std::size_t entries() const;
  std::size_t watches() const;  // inotify watches held: none once nothing is cached

 private:
  struct Entry {
    std::string key;
    StaticResourcePtr resource;
    // What makes this entry stale: an event on the watch with that name (a directory's child
    // on the path, or a sidecar's name beside the file), or any event on the watch for ""
    // (the inode of the file or of a sidecar).
    std::vector<std::pair<int, std::string>> depends_on;
    std::list<Entry*>::iterator age;
  };
  struct Watch {
    std::size_t uses = 0;
    // The entries depending on it, by the name they depend on ("" for the watched inode
    // itself), so an event visits only the entries it concerns.
    std::unordered_map<std::string, std::unordered_set<Entry*>> by_name;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  int watch(int fd, std::uint32_t mask);  // under mutex_: a watch with one more use, or -1
  void release(int wd);                   // under mutex_
  void drop(Entry* entry);                // under mutex_
  void apply_pending_events();            // under mutex_
  void on_event(int wd, std::uint32_t mask, std::string_view name);  // under mutex_
  void watch_for_changes();                                          // the watcher thread

  const int root_fd_;
  const Limits limits_;
  tiny_coro::UniqueFd notify_;
  tiny_coro::UniqueFd stop_;  // eventfd: the destructor's word to the watcher

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Entry>, KeyHash, std::equal_to<>> entries_;
  std::unordered_map<int, Watch> watches_;
  std::list<Entry*> oldest_first_;
  std::uint64_t bytes_ = 0;
  std::size_t descriptors_ = 0;
  // Counts handled events; an admission that saw it move while reading refuses its file.
  std::uint64_t changes_seen_ = 0;
  // The watcher could not go on (poll failed): nothing cached can be trusted any more.
  bool blind_ = false;

  std::thread watcher_;
};

}  // namespace tiny_httpd
