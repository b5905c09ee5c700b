// ChildSet: the children of a structured scope (when_all, when_any, TaskGroup) and the one
// wait for all of them to finish.
//
// Each child is a spawned root task whose join word names this set as its observer
// (promise_base.h), so its completion calls child_finished() on the completing thread —
// no extra task, no queue hop; a child that ends while the parent starts it is taken by
// the parent itself instead (start_child). `pending_` counts unfinished children plus one token
// held by the parent until it waits; whoever takes the count to zero resumes the parent.
//
// The parent's wait is a cancellation point that never ends early: a cancel of the parent
// cancels every child and the parent resumes only when the last has finished, so no child
// outlives the scope. A child's outcome may also cancel its siblings (the first failure of
// a when_all or a group, the winner of a when_any); the policy decides.
//
// Children are linked into a list that only grows while the set lives; cancel_all() walks it
// without a lock, so a cancel from any thread may race the parent adding children.
// publish() and cancel_all() are a store-then-load pair each (seq_cst), so either the cancel
// finds the new links or publish() finds the cancel.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <vector>

#include <stdexcept>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/executor.h>
#include <tiny_coro/detail/page_allocator.h>
#include <tiny_coro/detail/promise_base.h>
#include <tiny_coro/join_handle.h>
#include <tiny_coro/task.h>

namespace tiny_coro::detail {

// Scheduler::spawn for a combinator, which knows only the executor of the task awaiting it.
template <class T>
JoinHandle<T> spawn_on(Executor& executor, Task<T> task) {
  auto handle = task.handle();
  if (!handle) throw std::invalid_argument("tiny_coro: an empty Task given to a combinator");
  // As Scheduler::spawn: a throwing submit leaves the frame to `task`.
  executor.submit(handle.promise(), handle);
  (void)task.detach();
  return JoinHandle<T>(handle);
}

// Asks for the first two lines of a child's frame (its join word and cancel state, then the
// rest of its promise) ahead of use. A scope over many children visits each frame long after
// the last visit, so without this each visit waits for memory.
inline void prefetch_frame(void* frame) noexcept {
  __builtin_prefetch(frame, 1);
  __builtin_prefetch(static_cast<char*>(frame) + 64, 1);
}

class ChildSet final : private CancelPoint {
 public:
  enum class Policy : std::uint8_t {
    kAll,  // the first failure cancels the rest (when_all, TaskGroup)
    kAny,  // the first to finish, however, cancels the rest (when_any)
  };

  explicit ChildSet(Policy policy) noexcept
      : CancelPoint(&CancelPoint::cancel_of<ChildSet>), policy_(policy) {}
  ChildSet(const ChildSet&) = delete;
  ChildSet& operator=(const ChildSet&) = delete;
  // Normally every child has finished by now. If not (a TaskGroup dropped unjoined, or the
  // parent's frame destroyed by shutdown), the children are cancelled and unhooked from this
  // set, and run on detached.
  ~ChildSet();

