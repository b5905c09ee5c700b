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

#include <tiny_coro/detail/cancel_state.h>

namespace tiny_coro::detail {

struct WaitNode {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  std::coroutine_handle<> waiter;
  bool linked = false;
  bool cancelled = false;  // taken back by a cancellation (take_back_if_linked), not woken
};

// Circular and doubly linked from one pointer: the tail is the head's `prev`. Every IoSource
// holds two of these and every mutex, semaphore and channel one or two, so one pointer less
// is 8 bytes less in each (an idle connection's source among them).
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }

  void push_back(WaitNode& node) noexcept {
    if (head_ == nullptr) {
      node.prev = node.next = &node;
      head_ = &node;
    } else {
      WaitNode* const tail = head_->prev;
      node.prev = tail;
      node.next = head_;
      tail->next = &node;
      head_->prev = &node;
    }
    node.linked = true;
  }

  WaitNode* pop_front() noexcept {
    WaitNode* node = head_;
    if (node != nullptr) remove(*node);
    return node;
  }

  void remove(WaitNode& node) noexcept {
    if (node.next == &node) {
      head_ = nullptr;
    } else {
      node.prev->next = node.next;
      node.next->prev = node.prev;
      if (head_ == &node) head_ = node.next;
    }
    node.prev = node.next = nullptr;
    node.linked = false;
  }

 private:
  WaitNode* head_ = nullptr;
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

// A cancellation taking a waiter back (cancel_state.h): unlinks `node` if no waker has popped
// it yet and returns its coroutine to resume with "cancelled"; null if a waker got there first
// (the operation then completes normally). Its awaiter armed its canceller under `lock`
// before queueing, so the node cannot be about to be queued.
template <class Lock>
std::coroutine_handle<> take_back_if_linked(Lock& lock, WaitList& list, WaitNode& node) noexcept {
  std::lock_guard guard(lock);
  if (!node.linked) return {};
  list.remove(node);
  node.cancelled = true;
  return node.waiter;
}

// The waiting half of a primitive whose waiters queue on one WaitList under one lock (the
// mutex, the semaphore, events): the node, the queueing, and cancellation. Cancelling takes
// the node back out of the list if no waker has popped it, and the co_await throws
// TaskCancelled; once a waker has popped it the operation has completed and stands.
template <class Lock>
class ListWait final : public CancelPoint {
 public:
  ListWait(Lock& lock, WaitList& list) noexcept
      : CancelPoint(&CancelPoint::cancel_of<ListWait>), lock_(lock), list_(list) {}
  ListWait(const ListWait&) = delete;
  ListWait& operator=(const ListWait&) = delete;
  // Also when the frame is destroyed while waiting (Scheduler::shutdown()). Disarms before
  // taking the lock its canceller takes.
  ~ListWait() {
    disarm();
    leave_if_linked(lock_, list_, node_);
  }

  // Under the lock: `complete_locked()` finishes the operation now if it can (then nothing
  // suspends); otherwise, unless the task is already cancelled, the node is queued. Armed
  // under the lock the canceller takes, so it finds the node queued or not armed at all.
  // True: suspended.
  template <class CompleteLocked>
  bool suspend(std::coroutine_handle<> waiting, CancelState* state,
               CompleteLocked&& complete_locked) noexcept {
    std::lock_guard guard(lock_);
    if (complete_locked()) return false;
    if (!arm(state)) {
      node_.cancelled = true;
      return false;
    }
    node_.waiter = waiting;
    list_.push_back(node_);
    return true;
  }

  // After resumption (or a false suspend()): throws TaskCancelled if the wait was cancelled.
  void finish() {
    disarm();
    if (node_.cancelled) throw_task_cancelled();
  }

 private:
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept { return take_back_if_linked(lock_, list_, node_); }

  Lock& lock_;
  WaitList& list_;
  WaitNode node_;
};

}  // namespace tiny_coro::detail
