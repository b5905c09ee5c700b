#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include <tiny_coro/detail/page_allocator.h>

namespace tiny_coro::detail {
namespace {
std::size_t whole_pages(std::size_t bytes) noexcept {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}
}  // namespace

void* map_pages(std::size_t bytes) {
  void* pages = ::mmap(nullptr, whole_pages(bytes), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) throw std::bad_alloc();
  return pages;
}

void unmap_pages(void* pages, std::size_t bytes) noexcept {
  // Fails only for an address map_pages() did not return: a bug in the caller.
  ::munmap(pages, whole_pages(bytes));
}

}  // namespace tiny_coro::detail
