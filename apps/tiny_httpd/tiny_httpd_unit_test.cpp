// tiny_httpd's request logic on its own: Range parsing and conditional requests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <tiny_coro/http_parser.h>

#include "byte_ranges.h"
#include "preconditions.h"

namespace tiny_httpd {
namespace {

using Verdict = RangeRequest::Verdict;

std::vector<ByteRange> partial(std::string_view header, std::uint64_t size) {
  const RangeRequest request = parse_range(header, size);
  EXPECT_EQ(request.verdict, Verdict::kPartial) << header;
  return request.ranges;
}

TEST(ByteRanges, SingleSuffixOpenAndClampedRanges) {
  EXPECT_EQ(partial("bytes=0-9", 100), (std::vector<ByteRange>{{0, 10}}));
  EXPECT_EQ(partial("bytes=90-", 100), (std::vector<ByteRange>{{90, 10}}));
  EXPECT_EQ(partial("bytes=-5", 100), (std::vector<ByteRange>{{95, 5}}));
  EXPECT_EQ(partial("bytes=-500", 100), (std::vector<ByteRange>{{0, 100}}));
  EXPECT_EQ(partial("bytes=50-5000", 100), (std::vector<ByteRange>{{50, 50}}));
  EXPECT_EQ(partial(" bytes=99-99 ", 100), (std::vector<ByteRange>{{99, 1}}));
}

TEST(ByteRanges, SeveralAreSortedAndOverlappingOrTouchingOnesMerged) {
  EXPECT_EQ(partial("bytes=50-59, 0-9", 100), (std::vector<ByteRange>{{0, 10}, {50, 10}}));
  EXPECT_EQ(partial("bytes=0-9,5-19,20-24", 100), (std::vector<ByteRange>{{0, 25}}));
  EXPECT_EQ(partial("bytes=0-9,-10,,", 100), (std::vector<ByteRange>{{0, 10}, {90, 10}}));
  // Unsatisfiable members are dropped while others remain.
  EXPECT_EQ(partial("bytes=200-300,0-0", 100), (std::vector<ByteRange>{{0, 1}}));
}

TEST(ByteRanges, UnsatisfiableOnlyWhenNoRangeFits) {
  EXPECT_EQ(parse_range("bytes=100-", 100).verdict, Verdict::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=100-200,300-", 100).verdict, Verdict::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).verdict, Verdict::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).verdict, Verdict::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-1", 0).verdict, Verdict::kUnsatisfiable);
}

TEST(ByteRanges, MalformedOtherUnitsAndTooManyAreIgnored) {
  for (const char* ignored : {"", "bytes=", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=1",
                              "bytes=0-1,x", "bytes=--1", "bytes=1-2-3", "bytes=+1-2",
                              "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parse_range(ignored, 100).verdict, Verdict::kWhole) << ignored;
  }
  std::string many = "bytes=0-0";
  for (std::size_t i = 1; i <= kMaxRanges; ++i) many += "," + std::to_string(i * 2) + "-" + std::to_string(i * 2);
  EXPECT_EQ(parse_range(many, 1000).verdict, Verdict::kWhole);
}

// A request head with the given extra fields, parsed in place.
struct Request {
  explicit Request(const std::string& fields, const char* method = "GET")
      : text(std::string(method) + " /f HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n") {
    EXPECT_EQ(tiny_coro::HttpParser::parse(text.data(), text.size(), request).status,
              tiny_coro::ParseStatus::kComplete);
  }
  std::string text;
  tiny_coro::HttpRequest request;
};

constexpr std::string_view kTag = "\"abc-1\"";
const Validators kCurrent{kTag, 1'000'000};
constexpr const char* kAtMtime = "Mon, 12 Jan 1970 13:46:40 GMT";  // 1,000,000
constexpr const char* kBefore = "Mon, 12 Jan 1970 13:46:39 GMT";

Precondition evaluate(const std::string& fields, bool exists = true, bool safe = true) {
  const Request r(fields);
  return evaluate_preconditions(r.request, exists ? &kCurrent : nullptr, safe);
}

TEST(Preconditions, IfNoneMatchAndIfModifiedSinceGive304) {
  EXPECT_EQ(evaluate(""), Precondition::kProceed);
  EXPECT_EQ(evaluate("If-None-Match: \"abc-1\"\r\n"), Precondition::kNotModified);
  EXPECT_EQ(evaluate("If-None-Match: \"x\", W/\"abc-1\"\r\n"), Precondition::kNotModified);
  EXPECT_EQ(evaluate("If-None-Match: *\r\n"), Precondition::kNotModified);
  EXPECT_EQ(evaluate("If-None-Match: \"other\"\r\n"), Precondition::kProceed);
  EXPECT_EQ(evaluate(std::string("If-Modified-Since: ") + kAtMtime + "\r\n"),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate(std::string("If-Modified-Since: ") + kBefore + "\r\n"),
            Precondition::kProceed);
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
  EXPECT_EQ(evaluate(std::string("If-None-Match: \"other\"\r\nIf-Modified-Since: ") + kAtMtime +
                     "\r\n"),
            Precondition::kProceed);
  // An unsafe method gets 412 where a GET gets 304.
  EXPECT_EQ(evaluate("If-None-Match: *\r\n", true, false), Precondition::kFailed);
  EXPECT_EQ(evaluate("If-None-Match: *\r\n", false, false), Precondition::kProceed);
  EXPECT_EQ(evaluate("If-Modified-Since: garbage\r\n"), Precondition::kProceed);
}

TEST(Preconditions, IfMatchAndIfUnmodifiedSinceGive412) {
  EXPECT_EQ(evaluate("If-Match: \"abc-1\"\r\n"), Precondition::kProceed);
  EXPECT_EQ(evaluate("If-Match: *\r\n"), Precondition::kProceed);
  EXPECT_EQ(evaluate("If-Match: *\r\n", false), Precondition::kFailed);
  EXPECT_EQ(evaluate("If-Match: W/\"abc-1\"\r\n"), Precondition::kFailed);  // strong only
  EXPECT_EQ(evaluate("If-Match: \"nope\"\r\n"), Precondition::kFailed);
  EXPECT_EQ(evaluate("If-Match: \"abc-1\r\n"), Precondition::kFailed);  // unterminated
  EXPECT_EQ(evaluate(std::string("If-Unmodified-Since: ") + kBefore + "\r\n"),
            Precondition::kFailed);
  EXPECT_EQ(evaluate(std::string("If-Unmodified-Since: ") + kAtMtime + "\r\n"),
            Precondition::kProceed);
  // If-Match, when present, decides instead of If-Unmodified-Since.
  EXPECT_EQ(evaluate(std::string("If-Match: \"abc-1\"\r\nIf-Unmodified-Since: ") + kBefore +
                     "\r\n"),
            Precondition::kProceed);
}

TEST(Preconditions, IfRangeHoldsOnlyForTheExactState) {
  EXPECT_TRUE(if_range_holds(Request("").request, kCurrent));
  EXPECT_TRUE(if_range_holds(Request("If-Range: \"abc-1\"\r\n").request, kCurrent));
  EXPECT_FALSE(if_range_holds(Request("If-Range: W/\"abc-1\"\r\n").request, kCurrent));
  EXPECT_FALSE(if_range_holds(Request("If-Range: \"old\"\r\n").request, kCurrent));
  EXPECT_TRUE(if_range_holds(Request(std::string("If-Range: ") + kAtMtime + "\r\n").request,
                             kCurrent));
  EXPECT_FALSE(if_range_holds(Request(std::string("If-Range: ") + kBefore + "\r\n").request,
                              kCurrent));
}

}  // namespace
}  // namespace tiny_httpd
