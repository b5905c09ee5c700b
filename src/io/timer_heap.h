// A binary min-heap of intrusive TimerNodes, ordered by (deadline, sequence), where each node
// records its own index so that removal from the middle is O(log n). Not thread-safe: the
// Reactor guards it with its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tiny_coro/reactor.h>

#include <tiny_coro/detail/page_allocator.h>

namespace tiny_coro::detail {

// Whether arm number `a` came before arm number `b`, counting modulo 2^32 (TimerNode::sequence).
constexpr bool armed_before(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) < 0;
}

class TimerHeap {
 public:
  void push(TimerNode& node);
  // Removes `node` if it is in this heap; returns whether it was.
  bool remove(TimerNode& node) noexcept;
  // The earliest node, or nullptr.
  TimerNode* top() const noexcept { return nodes_.empty() ? nullptr : nodes_.front(); }
  // Removes and returns the earliest node (precondition: not empty).
  TimerNode& pop() noexcept;

  std::size_t size() const noexcept { return nodes_.size(); }
  // Gives back the array's spare room once far more was reserved than is used (after a burst
  // of timers): a million sleepers leave 8 MB behind otherwise.
  void shrink() {
    if (nodes_.capacity() > 4 * nodes_.size() + 1024) nodes_.shrink_to_fit();
  }
  bool empty() const noexcept { return nodes_.empty(); }

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept;
  void place(std::size_t index, TimerNode* node) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;

  // Its own pages once large: what shrink() frees after a burst, the idle release gives back.
  std::vector<TimerNode*, PageAllocator<TimerNode*>> nodes_;
  std::uint32_t next_sequence_ = 0;
};

}  // namespace tiny_coro::detail
