#include "io/timer_heap.h"

#include <stdexcept>

namespace tiny_coro::detail {

bool TimerHeap::earlier(const TimerNode* a, const TimerNode* b) noexcept {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  return armed_before(a->sequence, b->sequence);
}

void TimerHeap::place(std::size_t index, TimerNode* node) noexcept {
  nodes_[index] = node;
  node->heap_index = static_cast<std::uint32_t>(index);  // push() keeps the size below 2^32 - 1
}

void TimerHeap::sift_up(std::size_t index) noexcept {
  TimerNode* node = nodes_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!earlier(node, nodes_[parent])) break;
    place(index, nodes_[parent]);
    index = parent;
  }
  place(index, node);
}

void TimerHeap::sift_down(std::size_t index) noexcept {
  TimerNode* node = nodes_[index];
  const std::size_t count = nodes_.size();
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= count) break;
    if (child + 1 < count && earlier(nodes_[child + 1], nodes_[child])) ++child;
    if (!earlier(nodes_[child], node)) break;
    place(index, nodes_[child]);
    index = child;
  }
  place(index, node);
}

void TimerHeap::push(TimerNode& node) {
  if (nodes_.size() >= TimerNode::kNotInHeap) throw std::length_error("tiny_coro: too many timers");
  node.sequence = next_sequence_++;
  nodes_.push_back(&node);
  sift_up(nodes_.size() - 1);
}

bool TimerHeap::remove(TimerNode& node) noexcept {
  const std::size_t index = node.heap_index;
  if (index >= nodes_.size() || nodes_[index] != &node) return false;
  node.heap_index = TimerNode::kNotInHeap;
  TimerNode* last = nodes_.back();
  nodes_.pop_back();
  if (last != &node) {
    place(index, last);
    // The moved node may belong above or below its new spot.
    sift_up(index);
    sift_down(last->heap_index);
  }
  return true;
}

TimerNode& TimerHeap::pop() noexcept {
  TimerNode& node = *nodes_.front();
  remove(node);
  return node;
}

}  // namespace tiny_coro::detail
