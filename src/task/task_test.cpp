#include <tiny_coro/task.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "support/lifetime_probe.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

using test::LifetimeProbe;

// Runs a task that never suspends on anything external to completion, on this thread.
template <class T>
T run_inline(Task<T>& task) {
  task.handle().resume();
  EXPECT_TRUE(task.done());
  return task.handle().promise().take_result();
}

Task<int> answer() { co_return 42; }

Task<int> add_one(Task<int> inner) { co_return co_await inner + 1; }

Task<std::string> fail() {
  throw std::runtime_error("boom");
  co_return "unreachable";
}

Task<std::string> catch_it() {
  try {
    co_return co_await fail();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
}

Task<long> nested(long depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

Task<void> hold_probe(LifetimeProbe) { co_return; }

// PromiseBase::frame() computes the frame's address from the promise's instead of keeping it;
// this holds it to what the compiler says, for results of every alignment a Task allows.
struct alignas(16) SixteenAligned {
  long double value;
};
Task<int> returns_int() { co_return 1; }
Task<void> returns_nothing() { co_return; }
Task<SixteenAligned> returns_aligned() { co_return SixteenAligned{2.0L}; }
Task<char> returns_char() { co_return 'x'; }

template <class T>
void expect_frame_found_from_promise(const Task<T>& task) {
  const auto handle = task.handle();
  EXPECT_EQ(handle.promise().frame(), handle.address());
}

TEST(Task, TheFrameIsFoundFromThePromise) {
  expect_frame_found_from_promise(returns_int());
  expect_frame_found_from_promise(returns_nothing());
  expect_frame_found_from_promise(returns_aligned());
  expect_frame_found_from_promise(returns_char());
}

TEST(Task, IsLazyUntilResumed) {
  Task<int> task = answer();
  EXPECT_FALSE(task.done());
  EXPECT_EQ(run_inline(task), 42);
}

TEST(Task, AwaitingDeliversTheValue) {
  Task<int> task = add_one(answer());
  EXPECT_EQ(run_inline(task), 43);
}

TEST(Task, AnExceptionTravelsThroughCoAwait) {
  Task<std::string> task = catch_it();
  EXPECT_EQ(run_inline(task), "caught boom");
  Task<std::string> raw = fail();
  EXPECT_THROW(run_inline(raw), std::runtime_error);
}

TEST(Task, AMillionNestedAwaitsDoNotOverflowTheStack) {
  if (!test::deep_symmetric_transfer_supported()) {
    GTEST_SKIP() << "this compiler/mode does not emit symmetric transfer as a tail call";
  }
  Task<long> task = nested(1'000'000);
  EXPECT_EQ(run_inline(task), 1'000'000);
}

TEST(Task, DestroyingAnUnstartedTaskFreesItsFrame) {
  const long before = LifetimeProbe::live();
  {
    Task<void> task = hold_probe(LifetimeProbe{});
    EXPECT_EQ(LifetimeProbe::live(), before + 1);  // the parameter copy lives in the frame
  }
  EXPECT_EQ(LifetimeProbe::live(), before);
}

TEST(Task, DetachAndFromAddressHandTheFrameOver) {
  const long before = LifetimeProbe::live();
  Task<void> task = hold_probe(LifetimeProbe{});
  void* raw = task.detach();
  EXPECT_FALSE(task.valid());
  EXPECT_EQ(LifetimeProbe::live(), before + 1);  // detach does not free
  {
    Task<void> adopted = Task<void>::from_address(raw);
    run_inline(adopted);
  }
  EXPECT_EQ(LifetimeProbe::live(), before);
}

TEST(Task, MoveOnlyResultsAreMovedOut) {
  auto make = []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  Task<std::unique_ptr<int>> task = make();
  std::unique_ptr<int> value = run_inline(task);
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, 7);
}

}  // namespace
}  // namespace tiny_coro
