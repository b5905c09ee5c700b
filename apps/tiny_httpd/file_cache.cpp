#include "file_cache.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tiny_httpd {

using tiny_coro::UniqueFd;

namespace {

// A directory on a cached file's path: any change to its entries (a child created, removed,
// renamed, its mode changed) or to the directory itself. Not writes to children: the inode
// watch of each cached file sees those, and an upload into the directory would otherwise
// make an event of every write.
constexpr std::uint32_t kDirectoryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// The cached file's inode, whatever path or hard link it is written through.
constexpr std::uint32_t kFileEvents =
    IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// Per-entry bookkeeping beside the file's bytes, for the byte budget.
constexpr std::uint64_t kEntryOverhead = 256;

std::string proc_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

template <class F>
void for_each_form(const StaticResource& resource, F&& f) {
  for (const StaticFilePtr& form : {resource.identity, resource.gzip, resource.brotli}) {
    if (form) f(*form);
  }
}

std::uint64_t bytes_held(const StaticResource& resource, std::string_view key) {
  std::uint64_t bytes = key.size() + kEntryOverhead;
  for_each_form(resource, [&](const StaticFile& form) { bytes += form.in_memory ? form.size : 0; });
  return bytes;
}

std::size_t descriptors_held(const StaticResource& resource) {
  std::size_t descriptors = 0;
  for_each_form(resource, [&](const StaticFile& form) { descriptors += form.in_memory ? 0 : 1; });
  return descriptors;
}

}  // namespace

FileCache::FileCache(int root_fd, Limits limits) : root_fd_(root_fd), limits_(limits) {
  if (limits_.max_bytes == 0) return;
  notify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  stop_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!notify_.valid() || !stop_.valid()) {
    notify_.reset();
    return;
  }
  watcher_ = std::thread([this] { watch_for_changes(); });
}

FileCache::~FileCache() {
  if (watcher_.joinable()) {
    const std::uint64_t one = 1;
    (void)::write(stop_.get(), &one, sizeof(one));
    watcher_.join();
  }
}

StaticResourcePtr FileCache::find(std::string_view request_path) const {
  std::lock_guard lock(mutex_);
  if (blind_) return nullptr;
  const auto found = entries_.find(request_path);
  return found == entries_.end() ? nullptr : found->second->resource;
}

std::size_t FileCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t FileCache::watches() const {
  std::lock_guard lock(mutex_);
  return watches_.size();
}

int FileCache::watch(int fd, std::uint32_t mask) {
  const int wd = ::inotify_add_watch(notify_.get(), proc_fd_path(fd).c_str(), mask | IN_MASK_ADD);
  if (wd >= 0) ++watches_[wd].uses;
  return wd;
}

void FileCache::release(int wd) {
  const auto found = watches_.find(wd);
  if (found == watches_.end()) return;  // its inode went away: the kernel removed the watch
  if (--found->second.uses > 0) return;
  ::inotify_rm_watch(notify_.get(), wd);
  watches_.erase(found);
}

void FileCache::drop(Entry* entry) {
  for (const auto& [wd, name] : entry->depends_on) {
    if (const auto found = watches_.find(wd); found != watches_.end()) {
      const auto named = found->second.by_name.find(name);
      if (named != found->second.by_name.end()) {
        named->second.erase(entry);
        if (named->second.empty()) found->second.by_name.erase(named);
      }
    }
    release(wd);
  }
  bytes_ -= bytes_held(*entry->resource, entry->key);
  descriptors_ -= descriptors_held(*entry->resource);
  oldest_first_.erase(entry->age);
  entries_.erase(entry->key);  // destroys *entry
}

