#include "server_metrics.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string_view>

namespace tiny_httpd {
namespace {

constexpr std::array<std::string_view, 5> kMethodLabels = {"GET", "HEAD", "PUT", "POST", "other"};
constexpr std::array<std::string_view, 5> kClassLabels = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::size_t method_index(std::string_view method) noexcept {
  for (std::size_t i = 0; i + 1 < kMethodLabels.size(); ++i) {
    if (method == kMethodLabels[i]) return i;
  }
  return kMethodLabels.size() - 1;
}

std::size_t class_index(int status) noexcept {
  const int hundreds = status / 100;
  if (hundreds < 1) return 0;
  if (hundreds > 5) return 4;
  return static_cast<std::size_t>(hundreds - 1);
}

// relaxed throughout: statistics; a scrape wants recent values, not an order among them.
void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
  counter.fetch_add(by, std::memory_order_relaxed);
}

// Appends one exposition block: HELP, TYPE, then the samples `write` appends.
template <class Write>
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            Write write) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  write();
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  char number[64];
  std::snprintf(number, sizeof(number), "%.9g", value);
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(number).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(value)).append("\n");
}

std::string worker_label(std::size_t index) { return "worker=\"" + std::to_string(index) + "\""; }

}  // namespace

ServerMetrics::Shard& ServerMetrics::shard() noexcept {
  static std::atomic<std::size_t> next_shard{0};
  // relaxed: only spreads threads over the shards.
  thread_local const std::size_t mine = next_shard.fetch_add(1, std::memory_order_relaxed);
  return shards_[mine % kShards];
}

void ServerMetrics::record(const tiny_coro::HttpAccessRecord& record) noexcept {
  Shard& s = shard();
  const std::size_t method = method_index(record.method);
  bump(s.responses[method][class_index(record.status)]);
  bump(s.bytes_sent, record.body_bytes);
  bump(s.bytes_received, record.request_body_bytes);
  if (!record.method.empty()) {
    const double seconds = std::chrono::duration<double>(record.duration).count();
    std::size_t bucket = 0;
    while (bucket < kDurationBounds.size() && seconds > kDurationBounds[bucket]) ++bucket;
    if (bucket < kDurationBounds.size()) bump(s.duration_buckets[bucket]);
    bump(s.durations);
    bump(s.duration_ns,
         static_cast<std::uint64_t>(record.duration.count() > 0 ? record.duration.count() : 0));
  }
  const bool stored =
      record.method == "PUT" || (record.method == "POST" && record.target == "/upload");
  if (stored && record.status >= 200 && record.status < 300) {
    bump(s.uploads);
    bump(s.upload_bytes, record.request_body_bytes);
  }
}

void ServerMetrics::connection_accepted() noexcept { bump(accepted_); }
void ServerMetrics::connection_closed() noexcept { bump(closed_); }
void ServerMetrics::accept_failed() noexcept { bump(refused_); }

std::uint64_t ServerMetrics::sum(const Counter Shard::*field) const noexcept {
  std::uint64_t total = 0;
  for (const Shard& s : shards_) total += (s.*field).load(std::memory_order_relaxed);
  return total;
}

