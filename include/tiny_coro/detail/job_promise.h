// The promise of a Job (job.h) and how a Job ends.
//
// A forked Job ends in one of two ways. If its parent's continuation is still the newest item
// of this worker's queue and the parent's latest fork was this one, the child takes the
// parent back: nobody else can touch the parent then, so plain stores tell it so (one child
// fewer in its pending count, and latest_child_ nulled: the fork's sign that this child took
// it back) and the child frees its own frame and jumps into the parent. Otherwise the parent
// ran on (an idle worker stole it, or this worker's loop ran it): the child's frame stays,
// suspended at its end, on the parent's list of children that ran apart, which the parent
// frees at its join; and the child counts the parent's balance down by one. The join knows
// how many children ran apart (what its pending count still holds) and adds that many to the
// balance: whichever of the join and the last such child brings it to zero resumes the
// parent. A join after forks that were all taken back pays one test of a zero.
//
// Which fork a child returns to. The latest-fork test matters because a parent's frame can
// be queued again, by a later fork, while an earlier child still runs elsewhere (the parent
// was stolen meanwhile); that earlier child must not take back the later fork's entry.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/detail/fork_queue.h>
#include <tiny_coro/detail/job_frames.h>
#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro {
template <class T>
class Job;
}  // namespace tiny_coro

