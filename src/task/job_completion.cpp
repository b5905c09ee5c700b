// The rare ends of a Job (job.h; the protocol is in detail/job_promise.h): a child whose
// parent ran on without it, and a Job that reaches its end with such children still running.
#include <tiny_coro/job.h>

namespace tiny_coro::detail {
namespace {

// Every child has ended: free the frames of those that ran apart, keep the first failure
// (the Job's own wins), and end.
std::coroutine_handle<> finish_after_children(JobPromiseBase& job,
                                              std::coroutine_handle<> self) noexcept {
  std::exception_ptr child_error = job.settle_join();
  if (child_error && !job.error_) job.error_ = std::move(child_error);
  return job.end(self);
}

}  // namespace

std::coroutine_handle<> end_job_apart(JobPromiseBase& parent,
                                      std::coroutine_handle<> parent_handle) noexcept {
  // acq_rel: release our result and error to the join; if we are the last one the parent
  // waits for, acquire what it wrote before it waited (its ending_ among them).
  if (parent.balance_.fetch_sub(1, std::memory_order_acq_rel) != 1) return std::noop_coroutine();
  if (parent.ending_) return finish_after_children(parent, parent_handle);
  return parent_handle;  // parked in join(), whose await_resume frees our frame
}

std::coroutine_handle<> end_job_after_children(JobPromiseBase& job,
                                               std::coroutine_handle<> self) noexcept {
  const auto apart = static_cast<std::int64_t>(job.pending_ & ~JobPromiseBase::kChildFailed);
  if (apart != 0) {
    job.ending_ = true;
    // acq_rel: as JobJoinAwaiter::await_suspend, for the join a Job's end makes.
    if (job.balance_.fetch_add(apart, std::memory_order_acq_rel) + apart != 0) {
      return std::noop_coroutine();  // the last child ends us
    }
  }
  return finish_after_children(job, self);
}

std::exception_ptr JobPromiseBase::settle_join_rest() noexcept {
  free_children_apart();
  pending_ = 0;
  // relaxed: the children that failed reported before the balance (or on this thread).
  if (!child_failed_.load(std::memory_order_relaxed)) return nullptr;
  child_failed_.store(false, std::memory_order_relaxed);
  return std::exchange(child_error_, nullptr);
}

void rethrow_job_error(std::exception_ptr error) { std::rethrow_exception(std::move(error)); }

}  // namespace tiny_coro::detail
