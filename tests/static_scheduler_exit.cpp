// A Scheduler with static storage duration: its workers are still running while the process
// tears down other statics, so nothing they use (EBR, the frame depot) may be destroyed
// before it. Run under ASan, this catches use-after-free and leaks at exit.
#include <tiny_coro/scheduler.h>

#include <cstdio>
#include <vector>

namespace {

tiny_coro::Scheduler sched(2);

tiny_coro::Task<long> fan_out(int depth) {
  if (depth == 0) co_return 1;
  // Enough children to make the StealQueue grow and retire buffers through EBR.
  std::vector<tiny_coro::JoinHandle<long>> children;
  for (int i = 0; i < 300; ++i) children.push_back(sched.spawn(fan_out(depth - 1)));
  long sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

}  // namespace

int main() {
  const long leaves = sched.block_on(fan_out(2));
  std::printf("leaves %ld\n", leaves);
  return leaves == 300 * 300 ? 0 : 1;
}