namespace tiny_coro::detail {

class JobPromiseBase;

// The rare ends (task/job_completion.cpp). A forked child whose parent ran on: counts the
// parent's balance down and returns what to resume (the parent if it was the last one the
// parent waits for, else nothing).
std::coroutine_handle<> end_job_apart(JobPromiseBase& parent,
                                      std::coroutine_handle<> parent_handle) noexcept;
// A Job that reached its end with children still running apart: waits for them there (the
// implicit join), then ends.
std::coroutine_handle<> end_job_after_children(JobPromiseBase& job,
                                               std::coroutine_handle<> self) noexcept;
// A Job body's exception, or the first of its children's, as the job hands it on.
[[noreturn]] void rethrow_job_error(std::exception_ptr error);

class JobPromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocate_job_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    free_job_frame(frame, size);
  }

  // `plain_parameters`: none of the coroutine's parameters needs destroying at the end, so
  // the end may free the frame without destroy() if its size class is known. The class is
  // taken either way, so that no later promise finds this frame's.
  explicit JobPromiseBase(bool plain_parameters) noexcept : frame_class_(take_job_frame_class()) {
    if (!plain_parameters) frame_class_ = kNoJobFrameClass;
    new (&error_) std::exception_ptr();
    new (&child_error_) std::exception_ptr();
  }
  JobPromiseBase(const JobPromiseBase&) = delete;
  JobPromiseBase& operator=(const JobPromiseBase&) = delete;
  // Only a frame with children pending can hold anything to free: frames of children that
  // ran apart (destroyed before its join: its Task was destroyed at shutdown with the tree in
  // flight; those still at a fork are its awaiters'), or an exception, which a Job hands on
  // at its end and a join takes. So the common frame's destruction tests one word.
  ~JobPromiseBase() {
    if (pending_ != 0) [[unlikely]]
      release_pending();
  }

  std::suspend_always initial_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  // Forks, join() and other Jobs, nothing else (job.h, job_awaiter).
  template <class Awaitable>
  auto await_transform(Awaitable&& awaitable) noexcept;

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    [[gnu::always_inline]] std::coroutine_handle<> await_suspend(
        std::coroutine_handle<Promise> self) const noexcept {
      JobPromiseBase& job = self.promise();
      // Children that ran apart, or one that failed: the implicit join's work.
      if (job.pending_ != 0) [[unlikely]]
        return end_job_after_children(job, self);
      return job.end(self);
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  // --- the child's side: where its end goes ---
  // Written by the call or the fork that starts the Job (a Job is lazy and nothing else
  // starts it) before anything reads them, so not here: every frame would pay twice.
  // The caller, or the parent: a handle's address, as a std::coroutine_handle member would
  // be zeroed by its constructor.
  void* resume_to_;
  JobPromiseBase* fork_parent_;    // forked: the parent's promise; called: null
  std::exception_ptr* error_out_;  // called: where the caller finds an exception
  const CancelState* cancel_;      // the tree's (the Task's that runs it); never null

  // --- the parent's side ---
  // The fields every frame zeroes sit together, so that a few wide stores do it.
  //
  // Children forked since the last join that have not taken us back (so: that run or ran
  // apart), plus kChildFailed once one that took us back had failed. Ours alone: a child
  // writes it only while it holds us, taken out of the queue. So a Job whose children all
  // took it back joins and ends on one test of a zero.
  static constexpr std::uint64_t kChildFailed = std::uint64_t{1} << 63;
  std::uint64_t pending_ = 0;
  // Children that ran apart count it down; the join adds how many there are. acq_rel on
  // both sides: their results and errors reach the join.
  std::atomic<std::int64_t> balance_{0};
  JobPromiseBase* children_apart_ = nullptr;  // frames the join frees (linked below)
  // Escaped from the body (or a child's, at the end). In a union, and so destroyed by hand
  // (release_pending), as child_error_: it is empty by the time a frame with nothing
  // pending is destroyed.
  union {
    std::exception_ptr error_;
  };
  // The first child's exception: claimed by an exchange (children elsewhere race), read at
  // the join after the balance synchronised with every child that ran apart.
  union {
    std::exception_ptr child_error_;
  };
  std::atomic<bool> child_failed_{false};
  // Set before the balance publishes us to the last child that ran apart (by the join or
  // the end that waits), so never read unset: waiting at our end, not in join().
  bool ending_;
  // The frame's size class if the end may free it without destroy() (above); else
  // kNoJobFrameClass.
  std::uint8_t frame_class_;
  // The child of our latest fork (see above). Written by us before the fork publishes us,
  // and nulled by that child when it takes us back (which is how the fork learns it); read
  // only after a fork, so never unset. Accessed through std::atomic_ref (latest_child()),
  // as a std::atomic would zero it in every frame. relaxed: a child elsewhere may read a
  // stale value, and then fails to find us in its queue anyway.
  JobPromiseBase* latest_child_;
  JobPromiseBase* next_apart_;  // our link in our parent's list: set when linked

  std::atomic_ref<JobPromiseBase*> latest_child() noexcept {
    return std::atomic_ref<JobPromiseBase*>(latest_child_);
  }

  void report_child_error(std::exception_ptr error) noexcept {
    // relaxed: the balance (or the same thread) carries the write below to the join.
    if (!child_failed_.exchange(true, std::memory_order_relaxed)) child_error_ = std::move(error);
  }

  // The join's bookkeeping once every child has ended: frees the frames of the children
  // that ran apart, starts counting afresh, and returns the first child's exception, if any.
  [[gnu::always_inline]] std::exception_ptr settle_join() noexcept {
    if (pending_ == 0) [[likely]]
      return nullptr;
    return settle_join_rest();
  }

  // Ends this Job (its children have all ended): hands its outcome on and returns what to
  // resume next.
  [[gnu::always_inline]] std::coroutine_handle<> end(std::coroutine_handle<> self) noexcept {
    JobPromiseBase* const parent = fork_parent_;
    const auto resume_to = std::coroutine_handle<>::from_address(resume_to_);
    if (parent == nullptr) {  // called
      if (error_) [[unlikely]]
        *error_out_ = std::move(error_);
      free_ended(self);
      return resume_to;
    }
    const bool failed = static_cast<bool>(error_);
    if (failed) [[unlikely]]
      parent->report_child_error(std::move(error_));
    if (takes_back(*parent, resume_to.address())) [[likely]] {
      // relaxed: the parent reads it on this thread, after we resume it.
      parent->latest_child().store(nullptr, std::memory_order_relaxed);
      --parent->pending_;
      if (failed) [[unlikely]]
        parent->pending_ |= kChildFailed;
      free_ended(self);
      return resume_to;
    }
    return end_job_apart(*parent, resume_to);
  }

 private:
  // At the end (nothing pending, the exception handed on): a frame whose promise and
  // parameters need no destructor goes straight back to this thread's list, which saves
  // destroy()'s indirect call. The compiler cannot free it so itself: its final suspend
  // must suspend to hand control to the parent.
  [[gnu::always_inline]] void free_ended(std::coroutine_handle<> self) noexcept {
    if (frame_class_ != kNoJobFrameClass) [[likely]] {
      free_job_frame_of_class(self.address(), frame_class_);
      return;
    }
    self.destroy();
  }

  // Also true off the workers, where the fork queued nothing and the child ran as a call. A
  // tree never moves between the two: only workers steal, and a Job awaits nothing that
  // resumes it elsewhere, so a child ends off the workers exactly when it was forked there.
  bool takes_back(JobPromiseBase& parent, void* parent_frame) noexcept {
    ForkQueue& local = tl_fork_queue;
    if (local.queue == nullptr) return true;
    // relaxed: see latest_child_.
    if (parent.latest_child().load(std::memory_order_relaxed) != this) return false;
    if (--local.takes_until_turn == 0) {
      local.takes_until_turn = ForkQueue::kTakesPerTurn;  // the loop's turn, as for fork()
      return false;
    }
    return local.queue->pop_if_newest(parent_frame);
  }

  std::exception_ptr settle_join_rest() noexcept;  // task/job_completion.cpp

  [[gnu::noinline]] void release_pending() noexcept {
    free_children_apart();
    error_.~exception_ptr();
    child_error_.~exception_ptr();
  }

  void free_children_apart() noexcept {
    while (JobPromiseBase* child = children_apart_) {
      children_apart_ = child->next_apart_;
      std::coroutine_handle<JobPromiseBase>::from_promise(*child).destroy();
    }
  }
};

