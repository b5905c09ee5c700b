// Places test input so that it ends exactly where an unreadable page begins: a parser that
// reads one byte past its input faults instead of passing by luck (picohttpparser's test.c).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace tiny_coro::test {

class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t capacity) {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    data_pages_ = (capacity + page_ - 1) / page_ + 1;
    const std::size_t total = (data_pages_ + 1) * page_;
    void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    if (::mprotect(base_ + data_pages_ * page_, page_, PROT_NONE) != 0) {
      ::munmap(base_, total);
      throw std::runtime_error("mprotect failed");
    }
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  ~GuardedBuffer() { ::munmap(base_, (data_pages_ + 1) * page_); }

  // Copies `bytes` so that its last byte is the last readable one; returns the copy.
  char* place(std::string_view bytes) {
    char* start = base_ + data_pages_ * page_ - bytes.size();
    if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
    return start;
  }

 private:
  std::size_t page_ = 0;
  std::size_t data_pages_ = 0;
  char* base_ = nullptr;
};

}  // namespace tiny_coro::test
