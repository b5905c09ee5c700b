#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>
#include <new>

#include <tiny_coro/detail/page_allocator.h>

namespace tiny_coro::detail {
namespace {

std::size_t whole_pages(std::size_t bytes) noexcept {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

// Freed mappings kept for the next burst, whose arrays grow through the same sizes: without
// them, every burst faults its arrays in afresh (a million-child when_all faulted 16 MB of
// handles per call, a tenth of its time). The scheduler's idle release unmaps them.
class KeptMappings {
 public:
  // A kept mapping of exactly `bytes` (whole pages), or null.
  void* take(std::size_t bytes) noexcept {
    const std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < count_; ++i) {
      if (kept_[i].bytes != bytes) continue;
      void* pages = kept_[i].pages;
      kept_[i] = kept_[--count_];
      total_.store(total_.load(std::memory_order_relaxed) - bytes,
                   std::memory_order_relaxed);  // relaxed: a statistic, written under mutex_
      return pages;
    }
    return nullptr;
  }
  // Keeps `pages` unless that would pass the bounds; returns whether it did.
  bool keep(void* pages, std::size_t bytes) noexcept {
    const std::lock_guard lock(mutex_);
    const std::size_t total = total_.load(std::memory_order_relaxed);  // relaxed: as above
    if (count_ == kept_.size() || total + bytes > kMaxKeptBytes) return false;
    kept_[count_++] = {pages, bytes};
    total_.store(total + bytes, std::memory_order_relaxed);  // relaxed: as above
    return true;
  }
  void release_all() noexcept {
    const std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < count_; ++i) ::munmap(kept_[i].pages, kept_[i].bytes);
    count_ = 0;
    total_.store(0, std::memory_order_relaxed);  // relaxed: as above
  }
  std::size_t bytes() const noexcept {
    return total_.load(std::memory_order_relaxed);  // relaxed: a statistic
  }

 private:
  static constexpr std::size_t kMaxKeptBytes = std::size_t{256} << 20;  // as the frame depot
  struct Mapping {
    void* pages;
    std::size_t bytes;
  };
  std::mutex mutex_;
  std::array<Mapping, 16> kept_{};
  std::size_t count_ = 0;
  std::atomic<std::size_t> total_{0};
};

KeptMappings& kept_mappings() {
  // Never destroyed: a static array elsewhere may free into it during exit.
  alignas(KeptMappings) static unsigned char storage[sizeof(KeptMappings)];
  static KeptMappings* const kept = new (storage) KeptMappings;
  return *kept;
}

}  // namespace

void* map_pages(std::size_t bytes) {
  const std::size_t length = whole_pages(bytes);
  if (void* kept = kept_mappings().take(length)) return kept;
  void* pages = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) throw std::bad_alloc();
  return pages;
}

void unmap_pages(void* pages, std::size_t bytes) noexcept {
  const std::size_t length = whole_pages(bytes);
  if (kept_mappings().keep(pages, length)) return;
  // Fails only for an address map_pages() did not return: a bug in the caller.
  ::munmap(pages, length);
}

std::size_t page_bytes_kept() noexcept { return kept_mappings().bytes(); }

void release_kept_pages() noexcept { kept_mappings().release_all(); }

}  // namespace tiny_coro::detail
