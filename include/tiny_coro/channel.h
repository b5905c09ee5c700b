// Channel<T>: CSP-style communication between coroutines, any number of senders and
// receivers, on any workers.
//
//   Channel<int> chan(sched, 2);            // capacity 2; 0 makes a rendezvous channel
//   bool sent = co_await chan.send(42);     // suspends while full
//   std::optional<int> v = co_await chan.recv();   // suspends while empty
//   chan.close();                           // any thread
//
// * Capacity 0: send completes only once a receiver has taken the value (rendezvous).
//   Capacity N: send completes once the value is delivered to a waiting receiver or buffered.
// * Order: values arrive in the order their sends completed; waiting senders and receivers
//   are served first come, first served.
// * close(): wakes every waiter. recv() then still delivers everything buffered, and after
//   that returns std::nullopt. send() on a closed channel returns false — it does not throw
//   and does not silently drop: false tells the caller the value was not delivered (the
//   value is destroyed with the awaiter). A sender waiting when close() comes gets false too.
// * try_send / try_recv never suspend. try_send moves from its argument only on success.
// * Where a waiter resumes: on a worker of the scheduler, queued by the operation or close()
//   that completed it (on that worker's LIFO slot when it ran on a worker).
// * A waiting coroutine destroyed by Scheduler::shutdown() unlinks itself; the Channel must
//   outlive every coroutine that may wait on it.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <tiny_coro/detail/select_state.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

template <class T>
class Channel {
  static_assert(std::is_move_constructible_v<T>, "Channel values must be movable");

  // Wait nodes of suspended senders and receivers (declared first: the awaiters embed them).
  // A node of a select must win its select's claim before anyone completes it; a node whose
  // select already chose another case is stale, and whoever pops it just drops it.
  struct ChannelNode : detail::WaitNode {
    detail::SelectState* select = nullptr;
    std::size_t select_case = 0;
    bool claim() noexcept { return select == nullptr || select->try_claim(select_case); }
  };
  struct SendNode : ChannelNode {
    T* value = nullptr;  // the waiting sender's value, moved out by whoever takes it
    bool done = false;   // delivered (or buffered)
  };
  struct RecvNode : ChannelNode {
    std::optional<T>* slot = nullptr;  // where a sender puts the value for this receiver
  };

  // The first waiting node of `list` that could be claimed (stale select nodes dropped).
  template <class Node>
  static Node* pop_claimed(detail::WaitList& list) noexcept {
    while (auto* node = static_cast<Node*>(list.pop_front())) {
      if (node->claim()) return node;
    }
    return nullptr;
  }

 public:
  // Allocates the buffer's `capacity` slots up front (as Go's make(chan T, n) does): no
  // allocation ever happens under the channel's spin lock.
  Channel(Scheduler& scheduler, std::size_t capacity)
      : scheduler_(scheduler), capacity_(capacity), buffer_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // Precondition: no coroutine waits on it. Taking the lock orders the destruction after the
  // last operation's critical section, which may have run on a worker moments ago (the
  // manual's Example 2 only sleeps before its channel goes out of scope).
  ~Channel() { std::lock_guard lock(guard_); }

  std::size_t capacity() const noexcept { return capacity_; }
  bool is_closed() const noexcept {
    std::lock_guard lock(guard_);
    return closed_;
  }

  class [[nodiscard]] SendAwaiter {
   public:
    SendAwaiter(Channel& channel, T value) : channel_(channel), value_(std::move(value)) {}
    SendAwaiter(const SendAwaiter&) = delete;
    SendAwaiter& operator=(const SendAwaiter&) = delete;
    ~SendAwaiter() { detail::leave_if_linked(channel_.guard_, channel_.senders_, node_); }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiting) {
      std::coroutine_handle<> wake;
      {
        std::lock_guard lock(channel_.guard_);
        if (channel_.closed_) return false;  // node_.done stays false: not delivered
        if (channel_.offer_locked([this]() -> T { return std::move(value_); }, wake)) {
          node_.done = true;
        } else {
          node_.waiter = waiting;
          node_.value = &value_;
          channel_.senders_.push_back(node_);
          return true;
        }
      }
      channel_.wake(wake);
      return false;
    }
    // True if the value was delivered or buffered; false if the channel was closed first.
    bool await_resume() const noexcept { return node_.done; }

