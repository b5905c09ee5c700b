// The file API (file.h): every call on the blocking pool, errors as -errno, cancellation
// before a call starts leaves the file untouched, and nothing leaks.
#include <tiny_coro/file.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tiny_coro_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return dir_ + "/" + name; }

  std::string dir_;
  Scheduler sched_{2};
};

TEST_F(FileTest, WriteReadPositionalSyncSizeClose) {
  const std::string target = path("data.bin");
  sched_.block_on([](Scheduler& sched, std::string name) -> Task<void> {
    File file = co_await File::open(sched, name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    EXPECT_TRUE(file) << file.error().message();
    EXPECT_EQ(co_await file.write("hello, ", 7), 7);
    EXPECT_EQ(co_await file.write(std::string("world").data(), 5), 5);
    EXPECT_EQ(co_await file.pwrite("W", 1, 7), 1);
    EXPECT_EQ(co_await file.fsync(), 0);
    EXPECT_EQ(co_await file.fsync(/*data_only=*/true), 0);
    EXPECT_EQ(co_await file.size(), 12);
    char buf[16] = {};
    EXPECT_EQ(co_await file.pread(buf, sizeof buf, 0), 12);
    EXPECT_EQ(std::string(buf, 12), "hello, World");
    EXPECT_EQ(co_await file.read(buf, sizeof buf), 0);  // the offset is at the end
    const int fd = file.fd();
    EXPECT_EQ(co_await file.close(), 0);
    EXPECT_FALSE(file.is_open());
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // really closed (nothing else opened meanwhile)
    EXPECT_EQ(co_await file.write("x", 1), -EBADF);
  }(sched_, target));
}

// errno of the thread running now. A coroutine must not read errno directly after a
// co_await: the compiler may keep errno's address from before the suspension, which on
// another thread is another thread's errno (task.h).
[[gnu::noinline]] int errno_here() {
  asm volatile("" ::: "memory");
  return errno;
}

TEST_F(FileTest, OpenFailureSaysWhy) {
  const std::string missing = path("no/such/file");
  sched_.block_on([](Scheduler& sched, std::string name) -> Task<void> {
    File file = co_await File::open(sched, name);
    EXPECT_FALSE(file);
    EXPECT_EQ(file.error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(errno_here(), ENOENT);
    File directory = co_await File::open(sched, "/", O_WRONLY);
    EXPECT_EQ(directory.error(), std::errc::is_a_directory);
    EXPECT_FALSE(co_await read_file(sched, name));
    EXPECT_EQ(errno_here(), ENOENT);
    EXPECT_EQ(co_await write_file(sched, name, "x"), -ENOENT);
  }(sched_, missing));
}

TEST_F(FileTest, WholeFileHelpersRoundTrip) {
  const std::string target = path("whole.txt");
  std::string data(3 * 65536 + 17, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
  const auto read_back = sched_.block_on([](Scheduler& sched, std::string name,
                                            std::string bytes) -> Task<std::optional<std::string>> {
    EXPECT_EQ(co_await write_file(sched, name, bytes), 0);
    co_return co_await read_file(sched, name);
  }(sched_, target, data));
  ASSERT_TRUE(read_back);
  EXPECT_EQ(*read_back, data);
}

// Large transfers in chunks, checked byte for byte, with many calls in flight at once.
TEST_F(FileTest, ConcurrentPositionalWritesLandExactly) {
  const std::string target = path("big.bin");
  constexpr std::size_t kChunk = 256 * 1024;
  const std::size_t chunks = test::scaled(64, 8);
  const bool same = sched_.block_on([](Scheduler& sched, std::string name,
                                       std::size_t count) -> Task<bool> {
    File file = co_await File::open(sched, name, O_RDWR | O_CREAT | O_TRUNC);
    std::vector<JoinHandle<ssize_t>> writes;
    for (std::size_t c = 0; c < count; ++c) {
      writes.push_back(sched.spawn([](File& f, std::size_t index) -> Task<ssize_t> {
        std::vector<unsigned char> chunk(kChunk, static_cast<unsigned char>(index));
        co_return co_await f.pwrite(chunk.data(), chunk.size(),
                                    static_cast<off_t>(index * kChunk));
      }(file, c)));
    }
    for (auto& write : writes) EXPECT_EQ(co_await std::move(write), static_cast<ssize_t>(kChunk));
    std::vector<unsigned char> back(kChunk);
    bool all_same = true;
    for (std::size_t c = 0; c < count; ++c) {
      EXPECT_EQ(co_await file.pread(back.data(), back.size(), static_cast<off_t>(c * kChunk)),
                static_cast<ssize_t>(kChunk));
      for (unsigned char byte : back) all_same = all_same && byte == static_cast<unsigned char>(c);
    }
    co_return all_same;
  }(sched_, target, chunks));
  EXPECT_TRUE(same);
}

// A write cancelled before a pool thread started it wrote nothing; a close cancelled before
// it started still closed the descriptor (its owner did, at once).
TEST_F(FileTest, CancelledBeforeStartTouchesNothing) {
  sched_.set_blocking_pool_options({.max_threads = 1, .keep_alive = 10'000ms});
  std::atomic<bool> open_gate{false};
  std::atomic<bool> busy{false};
  auto occupier = sched_.spawn_blocking([&] {
    busy = true;
    while (!open_gate.load()) std::this_thread::sleep_for(1ms);
  });
  ASSERT_TRUE(test::wait_for([&] { return busy.load(); }));
  const std::string target = path("untouched.bin");
  const int fd = ::open(target.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  File file(sched_, fd);
  std::atomic<bool> write_started{false};
  auto writer = sched_.spawn([](File& f, std::atomic<bool>& started) -> Task<ssize_t> {
    started = true;
    co_return co_await f.write("never", 5);
  }(file, write_started));
  ASSERT_TRUE(test::wait_for([&] { return sched_.metrics().blocking.queued == 1; }));
  writer.cancel();
  writer.wait_blocking();
  EXPECT_THROW(writer.take_result(), TaskCancelled);
  EXPECT_EQ(::lseek(fd, 0, SEEK_END), 0);  // nothing written

  auto closer = sched_.spawn([](File& f) -> Task<ssize_t> { co_return co_await f.close(); }(file));
  ASSERT_TRUE(test::wait_for([&] { return sched_.metrics().blocking.queued == 1; }));
  closer.cancel();
  closer.wait_blocking();
  EXPECT_THROW(closer.take_result(), TaskCancelled);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed anyway: no descriptor leaked
  open_gate = true;
  occupier.wait_blocking();
}

}  // namespace
}  // namespace tiny_coro