template <class T>
class JobPromise : public JobPromiseBase {
  // A frame is found from its promise (free_children_apart) as the compilers lay it out:
  // the promise two pointers in, which holds while it asks for no more than 16-byte alignment.
  static_assert(alignof(T) <= 2 * sizeof(void*),
                "tiny_coro: a Job's result may not be over-aligned (frames are 16-byte aligned)");
  // A result is assigned into a slot that already holds a T: the parent's variable, or the
  // caller's awaiter.
  static_assert(std::is_default_constructible_v<T> && std::is_move_assignable_v<T>,
                "tiny_coro: a Job's result must be default-constructible and move-assignable");

 public:
  template <class... Parameters>
  explicit JobPromise(const Parameters&...) noexcept
      : JobPromiseBase((std::is_trivially_destructible_v<Parameters> && ...)) {}

  tiny_coro::Job<T> get_return_object() noexcept;

  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { *slot_ = std::forward<U>(value); }

  // Where the result goes: the forking parent's variable, or the calling awaiter's. Set by
  // the fork or the call that starts the Job.
  T* slot_;
};

template <>
class JobPromise<void> : public JobPromiseBase {
 public:
  template <class... Parameters>
  explicit JobPromise(const Parameters&...) noexcept
      : JobPromiseBase((std::is_trivially_destructible_v<Parameters> && ...)) {}

  tiny_coro::Job<void> get_return_object() noexcept;
  void return_void() const noexcept {}
};

// What a tree run by a coroutine without a cancellation state obeys: nobody requests it.
inline constinit const CancelState never_cancelled;

// The cancellation a Job started by `awaiting` obeys: a Job's tree's, or a Task's own.
template <class Promise>
const CancelState* job_cancel_of(std::coroutine_handle<Promise> awaiting) noexcept {
  if constexpr (std::is_base_of_v<JobPromiseBase, Promise>) {
    return awaiting.promise().cancel_;
  } else {
    const CancelState* const state = cancel_state_of(awaiting);
    return state != nullptr ? state : &never_cancelled;
  }
}

}  // namespace tiny_coro::detail
