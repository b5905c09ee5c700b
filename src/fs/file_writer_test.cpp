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
#include <string>

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

// Pieces of random sizes, some larger than a buffer, through small buffers and 3 writes in
// flight: the file is exactly their concatenation.
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
        FileWriter writer(file, FileWriterOptions{.buffer_size = 32 * 1024, .depth = 3});
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
