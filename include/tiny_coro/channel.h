// Channel<T>: CSP-style communication between coroutines, any number of senders and
// receivers, on any workers.
//
//   Channel<int> chan(sched, 2);            // capacity 2; 0 makes a rendezvous channel
//   bool sent = co_await chan.send(42);     // suspends while full
//   std::optional<int> v = co_await chan.recv();   // suspends while empty
//   chan.close();                           // any thread
//
// * Capacity 0: send completes only once a receiver has taken the value (rendezvous).
//   Capacity N: send completes once the value is buffered (or handed to a waiting receiver).
// * Order: values are received in the order their sends completed. Suspended senders and
//   receivers are served first come, first served; an operation that finds the channel ready
//   does not queue behind them.
// * close(): wakes every waiter. recv() then still delivers everything buffered, and after
//   that returns std::nullopt. send() on a closed channel returns false — it does not throw
//   and does not silently drop: false tells the caller the value was not delivered (the
//   value is destroyed with the awaiter). A sender waiting when close() comes gets false too.
// * try_send / try_recv never suspend. try_send moves from its argument only on success —
//   except that an argument of another type whose conversion to T may throw is converted
//   first (so a throw leaves the channel untouched), whatever the outcome.
// * T must be nothrow-move-constructible (values move into and out of the buffer without a
//   lock that could be left half-done).
// * Where a waiter resumes: on a worker of the scheduler, queued by the operation or close()
//   that completed it (on that worker's LIFO slot when it ran on a worker).
// * A waiting coroutine destroyed by Scheduler::shutdown() unlinks itself. The Channel must
//   outlive every operation on it (destroy it after the tasks using it have finished).
//
// How. A buffered channel keeps its values in a lock-free ring (detail/bounded_ring.h): while
// it is neither full nor empty, send and recv are a CAS each and never touch the lock. The
// SpinLock guards only the wait lists. A coroutine that must wait queues its node under the
// lock, sets its side's `*_waiting_` flag, and then retries the ring once; a peer that moves
// the ring checks the opposite flag afterwards. Both the flag store and the ring's index
// moves are seq_cst, so either the retry sees the peer's push/pop or the peer sees the flag
// (a store-load pairing) — no wake-up is lost. (A waiter that finds the flag already raised
// stores nothing; the raising store came before it under the same lock, so it is earlier in
// the seq_cst order than the waiter's retry, and the argument holds.) The peer then "settles" under
// the lock: it hands buffered values to waiting receivers and moves waiting senders' values into
// the ring, completing those waiters itself. A rendezvous channel has no buffer: every operation
// takes the lock and pairs a sender with a receiver directly, as Go's unbuffered channels do.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/bounded_ring.h>
#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/select_state.h>
#include <tiny_coro/detail/wait_list.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

