// docs/DEPLOY.md's recipe, run for real: nginx (Debian's nginx-light) as a reverse proxy in
// front of two tiny_httpd processes, and a rolling restart — SIGTERM one, start it again on
// its port, then the other — under a steady request load, with zero failed requests.
//
// nginx listens on a Unix socket in the test's directory, so no TCP port has to be guessed
// for it; the two tiny_httpd processes pick free ports and keep them across their restarts.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"

namespace tiny_coro::test {
namespace {

namespace fs = std::filesystem;

const std::string kPage = "served through nginx\n";

// One tiny_httpd backend: root and port fixed, so that a restart serves the same.
class Backend {
 public:
  Backend(fs::path root, int port) : root_(std::move(root)) { start(port); }

  int port() const noexcept { return port_; }

  // SIGTERM: stop accepting, finish what is in flight, exit 0 (SPEC.md §3).
  std::optional<int> stop() { return process_->stop(SIGTERM); }

  bool restart() { return start(port_); }

 private:
  bool start(int port) {
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        TINY_HTTPD_PATH, "--root", root_.string(), "--host", "127.0.0.1", "--port",
        std::to_string(port), "--threads", "2", "--quiet", "--shutdown-timeout", "5"});
    const std::string line = process_->read_line().value_or("");
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) return false;
    port_ = std::stoi(line.substr(prefix.size()));
    return true;
  }

  fs::path root_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = -1;
};

// The upstream block is docs/DEPLOY.md's; the rest only puts nginx's files in `dir`.
void write_nginx_conf(const fs::path& dir, int port_a, int port_b) {
  std::ofstream conf(dir / "nginx.conf");
  conf << "daemon off;\n"
       << "master_process off;\n"
       << "pid " << (dir / "nginx.pid").string() << ";\n"
       << "error_log " << (dir / "error.log").string() << ";\n"
       << "events { worker_connections 1024; }\n"
       << "http {\n"
       << "  access_log off;\n";
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf << "  " << kind << "_temp_path " << (dir / kind).string() << ";\n";
  }
  conf << "  upstream tiny_httpd {\n"
       << "    server 127.0.0.1:" << port_a << " max_fails=0;\n"
       << "    server 127.0.0.1:" << port_b << " max_fails=0;\n"
       << "    keepalive 32;\n"
       << "  }\n"
       << "  server {\n"
       << "    listen unix:" << (dir / "nginx.sock").string() << ";\n"
       << "    location / {\n"
       << "      proxy_pass http://tiny_httpd;\n"
       << "      proxy_http_version 1.1;\n"
       << "      proxy_set_header Connection \"\";\n"
       << "      proxy_next_upstream error timeout http_502 http_503;\n"
       << "      proxy_connect_timeout 2s;\n"
       << "    }\n"
       << "  }\n"
       << "}\n";
}

// One GET through nginx's Unix socket on a fresh connection: true if it got 200 and the page.
bool get_through(const fs::path& socket_path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /page.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      std::string response;
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) response.append(buf, n);
      ok = response.rfind("HTTP/1.1 200", 0) == 0 && response.size() >= kPage.size() &&
           response.compare(response.size() - kPage.size(), kPage.size(), kPage) == 0;
    }
  }
  ::close(fd);
  return ok;
}

bool exited_zero(const std::optional<int>& status) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

TEST(NginxUpstream, ARollingRestartUnderLoadFailsNoRequest) {
  const fs::path dir =
      fs::temp_directory_path() / ("tiny_httpd_nginx_" + std::to_string(::getpid()));
  fs::create_directories(dir / "www");
  std::ofstream(dir / "www" / "page.txt") << kPage;

  Backend a(dir / "www", 0);
  Backend b(dir / "www", 0);
  ASSERT_GT(a.port(), 0);
  ASSERT_GT(b.port(), 0);
  write_nginx_conf(dir, a.port(), b.port());
  ChildProcess nginx({NGINX_PATH, "-p", dir.string(), "-c", (dir / "nginx.conf").string()});
  // nginx prints nothing when it is up: the first answer through it is the event.
  const fs::path socket_path = dir / "nginx.sock";
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!get_through(socket_path)) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up)
        << "nginx never answered: see " << (dir / "error.log");
    std::this_thread::yield();
  }

  std::atomic<bool> done{false};
  std::atomic<long> served{0};
  std::atomic<long> failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!done.load()) (get_through(socket_path) ? served : failed).fetch_add(1);
    });
  }
  auto wait_for_requests = [&](long more) {
    const long target = served.load() + more;
    while (served.load() < target && failed.load() == 0) std::this_thread::yield();
  };

  wait_for_requests(200);
  EXPECT_TRUE(exited_zero(a.stop()));
  wait_for_requests(200);  // b alone
  ASSERT_TRUE(a.restart());
  wait_for_requests(200);
  EXPECT_TRUE(exited_zero(b.stop()));
  wait_for_requests(200);  // a alone
  ASSERT_TRUE(b.restart());
  wait_for_requests(200);
  done.store(true);
  for (auto& client : clients) client.join();

  EXPECT_EQ(failed.load(), 0) << "of " << served.load() + failed.load() << " requests";
  EXPECT_GE(served.load(), 1000);
  EXPECT_TRUE(exited_zero(nginx.stop(SIGQUIT)));
  EXPECT_TRUE(exited_zero(a.stop()));
  EXPECT_TRUE(exited_zero(b.stop()));
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace tiny_coro::test
