// The waiter queue behind every tiny_coro synchronisation primitive: an intrusive FIFO of
// nodes that live inside the awaiters of suspended coroutines, so waiting allocates nothing.
// Not thread-safe by itself: each primitive guards its lists with its own SpinLock.
//
// Unlinking: a waker pops the node (clearing `linked`) under the lock and only then
// schedules the coroutine, so a resumed awaiter can read `linked` without the lock. An
// awaiter destroyed while still linked — its frame destroyed by Scheduler::shutdown() — takes
// the lock and unlinks itself (WaitNode::leave), so no list ever points into a dead frame.
#pragma once

#include <coroutine>
#include <mutex>

namespace tiny_coro::detail {

struct WaitNode {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  std::coroutine_handle<> waiter;
  bool linked = false;
};

class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }

  void push_back(WaitNode& node) noexcept {
    node.prev = tail_;
    node.next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = &node;
    } else {
      head_ = &node;
    }
    tail_ = &node;
    node.linked = true;
  }

  WaitNode* pop_front() noexcept {
    WaitNode* node = head_;
    if (node != nullptr) remove(*node);
    return node;
  }

  void remove(WaitNode& node) noexcept {
    if (node.prev != nullptr) {
      node.prev->next = node.next;
    } else {
      head_ = node.next;
    }
    if (node.next != nullptr) {
      node.next->prev = node.prev;
    } else {
      tail_ = node.prev;
    }
    node.prev = node.next = nullptr;
    node.linked = false;
  }

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

// Nodes a waker popped under a lock, to be scheduled once the lock is released (nobody
// schedules while holding a spin lock). Chained through `next`, which a popped node no longer
// needs; woken in the order added.
class WakeChain {
 public:
  WakeChain() = default;
  WakeChain(const WakeChain&) = delete;
  WakeChain& operator=(const WakeChain&) = delete;

  void add(WaitNode& node) noexcept {
    node.next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = &node;
    } else {
      head_ = &node;
    }
    tail_ = &node;
  }

  // Calls schedule(handle) for every node, first added first. A scheduled coroutine may run
  // (and destroy its node) at once, so each node's successor is read before it is scheduled.
  template <class Schedule>
  void wake_all(Schedule&& schedule) {
    WaitNode* node = head_;
    head_ = tail_ = nullptr;
    while (node != nullptr) {
      WaitNode* next = node->next;
      schedule(node->waiter);
      node = next;
    }
  }

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

// An awaiter going away: unlinks `node` from `list` (guarded by `lock`) if it is still
// waiting, i.e. its frame is being destroyed. The common case — resumed by a waker, which
// unlinked the node before scheduling it — takes no lock.
template <class Lock>
void leave_if_linked(Lock& lock, WaitList& list, WaitNode& node) noexcept {
  if (!node.linked) return;
  std::lock_guard guard(lock);
  if (node.linked) list.remove(node);
}

}  // namespace tiny_coro::detail
