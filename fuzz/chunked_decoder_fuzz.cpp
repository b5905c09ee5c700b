// libFuzzer target: the chunked decoder must give the same verdict, body and consumed length
// whether the input arrives at once or in pieces (the first byte picks the piece size), and
// must never report more body than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <tiny_coro/http_parser.h>

namespace {

using tiny_coro::ChunkedDecoder;

void require(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::kNeedMore;
  std::string body;
  std::size_t consumed = 0;
};

Outcome decode(const std::uint8_t* data, std::size_t size, std::size_t piece) {
  std::vector<char> copy(data, data + size);
  ChunkedDecoder decoder;
  Outcome out;
  for (std::size_t at = 0; at < size;) {
    const std::size_t n = piece < size - at ? piece : size - at;
    const auto result = decoder.decode(copy.data() + at, n);
    require(result.body_bytes <= result.consumed && result.consumed <= n);
    out.body.append(copy.data() + at, result.body_bytes);
    out.consumed += result.consumed;
    out.status = result.status;
    if (result.status != ChunkedDecoder::Status::kNeedMore) break;
    require(result.consumed == n);
    at += n;
  }
  require(decoder.decoded_bytes() == out.body.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = data[0] % 17 + 1;
  ++data;
  --size;
  const Outcome whole = decode(data, size, size == 0 ? 1 : size);
  const Outcome split = decode(data, size, piece);
  require(whole.status == split.status);
  if (whole.status != ChunkedDecoder::Status::kError) {
    require(whole.body == split.body && whole.consumed == split.consumed);
  }
  return 0;
}
