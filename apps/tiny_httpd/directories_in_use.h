// The directories that PUTs in flight write into. A PUT that fails removes the directories
// it created for itself, but not one that another PUT in flight is using: an unnamed
// (O_TMPFILE) upload leaves no entry in its directory, so rmdir alone would not notice it,
// and that upload's final link would then find its directory gone.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tiny_httpd {

class DirectoriesInUse {
 public:
  // Holds the directories of a PUT's target (every prefix of `segments` but the whole) for
  // as long as it lives. Taken before the directories are walked or created.
  class Lease {
   public:
    Lease(DirectoriesInUse& registry, const std::vector<std::string>& segments);
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // Removes `created` (paths beneath `root_fd`, shallowest first, as the walk made them),
    // deepest first, skipping any that another lease holds or someone has filled meanwhile.
    void remove_created(int root_fd, const std::vector<std::string>& created);

   private:
    DirectoriesInUse& registry_;
    std::vector<std::string> directories_;
  };

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> holders_;  // relative directory -> leases holding it
};

}  // namespace tiny_httpd
