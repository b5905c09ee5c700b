// The reactor's IoSource slots (io_source.h): allocated in chunks that never move and are
// freed only with the reactor, so an index from an epoll event always names live memory.
// Each chunk starts with its reactor, so that a slot finds its reactor (reactor_of) without
// a pointer of its own in every slot or in every wait that holds a slot (ReadinessWait).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "io/io_source.h"

namespace tiny_coro {
class Reactor;
}

namespace tiny_coro::detail {

class IoSourcePool {
 public:
  explicit IoSourcePool(Reactor& reactor) noexcept : reactor_(reactor) {}
  IoSourcePool(const IoSourcePool&) = delete;
  IoSourcePool& operator=(const IoSourcePool&) = delete;
  ~IoSourcePool();

  // A free slot (throws std::system_error(EMFILE) past the pool's limit).
  IoSource& acquire();
  void release(IoSource& source) noexcept;
  // The slot at `index`, or nullptr if no chunk holds it. Any thread.
  IoSource* find(std::uint32_t index) const noexcept;

  // The reactor whose pool holds `source`.
  static Reactor& reactor_of(const IoSource& source) noexcept {
    const IoSource* first = &source - (source.index & (kChunkSize - 1));
    const char* chunk = reinterpret_cast<const char*>(first) - offsetof(Chunk, slots);
    return *reinterpret_cast<const Chunk*>(chunk)->reactor;
  }

 private:
  static constexpr std::size_t kChunkBits = 8;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = 4096;  // a million sockets per reactor

  struct Chunk {
    Reactor* reactor;
    std::array<IoSource, kChunkSize> slots;
  };
  static_assert(std::is_standard_layout_v<Chunk>, "reactor_of() steps back from a slot");

  Reactor& reactor_;
  std::array<std::atomic<Chunk*>, kMaxChunks> chunks_{};
  std::mutex mutex_;  // guards the two below; taken per attach/detach, not per operation
  std::vector<std::uint32_t> free_;
  std::uint32_t next_unused_ = 0;
};

}  // namespace tiny_coro::detail
