// FileWriter (file_writer.h): write-behind keeps every byte in order across buffers and
// writes in flight, reports a failed write on the next call, and an abandoned writer leaves
// nothing referring to it.
#include <tiny_coro/file_writer.h>

#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <span>
#include <string>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tiny_coro_writer_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  Scheduler sched_{2};
};

// Pieces of random sizes, some larger than a buffer, through small buffers (which double
// once, so spares of the old size are dropped) and 3 writes in flight: the file is exactly
// their concatenation.
TEST_F(FileWriterTest, PiecesOfEverySizeLandInOrder) {
  const std::string path = dir_ + "/out.bin";
  std::mt19937 random(7);
  std::string expected;
  std::vector<std::string> pieces;
  const std::size_t count = test::scaled(400, 4);
  for (std::size_t i = 0; i < count; ++i) {
    std::string piece(random() % 70000, '\0');
    for (char& c : piece) c = static_cast<char>(random());
    expected += piece;
    pieces.push_back(std::move(piece));
  }
  const std::error_code error = sched_.block_on(
      [](Scheduler& sched, std::string name, const std::vector<std::string>& all) -> Task<std::error_code> {
        File file = co_await File::open(sched, name, O_WRONLY | O_CREAT | O_TRUNC);
        FileWriter writer(
            file, FileWriterOptions{.buffer_size = 32 * 1024, .max_buffer_size = 64 * 1024, .depth = 3});
        co_await file.close();  // the writer holds its own descriptor
        for (const std::string& piece : all) {
          EXPECT_EQ(co_await writer.write(piece.data(), piece.size()),
                    static_cast<ssize_t>(piece.size()));
        }
        co_return co_await writer.finish(/*sync=*/true);
      }(sched_, path, pieces));
  EXPECT_FALSE(error) << error.message();
  EXPECT_EQ(read_all(path), expected);
  EXPECT_GT(sched_.metrics().blocking.calls_run, 10u);
}

// Buffers double each time four buffers' worth has been handed to the pool, up to their
// bound; the bytes land in order across the change.
TEST_F(FileWriterTest, BuffersGrowWhileAStreamGoesOnUpToTheirBound) {
  const std::string path = dir_ + "/growing.bin";
  constexpr std::size_t kKiB = 1024;
  const std::vector<std::size_t> sizes = sched_.block_on(
      [](Scheduler& sched, std::string name) -> Task<std::vector<std::size_t>> {
        File file = co_await File::open(sched, name, O_WRONLY | O_CREAT | O_TRUNC);
        FileWriter writer(file, FileWriterOptions{.buffer_size = 16 * kKiB,
                                                  .max_buffer_size = 64 * kKiB,
                                                  .depth = 2});
        std::vector<std::size_t> seen;
        std::uint64_t produced = 0;
        for (int buffer = 0; buffer < 10; ++buffer) {
          const std::span<char> room = writer.space();
          seen.push_back(room.size());
          for (char& byte : room) byte = static_cast<char>(produced++ % 251);
          writer.filled(room.size());
          EXPECT_TRUE(writer.full());
          EXPECT_FALSE(co_await writer.flush());
        }
        EXPECT_FALSE(co_await writer.finish());
        co_return seen;
      }(sched_, path));
  const std::vector<std::size_t> expected = {16 * kKiB, 16 * kKiB, 16 * kKiB, 16 * kKiB,
                                             32 * kKiB, 32 * kKiB, 64 * kKiB, 64 * kKiB,
                                             64 * kKiB, 64 * kKiB};
  EXPECT_EQ(sizes, expected);
  const std::string written = read_all(path);
  ASSERT_EQ(written.size(), 384 * kKiB);
  for (std::size_t i = 0; i < written.size(); ++i) {
    ASSERT_EQ(written[i], static_cast<char>(i % 251)) << i;
  }
}

// A write that fails (a descriptor open for reading only) is reported by a later call, and by
// every one after it.
TEST_F(FileWriterTest, AFailedWriteIsReportedOnTheNextCall) {
  const std::string path = dir_ + "/readonly.bin";
  { std::ofstream(path) << "x"; }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::error_code error = sched_.block_on(
      [](Scheduler& sched, int descriptor) -> Task<std::error_code> {
        File file(sched, descriptor);
        FileWriter writer(file, FileWriterOptions{.buffer_size = 16 * 1024, .depth = 1});
        std::string chunk(16 * 1024, 'a');
        ssize_t result = 0;
        for (int i = 0; i < 4 && result >= 0; ++i) result = co_await writer.write(chunk.data(), chunk.size());
        EXPECT_EQ(result, -EBADF);
        co_return co_await writer.finish();
      }(sched_, fd));
  EXPECT_EQ(error, std::errc::bad_file_descriptor);
}

// Dropped before finish() with writes in flight: they end on their own (ASan and TSan would
// see any use of the dropped writer's frame).
TEST_F(FileWriterTest, AnAbandonedWriterLeavesNothingBehind) {
  const std::string path = dir_ + "/abandoned.bin";
  sched_.block_on([](Scheduler& sched, std::string name) -> Task<void> {
    File file = co_await File::open(sched, name, O_WRONLY | O_CREAT | O_TRUNC);
    {
      FileWriter writer(file, FileWriterOptions{.buffer_size = 16 * 1024, .depth = 4});
      std::string chunk(64 * 1024, 'b');
      EXPECT_EQ(co_await writer.write(chunk.data(), chunk.size()), 65536);
    }
  }(sched_, path));
  sched_.shutdown();  // waits for the pool's writes
  EXPECT_LE(std::filesystem::file_size(path), 65536u);
}

}  // namespace
}  // namespace tiny_coro