  // Spawning children, only ever by the parent: expect(n) once, then spawn() each, then
  // publish() once. A child's join word names this set before the child is submitted, so it
  // cannot have finished first and the word needs no read-modify-write; the count is raised
  // once for the batch and the batch made visible to cancel_all() once. What a child costs
  // the parent is its link and its submission.
  void expect(std::size_t children) noexcept {
    expected_ += children;
    // relaxed: the count is decided by the acq_rel decrements; this increment precedes them,
    // published to each child's thread by the queue push that submits it.
    pending_.fetch_add(children, std::memory_order_relaxed);
  }
  // The children expected but never spawned (a spawn threw).
  void unexpect(std::size_t children) noexcept {
    // relaxed: as expect(); the parent's token keeps the count above zero meanwhile.
    pending_.fetch_sub(children, std::memory_order_relaxed);
  }
  // Spawns `task` on `executor` as a child; its JoinHandle, kept by the caller, keeps the
  // frame alive for as long as this set may look at it. Throws what submit throws (the task
  // is then not spawned, and unexpect(1) is the caller's).
  template <class T>
  JoinHandle<T> spawn(Executor& executor, Task<T> task) {
    if (!task.handle()) return spawn_on(executor, std::move(task));  // throws: empty task
    Link& link = link_child(task.handle().promise());
    try {
      JoinHandle<T> handle = spawn_on(executor, std::move(task));
      check_submitted(link);
      return handle;
    } catch (...) {
      unlink_child(link);
      throw;
    }
  }
  // The combinators' way (when.h), child-first: link() a batch of children, publish() it,
  // then start() each in order. A child runs here at once, until it first suspends or ends,
  // while the children started so far did that within about a microsecond each: a burst of
  // them then costs no queue round trip, steal or wake-up. Once two stretches of children in
  // a row took longer on average (or one stretch much longer), the rest are queued as
  // spawn() queues tasks, so that idle workers run them side by side. The first child is queued too
  // if this worker's queue is empty, so that an idle worker can run it beside the second
  // (Executor::start_child). A child that ends while running here is counted without a locked
  // operation; the parent folds the count in when it waits. `task` keeps its frame until start()
  // returns; on a throw, the caller calls abandon().
  void reserve_links(std::size_t children) { links_.reserve(children); }
  void link(PromiseBase& child) { (void)link_child(child); }
  std::size_t linked() const noexcept { return links_.size(); }
  // Whether cancel_all() has been called (any thread; a hint to stop starting children).
  bool cancelling() const noexcept {
    return cancelling_.load(std::memory_order_relaxed);  // relaxed: publish() decides, not this
  }
  // After the wait: false if some children were abandoned (never ran).
  bool all_started() const noexcept { return !abandoned_any_; }
  // `index`: the child's place in link() order.
  template <class T>
  JoinHandle<T> start(Executor& executor, Task<T>& task, std::size_t index) {
    auto handle = task.handle();
    if (!start_child(executor, handle.promise(), handle, index)) check_submitted(links_[index]);
    (void)task.detach();
    return JoinHandle<T>(handle);
  }
  // Gives up on the children linked but not started (from the index of the first of them)
  // and any not linked yet: they never run, and count as never expected. Their frames stay
  // with their Tasks, which must outlive this set's wait: a cancel_all() may still reach
  // them through their links.
  void abandon(std::size_t first_unstarted) noexcept;

  // Makes the children spawned since the last publish() visible to cancel_all(), and
  // cancels them if a cancel_all() has come meanwhile.
  void publish() noexcept;

  // Requests cancellation of every child published so far and of every one published later.
  // Any thread; idempotent.
  void cancel_all() noexcept;

  // The parent's wait, as an awaiter's pieces: false if every child has already finished.
  bool suspend(std::coroutine_handle<> parent, CancelState* parent_state) noexcept;
  void finish_wait() noexcept { CancelPoint::disarm(); }
  // Whether the parent was cancelled (so the scope ends with TaskCancelled).
  bool parent_cancelled() const noexcept {
    return parent_state_ != nullptr && parent_state_->requested();
  }

  // After the wait. kAll: the first exception of a child that was not just cancelled by us.
  const std::exception_ptr& first_failure() const noexcept { return first_failure_; }
  // kAny: the index (order of spawn()) of the first child to finish.
  std::size_t winner() const noexcept { return winner_; }

 private:
  // One child: the observer its join word names, so its completion finds its index at once.
  class Link final : public ChildObserver {
   public:
    Link(ChildSet& set, PromiseBase& child, std::size_t index) noexcept
        : set_(set), child_(child), index_(index) {}
    std::coroutine_handle<> child_finished(PromiseBase& child) noexcept override;

    ChildSet& set_;
    PromiseBase& child_;
    const std::size_t index_;
    Link* next_ = nullptr;
  };

  // The links, where they never move while the set lives (cancel_all() and the children's
  // join words point at them). A combinator knows its child count and reserves one block
  // for all: a million links are then one array, off the heap that the children's frames
  // come from, rather than scattered among them. A TaskGroup grows by a block of
  // kFirstBlock, then blocks of kBlock. Blocks come from PageAllocator, so a burst's big
  // block is kept for the next burst and given back when the scheduler idles.
  class LinkStore {
   public:
    LinkStore() = default;
    LinkStore(const LinkStore&) = delete;
    LinkStore& operator=(const LinkStore&) = delete;
    ~LinkStore();
    // Before the first link: room for `links` in one block.
    void reserve(std::size_t links);
    // Inline: once per child, a bump within the current block.
    Link& emplace_back(ChildSet& set, PromiseBase& child) {
      if (free_ == block_end_) add_block();
      Link* link = ::new (static_cast<void*>(free_)) Link(set, child, size_);
      ++free_;
      ++size_;
      return *link;
    }
    // Only right after emplace_back(), so the link is in the current block.
    void pop_back() noexcept {
      --free_;
      --size_;
    }
    std::size_t size() const noexcept { return size_; }
    Link& operator[](std::size_t index) noexcept { return *slot(index); }