template <class T>
class Channel {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "Channel values must be nothrow-move-constructible");
  using RingStatus = detail::RingStatus;

  // Wait nodes of suspended senders and receivers (declared first: the awaiters embed them).
  // A node of a select must win its select's claim before anyone completes it; a node whose
  // select already chose another case is stale, and whoever pops it just drops it.
  struct ChannelNode : detail::WaitNode {
    detail::SelectState* select = nullptr;
    std::size_t select_case = 0;
    // Finished: delivered / received, or the channel closed. A claimed select node can be
    // woken unfinished when a faster peer took what it was woken for; the select retries.
    bool completed = false;
    bool claim() noexcept { return select == nullptr || select->try_claim(select_case); }
  };
  struct SendNode : ChannelNode {
    T* value = nullptr;      // the waiting sender's value, moved out by whoever takes it
    bool delivered = false;  // received or buffered (false: the channel closed first)
  };
  struct RecvNode : ChannelNode {
    std::optional<T>* slot = nullptr;  // where the value for this receiver goes
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
  // A buffered channel allocates its `capacity` slots up front (as Go's make(chan T, n)
  // does); no operation allocates.
  Channel(Scheduler& scheduler, std::size_t capacity)
      : scheduler_(scheduler),
        ring_(capacity > 0 ? std::make_unique<detail::BoundedRing<T>>(capacity) : nullptr) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // Precondition: no coroutine waits on it. Taking the lock orders the destruction after the
  // last critical section, which may have run on a worker moments ago.
  ~Channel() { std::lock_guard lock(guard_->lock); }

  std::size_t capacity() const noexcept { return ring_ ? ring_->capacity() : 0; }
  bool is_closed() const noexcept {
    std::lock_guard lock(guard_->lock);
    return guard_->closed;
  }

  // Cancelling a send or recv that waits (cancel.h) takes its node out of the channel's queue
  // before anyone served it and throws TaskCancelled: a cancelled send delivered nothing (its
  // value is destroyed with the awaiter), a cancelled recv consumed nothing (the value goes to
  // another receiver). One that a peer already served completes normally — the value sent or
  // received is never lost.
  class [[nodiscard]] SendAwaiter final : private detail::CancelPoint {
   public:
    // dump_tasks() (detail/await_record.h)
    static constexpr bool notes_its_wait = true;
    static constexpr detail::WaitKind kWaitKind{"send"};
    const char* await_kind() const noexcept { return kWaitKind.name; }
    SendAwaiter(Channel& channel, T value)
        : CancelPoint(&CancelPoint::cancel_of<SendAwaiter>),
          channel_(channel),
          value_(std::move(value)) {}
    SendAwaiter(const SendAwaiter&) = delete;
    SendAwaiter& operator=(const SendAwaiter&) = delete;
    ~SendAwaiter() {
      disarm();
      channel_.leave(channel_.guard_->senders, node_);
    }

    // A buffered channel with room completes here, without suspending or locking.
    bool await_ready() noexcept { return channel_.ring_ && channel_.push_fast(value_, node_); }
    template <class Promise>
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> waiting) {
      detail::note_own_wait(waiting, *this);
      node_.waiter = waiting;
      node_.value = &value_;
      return channel_.send_or_wait(
          node_, [this, state = detail::cancel_state_of(waiting)] { return arm(state); });
    }
    // True if the value was delivered or buffered; false if the channel was closed first.
    bool await_resume() {
      disarm();
      if (node_.cancelled) detail::throw_task_cancelled();
      return node_.delivered;
    }

   private:
    friend class detail::CancelPoint;  // calls cancel() through cancel_of
    std::coroutine_handle<> cancel() noexcept {
      return channel_.take_back(channel_.guard_->senders, node_);
    }

    Channel& channel_;
    T value_;
    SendNode node_;
  };

  class [[nodiscard]] RecvAwaiter final : private detail::CancelPoint {
   public:
    // dump_tasks() (detail/await_record.h)
    static constexpr bool notes_its_wait = true;
    static constexpr detail::WaitKind kWaitKind{"recv"};
    const char* await_kind() const noexcept { return kWaitKind.name; }
    explicit RecvAwaiter(Channel& channel) noexcept
        : CancelPoint(&CancelPoint::cancel_of<RecvAwaiter>), channel_(channel) {}
    RecvAwaiter(const RecvAwaiter&) = delete;
    RecvAwaiter& operator=(const RecvAwaiter&) = delete;
    ~RecvAwaiter() {
      disarm();
      channel_.leave(channel_.guard_->receivers, node_);
    }

    // A buffered channel holding a value (or closed and drained) completes here.
    bool await_ready() noexcept { return channel_.ring_ && channel_.pop_fast(result_); }
    template <class Promise>
    [[gnu::always_inline]] bool await_suspend(std::coroutine_handle<Promise> waiting) {
      detail::note_own_wait(waiting, *this);
      node_.waiter = waiting;
      node_.slot = &result_;
      return channel_.recv_or_wait(
          node_, [this, state = detail::cancel_state_of(waiting)] { return arm(state); });
    }
    // A value, or std::nullopt once the channel is closed and drained.
    std::optional<T> await_resume() {
      disarm();
      if (node_.cancelled) detail::throw_task_cancelled();
      return std::move(result_);
    }

   private:
    friend class detail::CancelPoint;  // calls cancel() through cancel_of
    std::coroutine_handle<> cancel() noexcept {
      return channel_.take_back(channel_.guard_->receivers, node_);
    }

    Channel& channel_;
    std::optional<T> result_;
    RecvNode node_;
  };

  // What RecvCase and SendCase share: their node, the list it waits in, and the part of
  // select()'s protocol (select.h) that only moves the node. Every *_locked call holds this
  // channel's lock.
  template <class Case, class Node, bool kReceive>
  class SelectCaseBase {
   public:
    SelectCaseBase(const SelectCaseBase&) = delete;
    SelectCaseBase& operator=(const SelectCaseBase&) = delete;

    SpinLock& lock() const noexcept { return channel_.guard_->lock; }
    void start_round() noexcept { node_ = Node{}; }
    void enqueue_locked(detail::SelectState& select, std::size_t index,
                        std::coroutine_handle<> waiting) noexcept {
      node_.select = &select;
      node_.select_case = index;
      node_.waiter = waiting;
      static_cast<Case&>(*this).point_node_at_payload();
      channel_.enqueue_locked(list(), node_);
    }
    bool recheck_locked() {
      return channel_.recheck_locked(list(), node_, static_cast<Case&>(*this));
    }
    // Always under the lock: a peer may have popped this losing case's node and still be
    // inspecting it (its claim fails) when another case resumes the select.
    void finish() noexcept { channel_.leave_locked_always(list(), node_); }
    bool completed() const noexcept { return node_.completed; }
    void wake_pending() { channel_.wake(woken_); }

   protected:
    explicit SelectCaseBase(Channel& channel) noexcept : channel_(channel) {}
    ~SelectCaseBase() = default;  // the cases finish() first, while their payload lives
    detail::WaitList& list() const noexcept {
      return kReceive ? channel_.guard_->receivers : channel_.guard_->senders;
    }

    Channel& channel_;
    Node node_;
    detail::WakeChain woken_;
  };

  // One receive for tiny_coro::select (select.h): after the select chose it, value() holds
  // what was received, or std::nullopt if the channel was closed and drained.
  class RecvCase : public SelectCaseBase<RecvCase, RecvNode, true> {
   public:
    explicit RecvCase(Channel& channel) noexcept
        : SelectCaseBase<RecvCase, RecvNode, true>(channel) {}
    ~RecvCase() { this->finish(); }

    std::optional<T>& value() noexcept { return result_; }

    bool try_complete_locked() {
      this->node_.completed = this->channel_.take_locked(result_, this->woken_);
      return this->node_.completed;
    }
    void point_node_at_payload() noexcept { this->node_.slot = &result_; }

   private:
    std::optional<T> result_;
  };

  // One send for tiny_coro::select: after the select chose it, sent() tells whether the value
  // was delivered or buffered (false: the channel was closed).
  class SendCase : public SelectCaseBase<SendCase, SendNode, false> {
   public:
    SendCase(Channel& channel, T value)
        : SelectCaseBase<SendCase, SendNode, false>(channel), value_(std::move(value)) {}
    ~SendCase() { this->finish(); }

    bool sent() const noexcept { return this->node_.delivered; }

    bool try_complete_locked() {
      this->node_.completed =
          this->channel_.give_locked(value_, this->node_.delivered, this->woken_);
      return this->node_.completed;
    }
    void point_node_at_payload() noexcept { this->node_.value = &value_; }

   private:
    T value_;
  };

  RecvCase recv_case() noexcept { return RecvCase(*this); }
  SendCase send_case(T value) { return SendCase(*this, std::move(value)); }

  // What send() and recv() return: the channel (and the value), from which the awaiter is
  // made where it is awaited (detail/await_record.h, AwaitRequest).
  class [[nodiscard]] SendRequest {
   public:
    static constexpr bool is_await_request = true;
    SendRequest(Channel& channel, T value) noexcept
        : channel_(&channel), value_(std::move(value)) {}
    SendAwaiter operator co_await() && { return SendAwaiter(*channel_, std::move(value_)); }

   private:
    Channel* channel_;
    T value_;
  };
  using RecvRequest = detail::OwnerRequest<RecvAwaiter, Channel>;

  SendRequest send(T value) { return SendRequest(*this, std::move(value)); }
  RecvRequest recv() noexcept { return RecvRequest(*this); }

  // Delivers or buffers `value` if that is possible right now; moves from it only then. An
  // argument of another type whose conversion may throw is converted first, so a throw
  // leaves the channel untouched (and the argument converted whatever the outcome).
  template <class U>
  requires std::is_constructible_v<T, U&&>
  [[nodiscard]] bool try_send(U&& value) {
    if constexpr (!std::is_nothrow_constructible_v<T, U&&>) {
      return try_send(T(std::forward<U>(value)));
    } else {
      // The value is constructed only once it has somewhere to go: a failed try_send leaves
      // `value` alone.
      auto make = [&]() noexcept { return T(std::forward<U>(value)); };
      if (ring_) return pushed(ring_->try_push(make));
      detail::WakeChain woken;
      {
        std::lock_guard lock(guard_->lock);
        if (guard_->closed || !hand_to_receiver_locked(make, woken)) return false;
      }
      wake(woken);
      return true;
    }
  }

  // A value if one is available right now (buffered, or from a waiting sender).
  [[nodiscard]] std::optional<T> try_recv() {
    std::optional<T> result;
    if (ring_) {
      pop_fast(result);
      return result;
    }
    detail::WakeChain woken;
    {
      std::lock_guard lock(guard_->lock);
      take_locked(result, woken);
    }
    wake(woken);
    return result;
  }

  // Any thread. Idempotent.
  void close() {
    detail::WakeChain woken;
    {
      std::lock_guard lock(guard_->lock);
      if (guard_->closed) return;
      guard_->closed = true;
      if (ring_) {
        // Pushes fail from here on; settling then hands what is buffered (including pushes
        // still being written) to waiting receivers, completes the remaining receivers with
        // nullopt (closed and empty) and the waiting senders with false.
        ring_->close();
        settle_locked(woken);
      } else {
        while (auto* node = pop_claimed<RecvNode>(guard_->receivers)) finish(*node, woken);
        while (auto* node = pop_claimed<SendNode>(guard_->senders)) finish(*node, woken);
      }
    }
    wake(woken);
  }

 private:
  // --- buffered channels: the lock-free path ---

  bool pushed(RingStatus status) {
    if (status != RingStatus::kDone) return false;
    after_push();
    return true;
  }
  void after_push() {
    // seq_cst: pairs with the flag store in enqueue_locked (see the top of the file).
    if (guard_->receivers_waiting.load(std::memory_order_seq_cst)) settle();
  }
  void after_pop() {
    // seq_cst: as in after_push, for waiting senders.
    if (guard_->senders_waiting.load(std::memory_order_seq_cst)) settle();
  }

  // False when the ring is full: the awaiter goes on to await_suspend.
  bool push_fast(T& value, SendNode& node) {
    const RingStatus status = ring_->try_push([&]() noexcept { return std::move(value); });
    if (status == RingStatus::kBlocked) return false;
    node.delivered = status == RingStatus::kDone;
    if (node.delivered) after_push();
    return true;
  }
  // False when the ring is empty and open: the awaiter goes on to await_suspend.
  bool pop_fast(std::optional<T>& out) {
    const RingStatus status = ring_->try_pop(out);
    if (status == RingStatus::kBlocked) return false;
    if (status == RingStatus::kDone) after_pop();
    return true;
  }

  void settle() {
    detail::WakeChain woken;
    {
      std::lock_guard lock(guard_->lock);
      settle_locked(woken);
    }
    wake(woken);
  }

  // Under the lock, buffered channels: completes every waiter the ring can serve now.
  void settle_locked(detail::WakeChain& woken) {
    // Both sides every round: serving one can make room (or values) for the other.
    for (bool progress = true; progress;) {
      const bool popped = serve_receivers_locked(woken);
      const bool pushed_any = serve_senders_locked(woken);
      progress = popped || pushed_any;
    }
    refresh_waiting_flags_locked();
  }

  // True if a value left the ring (so a waiting sender may now fit).
  bool serve_receivers_locked(detail::WakeChain& woken) {
    bool popped = false;
    auto& receivers = guard_->receivers;
    while (auto* node = static_cast<RecvNode*>(receivers.front())) {
      if (node->select != nullptr) {
        if (ring_->empty() && !ring_->closed()) break;  // nothing to offer: do not claim
        receivers.remove(*node);
        if (!node->claim()) continue;  // its select completed elsewhere
      }
      const RingStatus status = ring_->try_pop(*node->slot);
      // A plain receiver stays queued if a faster receiver emptied the ring; a claimed select
      // cannot, and retries.
      if (status == RingStatus::kBlocked && node->select == nullptr) break;
      if (node->linked) receivers.remove(*node);
      node->completed = status != RingStatus::kBlocked;
      popped |= status == RingStatus::kDone;
      woken.add(*node);
    }
    return popped;
  }

  // True if a value entered the ring (so a waiting receiver may now be served).
  bool serve_senders_locked(detail::WakeChain& woken) {
    bool pushed_any = false;
    auto& senders = guard_->senders;
    while (auto* node = static_cast<SendNode*>(senders.front())) {
      if (node->select != nullptr) {
        if (ring_->full() && !ring_->closed()) break;
        senders.remove(*node);
        if (!node->claim()) continue;
      }
      T* value = node->value;
      const RingStatus status = ring_->try_push([value]() noexcept { return std::move(*value); });
      if (status == RingStatus::kBlocked && node->select == nullptr) break;
      if (node->linked) senders.remove(*node);
      node->completed = status != RingStatus::kBlocked;
      node->delivered = status == RingStatus::kDone;
      pushed_any |= node->delivered;
      woken.add(*node);
    }
    return pushed_any;
  }

  void refresh_waiting_flags_locked() noexcept {
    Guarded& g = *guard_;
    // The loads are relaxed: every store to the flags happens under this lock. The stores are
    // seq_cst: the flags' half of the store-load pairing.
    if (g.receivers_waiting.load(std::memory_order_relaxed) == g.receivers.empty()) {
      g.receivers_waiting.store(!g.receivers.empty(), std::memory_order_seq_cst);
    }
    if (g.senders_waiting.load(std::memory_order_relaxed) == g.senders.empty()) {
      g.senders_waiting.store(!g.senders.empty(), std::memory_order_seq_cst);
    }
  }

  // select.h's recheck pass, after `node` was queued: a buffered channel's ring may have
  // moved meanwhile (rendezvous channels have nothing to recheck: every peer takes the lock
  // the select holds). The node leaves the list while the case tries, so that the settle a
  // success runs cannot find it.
  template <class Case>
  bool recheck_locked(detail::WaitList& list, ChannelNode& node, Case& select_case) {
    if (!ring_) return false;
    list.remove(node);
    if (select_case.try_complete_locked()) return true;
    list.push_back(node);
    return false;
  }

  // Queues `node` and raises its side's flag; the caller then retries the ring once.
  void enqueue_locked(detail::WaitList& list, ChannelNode& node) noexcept {
    list.push_back(node);
    if (ring_) refresh_waiting_flags_locked();
  }

  // --- both kinds, under the lock ---

  // Completes a send now if possible: buffered (ring) or handed to a waiting receiver
  // (rendezvous); a closed channel completes it undelivered. False: the caller must wait.
  bool give_locked(T& value, bool& delivered, detail::WakeChain& woken) {
    if (ring_) {
      const RingStatus status = ring_->try_push([&]() noexcept { return std::move(value); });
      if (status == RingStatus::kBlocked) return false;
      delivered = status == RingStatus::kDone;
      if (delivered) settle_locked(woken);
      return true;
    }
    if (guard_->closed) return true;  // `delivered` stays false
    delivered = hand_to_receiver_locked([&]() noexcept { return std::move(value); }, woken);
    return delivered;
  }

  // Completes a receive now if possible: from the ring, or straight from a waiting sender
  // (rendezvous); a closed, drained channel completes it with nullopt.
  bool take_locked(std::optional<T>& out, detail::WakeChain& woken) {
    if (ring_) {
      const RingStatus status = ring_->try_pop(out);
      if (status == RingStatus::kBlocked) return false;
      if (status == RingStatus::kDone) settle_locked(woken);
      return true;
    }
    if (auto* sender = pop_claimed<SendNode>(guard_->senders)) {
      out.emplace(std::move(*sender->value));
      sender->delivered = true;
      finish(*sender, woken);
      return true;
    }
    return guard_->closed;
  }

  // Rendezvous: gives make() (which must not throw: the receiver is already claimed) to the
  // first waiting receiver, if any.
  template <class Make>
  bool hand_to_receiver_locked(Make&& make, detail::WakeChain& woken) noexcept {
    auto* receiver = pop_claimed<RecvNode>(guard_->receivers);
    if (receiver == nullptr) return false;
    receiver->slot->emplace(make());
    finish(*receiver, woken);
    return true;
  }

  static void finish(ChannelNode& node, detail::WakeChain& woken) noexcept {
    node.completed = true;
    woken.add(node);
  }

  // await_suspend of send/recv: completes now if the channel allows, else queues `node` and
  // returns true (suspended) — unless `arm()` (run under the lock, just before queueing) says
  // the task is already cancelled. For a buffered channel the attempt comes after queueing:
  // that retry is the waiter's half of the wait protocol.
  template <class Arm>
  bool send_or_wait(SendNode& node, Arm&& arm) {
    detail::WakeChain woken;
    {
      std::lock_guard lock(guard_->lock);
      if (!ring_ && !give_locked(*node.value, node.delivered, woken)) {
        return park_locked(guard_->senders, node, arm);
      }
      if (ring_) {
        enqueue_locked(guard_->senders, node);
        // Not give_locked directly: its settle must not find this node queued.
        guard_->senders.remove(node);
        if (!give_locked(*node.value, node.delivered, woken)) {
          return park_locked(guard_->senders, node, arm);
        }
        refresh_waiting_flags_locked();
      }
    }
    wake(woken);
    return false;
  }

  template <class Arm>
  bool recv_or_wait(RecvNode& node, Arm&& arm) {
    detail::WakeChain woken;
    {
      std::lock_guard lock(guard_->lock);
      if (!ring_ && !take_locked(*node.slot, woken)) {
        return park_locked(guard_->receivers, node, arm);
      }
      if (ring_) {
        enqueue_locked(guard_->receivers, node);
        guard_->receivers.remove(node);  // as in send_or_wait
        if (!take_locked(*node.slot, woken)) {
          return park_locked(guard_->receivers, node, arm);
        }
        refresh_waiting_flags_locked();
      }
    }
    wake(woken);
    return false;
  }

  // Queues a send or recv that must wait, unless its task is already cancelled.
  template <class Arm>
  bool park_locked(detail::WaitList& list, ChannelNode& node, Arm& arm) {
    if (!arm()) {
      node.cancelled = true;
      if (ring_) refresh_waiting_flags_locked();
      return false;
    }
    list.push_back(node);
    return true;
  }

  // A cancellation taking a waiting send or recv back (see SendAwaiter).
  std::coroutine_handle<> take_back(detail::WaitList& list, ChannelNode& node) noexcept {
    std::lock_guard lock(guard_->lock);
    if (!node.linked) return {};
    list.remove(node);
    node.cancelled = true;
    if (ring_) refresh_waiting_flags_locked();
    return node.waiter;
  }

  // An awaiter going away while still queued (its frame destroyed by shutdown).
  void leave(detail::WaitList& list, ChannelNode& node) noexcept {
    detail::leave_if_linked(guard_->lock, list, node);
  }
  void leave_locked_always(detail::WaitList& list, ChannelNode& node) noexcept {
    std::lock_guard lock(guard_->lock);
    if (node.linked) list.remove(node);
  }

  void wake(detail::WakeChain& woken) {
    woken.wake_all([this](std::coroutine_handle<> handle) {
      detail::executor_of(scheduler_).schedule(handle);
    });
  }

  Scheduler& scheduler_;
  const std::unique_ptr<detail::BoundedRing<T>> ring_;  // null: rendezvous
  // Touched only on the slow paths, apart from the flags every buffered push or pop reads:
  // kept off the ring's index lines.
  struct Guarded {
    SpinLock lock;  // protects the lists and `closed`
    detail::WaitList senders;
    detail::WaitList receivers;
    bool closed = false;
    // Buffered channels: "a list is non-empty", written under the lock, read without it.
    std::atomic<bool> senders_waiting{false};
    std::atomic<bool> receivers_waiting{false};
  };
  mutable detail::CachePadded<Guarded> guard_;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::Channel;
#endif
