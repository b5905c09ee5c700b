// Drives the manual's example 3 (examples/upload_server.cpp, unmodified) as its reader would:
// GET answers the hello page; POST /upload of 1 MiB lands in uploaded_file.bin byte for byte.
// The example listens on the fixed port 8080; if something else holds it, the test skips.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/child_process.h"
#include "support/http_client.h"
#include "support/wait_for.h"

namespace {

using tiny_coro::test::BlockingClient;
using tiny_coro::test::ChildProcess;

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

std::string file_contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(UploadServerExample, ServesTheHelloPageAndStoresAnUploadByteForByte) {
  if (!port_free(8080)) GTEST_SKIP() << "port 8080 is taken; the manual's example needs it";
  const auto dir =
      std::filesystem::temp_directory_path() / ("upload_example_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ChildProcess server({UPLOAD_SERVER_PATH}, dir.string());
  ASSERT_TRUE(server.started());
  // The example's "Server running" line sits in its stdout buffer (a pipe is not a terminal,
  // and the example never flushes), so listening is the event to wait for.
  ASSERT_TRUE(tiny_coro::test::wait_for([] { return BlockingClient(8080).connected(); }));

  {
    BlockingClient client(8080);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "<h1>Hello tiny_coro!</h1>");
  }
  std::string body(1 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  {
    BlockingClient client(8080);
    ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "Upload Success!");
  }
  EXPECT_TRUE(file_contents(dir / "uploaded_file.bin") == body);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary
  server.stop(SIGKILL);
  std::filesystem::remove_all(dir);
}

}  // namespace