   private:
    void add_block();
    // Where link `index` lives (constructed or not); its block must exist.
    Link* slot(std::size_t index) noexcept;
    static constexpr std::size_t kFirstBlock = 16;
    static constexpr std::size_t kBlock = 256;
    struct Block {
      Link* links = nullptr;
      std::size_t capacity = 0;
    };
    Block first_;              // a combinator's only block; a TaskGroup's first
    std::vector<Block> more_;  // a TaskGroup's blocks after the first
    std::size_t size_ = 0;
    Link* free_ = nullptr;       // where the next link goes, in the last block
    Link* block_end_ = nullptr;  // the end of the last block
  };

  Link& link_child(PromiseBase& child);
  // Executor::start_child for the child at `index`, named meanwhile as the nested child
  // (promise_base.h); times the children run here in stretches (queue_the_rest_).
  bool start_child(Executor& executor, PromiseBase& child, std::coroutine_handle<> handle,
                   std::size_t index);
  // After child `index`: reads the clock and decides from the stretch it ends.
  void end_stretch(std::size_t index) noexcept;
  void unlink_child(Link& link) noexcept;
  void check_submitted(Link& link) noexcept;
  std::coroutine_handle<> on_child_finished(const Link& link) noexcept;
  friend class CancelPoint;  // calls cancel() through cancel_of
  std::coroutine_handle<> cancel() noexcept;
  // One child's outcome, applied to the policy (never resumes anything).
  void note_outcome(const Link& link) noexcept;
  // Drops one unit of `pending_`; the parent's handle if that was the last.
  std::coroutine_handle<> release_one() noexcept;

  // Three groups, a cache line apart, because children finishing on other workers and a
  // parent starting children here at the same time would otherwise share lines: what the
  // completers read, the count they all decrement, and what the parent writes per child.
  Policy policy_;
  std::atomic<Link*> head_{nullptr};
  std::atomic<bool> cancelling_{false};
  std::atomic<bool> decided_{false};  // the first failure or the winner is claimed
  std::coroutine_handle<> parent_;
  CancelState* parent_state_ = nullptr;
  std::exception_ptr first_failure_;
  std::size_t winner_ = 0;
  char cache_line_gap_before_pending_[64];
  std::atomic<std::size_t> pending_{1};
  char cache_line_gap_after_pending_[56];
  // Only the parent appends (links never move); others reach them through head_.
  LinkStore links_;
  Link* newest_ = nullptr;  // the parent's: the last link made, published or not
  // Children that ended while the parent ran them here (start_child), not yet taken off
  // pending_: the parent's thread alone counts them, and suspend() folds them in.
  std::size_t ended_inline_ = 0;
  std::size_t expected_ = 0;  // children expected so far (expect())
  // The timing of the children run here (start_child, end_stretch): the stretch of children
  // since the last clock read, and whether the one before it was slow.
  std::int64_t stretch_began_ns_ = 0;
  std::size_t stretch_began_after_ = 0;  // the stretch holds the children after this one
  bool last_stretch_slow_ = false;
  bool queue_the_rest_ = false;  // children run here took long: queue the ones after them
  bool abandoned_any_ = false;
  bool parent_waited_ = false;  // the parent gave up its token in suspend()
};

// `co_await ChildSetWait{set}`: the parent's wait for every child of `set`.
struct [[nodiscard]] ChildSetWait {
  ChildSet& set;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> parent) noexcept {
    return set.suspend(parent, cancel_state_of(parent));
  }
  void await_resume() const noexcept { set.finish_wait(); }
};

// `co_await current_executor()`: where the awaiting task runs (never suspends). Throws if it
// runs on no Scheduler (a Task resumed by hand).
struct [[nodiscard]] CurrentExecutor {
  Executor* executor = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
    const CancelState* state = cancel_state_of(awaiting);
    executor = state != nullptr ? state->executor() : nullptr;
    return false;
  }
  Executor& await_resume() const {
    if (executor == nullptr) {
      throw std::logic_error("tiny_coro: a combinator must be awaited by a task on a Scheduler");
    }
    return *executor;
  }
};
inline CurrentExecutor current_executor() noexcept { return {}; }

}  // namespace tiny_coro::detail
