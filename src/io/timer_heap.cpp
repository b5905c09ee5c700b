#include "io/timer_heap.h"

#include <stdexcept>

namespace tiny_coro::detail {

bool TimerHeap::earlier(const Entry& a, const Entry& b) noexcept {
  if (a.deadline != b.deadline) return a.deadline < b.deadline;
  return armed_before(a.node->sequence, b.node->sequence);
}

void TimerHeap::place(std::size_t index, const Entry& entry) noexcept {
  entries_[index] = entry;
  // push() keeps the size below 2^32 - 1.
  entry.node->heap_index = static_cast<std::uint32_t>(index);
}

void TimerHeap::sift_up(std::size_t index) noexcept {
  const Entry entry = entries_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / kArity;
    if (!earlier(entry, entries_[parent])) break;
    place(index, entries_[parent]);
    index = parent;
  }
  place(index, entry);
}

void TimerHeap::sift_down(std::size_t index) noexcept {
  const Entry entry = entries_[index];
  const std::size_t count = entries_.size();
  for (;;) {
    const std::size_t first = kArity * index + 1;
    if (first >= count) break;
    const std::size_t end = first + kArity < count ? first + kArity : count;
    std::size_t earliest = first;
    for (std::size_t child = first + 1; child < end; ++child) {
      if (earlier(entries_[child], entries_[earliest])) earliest = child;
    }
    if (!earlier(entries_[earliest], entry)) break;
    place(index, entries_[earliest]);
    index = earliest;
  }
  place(index, entry);
}

void TimerHeap::push(TimerNode& node) {
  if (entries_.size() >= TimerNode::kNotInHeap) {
    throw std::length_error("tiny_coro: too many timers");
  }
  node.sequence = next_sequence_++;
  entries_.push_back({node.deadline, &node});
  sift_up(entries_.size() - 1);
}

bool TimerHeap::remove(TimerNode& node) noexcept {
  const std::size_t index = node.heap_index;
  if (index >= entries_.size() || entries_[index].node != &node) return false;
  node.heap_index = TimerNode::kNotInHeap;
  const Entry last = entries_.back();
  entries_.pop_back();
  if (last.node != &node) {
    place(index, last);
    // The moved entry may belong above or below its new spot.
    sift_up(index);
    sift_down(last.node->heap_index);
  }
  return true;
}

TimerNode& TimerHeap::pop() noexcept {
  TimerNode& node = *entries_.front().node;
  remove(node);
  return node;
}

}  // namespace tiny_coro::detail
