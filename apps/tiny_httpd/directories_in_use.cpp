#include "directories_in_use.h"

#include <fcntl.h>
#include <unistd.h>

namespace tiny_httpd {

DirectoriesInUse::Lease::Lease(DirectoriesInUse& registry, const std::vector<std::string>& segments)
    : registry_(registry) {
  std::string relative;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    relative += (relative.empty() ? "" : "/") + segments[i];
    directories_.push_back(relative);
  }
  std::lock_guard lock(registry_.mutex_);
  for (const std::string& directory : directories_) ++registry_.holders_[directory];
}

DirectoriesInUse::Lease::~Lease() {
  std::lock_guard lock(registry_.mutex_);
  for (const std::string& directory : directories_) {
    auto it = registry_.holders_.find(directory);
    if (--it->second == 0) registry_.holders_.erase(it);
  }
}

void DirectoriesInUse::Lease::remove_created(int root_fd, const std::vector<std::string>& created) {
  // Under the lock, so that no other PUT can take a lease on a directory between our look at
  // its holders and its removal (it walks, and so recreates it, only after taking one).
  std::lock_guard lock(registry_.mutex_);
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const auto holders = registry_.holders_.find(*it);
    if (holders != registry_.holders_.end() && holders->second > 1) continue;  // not just ours
    ::unlinkat(root_fd, it->c_str(), AT_REMOVEDIR);  // fails, harmlessly, if not empty
  }
}

}  // namespace tiny_httpd
