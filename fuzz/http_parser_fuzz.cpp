// libFuzzer target: the request and response head parsers on arbitrary bytes. Besides
// ASan/UBSan's checks (libFuzzer hands over a buffer of exactly `size` bytes, so any read past
// it is caught), it checks what must hold of any input:
//   - every scanner copy (AVX2, SSE2, scalar) gives the same verdict, length and fields;
//   - a complete head's length is within the input, and every view points inside it;
//   - every proper prefix of a complete head is incomplete, never complete or malformed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <tiny_coro/http_parser.h>

#include "http/head_parsers.h"

namespace {

using tiny_coro::HttpParser;
using tiny_coro::HttpRequest;
using tiny_coro::ParseResult;
using tiny_coro::ParseStatus;

void require(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view view, const char* begin, std::size_t size) {
  return view.empty() || (view.data() >= begin && view.data() + view.size() <= begin + size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* buf = reinterpret_cast<const char*>(data);
  // A small cap as well as the real one, so the "too large" path is reached often.
  const std::size_t cap = size > 0 && data[0] % 2 == 0 ? 64 : HttpParser::kMaxHeadBytes;

  tiny_coro::detail::HeadParsers parsers[3];
  const std::size_t count = tiny_coro::detail::usable_head_parsers(parsers, 3);
  HttpRequest reference;
  const ParseResult expected = parsers[count - 1].request(buf, size, reference, cap);
  for (std::size_t i = 0; i + 1 < count; ++i) {
    HttpRequest req;
    const ParseResult got = parsers[i].request(buf, size, req, cap);
    require(got.status == expected.status && got.head_length == expected.head_length);
    require(req.method == reference.method && req.path == reference.path);
    require(req.headers.size() == reference.headers.size());
    for (std::size_t h = 0; h < req.headers.size(); ++h) {
      require(req.headers[h].name == reference.headers[h].name);
      require(req.headers[h].value == reference.headers[h].value);
    }
  }

  HttpRequest req;
  const ParseResult result = HttpParser::parse(buf, size, req, cap);
  if (result.status == ParseStatus::kComplete) {
    require(result.head_length > 0 && result.head_length <= size && result.head_length <= cap);
    require(inside(req.method, buf, size) && inside(req.path, buf, size));
    for (const tiny_coro::Header& h : req.headers) {
      require(inside(h.name, buf, size) && inside(h.value, buf, size));
    }
    // Cutting a complete head anywhere leaves a prefix that is merely incomplete (checked at
    // a few cuts, to keep each run fast).
    for (std::size_t cut : {result.head_length - 1, result.head_length / 2, std::size_t{1}}) {
      if (cut >= result.head_length) continue;
      HttpRequest prefix;
      require(parsers[count - 1].request(buf, cut, prefix, cap).status == ParseStatus::kIncomplete);
    }
  }

  tiny_coro::HttpResponseHead resp;
  const int response_length = HttpParser::parse_response(buf, size, resp);
  require(response_length <= static_cast<int>(size));
  if (response_length > 0) require(resp.status >= 0 && resp.status <= 999);
  return 0;
}
