// tiny_httpd's own figures, for --metrics-path: responses by method and status class, a
// request-duration histogram, bytes in and out, connections, uploads; rendered with the
// runtime's (Scheduler::metrics) in the Prometheus text exposition format (version 0.0.4),
// which Prometheus, VictoriaMetrics, Grafana Agent and friends scrape.
//
// Recording is a few relaxed increments into one of several cache-line-sized shards, picked
// per thread, so that workers answering requests do not pass one line between them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include <tiny_coro/http_server.h>
#include <tiny_coro/metrics.h>

namespace tiny_httpd {

class ServerMetrics {
 public:
  // The histogram's upper bounds, in seconds (Prometheus's `le`), +Inf implied.
  static constexpr std::array<double, 16> kDurationBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

  // Any thread, once per response (the access-log hook, HttpServerOptions::on_response).
  void record(const tiny_coro::HttpAccessRecord& record) noexcept;
  // Any thread: the accept loop's view of connections.
  void connection_accepted() noexcept;
  void connection_closed() noexcept;
  void accept_failed() noexcept;  // accept() gave up on a connection (not a shutdown)

  // The exposition, ready to serve as text/plain; version=0.0.4.
  std::string render(const tiny_coro::RuntimeMetrics& runtime) const;

 private:
  static constexpr std::size_t kMethods = 5;  // GET, HEAD, PUT, POST, anything else
  static constexpr std::size_t kClasses = 5;  // 1xx .. 5xx
  static constexpr std::size_t kShards = 8;
  using Counter = std::atomic<std::uint64_t>;

  struct alignas(64) Shard {
    std::array<std::array<Counter, kClasses>, kMethods> responses{};
    std::array<Counter, kDurationBounds.size()> duration_buckets{};  // not cumulative
    Counter durations{0};  // responses with a duration (those whose head was parsed)
    Counter duration_ns{0};
    Counter bytes_received{0};
    Counter bytes_sent{0};
    Counter uploads{0};
    Counter upload_bytes{0};
  };

  Shard& shard() noexcept;
  std::uint64_t sum(const Counter Shard::*field) const noexcept;

  std::array<Shard, kShards> shards_;
  alignas(64) Counter accepted_{0};
  Counter closed_{0};
  Counter refused_{0};
};

}  // namespace tiny_httpd
