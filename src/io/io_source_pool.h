// The reactor's IoSource slots (io_source.h): allocated in chunks that never move and are
// freed only with the reactor, so an index from an epoll event always names live memory.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "io/io_source.h"

namespace tiny_coro::detail {

class IoSourcePool {
 public:
  IoSourcePool() = default;
  IoSourcePool(const IoSourcePool&) = delete;
  IoSourcePool& operator=(const IoSourcePool&) = delete;
  ~IoSourcePool();

  // A free slot (throws std::system_error(EMFILE) past the pool's limit).
  IoSource& acquire();
  void release(IoSource& source) noexcept;
  // The slot at `index`, or nullptr if no chunk holds it. Any thread.
  IoSource* find(std::uint32_t index) const noexcept;

 private:
  static constexpr std::size_t kChunkBits = 8;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = 4096;  // a million sockets per reactor

  std::array<std::atomic<IoSource*>, kMaxChunks> chunks_{};
  std::mutex mutex_;  // guards the two below; taken per attach/detach, not per operation
  std::vector<std::uint32_t> free_;
  std::uint32_t next_unused_ = 0;
};

}  // namespace tiny_coro::detail
