// ChunkedDecoder: whole and at every split, in place, and every rejection rule.
#include <tiny_coro/http_parser.h>

#include <gtest/gtest.h>

#include <string>

namespace tiny_coro {
namespace {

struct Decoded {
  ChunkedDecoder::Status status;
  std::string body;
  std::size_t consumed = 0;  // total input bytes used
};

// Feeds `text` in pieces of at most `piece` bytes, as a socket would deliver them.
Decoded decode_in_pieces(std::string text, std::size_t piece) {
  ChunkedDecoder decoder;
  Decoded out{ChunkedDecoder::Status::kNeedMore, {}, 0};
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = std::min(piece, text.size() - at);
    const auto result = decoder.decode(text.data() + at, n);
    out.body.append(text.data() + at, result.body_bytes);
    out.consumed += result.consumed;
    out.status = result.status;
    if (result.status != ChunkedDecoder::Status::kNeedMore) break;
    EXPECT_EQ(result.consumed, n);
    at += n;
  }
  return out;
}

Decoded decode_whole(const std::string& text) { return decode_in_pieces(text, text.size() + 1); }

TEST(ChunkedDecoder, DecodesChunksExtensionsAndTrailers) {
  const std::string body = "5;a=b;c=\"q\\\"x\" ; d\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n";
  const std::string next = "GET / HTTP/1.1\r\n\r\n";
  const Decoded whole = decode_whole(body + next);
  EXPECT_EQ(whole.status, ChunkedDecoder::Status::kDone);
  EXPECT_EQ(whole.body, "hello world");
  EXPECT_EQ(whole.consumed, body.size());  // the next request is left alone
}

TEST(ChunkedDecoder, GivesTheSameBodyAtEverySplit) {
  const std::string text =
      "1a\r\nabcdefghijklmnopqrstuvwxyz\r\nA; ext\r\n0123456789\r\n000\r\n\r\n";
  for (std::size_t piece = 1; piece <= text.size(); ++piece) {
    const Decoded got = decode_in_pieces(text, piece);
    ASSERT_EQ(got.status, ChunkedDecoder::Status::kDone) << piece;
    ASSERT_EQ(got.body, "abcdefghijklmnopqrstuvwxyz0123456789") << piece;
    ASSERT_EQ(got.consumed, text.size()) << piece;
  }
}

TEST(ChunkedDecoder, CountsDecodedBytes) {
  ChunkedDecoder decoder;
  std::string text = "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(decoder.decode(text.data(), text.size()).status, ChunkedDecoder::Status::kDone);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.decoded_bytes(), 3u);
}

TEST(ChunkedDecoder, RejectsMalformedFraming) {
  for (const char* bad : {
           "\r\n",                           // empty size
           "g\r\n",                          // not hex
           "-1\r\n",                         //
           "0x5\r\nhello\r\n0\r\n\r\n",      //
           "10000000000000000\r\n",          // 17 digits: would overflow
           "5\nhello\r\n0\r\n\r\n",          // bare LF after the size
           "5\r\nhelloX\r\n",                // data longer than its size
           "5\r\nhello\n0\r\n\r\n",          // bare LF after data
           "5 \r\nhello\r\n0\r\n\r\n",       // whitespace not followed by ';'
           "5;\r\nhello\r\n0\r\n\r\n",       // extension without a name
           "5;a=\r\nhello\r\n0\r\n\r\n",     // '=' without a value
           "5;a=\"x\r\nhello\r\n0\r\n\r\n",  // unterminated quoted string
           "5;a=b c\r\nhello\r\n0\r\n\r\n",  //
           "5;a(b\r\nhello\r\n0\r\n\r\n",    //
           "0\r\nT v\r\n\r\n",               // trailer without a colon
           "0\r\n T: v\r\n\r\n",             // trailer folded
           "0\r\nT: v\x01\r\n\r\n",          // control byte in a trailer
           "0\r\n\rX",                       // bare CR at the end
       }) {
    EXPECT_EQ(decode_whole(bad).status, ChunkedDecoder::Status::kError) << bad;
  }
}

TEST(ChunkedDecoder, BoundsExtensionsAndTrailers) {
  std::string long_extension = "1;" + std::string(ChunkedDecoder::kMaxLineExtras + 1, 'a');
  EXPECT_EQ(decode_whole(long_extension).status, ChunkedDecoder::Status::kError);
  std::string long_trailer = "0\r\nT: " + std::string(ChunkedDecoder::kMaxTrailerBytes, 'a');
  EXPECT_EQ(decode_whole(long_trailer).status, ChunkedDecoder::Status::kError);
}

TEST(ChunkedDecoder, StaysFailedAfterAnError) {
  ChunkedDecoder decoder;
  std::string bad = "z";
  EXPECT_EQ(decoder.decode(bad.data(), bad.size()).status, ChunkedDecoder::Status::kError);
  std::string good = "0\r\n\r\n";
  EXPECT_EQ(decoder.decode(good.data(), good.size()).status, ChunkedDecoder::Status::kError);
}

}  // namespace
}  // namespace tiny_coro