   private:
    Channel& channel_;
    T value_;
    SendNode node_;
  };

  class [[nodiscard]] RecvAwaiter {
   public:
    explicit RecvAwaiter(Channel& channel) noexcept : channel_(channel) {}
    RecvAwaiter(const RecvAwaiter&) = delete;
    RecvAwaiter& operator=(const RecvAwaiter&) = delete;
    ~RecvAwaiter() { detail::leave_if_linked(channel_.guard_, channel_.receivers_, node_); }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiting) {
      std::coroutine_handle<> wake;
      {
        std::lock_guard lock(channel_.guard_);
        if (!channel_.take_locked(result_, wake)) {
          if (channel_.closed_) return false;  // drained and closed: nullopt
          node_.waiter = waiting;
          node_.slot = &result_;
          channel_.receivers_.push_back(node_);
          return true;
        }
      }
      channel_.wake(wake);
      return false;
    }
    // A value, or std::nullopt once the channel is closed and drained.
    std::optional<T> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
      return std::move(result_);
    }

   private:
    Channel& channel_;
    std::optional<T> result_;
    RecvNode node_;
  };

  // One receive for tiny_coro::select (select.h): after the select chose it, value() holds
  // what was received, or std::nullopt if the channel was closed and drained.
  class RecvCase {
   public:
    explicit RecvCase(Channel& channel) noexcept : channel_(channel) {}
    RecvCase(const RecvCase&) = delete;
    RecvCase& operator=(const RecvCase&) = delete;
    ~RecvCase() { finish(); }

    std::optional<T>& value() noexcept { return result_; }

    // --- the protocol select() drives; every *_locked call holds this channel's lock ---
    SpinLock& lock() const noexcept { return channel_.guard_; }
    bool try_complete_locked(std::coroutine_handle<>& wake) {
      return channel_.take_locked(result_, wake) || channel_.closed_;
    }
    void enqueue_locked(detail::SelectState& select, std::size_t index,
                        std::coroutine_handle<> waiting) noexcept {
      node_.select = &select;
      node_.select_case = index;
      node_.waiter = waiting;
      node_.slot = &result_;
      channel_.receivers_.push_back(node_);
    }
    // Always under the lock: a peer may have popped this losing case's node and still be
    // inspecting it (its claim fails) when another case resumes the select.
    void finish() noexcept {
      std::lock_guard lock(channel_.guard_);
      if (node_.linked) channel_.receivers_.remove(node_);
    }
    void wake(std::coroutine_handle<> handle) { channel_.wake(handle); }

   private:
    Channel& channel_;
    std::optional<T> result_;
    RecvNode node_;
  };

  // One send for tiny_coro::select: after the select chose it, sent() tells whether the value
  // was delivered or buffered (false: the channel was closed).
  class SendCase {
   public:
    SendCase(Channel& channel, T value) : channel_(channel), value_(std::move(value)) {}
    SendCase(const SendCase&) = delete;
    SendCase& operator=(const SendCase&) = delete;
    ~SendCase() { finish(); }

    bool sent() const noexcept { return node_.done; }

    SpinLock& lock() const noexcept { return channel_.guard_; }
    bool try_complete_locked(std::coroutine_handle<>& wake) {
      if (channel_.closed_) return true;  // done stays false
      node_.done = channel_.offer_locked([this]() -> T { return std::move(value_); }, wake);
      return node_.done;
    }
    void enqueue_locked(detail::SelectState& select, std::size_t index,
                        std::coroutine_handle<> waiting) noexcept {
      node_.select = &select;
      node_.select_case = index;
      node_.waiter = waiting;
      node_.value = &value_;
      channel_.senders_.push_back(node_);
    }
    void finish() noexcept {  // under the lock, for the reason given in RecvCase::finish
      std::lock_guard lock(channel_.guard_);
      if (node_.linked) channel_.senders_.remove(node_);
    }
    void wake(std::coroutine_handle<> handle) { channel_.wake(handle); }

   private:
    Channel& channel_;
    T value_;
    SendNode node_;
  };

  RecvCase recv_case() noexcept { return RecvCase(*this); }
  SendCase send_case(T value) { return SendCase(*this, std::move(value)); }

  SendAwaiter send(T value) { return SendAwaiter(*this, std::move(value)); }
  RecvAwaiter recv() noexcept { return RecvAwaiter(*this); }

  // Delivers or buffers `value` if that is possible right now; moves from it only then.
  template <class U>
  requires std::is_constructible_v<T, U&&>
  [[nodiscard]] bool try_send(U&& value) {
    std::coroutine_handle<> wake;
    {
      std::lock_guard lock(guard_);
      // The value is constructed only once it has somewhere to go: a failed try_send
      // leaves `value` alone.
      if (closed_ || !offer_locked([&]() -> T { return T(std::forward<U>(value)); }, wake)) {
        return false;
      }
    }
    wake_if(wake);
    return true;
  }

  // A value if one is available right now (buffered, or from a waiting sender).
  [[nodiscard]] std::optional<T> try_recv() {
    std::optional<T> result;
    std::coroutine_handle<> wake;
    {
      std::lock_guard lock(guard_);
      if (!take_locked(result, wake)) return std::nullopt;
    }
    wake_if(wake);
    return result;
  }

  // Any thread. Idempotent.
  void close() {
    std::vector<std::coroutine_handle<>> woken;
    {
      std::lock_guard lock(guard_);
      if (closed_) return;
      closed_ = true;
      // Receivers wait only while the buffer is empty: they get nullopt. Senders get false.
      while (auto* node = pop_claimed<RecvNode>(receivers_)) woken.push_back(node->waiter);
      while (auto* node = pop_claimed<SendNode>(senders_)) woken.push_back(node->waiter);
    }
    for (auto handle : woken) wake(handle);
  }

 private:
  // Under guard_: hands make() to the first waiting receiver, or buffers it if there is
  // room. Sets `wake` to the receiver to resume. False (make() not called) if neither.
  template <class Make>
  bool offer_locked(Make&& make, std::coroutine_handle<>& wake) {
    if (auto* receiver = pop_claimed<RecvNode>(receivers_)) {
      receiver->slot->emplace(make());
      wake = receiver->waiter;
      return true;
    }
    if (buffer_.size() < capacity_) {
      buffer_.push_back(make());
      return true;
    }
    return false;
  }

  // Under guard_: takes the oldest value — from the buffer (refilling it from the first
  // waiting sender) or straight from a waiting sender. Sets `wake` to the sender to resume.
  bool take_locked(std::optional<T>& out, std::coroutine_handle<>& wake) {
    auto* sender = pop_claimed<SendNode>(senders_);
    if (!buffer_.empty()) {
      out.emplace(std::move(buffer_.front()));
      buffer_.pop_front();
      if (sender != nullptr) buffer_.push_back(std::move(*sender->value));
    } else if (sender != nullptr) {
      out.emplace(std::move(*sender->value));
    } else {
      return false;
    }
    if (sender != nullptr) {
      sender->done = true;
      wake = sender->waiter;
    }
    return true;
  }

  void wake(std::coroutine_handle<> handle) { detail::executor_of(scheduler_).schedule(handle); }
  void wake_if(std::coroutine_handle<> handle) {
    if (handle) wake(handle);
  }

  Scheduler& scheduler_;
  const std::size_t capacity_;
  mutable SpinLock guard_;  // protects everything below
  // A fixed ring of `capacity_` slots.
  class Ring {
   public:
    explicit Ring(std::size_t capacity)
        : slots_(capacity > 0 ? std::make_unique<std::optional<T>[]>(capacity) : nullptr),
          capacity_(capacity) {}
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T& front() noexcept { return *slots_[head_]; }
    void pop_front() noexcept {
      slots_[head_].reset();
      head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
      --size_;
    }
    void push_back(T&& value) {  // precondition: size() < capacity
      std::size_t tail = head_ + size_;
      if (tail >= capacity_) tail -= capacity_;
      slots_[tail].emplace(std::move(value));
      ++size_;
    }

   private:
    std::unique_ptr<std::optional<T>[]> slots_;
    std::size_t capacity_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };
  Ring buffer_;
  detail::WaitList senders_;
  detail::WaitList receivers_;
  bool closed_ = false;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Channel;
#endif
