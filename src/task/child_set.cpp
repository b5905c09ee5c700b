#include <tiny_coro/detail/child_set.h>

#include <tiny_coro/cancel.h>

#include <thread>

namespace tiny_coro::detail {

ChildSet::~ChildSet() {
  CancelPoint::disarm();
  const std::size_t settled = parent_waited_ ? 0 : 1;  // what pending_ is once all are done
  // acquire: pairs with the completers' decrements.
  if (pending_.load(std::memory_order_acquire) == settled) return;
  cancel_all();
  for (Link* link = head_.load(std::memory_order_acquire); link != nullptr; link = link->next_) {
    auto expected =
        reinterpret_cast<std::uintptr_t>(static_cast<ChildObserver*>(link)) | kJoinObserverTag;
    // acq_rel: as a JoinHandle's detach(). Success: the child will never call us back; its
    // JoinHandle, which outlives us, still decides who destroys the frame (so Empty, not
    // Detached). Cancelled: shutdown ended it unfinished, which tells no observer. Either
    // way it is ours to count; Completed means its completer counts it (or is about to).
    if (link->child_.join_state_.compare_exchange_strong(expected, kJoinEmpty,
                                                         std::memory_order_acq_rel) ||
        expected == kJoinCancelled) {
      // relaxed: our own bookkeeping; the wait below only needs the completers' releases.
      pending_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // The rest are completers inside child_finished() right now: wait them out.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != settled; ++spins) {
    if (spins > 64) std::this_thread::yield();
  }
}

ChildSet::Link& ChildSet::link_child(PromiseBase& child) {
  Link& link = links_.emplace_back(*this, child, links_.size());
  link.next_ = newest_;
  newest_ = &link;
  // relaxed: not yet submitted; the submitting queue push publishes it to the child's thread,
  // whose completion exchange reads it.
  child.join_state_.store(
      reinterpret_cast<std::uintptr_t>(static_cast<ChildObserver*>(&link)) | kJoinObserverTag,
      std::memory_order_relaxed);
  return link;
}

void ChildSet::unlink_child(Link& link) noexcept {
  // relaxed: the child was never submitted, so nobody else has seen the word.
  link.child_.join_state_.store(kJoinEmpty, std::memory_order_relaxed);
  newest_ = link.next_;
  links_.pop_back();
}

void ChildSet::check_submitted(Link& link) noexcept {
  // acquire: pairs with cancel_root()'s exchange. A scheduler already stopping ends the child
  // inside submit (cancel_root), which tells no observer: count it as finished here.
  if (link.child_.join_state_.load(std::memory_order_acquire) == kJoinCancelled) {
    (void)on_child_finished(link);  // the parent still holds its token: resumes nobody
  }
}

void ChildSet::publish() noexcept {
  Link* const published = head_.load(std::memory_order_relaxed);  // relaxed: ours alone
  if (newest_ == published) return;
  // seq_cst (with the load of cancelling_ below and cancel_all()'s pair): at least one side
  // sees the other's store. Release/acquire alone would allow both to miss.
  head_.store(newest_, std::memory_order_seq_cst);
  if (!cancelling_.load(std::memory_order_seq_cst)) return;
  for (Link* link = newest_; link != published; link = link->next_) {
    link->child_.own_cancel_.request();
  }
}

void ChildSet::cancel_all() noexcept {
  // seq_cst, store then load: the mirror of publish()'s pair (a publish() that misses the
  // flag has its links found here).
  cancelling_.store(true, std::memory_order_seq_cst);
  for (Link* link = head_.load(std::memory_order_seq_cst); link != nullptr; link = link->next_) {
    link->child_.own_cancel_.request();
  }
}

bool ChildSet::suspend(std::coroutine_handle<> parent, CancelState* parent_state) noexcept {
  parent_ = parent;
  parent_state_ = parent_state;
  parent_waited_ = true;
  // An already cancelled parent waits all the same, but cancels its children first.
  if (!arm(parent_state)) cancel_all();
  // acq_rel: release parent_ to the last child (pairs with its decrement); acquire: if we
  // are last, the children's outcomes are visible.
  return pending_.fetch_sub(1, std::memory_order_acq_rel) != 1;
}

std::coroutine_handle<> ChildSet::Link::child_finished(PromiseBase&) noexcept {
  return set_.on_child_finished(*this);
}

std::coroutine_handle<> ChildSet::on_child_finished(const Link& link) noexcept {
  note_outcome(link);
  // Last (after the policy ran, so its cancels are done): resume the parent by symmetric
  // transfer on this thread.
  return release_one();
}

void ChildSet::note_outcome(const Link& link) noexcept {
  const std::exception_ptr& error = link.child_.exception_;
  // kAll: no error, or cancelled by us (or by shutdown), is not a failure of its own.
  if (policy_ == Policy::kAll && (!error || is_task_cancelled(error))) return;
  // acq_rel: one claimer; the parent reads what it wrote after the pending count reaches zero.
  if (decided_.exchange(true, std::memory_order_acq_rel)) return;
  if (policy_ == Policy::kAll) {
    first_failure_ = error;
  } else {
    winner_ = link.index_;
  }
  cancel_all();
}

std::coroutine_handle<> ChildSet::release_one() noexcept {
  // acq_rel: release this child's outcome to the parent; acquire the others' if we are last.
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return {};
  return parent_;
}

// The parent was cancelled while waiting: cancel the children; the last to finish resumes it.
std::coroutine_handle<> ChildSet::cancel() noexcept {
  cancel_all();
  return {};
}

}  // namespace tiny_coro::detail
