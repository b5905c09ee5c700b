// Writes `MiB` mebibytes to a file through the async file API (file.h), 1 MiB per write,
// then fsync — what `dd if=/dev/zero of=FILE bs=1M count=MiB conv=fsync` does — and prints
// the rate. bench/run_file.sh runs both on the same disk, alternating.
//   file_write_bench FILE [MiB]
#include <tiny_coro/file.h>
#include <tiny_coro/scheduler.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

tiny_coro::Task<int> write_all(tiny_coro::Scheduler& sched, std::string path, long mebibytes) {
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<char> block(kBlock, 0);
  tiny_coro::File file =
      co_await tiny_coro::File::open(sched, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!file) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), file.error().message().c_str());
    co_return 1;
  }
  for (long i = 0; i < mebibytes; ++i) {
    if (co_await file.write(block.data(), block.size()) != static_cast<ssize_t>(kBlock)) {
      std::perror("write");
      co_return 1;
    }
  }
  if (co_await file.fsync() != 0 || co_await file.close() != 0) {
    std::perror("fsync/close");
    co_return 1;
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: file_write_bench FILE [MiB]\n");
    return 2;
  }
  const long mebibytes = argc > 2 ? std::atol(argv[2]) : 1024;
  tiny_coro::Scheduler sched(2);
  const auto start = std::chrono::steady_clock::now();
  if (sched.block_on(write_all(sched, argv[1], mebibytes)) != 0) return 1;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%.1f MB/s\n", static_cast<double>(mebibytes) * 1048576.0 / elapsed.count() / 1e6);
  return 0;
}
