// Runs a program under test as a child process: arguments, working directory, its stdout
// read line by line, and a stop that always reaps it (a test never leaves a process behind).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace tiny_coro::test {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`, in `working_dir` if not empty, its stdout piped to us.
  ChildProcess(const std::vector<std::string>& argv, const std::string& working_dir = {}) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    if (!working_dir.empty()) posix_spawn_file_actions_addchdir_np(&actions, working_dir.c_str());
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    stdout_ = out[0];
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  bool started() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }

  // The next line of stdout, without its newline; nullopt at end of output or after `bound`.
  std::optional<std::string> read_line(std::chrono::seconds bound = std::chrono::seconds(30)) {
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (;;) {
      if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          give_up - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(stdout_, chunk, sizeof(chunk));
      if (n <= 0) return std::nullopt;
      pending_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Sends `signal` and waits (up to `bound`) for the exit; the exit status as waitpid gives it,
  // or nullopt if it had to be killed.
  std::optional<int> stop(int signal = SIGTERM,
                          std::chrono::seconds bound = std::chrono::seconds(30)) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, signal);
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return status;
      }
      if (std::chrono::steady_clock::now() > give_up) return std::nullopt;  // the destructor kills
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 10);  // waitpid has no timeout; poll the exit every 10 ms
    }
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string pending_;
};

}  // namespace tiny_coro::test
