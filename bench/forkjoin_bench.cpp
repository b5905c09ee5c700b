// The fork-join workloads of the public tzcnt/runtime-benchmarks suite, written against
// tiny_coro's public API, so that bench/run_forkjoin.sh can run them beside the suite's own
// builds of libfork, TooManyCooks and citor (../shared/bench-peers/cpp-runtimes):
//   forkjoin_bench skynet THREADS      10-ary tree of depth 8: 10^8 leaves, each forked
//   forkjoin_bench fib N THREADS       fork fib(n-1), await fib(n-2) inline, join
//   forkjoin_bench nqueens THREADS     N = 14: one fork per legal placement, joined per row
//   forkjoin_bench WORKLOAD-job ...    the same three as Jobs (job.h): each child writes its
//                                      result into its parent's frame, one join per frame
//   forkjoin_bench WORKLOAD-spawn ...  the same three with spawn() and JoinHandle instead of
//                                      fork(): each child a task of its own (child stealing)
//   forkjoin_bench WORKLOAD-serial [N]  the same tree on one worker with every child a Task
//                                      awaited in place (no spawn, no join, no stealing):
//                                      what g++'s coroutine frames and the nodes' own work
//                                      cost, so half of it bounds any two-worker run of a
//                                      runtime with a frame per task built by this compiler
//   forkjoin_bench WORKLOAD-bare [N]   the serial tree with a bare coroutine type (below):
//                                      what g++'s coroutines cost without tiny_coro's Task
// Same sizes and result checks as the suite; like its programs, each runs the workload once
// untimed (warm-up), then once timed, and prints the same YAML lines ("duration: N us",
// "max_rss: N KiB") so that one parser reads every program of the comparison.
#include <tiny_coro/scheduler.h>

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cinttypes>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>

namespace {

using tiny_coro::ForkHandle;
using tiny_coro::Job;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;

// The least a g++ coroutine costs: a task type with nothing but a continuation and a value,
// frames from a thread-local free list, no scheduler. `WORKLOAD-bare` runs the serial tree
// with it, to show how much of the floor is the compiler's and how much tiny_coro's Task.
template <class T>
class BareTask {
 public:
  struct promise_type {
    // One free list per thread, for the first frame size freed: each bare tree is one
    // coroutine function, so every frame of a run has that size.
    static void* operator new(std::size_t size) {
      if (size == cached_size && free_frames != nullptr) {
        void* frame = free_frames;
        free_frames = *static_cast<void**>(frame);
        return frame;
      }
      return ::operator new(size);
    }
    static void operator delete(void* frame, std::size_t size) noexcept {
      if (cached_size == 0) cached_size = size;
      if (size != cached_size) {
        ::operator delete(frame);
        return;
      }
      *static_cast<void**>(frame) = free_frames;
      free_frames = frame;
    }
    static inline thread_local void* free_frames = nullptr;
    static inline thread_local std::size_t cached_size = 0;

    BareTask get_return_object() noexcept {
      return BareTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        return self.promise().continuation;
      }
      void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void return_value(T result) noexcept { value = result; }
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }

    std::coroutine_handle<> continuation = std::noop_coroutine();
    T value{};
  };

