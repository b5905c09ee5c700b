// HttpParser: ns per request and GB/s on picohttpparser's benchmark request (a 703-byte browser
// request, tests/data/browser_request.txt) and on a minimal `GET / HTTP/1.1`; plus the
// chunked decoder over a 64 KiB body in 4 KiB chunks.
#include <tiny_coro/http_parser.h>

#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "bench_support.h"

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void parse_loop(benchmark::State& state, const std::string& text) {
  tiny_coro::HttpRequest req;  // reused, as a connection reuses it: no allocation per parse
  for (auto _ : state) {
    const int n = tiny_coro::HttpParser::parse_request(text.data(), text.size(), req);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(req.headers.data());
  }
  tiny_coro::bench::check(tiny_coro::HttpParser::parse_request(text.data(), text.size(), req) ==
                              static_cast<int>(text.size()),
                          "parse");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetLabel(tiny_coro::HttpParser::scanner_name());
}

void BM_parse_browser_request(benchmark::State& state) {
  static const std::string text = read_file(TINY_CORO_TEST_DATA_DIR "/browser_request.txt");
  tiny_coro::bench::check(text.size() == 703, "browser_request.txt");
  parse_loop(state, text);
}
BENCHMARK(BM_parse_browser_request);

void BM_parse_minimal_request(benchmark::State& state) {
  static const std::string text = "GET / HTTP/1.1\r\n\r\n";
  parse_loop(state, text);
}
BENCHMARK(BM_parse_minimal_request);

void BM_decode_chunked_64k(benchmark::State& state) {
  std::string encoded;
  for (int i = 0; i < 16; ++i) encoded += "1000\r\n" + std::string(4096, 'x') + "\r\n";
  encoded += "0\r\n\r\n";
  std::string work;
  for (auto _ : state) {
    work = encoded;
    tiny_coro::ChunkedDecoder decoder;
    const auto result = decoder.decode(work.data(), work.size());
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * encoded.size()));
}
BENCHMARK(BM_decode_chunked_64k);

}  // namespace

BENCHMARK_MAIN();
