// A 4-ary min-heap of intrusive TimerNodes, ordered by (deadline, sequence), where each node
// records its own index so that removal from the middle is O(log n). Not thread-safe: the
// Reactor guards it with its lock.
//
// Each entry carries its node's deadline beside the pointer, so the comparisons of a sift
// read the array, not the nodes: the nodes sit in the frames of the tasks that wait, scattered
// over the heap, and under a million sleepers each node read was a cache miss (the binary
// heap's compare was 6% of cancelling a million sleepers). Four children per entry halve the
// depth, so a sift also moves half as many entries (each move writes its node's index). A
// node's deadline must not change while it is armed; ties, which are rare, read the nodes'
// arm order.
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
  TimerNode* top() const noexcept { return entries_.empty() ? nullptr : entries_.front().node; }
  // Removes and returns the earliest node (precondition: not empty).
  TimerNode& pop() noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  // Gives back the array's spare room once far more was reserved than is used (after a burst
  // of timers): a million sleepers leave 16 MB behind otherwise.
  void shrink() {
    if (entries_.capacity() > 4 * entries_.size() + 1024) entries_.shrink_to_fit();
  }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct Entry {
    TimePoint deadline;
    TimerNode* node;
  };
  static constexpr std::size_t kArity = 4;
  static bool earlier(const Entry& a, const Entry& b) noexcept;
  void place(std::size_t index, const Entry& entry) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;

  // Its own pages once large: what shrink() frees after a burst, the idle release gives back.
  std::vector<Entry, PageAllocator<Entry>> entries_;
  std::uint32_t next_sequence_ = 0;
};

}  // namespace tiny_coro::detail
