#include <tiny_coro/detail/child_set.h>

#include <tiny_coro/cancel.h>

#include <chrono>
#include <cstdint>
#include <new>
#include <thread>
#include <type_traits>
#include <utility>

namespace tiny_coro::detail {

constinit thread_local PromiseBase* nested_child = nullptr;

ChildSet::~ChildSet() {
  CancelPoint::disarm();
  // What pending_ is once all are done: the parent's token and the children counted inline
  // are still on it if the parent never waited.
  const std::size_t settled = parent_waited_ ? 0 : 1 + ended_inline_;
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

ChildSet::LinkStore::~LinkStore() {
  static_assert(std::is_trivially_destructible_v<Link>, "links are dropped with their blocks");
  PageAllocator<Link> allocator;
  if (first_.links != nullptr) allocator.deallocate(first_.links, first_.capacity);
  for (const Block& block : more_) allocator.deallocate(block.links, block.capacity);
}

void ChildSet::LinkStore::reserve(std::size_t links) {
  if (first_.links != nullptr || links == 0) return;
  first_ = {PageAllocator<Link>().allocate(links), links};
  free_ = first_.links;
  block_end_ = free_ + links;
}

void ChildSet::LinkStore::add_block() {
  if (first_.links == nullptr) {
    // A small first block: most groups have a few children.
    reserve(kFirstBlock);
    return;
  }
  // First: the push_back below must not throw once the block is allocated.
  if (more_.size() == more_.capacity()) more_.reserve(2 * more_.size() + 1);
  more_.push_back({PageAllocator<Link>().allocate(kBlock), kBlock});
  free_ = more_.back().links;
  block_end_ = free_ + kBlock;
}

ChildSet::Link* ChildSet::LinkStore::slot(std::size_t index) noexcept {
  if (index < first_.capacity) return first_.links + index;
  index -= first_.capacity;
  return more_[index / kBlock].links + index % kBlock;
}

ChildSet::Link& ChildSet::link_child(PromiseBase& child) {
  Link& link = links_.emplace_back(*this, child);
  link.next_ = newest_;
  newest_ = &link;
  // relaxed: not yet submitted; the submitting queue push publishes it to the child's thread,
  // whose completion exchange reads it.
  child.join_state_.store(
      reinterpret_cast<std::uintptr_t>(static_cast<ChildObserver*>(&link)) | kJoinObserverTag,
      std::memory_order_relaxed);
  return link;
}

namespace {
// Children that run here this long on average before they first suspend or end are worth a
// steal each, which costs about a microsecond between two workers (most of it the frame
// crossing cores); a stretch this long is worth one at once.
constexpr std::int64_t kWorthQueuingNs = 1000;
constexpr std::int64_t kClearlyLongNs = 100'000;
// Averages before this child pay for a new worker's first spawns (its task table's first
// chunk, cold caches) and for page faults, which must not send a burst of tiny children
// down the queue.
constexpr std::size_t kFirstAveraged = 16;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// After which children the parent reads the clock, each read ending the stretch since the
// one before: children 1, 4, 16 and 32, so that long ones are found early, then one in 64,
// so that the clock costs well under a nanosecond a child. Never after the last child:
// nothing is left to decide. A read is a few tens of nanoseconds, as much as a short child,
// so a scope of a few children reads it once or twice.
bool ends_stretch(std::size_t index, std::size_t children) noexcept {
  if (index + 1 >= children) return false;
  return index == 1 || index == 4 || index == 16 || index == 32 || (index % 64 == 0 && index != 0);
}
}  // namespace

bool ChildSet::start_child(Executor& executor, PromiseBase& child, std::coroutine_handle<> handle,
                           std::size_t index) {
  using Start = Executor::ChildStart;
  const Start how = queue_the_rest_ ? Start::kQueued
                    : index == 0    ? Start::kFirstOfScope
                                    : Start::kHere;
  // The first stretch starts with child 1 (child 0 is often queued: Executor::start_child).
  if (index == 1 && ends_stretch(1, expected_)) stretch_began_ns_ = now_ns();
  PromiseBase* const outer_child = std::exchange(nested_child, &child);
  bool ran = false;
  try {
    ran = executor.start_child(child, handle, how);
  } catch (...) {
    nested_child = outer_child;
    throw;
  }
  // complete_root() cleared it: the child ended before its start returned.
  const bool ended_here = ran && nested_child == nullptr;
  nested_child = outer_child;
  if (ended_here) {
    // Counted on this thread; suspend() folds the count into pending_.
    ++ended_inline_;
    if (policy_ == Policy::kAny || child.exception_) note_outcome(links_[index]);
  }
  if (!queue_the_rest_ && ends_stretch(index, expected_)) end_stretch(index);
  return ran;
}

void ChildSet::end_stretch(std::size_t index) noexcept {
  // One stretch longer than the machine's hiccups last decides at once; short of that, two
  // in a row whose children took long on average.
  const std::int64_t now = now_ns();
  const std::int64_t took = now - stretch_began_ns_;
  const auto children = static_cast<std::int64_t>(index - stretch_began_after_);
  const bool slow_on_average = index >= kFirstAveraged && took >= kWorthQueuingNs * children;
  queue_the_rest_ = (slow_on_average && last_stretch_slow_) || took >= kClearlyLongNs;
  last_stretch_slow_ = slow_on_average;
  stretch_began_ns_ = now;
  stretch_began_after_ = index;
}

void ChildSet::abandon(std::size_t first_unstarted) noexcept {
  abandoned_any_ = true;
  for (std::size_t i = first_unstarted; i < links_.size(); ++i) {
    // relaxed: never submitted, so no other thread reads the word.
    links_[i].child_.join_state_.store(kJoinEmpty, std::memory_order_relaxed);
  }
  unexpect(links_.size() - first_unstarted);
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
  // The token and the children that ended inline, at once. acq_rel: release parent_ to the
  // last child (pairs with its decrement); acquire: if we are last, the children's outcomes
  // are visible.
  const std::size_t mine = 1 + std::exchange(ended_inline_, 0);
  return pending_.fetch_sub(mine, std::memory_order_acq_rel) != mine;
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
