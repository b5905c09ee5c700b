// The rare ends of taking a Task's result, kept out of line so that the common one (a value)
// inlines into every co_await without dragging exception handling along.
#include <stdexcept>

#include <tiny_coro/detail/promise_base.h>

namespace tiny_coro::detail {

void PromiseBase::rethrow_result() const { std::rethrow_exception(exception_); }

void throw_empty_task_awaited() { throw std::logic_error("co_await on an empty tiny_coro::Task"); }

}  // namespace tiny_coro::detail