std::string ServerMetrics::render(const tiny_coro::RuntimeMetrics& runtime) const {
  using tiny_coro::WorkerMetrics;
  std::string out;
  out.reserve(8192);

  family(out, "tiny_httpd_requests_total", "counter",
         "Responses sent, by request method and status class.", [&] {
           for (std::size_t m = 0; m < kMethods; ++m) {
             for (std::size_t c = 0; c < kClasses; ++c) {
               std::uint64_t n = 0;
               for (const Shard& s : shards_)
                 n += s.responses[m][c].load(std::memory_order_relaxed);
               const std::string labels = "method=\"" + std::string(kMethodLabels[m]) +
                                          "\",code=\"" + std::string(kClassLabels[c]) + "\"";
               sample(out, "tiny_httpd_requests_total", labels, n);
             }
           }
         });

  family(out, "tiny_httpd_request_duration_seconds", "histogram",
         "Time from a request's complete head to its queued response.", [&] {
           std::uint64_t cumulative = 0;
           for (std::size_t b = 0; b < kDurationBounds.size(); ++b) {
             for (const Shard& s : shards_) {
               cumulative += s.duration_buckets[b].load(std::memory_order_relaxed);
             }
             char bound[32];
             std::snprintf(bound, sizeof(bound), "le=\"%g\"", kDurationBounds[b]);
             sample(out, "tiny_httpd_request_duration_seconds_bucket", bound, cumulative);
           }
           // Read after the buckets: +Inf must not be below the last finite bucket.
           const std::uint64_t count = std::max(sum(&Shard::durations), cumulative);
           sample(out, "tiny_httpd_request_duration_seconds_bucket", "le=\"+Inf\"", count);
           sample(out, "tiny_httpd_request_duration_seconds_sum", "",
                  static_cast<double>(sum(&Shard::duration_ns)) / 1e9);
           sample(out, "tiny_httpd_request_duration_seconds_count", "", count);
         });

  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    family(out, name, "counter", help, [&] { sample(out, name, "", value); });
  };
  auto gauge = [&](std::string_view name, std::string_view help, double value) {
    family(out, name, "gauge", help, [&] { sample(out, name, "", value); });
  };
  counter("tiny_httpd_received_bytes_total", "Request body bytes received.",
          sum(&Shard::bytes_received));
  counter("tiny_httpd_sent_bytes_total", "Response body bytes sent.", sum(&Shard::bytes_sent));
  const std::uint64_t closed = closed_.load(std::memory_order_relaxed);
  const std::uint64_t accepted = accepted_.load(std::memory_order_relaxed);
  counter("tiny_httpd_connections_accepted_total", "Connections accepted.", accepted);
  gauge("tiny_httpd_connections_open", "Connections accepted and not yet closed.",
        static_cast<double>(accepted > closed ? accepted - closed : 0));
  counter("tiny_httpd_connections_refused_total",
          "Connections accept() failed on (other than at shutdown).",
          refused_.load(std::memory_order_relaxed));
  counter("tiny_httpd_uploads_total", "Bodies stored (PUT, POST /upload) with a 2xx answer.",
          sum(&Shard::uploads));
  counter("tiny_httpd_upload_bytes_total", "Bytes of the bodies stored.",
          sum(&Shard::upload_bytes));

  counter("tiny_coro_tasks_spawned_total", "Tasks spawned on the runtime.", runtime.tasks_spawned);
  gauge("tiny_coro_tasks_alive", "Tasks spawned and not finished.",
        static_cast<double>(runtime.tasks_alive));
  gauge("tiny_coro_global_queue_depth", "Tasks in the runtime's global queue.",
        static_cast<double>(runtime.global_queue_depth));
  gauge("tiny_coro_timers_armed", "Reactor timers waiting to fire.",
        static_cast<double>(runtime.timers_armed));
  gauge("tiny_coro_io_sources", "File descriptors the reactor watches.",
        static_cast<double>(runtime.io_sources));
  gauge("tiny_coro_blocking_threads", "Threads of the blocking pool (uploads write there).",
        static_cast<double>(runtime.blocking.threads));
  gauge("tiny_coro_blocking_queued", "Blocking calls waiting for a pool thread.",
        static_cast<double>(runtime.blocking.queued));
  counter("tiny_coro_blocking_calls_total", "Blocking calls a pool thread started.",
          runtime.blocking.calls_run);
  gauge("tiny_coro_uptime_seconds", "Time since the runtime started.",
        std::chrono::duration<double>(runtime.uptime).count());

  auto per_worker_counter = [&](std::string_view name, std::string_view help,
                                std::uint64_t WorkerMetrics::*field) {
    family(out, name, "counter", help, [&] {
      for (std::size_t w = 0; w < runtime.workers.size(); ++w) {
        sample(out, name, worker_label(w), runtime.workers[w].*field);
      }
    });
  };
  per_worker_counter("tiny_coro_worker_tasks_run_total", "Tasks resumed by the worker's loop.",
                     &WorkerMetrics::tasks_run);
  per_worker_counter("tiny_coro_worker_lifo_slot_hits_total", "Tasks run from the LIFO slot.",
                     &WorkerMetrics::lifo_slot_hits);
  per_worker_counter("tiny_coro_worker_steals_total", "Tasks taken from other workers.",
                     &WorkerMetrics::steals);
  per_worker_counter("tiny_coro_worker_steal_attempts_total", "Tries at another worker's queue.",
                     &WorkerMetrics::steal_attempts);
  per_worker_counter("tiny_coro_worker_global_batches_total",
                     "Batches taken from the global queue.", &WorkerMetrics::global_batches);
  per_worker_counter("tiny_coro_worker_parks_total", "Times the worker went to sleep.",
                     &WorkerMetrics::parks);
  per_worker_counter("tiny_coro_worker_unparks_total", "Times another thread woke the worker.",
                     &WorkerMetrics::unparks);
  family(out, "tiny_coro_worker_busy_seconds_total", "counter", "Time the worker was awake.", [&] {
    for (std::size_t w = 0; w < runtime.workers.size(); ++w) {
      sample(out, "tiny_coro_worker_busy_seconds_total", worker_label(w),
             std::chrono::duration<double>(runtime.workers[w].busy_time).count());
    }
  });
  family(out, "tiny_coro_worker_local_queue_depth", "gauge", "Tasks in the worker's own queue.",
         [&] {
           for (std::size_t w = 0; w < runtime.workers.size(); ++w) {
             sample(out, "tiny_coro_worker_local_queue_depth", worker_label(w),
                    static_cast<std::uint64_t>(runtime.workers[w].local_queue_depth));
           }
         });
  return out;
}

}  // namespace tiny_httpd
