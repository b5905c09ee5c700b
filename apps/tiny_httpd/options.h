// tiny_httpd's command line (SPEC.md §3).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace tiny_httpd {

struct Options {
  std::string root = ".";
  std::string host = "0.0.0.0";
  int port = 8080;
  int threads = 0;  // 0: one per CPU
  std::uint64_t max_body = std::uint64_t{16} << 30;
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds shutdown_timeout{10};
  std::uint64_t cache_size = 32 << 20;  // bytes of small files kept in memory; 0: none
  std::string metrics_path;             // GET here answers with Prometheus metrics; empty: off
  bool reuse_port = false;              // SO_REUSEPORT: several processes share the port
  bool fsync_uploads = false;           // fsync a PUT's file before the rename
  bool quiet = false;
  bool help = false;
};

// Parses argv; on a bad flag or value returns nullopt and writes why to `error`.
std::optional<Options> parse_options(int argc, char** argv, std::string& error);

const char* usage() noexcept;

}  // namespace tiny_httpd
