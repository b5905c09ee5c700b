// Drives examples/echo_server as a user would: start it on a free port, echo through it with
// plain blocking sockets, stop it with SIGTERM, expect a clean exit.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support/loopback.h"

extern char** environ;

namespace {

struct Server {
  pid_t pid = -1;
  int port = -1;
};

// Starts the example with port 0 and reads its port from the "listening on" line.
Server start_server() {
  int out[2];
  if (::pipe(out) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  char program[] = ECHO_SERVER_PATH;
  char port_zero[] = "0";
  char* argv[] = {program, port_zero, nullptr};
  Server server;
  if (posix_spawn(&server.pid, program, &actions, nullptr, argv, environ) != 0) server.pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) == 0 && colon != std::string::npos) {
    server.port = std::stoi(line.substr(colon + 1));
  }
  return server;
}

TEST(EchoServerExample, EchoesEveryClientAndStopsCleanlyOnSigterm) {
  const Server server = start_server();
  ASSERT_GT(server.pid, 0);
  ASSERT_GT(server.port, 0) << "no 'listening on' line";
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(tiny_coro::test::connect_loopback(server.port));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_GE(clients[i], 0);
    const std::string message = "message " + std::to_string(i);
    ASSERT_EQ(::write(clients[i], message.data(), message.size()),
              static_cast<ssize_t>(message.size()));
    std::string back(message.size(), '\0');
    std::size_t got = 0;
    while (got < back.size()) {
      const ssize_t n = ::read(clients[i], back.data() + got, back.size() - got);
      ASSERT_GT(n, 0);
      got += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(back, message);
  }
  for (int fd : clients) ::close(fd);
  ASSERT_EQ(::kill(server.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(server.pid, &status, 0), server.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
