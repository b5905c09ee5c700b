#include <tiny_coro/scheduler.h>

#include "runtime/scheduler_core.h"
#include "runtime/worker.h"

namespace tiny_coro {

Scheduler::Scheduler(std::size_t n) : Scheduler(n, &steady_now) {}

Scheduler::Scheduler(std::size_t n, NowFunction clock)
    : core_(std::make_unique<detail::SchedulerCore>(n == 0 ? 1 : n, clock)) {}

Scheduler::~Scheduler() = default;

Reactor* Scheduler::reactor() noexcept { return &core_->reactor(); }
std::size_t Scheduler::worker_count() const noexcept { return core_->worker_count(); }
RuntimeMetrics Scheduler::metrics() const { return core_->metrics(); }
std::string Scheduler::dump_tasks() { return core_->dump_tasks(); }
void Scheduler::set_blocking_pool_options(const BlockingPoolOptions& options) {
  core_->blocking_pool().set_options(options);
}
void Scheduler::shutdown() noexcept { core_->shutdown(); }
bool Scheduler::on_worker_thread() const noexcept { return core_->current_worker() != nullptr; }

void Scheduler::submit(detail::PromiseBase& promise, std::coroutine_handle<> handle) {
  core_->submit(promise, handle);
}

namespace detail {
Reactor& reactor_of(Scheduler& scheduler) noexcept { return *scheduler.reactor(); }
Executor& executor_of(Scheduler& scheduler) noexcept { return *scheduler.core_; }
BlockingPool* blocking_pool_here() noexcept {
  Worker* worker = Worker::current();
  return worker != nullptr ? &worker->core().blocking_pool() : nullptr;
}
Executor* executor_here() noexcept {
  Worker* worker = Worker::current();
  return worker != nullptr ? &worker->core() : nullptr;
}
BlockingPool& blocking_pool_of(Scheduler& scheduler) noexcept {
  return scheduler.core_->blocking_pool();
}
}  // namespace detail

bool YieldAwaiter::await_ready() const noexcept { return detail::Worker::current() == nullptr; }

void YieldAwaiter::defer(std::coroutine_handle<> current) noexcept {
  detail::Worker::current()->defer(current);
}

}  // namespace tiny_coro