  explicit BareTask(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  BareTask(BareTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  BareTask(const BareTask&) = delete;
  BareTask& operator=(const BareTask&) = delete;
  BareTask& operator=(BareTask&&) = delete;
  ~BareTask() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() const noexcept { return handle_.promise().value; }
  // Runs the task on this thread to its end (it never suspends on anything but its callees).
  T run() {
    handle_.resume();
    return handle_.promise().value;
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

// --- skynet: every node forks its 10 children, then joins them in order ---
constexpr std::uint64_t kSkynetDepth = 8;
constexpr std::uint64_t kSkynetSum = 4'999'999'950'000'000;  // sum of 0 .. 10^8 - 1

Task<std::uint64_t> skynet(Scheduler& sched, std::uint64_t base, std::uint64_t depth) {
  if (depth == kSkynetDepth) co_return base;
  std::uint64_t stride = 1;
  for (std::uint64_t level = depth + 1; level < kSkynetDepth; ++level) stride *= 10;
  std::array<JoinHandle<std::uint64_t>, 10> children;
  for (std::uint64_t i = 0; i < children.size(); ++i) {
    children[i] = sched.spawn(skynet(sched, base + stride * i, depth + 1));
  }
  std::uint64_t sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

// The same tree with fork(): each child runs at once, its parent's continuation is what an
// idle worker steals.
Task<std::uint64_t> skynet_fork(std::uint64_t base, std::uint64_t depth) {
  if (depth == kSkynetDepth) co_return base;
  std::uint64_t stride = 1;
  for (std::uint64_t level = depth + 1; level < kSkynetDepth; ++level) stride *= 10;
  std::array<ForkHandle<std::uint64_t>, 10> children;
  for (std::uint64_t i = 0; i < children.size(); ++i) {
    children[i] = co_await fork(skynet_fork(base + stride * i, depth + 1));
  }
  std::uint64_t sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

// The same tree as Jobs (job.h): each child writes its sum into the parent's array, and one
// join waits for all ten.
Job<std::uint64_t> skynet_job(std::uint64_t base, std::uint64_t depth) {
  if (depth == kSkynetDepth) co_return base;
  std::uint64_t stride = 1;
  for (std::uint64_t level = depth + 1; level < kSkynetDepth; ++level) stride *= 10;
  std::array<std::uint64_t, 10> sums;  // each written by its child
  for (std::uint64_t i = 0; i < sums.size(); ++i) {
    co_await fork(sums[i], skynet_job(base + stride * i, depth + 1));
  }
  co_await tiny_coro::join();
  std::uint64_t sum = 0;
  for (const std::uint64_t part : sums) sum += part;
  co_return sum;
}

// The serial trees take their task type: Task, or BareTask for the compiler's floor.
template <template <class> class TaskType>
TaskType<std::uint64_t> skynet_serial(std::uint64_t base, std::uint64_t depth) {
  if (depth == kSkynetDepth) co_return base;
  std::uint64_t stride = 1;
  for (std::uint64_t level = depth + 1; level < kSkynetDepth; ++level) stride *= 10;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < 10; ++i)
    sum += co_await skynet_serial<TaskType>(base + stride * i, depth + 1);
  co_return sum;
}

// --- fib: the suite's shape (one fork, one inline call, one join) ---
Task<std::uint64_t> fib(Scheduler& sched, int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto first = sched.spawn(fib(sched, n - 1));
  const std::uint64_t second = co_await fib(sched, n - 2);
  co_return co_await std::move(first) + second;
}

Task<std::uint64_t> fib_fork(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto first = co_await fork(fib_fork(n - 1));
  const std::uint64_t second = co_await fib_fork(n - 2);
  co_return co_await std::move(first) + second;
}

Job<std::uint64_t> fib_job(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  std::uint64_t first = 0;
  co_await fork(first, fib_job(n - 1));
  const std::uint64_t second = co_await fib_job(n - 2);
  co_await tiny_coro::join();
  co_return first + second;
}

template <template <class> class TaskType>
TaskType<std::uint64_t> fib_serial(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  const std::uint64_t first = co_await fib_serial<TaskType>(n - 1);
  co_return first + co_await fib_serial<TaskType>(n - 2);
}

std::uint64_t fib_reference(int n) {
  std::uint64_t a = 0;
  std::uint64_t b = 1;
  for (int i = 0; i < n; ++i) b = std::exchange(a, b) + b;
  return a;
}

// --- nqueens: a task per legal placement of the next row's queen ---
constexpr int kQueens = 14;
constexpr int kQueensSolutions = 365'596;
using Board = std::array<char, kQueens>;

// The suite's check: only the new queen, against the rows above it (those were checked when
// they were placed). Inline in each tree's body, as the suite's programs have it (a lambda).
inline bool queen_fits(int row, const Board& board, char column) {
  for (int above = 0; above < row; ++above) {
    const int distance = row - above;
    if (board[above] == column || board[above] == column - distance ||
        board[above] == column + distance) {
      return false;
    }
  }
  return true;
}

Task<int> nqueens(Scheduler& sched, int row, Board board) {
  if (row == kQueens) co_return 1;
  std::array<JoinHandle<int>, kQueens> parts;
  int spawned = 0;
  for (int column = 0; column < kQueens; ++column) {
    if (!queen_fits(row, board, static_cast<char>(column))) continue;
    Board next = board;
    next[row] = static_cast<char>(column);
    parts[spawned++] = sched.spawn(nqueens(sched, row + 1, next));
  }
  int solutions = 0;
  for (int part = 0; part < spawned; ++part) solutions += co_await std::move(parts[part]);
  co_return solutions;
}

Task<int> nqueens_fork(int row, Board board) {
  if (row == kQueens) co_return 1;
  std::array<ForkHandle<int>, kQueens> parts;
  int forked = 0;
  for (int column = 0; column < kQueens; ++column) {
    if (!queen_fits(row, board, static_cast<char>(column))) continue;
    Board next = board;
    next[row] = static_cast<char>(column);
    parts[forked++] = co_await fork(nqueens_fork(row + 1, next));
  }
  int solutions = 0;
  for (int part = 0; part < forked; ++part) solutions += co_await std::move(parts[part]);
  co_return solutions;
}

Job<int> nqueens_job(int row, Board board) {
  if (row == kQueens) co_return 1;
  std::array<int, kQueens> parts{};  // zeroed: 11% faster than not (docs/BENCHMARKS.md)
  int forked = 0;
  for (int column = 0; column < kQueens; ++column) {
    if (!queen_fits(row, board, static_cast<char>(column))) continue;
    Board next = board;
    next[row] = static_cast<char>(column);
    co_await fork(parts[static_cast<std::size_t>(forked++)], nqueens_job(row + 1, next));
  }
  co_await tiny_coro::join();
  int solutions = 0;
  for (int part = 0; part < forked; ++part) solutions += parts[static_cast<std::size_t>(part)];
  co_return solutions;
}

// A Task runs a tree of Jobs: it awaits the root.
template <class T>
Task<T> run_job(Job<T> root) {
  co_return co_await std::move(root);
}

template <template <class> class TaskType>
TaskType<int> nqueens_serial(int row, Board board) {
  if (row == kQueens) co_return 1;
  int solutions = 0;
  for (int column = 0; column < kQueens; ++column) {
    if (!queen_fits(row, board, static_cast<char>(column))) continue;
    Board next = board;
    next[row] = static_cast<char>(column);
    solutions += co_await nqueens_serial<TaskType>(row + 1, next);
  }
  co_return solutions;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

[[noreturn]] void usage_error() {
  std::fprintf(
      stderr,
      "usage: forkjoin_bench skynet THREADS | fib N THREADS | nqueens THREADS |\n"
      "       forkjoin_bench skynet-job THREADS | fib-job N THREADS | nqueens-job THREADS |\n"
      "       forkjoin_bench skynet-spawn THREADS | fib-spawn N THREADS | nqueens-spawn THREADS |\n"
      "       forkjoin_bench skynet-serial | fib-serial N | nqueens-serial |\n"
      "       forkjoin_bench skynet-bare | fib-bare N | nqueens-bare\n");
  std::exit(2);
}

// Runs `workload` once to warm up and once timed; checks both results.
template <class Workload>
int run_timed(std::uint64_t expected, Workload workload) {
  if (workload() != expected) {
    std::fprintf(stderr, "wrong result in the warm-up run\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t result = workload();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("output: %" PRIu64 "\n", result);
  if (result != expected) {
    std::fprintf(stderr, "wrong result: %" PRIu64 ", expected %" PRIu64 "\n", result, expected);
    return 1;
  }
  std::printf("runs:\n  - iteration_count: 1\n    duration: %lld us\n    max_rss: %ld KiB\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
              peak_rss_kib());
  return 0;
}

// The same, on a scheduler of `threads` workers. With FORKJOIN_METRICS set in the
// environment it also prints what the workers did over both runs (steals, parks).
template <class Workload>
int run(std::size_t threads, std::uint64_t expected, Workload workload) {
  Scheduler sched(threads);
  std::printf("threads: %zu\n", threads);
  const int status = run_timed(expected, [&] { return workload(sched); });
  if (std::getenv("FORKJOIN_METRICS") != nullptr) {
    const tiny_coro::RuntimeMetrics metrics = sched.metrics();
    using tiny_coro::WorkerMetrics;
    std::printf("metrics: tasks_run %" PRIu64 " steals %" PRIu64 " steal_attempts %" PRIu64
                " parks %" PRIu64 " unparks %" PRIu64 "\n",
                metrics.total(&WorkerMetrics::tasks_run), metrics.total(&WorkerMetrics::steals),
                metrics.total(&WorkerMetrics::steal_attempts), metrics.total(&WorkerMetrics::parks),
                metrics.total(&WorkerMetrics::unparks));
  }
  return status;
}

std::size_t parse_count(const char* text) {
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || value == 0 || value > 1024) usage_error();
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage_error();
  const std::string workload = argv[1];
  // Job (job.h): results into the parent's slots, one join per frame.
  if (workload == "skynet-job" && argc == 3) {
    return run(parse_count(argv[2]), kSkynetSum,
               [](Scheduler& sched) { return sched.block_on(run_job(skynet_job(0, 0))); });
  }
  if (workload == "fib-job" && argc == 4) {
    const int n = static_cast<int>(parse_count(argv[2]));
    if (n > 90) usage_error();
    return run(parse_count(argv[3]), fib_reference(n),
               [n](Scheduler& sched) { return sched.block_on(run_job(fib_job(n))); });
  }
  if (workload == "nqueens-job" && argc == 3) {
    return run(parse_count(argv[2]), kQueensSolutions, [](Scheduler& sched) {
      return static_cast<std::uint64_t>(sched.block_on(run_job(nqueens_job(0, Board{}))));
    });
  }
  // fork() (continuation stealing): what the comparison runs.
  if (workload == "skynet" && argc == 3) {
    return run(parse_count(argv[2]), kSkynetSum,
               [](Scheduler& sched) { return sched.block_on(skynet_fork(0, 0)); });
  }
  if (workload == "fib" && argc == 4) {
    const int n = static_cast<int>(parse_count(argv[2]));
    if (n > 90) usage_error();
    return run(parse_count(argv[3]), fib_reference(n),
               [n](Scheduler& sched) { return sched.block_on(fib_fork(n)); });
  }
  if (workload == "nqueens" && argc == 3) {
    return run(parse_count(argv[2]), kQueensSolutions, [](Scheduler& sched) {
      return static_cast<std::uint64_t>(sched.block_on(nqueens_fork(0, Board{})));
    });
  }
  // spawn() and JoinHandle (child stealing): the same trees, each child a task of its own.
  if (workload == "skynet-spawn" && argc == 3) {
    return run(parse_count(argv[2]), kSkynetSum,
               [](Scheduler& sched) { return sched.block_on(skynet(sched, 0, 0)); });
  }
  if (workload == "fib-spawn" && argc == 4) {
    const int n = static_cast<int>(parse_count(argv[2]));
    if (n > 90) usage_error();
    return run(parse_count(argv[3]), fib_reference(n),
               [n](Scheduler& sched) { return sched.block_on(fib(sched, n)); });
  }
  if (workload == "nqueens-spawn" && argc == 3) {
    return run(parse_count(argv[2]), kQueensSolutions, [](Scheduler& sched) {
      return static_cast<std::uint64_t>(sched.block_on(nqueens(sched, 0, Board{})));
    });
  }
  // The serial trees: one worker, every child awaited in place.
  if (workload == "skynet-serial" && argc == 2) {
    return run(1, kSkynetSum, [](Scheduler& sched) {
      return sched.block_on(skynet_serial<tiny_coro::Task>(0, 0));
    });
  }
  if (workload == "fib-serial" && argc == 3) {
    const int n = static_cast<int>(parse_count(argv[2]));
    if (n > 90) usage_error();
    return run(1, fib_reference(n),
               [n](Scheduler& sched) { return sched.block_on(fib_serial<tiny_coro::Task>(n)); });
  }
  if (workload == "fib-bare" && argc == 3) {
    const int n = static_cast<int>(parse_count(argv[2]));
    if (n > 90) usage_error();
    std::printf("threads: 1\n");
    return run_timed(fib_reference(n), [n] { return fib_serial<BareTask>(n).run(); });
  }
  if (workload == "skynet-bare" && argc == 2) {
    std::printf("threads: 1\n");
    return run_timed(kSkynetSum, [] { return skynet_serial<BareTask>(0, 0).run(); });
  }
  if (workload == "nqueens-bare" && argc == 2) {
    std::printf("threads: 1\n");
    return run_timed(kQueensSolutions, [] {
      return static_cast<std::uint64_t>(nqueens_serial<BareTask>(0, Board{}).run());
    });
  }
  if (workload == "nqueens-serial" && argc == 2) {
    return run(1, kQueensSolutions, [](Scheduler& sched) {
      return static_cast<std::uint64_t>(
          sched.block_on(nqueens_serial<tiny_coro::Task>(0, Board{})));
    });
  }
  usage_error();
}
