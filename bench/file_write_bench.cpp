// Writes `MiB` mebibytes to a file through the async file API, 1 MiB per write, then fsync
// — what `dd if=/dev/zero of=FILE bs=1M count=MiB conv=fsync` does — and prints the rate.
// By default through FileWriter (file_writer.h, write-behind), producing the bytes into its
// buffers as dd's read of /dev/zero does into dd's; `plain` awaits each File::write of one
// page-aligned 1 MiB block in turn. bench/run_file.sh runs them and dd on the same disk, alternating.
// `thread`: no runtime — one plain std::thread does what dd does (memset, write, fsync): the
// floor of any runtime that writes from a thread other than main, which on this VM is not
// always as fast as dd's main thread (docs/BENCHMARKS.md).
// With FILE_BENCH_REWRITE=1 in the environment every mode writes over the file in place
// instead of truncating it (dd's conv=notrunc): its cached pages take the bytes, and no page
// is allocated (bench/run_file.sh, "rewrite").
//   file_write_bench FILE [MiB] [plain|thread]
#include <tiny_coro/file.h>
#include <tiny_coro/file_writer.h>
#include <tiny_coro/scheduler.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <cstring>
#include <memory>
#include <span>
#include <thread>

#include <unistd.h>

namespace {

int open_flags() {
  const char* rewrite = std::getenv("FILE_BENCH_REWRITE");
  const bool keep = rewrite != nullptr && std::string(rewrite) == "1";
  return O_WRONLY | O_CREAT | (keep ? 0 : O_TRUNC);
}

tiny_coro::Task<int> write_all(tiny_coro::Scheduler& sched, std::string path, long mebibytes,
                               bool plain) {
  constexpr std::size_t kBlock = 1 << 20;
  // Page-aligned, as dd's buffer is (the kernel copies whole pages from it).
  const std::unique_ptr<char, void (*)(void*)> memory(
      static_cast<char*>(std::aligned_alloc(4096, kBlock)), &std::free);
  std::memset(memory.get(), 0, kBlock);
  const std::span<char> block(memory.get(), kBlock);
  tiny_coro::File file =
      co_await tiny_coro::File::open(sched, path, open_flags(), 0644);
  if (!file) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), file.error().message().c_str());
    co_return 1;
  }
  if (plain) {
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
  tiny_coro::FileWriterOptions options;  // FILE_BENCH_DEPTH, FILE_BENCH_[MAX_]BUFFER_KIB: to explore
  if (const char* depth = std::getenv("FILE_BENCH_DEPTH")) options.depth = std::strtoul(depth, nullptr, 10);
  if (const char* kib = std::getenv("FILE_BENCH_BUFFER_KIB")) {
    options.buffer_size = std::strtoul(kib, nullptr, 10) * 1024;
  }
  if (const char* kib = std::getenv("FILE_BENCH_MAX_BUFFER_KIB")) {
    options.max_buffer_size = std::strtoul(kib, nullptr, 10) * 1024;
  }
  tiny_coro::FileWriter writer(file, options);
  // The data is produced into the writer's buffers (space()/filled(): no copy), as dd's
  // read(2) of /dev/zero produces it into dd's buffer.
  std::uint64_t produced = 0;
  const std::uint64_t total = static_cast<std::uint64_t>(mebibytes) * kBlock;
  while (produced < total) {
    const std::span<char> room = writer.space();
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room.size(), total - produced));
    std::memset(room.data(), 0, n);
    writer.filled(n);
    produced += n;
    if (writer.full()) {
      const std::error_code error = co_await writer.flush();
      if (error) {
        std::fprintf(stderr, "write: %s\n", error.message().c_str());
        co_return 1;
      }
    }
  }
  const std::error_code error = co_await writer.finish(/*sync=*/true);
  if (error) {
    std::fprintf(stderr, "finish: %s\n", error.message().c_str());
    co_return 1;
  }
  co_return 0;
}

}  // namespace

// dd's loop, on a thread of its own.
int write_from_a_thread(const char* path, long mebibytes) {
  int status = 1;
  std::thread writer([&] {
    constexpr std::size_t kBlock = 1 << 20;
    const std::unique_ptr<char, void (*)(void*)> memory(
        static_cast<char*>(std::aligned_alloc(4096, kBlock)), &std::free);
    tiny_coro::UniqueFd fd(::open(path, open_flags() | O_CLOEXEC, 0644));
    if (!fd.valid()) return;
    for (long i = 0; i < mebibytes; ++i) {
      std::memset(memory.get(), 0, kBlock);
      if (tiny_coro::detail::file_write(fd.get(), memory.get(), kBlock, -1) < 0) return;
    }
    if (::fsync(fd.get()) == 0) status = 0;
  });
  writer.join();
  return status;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: file_write_bench FILE [MiB]\n");
    return 2;
  }
  const long mebibytes = argc > 2 ? std::atol(argv[2]) : 1024;
  tiny_coro::Scheduler sched(2);
  const auto start = std::chrono::steady_clock::now();
  const std::string mode = argc > 3 ? argv[3] : "";
  if (mode == "thread") {
    if (write_from_a_thread(argv[1], mebibytes) != 0) return 1;
  } else if (sched.block_on(write_all(sched, argv[1], mebibytes, mode == "plain")) != 0) {
    return 1;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%.1f MB/s\n", static_cast<double>(mebibytes) * 1048576.0 / elapsed.count() / 1e6);
  return 0;
}
