#include "options.h"

#include <charconv>
#include <string_view>
#include <thread>

namespace tiny_httpd {
namespace {

template <class Integer>
bool parse_integer(std::string_view text, Integer& out, Integer min, Integer max) {
  Integer value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

const char* usage() noexcept {
  return "usage: tiny_httpd [--root DIR] [--host IP] [--port N] [--threads N]\n"
         "                  [--max-body BYTES] [--header-timeout SECONDS]\n"
         "                  [--idle-timeout SECONDS] [--shutdown-timeout SECONDS]\n"
         "                  [--cache-size BYTES] [--metrics-path PATH] [--reuse-port]\n"
         "                  [--fsync-uploads] [--quiet] [--help]\n"
         "\n"
         "Serves the files under DIR over HTTP/1.1, and stores PUT and POST /upload bodies.\n"
         "\n"
         "  --root DIR                 directory to serve and store into (default .)\n"
         "  --host IP                  IPv4 or IPv6 address to listen on (default 0.0.0.0)\n"
         "  --port N                   TCP port; 0 picks a free one (default 8080)\n"
         "  --threads N                worker threads (default: one per CPU)\n"
         "  --max-body BYTES           largest request body accepted (default 16 GiB)\n"
         "  --header-timeout SECONDS   time to send a request's headers (default 10)\n"
         "  --idle-timeout SECONDS     idle time allowed between requests (default 60)\n"
         "  --shutdown-timeout SECONDS on SIGINT/SIGTERM, time given to requests in\n"
         "                             flight (default 10)\n"
         "  --cache-size BYTES         memory for small files kept between requests;\n"
         "                             never stale (changes are watched); 0: off\n"
         "                             (default 32 MiB)\n"
         "  --metrics-path PATH        answer GET PATH with the server's and the runtime's\n"
         "                             metrics, Prometheus text format (default: off)\n"
         "  --reuse-port               let other processes listen on the same port\n"
         "                             (SO_REUSEPORT; the kernel spreads connections)\n"
         "  --fsync-uploads            fsync each upload before it is renamed into place\n"
         "                             (survives a crash; costs a disk flush per PUT)\n"
         "  --quiet                    no access log\n"
         "  --help                     this text\n"
         "\n"
         "Prints \"listening on http://HOST:PORT\" once it accepts connections.\n";
}

std::optional<Options> parse_options(int argc, char** argv, std::string& error) {
  Options options;
  const unsigned cpus = std::thread::hardware_concurrency();
  options.threads = cpus == 0 ? 1 : static_cast<int>(cpus);
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::string_view value;
    bool inline_value = false;
    if (const auto equals = flag.find('=');
        flag.starts_with("--") && equals != std::string_view::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
      inline_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--quiet") {
      options.quiet = true;
      continue;
    }
    if (flag == "--fsync-uploads") {
      options.fsync_uploads = true;
      continue;
    }
    if (flag == "--reuse-port") {
      options.reuse_port = true;
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        error = std::string(flag) + " needs a value";
        return std::nullopt;
      }
      value = argv[++i];
    }
    bool ok = true;
    std::int64_t seconds = 0;
    if (flag == "--root") {
      options.root = value;
      ok = !value.empty();
    } else if (flag == "--host") {
      options.host = value;
      ok = !value.empty();
    } else if (flag == "--port") {
      ok = parse_integer(value, options.port, 0, 65535);
    } else if (flag == "--threads") {
      ok = parse_integer(value, options.threads, 1, 1024);
    } else if (flag == "--max-body") {
      ok = parse_integer<std::uint64_t>(value, options.max_body, 0, UINT64_MAX);
    } else if (flag == "--metrics-path") {
      options.metrics_path = value;
      // An origin-form path, compared as it is with the request's path (before any '?').
      ok = value.starts_with('/') && value.find_first_of("?# \t") == std::string_view::npos;
    } else if (flag == "--cache-size") {
      ok = parse_integer<std::uint64_t>(value, options.cache_size, 0, UINT64_MAX);
    } else if (flag == "--header-timeout") {
      ok = parse_integer<std::int64_t>(value, seconds, 1, 86400);
      options.header_timeout = std::chrono::seconds(seconds);
    } else if (flag == "--idle-timeout") {
      ok = parse_integer<std::int64_t>(value, seconds, 1, 86400);
      options.idle_timeout = std::chrono::seconds(seconds);
    } else if (flag == "--shutdown-timeout") {
      ok = parse_integer<std::int64_t>(value, seconds, 0, 86400);
      options.shutdown_timeout = std::chrono::seconds(seconds);
    } else {
      error = "unknown option " + std::string(flag);
      return std::nullopt;
    }
    if (!ok) {
      error = "bad value for " + std::string(flag) + ": '" + std::string(value) + "'";
      return std::nullopt;
    }
  }
  return options;
}

}  // namespace tiny_httpd