void FileCache::admit(std::string_view request_path, const RequestPath& path) {
  if (!enabled() || !is_canonical_spelling(request_path, path)) return;
  std::vector<std::string> segments = path.segments;
  if (path.trailing_slash) segments.emplace_back("index.html");
  if (segments.empty()) return;

  // Watches come first, so that any change from here on is an event; what is read after
  // them is then either current or about to be dropped.
  std::vector<std::pair<int, std::string>> depends_on;
  std::uint64_t changes_before = 0;
  auto give_up = [&] {
    std::lock_guard lock(mutex_);
    for (const auto& [wd, name] : depends_on) release(wd);
  };
  std::string relative = ".";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const UniqueFd directory(
        open_beneath(root_fd_, relative, O_PATH | O_DIRECTORY, /*follow_symlinks=*/false));
    if (!directory.valid()) return give_up();
    {
      std::lock_guard lock(mutex_);
      if (i == 0) changes_before = changes_seen_;
      const int wd = watch(directory.get(), kDirectoryEvents);
      if (wd < 0) break;
      depends_on.emplace_back(wd, segments[i]);
    }
    relative = relative == "." ? segments[i] : relative + "/" + segments[i];
  }
  if (depends_on.size() != segments.size()) return give_up();  // a watch failed (no room)
  // Sidecars appearing or going beside the file change what the resource is.
  const int parent_watch = depends_on.back().first;
  {
    std::lock_guard lock(mutex_);
    for (const std::string_view suffix : kSidecarSuffixes) {
      ++watches_[parent_watch].uses;
      depends_on.emplace_back(parent_watch, segments.back() + std::string(suffix));
    }
  }
  UniqueFd fd(open_beneath(root_fd_, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY,
                           /*follow_symlinks=*/false));
  if (!fd.valid()) return give_up();
  // Each inode is watched before it is examined or read: a change after the watch is an
  // event, so what fstat and the read see is current or about to be dropped.
  auto watch_inode = [&](int opened) {
    std::lock_guard lock(mutex_);
    const int wd = watch(opened, kFileEvents);
    if (wd < 0) return false;
    depends_on.emplace_back(wd, std::string());
    return true;
  };
  if (!watch_inode(fd.get())) return give_up();
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return give_up();
  StaticResourcePtr resource =
      load_static_resource(std::move(fd), info, root_fd_, relative, segments.back(), watch_inode);
  if (!resource) return give_up();
  const std::uint64_t cost = bytes_held(*resource, request_path);
  const std::size_t descriptors = descriptors_held(*resource);

  std::lock_guard lock(mutex_);
  if (blind_ || changes_seen_ != changes_before || cost > limits_.max_bytes ||
      descriptors > limits_.max_descriptors || entries_.find(request_path) != entries_.end()) {
    for (const auto& [wd, name] : depends_on) release(wd);
    return;
  }
  while (
      (bytes_ + cost > limits_.max_bytes || descriptors_ + descriptors > limits_.max_descriptors) &&
      !oldest_first_.empty()) {
    drop(oldest_first_.front());
  }
  auto entry = std::make_unique<Entry>();
  entry->key = std::string(request_path);
  entry->resource = std::move(resource);
  entry->depends_on = std::move(depends_on);
  entry->age = oldest_first_.insert(oldest_first_.end(), entry.get());
  for (const auto& [wd, name] : entry->depends_on) watches_[wd].by_name[name].insert(entry.get());
  bytes_ += cost;
  descriptors_ += descriptors;
  const std::string_view key = entry->key;
  entries_.emplace(std::string(key), std::move(entry));
}

void FileCache::on_event(int wd, std::uint32_t mask, std::string_view name) {
  if (mask & IN_Q_OVERFLOW) {  // events were lost: nothing cached can be trusted
    while (!oldest_first_.empty()) drop(oldest_first_.front());
    return;
  }
  const auto found = watches_.find(wd);
  if (found == watches_.end()) return;
  // A named event concerns the entries that depend on that child (and any on the inode
  // itself); an event on the watched object itself concerns them all.
  std::unordered_set<Entry*> stale;
  const auto add = [&](const std::unordered_set<Entry*>& entries) {
    stale.insert(entries.begin(), entries.end());
  };
  if (name.empty()) {
    for (const auto& [child, entries] : found->second.by_name) add(entries);
  } else {
    for (const std::string_view key : {name, std::string_view()}) {
      const auto named = found->second.by_name.find(std::string(key));
      if (named != found->second.by_name.end()) add(named->second);
    }
  }
  for (Entry* entry : stale) drop(entry);
  // The kernel removed this watch (its inode is gone): forget it, nothing may release it.
  if (mask & IN_IGNORED) watches_.erase(wd);
}

void FileCache::apply_pending_events() {
  alignas(inotify_event) char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(notify_.get(), buffer, sizeof(buffer));
    if (n <= 0) return;  // EAGAIN: all applied
    ++changes_seen_;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      on_event(event->wd, event->mask,
               event->len > 0 ? std::string_view(event->name) : std::string_view());
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

void FileCache::catch_up() {
  if (!enabled()) return;
  std::lock_guard lock(mutex_);
  apply_pending_events();
}

void FileCache::watch_for_changes() {
  pollfd waits[2] = {{notify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(waits, 2, -1) < 0) {
      if (errno == EINTR) continue;
      // Unable to watch: stop serving from the cache rather than serve what may be stale.
      std::lock_guard lock(mutex_);
      blind_ = true;
      while (!oldest_first_.empty()) drop(oldest_first_.front());
      return;
    }
    if (waits[1].revents != 0) return;
    if (waits[0].revents != 0) catch_up();
  }
}

}  // namespace tiny_httpd
