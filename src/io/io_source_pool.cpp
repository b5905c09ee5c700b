#include "io/io_source_pool.h"

#include <cerrno>
#include <system_error>

namespace tiny_coro::detail {

IoSourcePool::~IoSourcePool() {
  for (auto& chunk : chunks_) delete chunk.load(std::memory_order_relaxed);  // no user left
}

IoSource& IoSourcePool::acquire() {
  std::lock_guard lock(mutex_);
  if (!free_.empty()) {
    const std::uint32_t index = free_.back();
    free_.pop_back();
    return *find(index);
  }
  const std::uint32_t index = next_unused_;
  const std::size_t chunk = index >> kChunkBits;
  if (chunk >= kMaxChunks) throw std::system_error(EMFILE, std::system_category(), "IoSourcePool");
  free_.reserve(index + 1);  // so that release(), which is noexcept, never allocates
  if ((index & (kChunkSize - 1)) == 0) {
    auto* fresh = new Chunk{&reactor_, {}};
    for (std::size_t i = 0; i < kChunkSize; ++i) {
      fresh->slots[i].index = static_cast<std::uint32_t>((chunk << kChunkBits) + i);
    }
    // release: pairs with the acquire in find(), so the reactor sees initialised slots.
    chunks_[chunk].store(fresh, std::memory_order_release);
  }
  ++next_unused_;
  return *find(index);
}

void IoSourcePool::release(IoSource& source) noexcept {
  std::lock_guard lock(mutex_);
  free_.push_back(source.index);  // capacity reserved by acquire()
}

IoSource* IoSourcePool::find(std::uint32_t index) const noexcept {
  const std::size_t chunk = index >> kChunkBits;
  if (chunk >= kMaxChunks) return nullptr;
  // acquire: pairs with the release in acquire().
  Chunk* slots = chunks_[chunk].load(std::memory_order_acquire);
  return slots != nullptr ? &slots->slots[index & (kChunkSize - 1)] : nullptr;
}

}  // namespace tiny_coro::detail
