// tiny_httpd --metrics-path: the Prometheus exposition, read by Prometheus's own parser (the
// reference Python client's), with exact counts for a known set of requests.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include <tiny_coro/detail/await_record.h>  // TINY_CORO_TRACK_AWAITS

#include "httpd/httpd_fixture.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/wait_for.h"

namespace tiny_coro::test {
namespace {

namespace fs = std::filesystem;

// The samples of `text` as the parser sees them, one "name{labels} value" per line.
std::string parsed_exposition(const std::string& text) {
  // Debian's python3, which python3-prometheus-client is installed into.
  return output_for_file(text, "/usr/bin/python3 " CHECK_PROMETHEUS_PY, "metrics_");
}

bool has_line(const std::string& lines, const std::string& line) {
  std::istringstream in(lines);
  for (std::string each; std::getline(in, each);) {
    if (each == line) return true;
  }
  return false;
}

TEST(TinyHttpdMetrics, AnswersWithAnExpositionPrometheusParsesAndExactCounts) {
  Httpd httpd({"--metrics-path", "/metrics"});
  write_whole_file(httpd.www() / "a.txt", "hello");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(httpd.get("/a.txt")->status, 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(httpd.get("/missing.txt")->status, 404);
  const std::string put_body(1000, 'p');
  ASSERT_EQ(
      httpd
          .request("PUT /stored.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + put_body)
          ->status,
      201);
  const std::string post_body(500, 'u');
  ASSERT_EQ(
      httpd.request("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n" + post_body)
          ->status,
      200);
  ASSERT_EQ(httpd.request("DELETE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")->status, 405);

  const auto scrape = httpd.get("/metrics");
  ASSERT_TRUE(scrape);
  ASSERT_EQ(scrape->status, 200);
  EXPECT_EQ(scrape->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string samples = parsed_exposition(scrape->body);
  ASSERT_EQ(samples.rfind("invalid", 0), std::string::npos) << samples;
  // Responses already sent (the scrape's own is counted after it).
  EXPECT_TRUE(has_line(samples, "tiny_httpd_requests_total{code=2xx,method=GET} 3")) << samples;
  EXPECT_TRUE(has_line(samples, "tiny_httpd_requests_total{code=4xx,method=GET} 2"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_requests_total{code=2xx,method=PUT} 1"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_requests_total{code=2xx,method=POST} 1"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_requests_total{code=4xx,method=other} 1"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_request_duration_seconds_count{} 8"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_request_duration_seconds_bucket{le=+Inf} 8"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_received_bytes_total{} 1500"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_uploads_total{} 2"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_upload_bytes_total{} 1500"));
  // Eight requests and the scrape, each on a connection of its own.
  EXPECT_TRUE(has_line(samples, "tiny_httpd_connections_accepted_total{} 9"));
  EXPECT_TRUE(has_line(samples, "tiny_httpd_connections_refused_total{} 0"));
  // The runtime's figures, per worker for the two workers.
  EXPECT_NE(samples.find("tiny_coro_tasks_spawned_total{} "), std::string::npos);
  EXPECT_NE(samples.find("tiny_coro_worker_tasks_run_total{worker=0} "), std::string::npos);
  EXPECT_NE(samples.find("tiny_coro_worker_tasks_run_total{worker=1} "), std::string::npos);
  EXPECT_NE(samples.find("tiny_coro_worker_busy_seconds_total{worker=1} "), std::string::npos);
  // The two uploads were written on the blocking pool.
  EXPECT_EQ(samples.find("tiny_coro_blocking_calls_total{} 0\n"), std::string::npos) << samples;
  EXPECT_NE(samples.find("tiny_coro_blocking_calls_total{} "), std::string::npos) << samples;
  EXPECT_NE(samples.find("tiny_coro_blocking_threads{} "), std::string::npos) << samples;

  // Only GET and HEAD; the path is the server's, not a file's.
  EXPECT_EQ(httpd.request("POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")->status,
            405);
  EXPECT_EQ(httpd.request("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n", true)->status, 200);
}

// SIGUSR1 writes the task dump to stderr and the server goes on serving.
TEST(TinyHttpdMetrics, Sigusr1WritesTheTaskDumpAndKeepsServing) {
  // It waits until the dump names each task's wait, which needs the await records.
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  const fs::path err =
      fs::temp_directory_path() / ("tiny_httpd_stderr_" + std::to_string(::getpid()));
  const fs::path www = fs::temp_directory_path() / ("tiny_httpd_www_" + std::to_string(::getpid()));
  fs::create_directories(www);
  write_whole_file(www / "a.txt", "A");
  ChildProcess server({"/bin/sh", "-c",
                       std::string("exec ") + TINY_HTTPD_PATH + " --root " + www.string() +
                           " --host 127.0.0.1 --port 0 --threads 2 --quiet 2>" + err.string()});
  const std::string line = server.read_line().value_or("");
  const std::string prefix = "listening on http://127.0.0.1:";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
  const int port = std::stoi(line.substr(prefix.size()));
  // A keep-alive connection that stays idle: its task waits for the next request.
  BlockingClient idle(port);
  ASSERT_TRUE(idle.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());
  ::kill(server.pid(), SIGUSR1);
  std::string dump;
  ASSERT_TRUE(wait_for([&] {
    dump = read_whole_file(err);
    return dump.find("\ntask ") != std::string::npos;
  })) << dump;
  EXPECT_EQ(dump.rfind("tiny_coro task dump: ", 0), 0u) << dump;
  EXPECT_NE(dump.find("] readable\n"), std::string::npos) << dump;  // the idle connection
  EXPECT_NE(dump.find("] accept\n"), std::string::npos) << dump;    // the accept loop
  BlockingClient fresh(port);
  ASSERT_TRUE(fresh.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto response = fresh.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "A");
  const auto status = server.stop(SIGTERM);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  fs::remove(err);
  fs::remove_all(www);
}

TEST(TinyHttpdMetrics, IsOffUnlessAskedFor) {
  Httpd httpd;
  EXPECT_EQ(httpd.get("/metrics")->status, 404);
}

TEST(TinyHttpdMetrics, RefusesAMetricsPathThatIsNotAPath) {
  ChildProcess bad({TINY_HTTPD_PATH, "--metrics-path", "metrics"});
  const auto status = bad.stop(0);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
}

}  // namespace
}  // namespace tiny_coro::test
