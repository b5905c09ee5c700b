#include "task/task_slots.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tiny_coro::detail {
namespace {

// Only the registry fields matter here; no frame is ever run.
struct RecordedTask : PromiseBase {};

std::vector<PromiseBase*> sorted(std::vector<PromiseBase*> tasks) {
  std::sort(tasks.begin(), tasks.end());
  return tasks;
}

// trim() gives back only the chunks at the end that hold no task: every task still running
// stays recorded, whichever chunk it sits in, and the table keeps working afterwards.
TEST(TaskSlots, TrimKeepsEveryTaskStillRecordedAndTheTableUsable) {
  constexpr std::size_t kTasks = 5000;  // several chunks of 1024
  std::vector<RecordedTask> tasks(kTasks);
  TaskSlots slots;
  for (auto& task : tasks) slots.add(task);
  std::vector<PromiseBase*> running;
  for (std::size_t i = 0; i < kTasks; ++i) {
    // Keep a few early ones and one near the end; the rest finish.
    if (i % 700 == 3 || i == kTasks - 10) {
      running.push_back(&tasks[i]);
    } else {
      TaskSlots::remove(tasks[i]);
    }
  }
  slots.trim();
  std::vector<RecordedTask> later(2000);  // reuses what is left, grows again
  for (auto& task : later) {
    slots.add(task);
    running.push_back(&task);
  }
  EXPECT_EQ(sorted(slots.take_all()), sorted(running));
}

TEST(TaskSlots, TrimOfATableWhoseTasksAllFinishedLeavesItEmptyAndUsable) {
  std::vector<RecordedTask> tasks(3000);
  TaskSlots slots;
  for (auto& task : tasks) slots.add(task);
  for (auto& task : tasks) TaskSlots::remove(task);
  slots.trim();
  EXPECT_TRUE(slots.take_all().empty());
  RecordedTask again;
  slots.add(again);
  EXPECT_EQ(slots.take_all(), std::vector<PromiseBase*>{&again});
}

// The cursor hands out the slots that finished tasks cleared, in among the busy ones, and the
// table grows when too few are free: every task is recorded exactly once either way.
TEST(TaskSlots, ReusesClearedSlotsAmongBusyOnesAndRecordsEveryTaskOnce) {
  std::vector<RecordedTask> first(3000);
  std::vector<RecordedTask> second(5000);
  TaskSlots slots;
  std::vector<PromiseBase*> running;
  for (auto& task : first) slots.add(task);
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (i % 2 == 1) {
      TaskSlots::remove(first[i]);
    } else {
      running.push_back(&first[i]);
    }
  }
  for (auto& task : second) {
    slots.add(task);
    running.push_back(&task);
  }
  EXPECT_EQ(sorted(slots.take_all()), sorted(running));
}

}  // namespace
}  // namespace tiny_coro::detail
