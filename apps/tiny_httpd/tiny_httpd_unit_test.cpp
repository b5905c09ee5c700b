// tiny_httpd's request logic on its own: Range parsing and conditional requests.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <tiny_coro/http_parser.h>

#include "byte_ranges.h"
#include "content_coding.h"
#include "file_cache.h"
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
  // Past 64 bits is past the end, not malformed.
  EXPECT_EQ(parse_range("bytes=99999999999999999999-", 100).verdict, Verdict::kUnsatisfiable);
  EXPECT_EQ(partial("bytes=0-99999999999999999999", 100), (std::vector<ByteRange>{{0, 100}}));
  EXPECT_EQ(partial("bytes=-99999999999999999999", 100), (std::vector<ByteRange>{{0, 100}}));
  EXPECT_EQ(partial("Bytes=1-1", 100), (std::vector<ByteRange>{{1, 1}}));
}

TEST(ByteRanges, MalformedOtherUnitsAndTooManyAreIgnored) {
  for (const char* ignored : {"", "bytes=", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=1",
                              "bytes=0-1,x", "bytes=--1", "bytes=1-2-3", "bytes=+1-2"}) {
    EXPECT_EQ(parse_range(ignored, 100).verdict, Verdict::kWhole) << ignored;
  }
  std::string many = "bytes=0-0";
  for (std::size_t i = 1; i <= kMaxRanges; ++i)
    many += "," + std::to_string(i * 2) + "-" + std::to_string(i * 2);
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
  EXPECT_EQ(
      evaluate(std::string("If-None-Match: \"other\"\r\nIf-Modified-Since: ") + kAtMtime + "\r\n"),
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
  EXPECT_EQ(
      evaluate(std::string("If-Match: \"abc-1\"\r\nIf-Unmodified-Since: ") + kBefore + "\r\n"),
      Precondition::kProceed);
}

TEST(Preconditions, IfRangeHoldsOnlyForTheExactState) {
  EXPECT_TRUE(if_range_holds(Request("").request, kCurrent));
  EXPECT_TRUE(if_range_holds(Request("If-Range: \"abc-1\"\r\n").request, kCurrent));
  EXPECT_FALSE(if_range_holds(Request("If-Range: W/\"abc-1\"\r\n").request, kCurrent));
  EXPECT_FALSE(if_range_holds(Request("If-Range: \"old\"\r\n").request, kCurrent));
  EXPECT_TRUE(
      if_range_holds(Request(std::string("If-Range: ") + kAtMtime + "\r\n").request, kCurrent));
  EXPECT_FALSE(
      if_range_holds(Request(std::string("If-Range: ") + kBefore + "\r\n").request, kCurrent));
}

TEST(ContentCoding, PicksTheBestAcceptableSidecarByWeight) {
  EXPECT_EQ(choose_coding("", true, true), Coding::kIdentity);
  EXPECT_EQ(choose_coding("gzip, deflate, br", true, true), Coding::kBrotli);
  EXPECT_EQ(choose_coding("gzip, deflate, br", true, false), Coding::kGzip);
  EXPECT_EQ(choose_coding("gzip, deflate, br", false, false), Coding::kIdentity);
  EXPECT_EQ(choose_coding("br;q=0.5, gzip;q=0.8", true, true), Coding::kGzip);
  EXPECT_EQ(choose_coding("br;q=0, gzip", true, true), Coding::kGzip);
  EXPECT_EQ(choose_coding("GZIP;Q=1.000", true, false), Coding::kGzip);
  EXPECT_EQ(choose_coding("x-gzip", true, false), Coding::kGzip);
  EXPECT_EQ(choose_coding("*", true, true), Coding::kBrotli);
  EXPECT_EQ(choose_coding("*;q=0.2, identity", true, true), Coding::kIdentity);
  EXPECT_EQ(choose_coding("gzip;q=0.5, identity;q=0.9", true, false), Coding::kIdentity);
  // identity;q=0 excludes the file itself: a sidecar if any is acceptable, else the file.
  EXPECT_EQ(choose_coding("gzip;q=0.1, identity;q=0", true, false), Coding::kGzip);
  EXPECT_EQ(choose_coding("br, identity;q=0", true, false), Coding::kIdentity);
  EXPECT_EQ(choose_coding("*;q=0", true, true), Coding::kIdentity);
  // Malformed weights drop their element only.
  EXPECT_EQ(choose_coding("br;q=2, gzip", true, true), Coding::kGzip);
  EXPECT_EQ(choose_coding("br;q=abc", true, true), Coding::kIdentity);
}

namespace fs = std::filesystem;

// A scratch root with a cache over it. catch_up() applies what the kernel queued, so these
// tests need no wait: what they check is exactly which events drop which entries.
struct CacheFixture {
  explicit CacheFixture(std::uint64_t max_bytes = 1 << 20, std::size_t max_descriptors = 1024)
      : dir(fs::temp_directory_path() / ("file_cache_test_" + std::to_string(::getpid()))),
        root((fs::create_directories(dir / "www" / "sub"),
              ::open((dir / "www").c_str(), O_PATH | O_DIRECTORY))),
        cache(root.get(), FileCache::Limits{max_bytes, max_descriptors}) {}
  ~CacheFixture() { fs::remove_all(dir); }
  void write(const std::string& relative, const std::string& bytes) {
    std::ofstream(dir / "www" / relative, std::ios::binary) << bytes;
  }
  // Admits the file at `target` and gives what a lookup then finds.
  std::string admit(const std::string& target) {
    cache.admit(target, parse_request_path(target));
    return cached(target);
  }
  std::string cached(const std::string& target) {
    cache.catch_up();
    const StaticResourcePtr resource = cache.find(target);
    if (!resource) return "(miss)";
    const StaticFilePtr& file = resource->identity;
    if (file->in_memory) return file->bytes;
    std::string bytes(file->size, '\0');
    return ::pread(file->descriptor.get(), bytes.data(), bytes.size(), 0) ==
                   static_cast<ssize_t>(bytes.size())
               ? bytes
               : "(short)";
  }
  fs::path dir;
  tiny_coro::UniqueFd root;
  FileCache cache;
};

TEST(FileCache, KeepsAFileUntilItChangesThenLetsGoOfItsWatches) {
  CacheFixture f;
  ASSERT_TRUE(f.cache.enabled());
  f.write("sub/a.txt", "aaaa");
  f.write("sub/b.txt", "bbbb");
  EXPECT_EQ(f.admit("/sub/a.txt"), "aaaa");
  EXPECT_EQ(f.admit("/sub/b.txt"), "bbbb");
  EXPECT_EQ(f.admit("/sub/missing.txt"), "(miss)");
  // A sibling created, or another file rewritten, leaves a.txt cached.
  f.write("sub/c.txt", "cccc");
  f.write("sub/b.txt", "BBBB");
  EXPECT_EQ(f.cached("/sub/a.txt"), "aaaa");
  EXPECT_EQ(f.cached("/sub/b.txt"), "(miss)");
  // In place, same size: the inode's watch sees it.
  const int fd = ::open((f.dir / "www" / "sub" / "a.txt").c_str(), O_WRONLY);
  ASSERT_EQ(::pwrite(fd, "AA", 2, 0), 2);
  ::close(fd);
  EXPECT_EQ(f.cached("/sub/a.txt"), "(miss)");
  EXPECT_EQ(f.admit("/sub/a.txt"), "AAaa");
  // The directory on the path renamed away.
  fs::rename(f.dir / "www" / "sub", f.dir / "www" / "gone");
  EXPECT_EQ(f.cached("/sub/a.txt"), "(miss)");
  EXPECT_EQ(f.cache.entries(), 0u);
  EXPECT_EQ(f.cache.watches(), 0u);
}

TEST(FileCache, StaysWithinItsByteBudgetOldestOut) {
  CacheFixture f(3 * (1000 + 300));
  for (int i = 0; i < 6; ++i) f.write("f" + std::to_string(i), std::string(1000, 'x'));
  for (int i = 0; i < 6; ++i) EXPECT_NE(f.admit("/f" + std::to_string(i)), "(miss)");
  EXPECT_LE(f.cache.entries(), 3u);
  EXPECT_EQ(f.cached("/f0"), "(miss)");
  EXPECT_NE(f.cached("/f5"), "(miss)");
}

TEST(FileCache, KeepsLargerFilesAsDescriptorsWithinTheirBudget) {
  CacheFixture f(1 << 20, 2);
  const std::string big(100 * 1024, 'b');
  for (int i = 0; i < 3; ++i) f.write("big" + std::to_string(i), big);
  EXPECT_EQ(f.admit("/big0"), big);
  EXPECT_FALSE(f.cache.find("/big0")->identity->in_memory);
  EXPECT_EQ(f.admit("/big1"), big);
  EXPECT_EQ(f.admit("/big2"), big);
  EXPECT_EQ(f.cache.entries(), 2u);  // the oldest gave its descriptor back
  EXPECT_EQ(f.cached("/big0"), "(miss)");
  // Rewritten in place: the descriptor would read the new bytes, but its ETag and length
  // are the old file's, so the entry goes.
  const int fd = ::open((f.dir / "www" / "big1").c_str(), O_WRONLY);
  ASSERT_EQ(::pwrite(fd, "B", 1, 0), 1);
  ::close(fd);
  EXPECT_EQ(f.cached("/big1"), "(miss)");
  EXPECT_EQ(f.cached("/big2"), big);
}

TEST(FileCache, KeepsAFileUnderItsOneCanonicalSpellingOnly) {
  CacheFixture f;
  f.write("sub/x y.txt", "xy");
  EXPECT_EQ(f.admit("/sub/x%20y.txt"), "xy");
  for (const char* other : {"/sub/./x%20y.txt", "//sub/x%20y.txt", "/sub/x%20%79.txt",
                            "/sub%2Fx%20y.txt", "/sub//x%20y.txt"}) {
    EXPECT_EQ(f.admit(other), "(miss)") << other;
  }
  EXPECT_EQ(f.cache.entries(), 1u);
  fs::remove(f.dir / "www" / "sub" / "x y.txt");
  EXPECT_EQ(f.cached("/sub/x%20y.txt"), "(miss)");
  EXPECT_EQ(f.cache.watches(), 0u);
}

TEST(FileCache, NeverKeepsAFileReachedThroughASymlink) {
  CacheFixture f;
  fs::create_directories(f.dir / "www" / "releases" / "v1");
  f.write("releases/v1/app.js", "v1");
  f.write("releases/v1/plain.js", "plain");
  f.write("releases/v1/plain.js.gz", "GZ");
  fs::create_directory_symlink("releases/v1", f.dir / "www" / "current");
  fs::create_symlink("releases/v1/app.js", f.dir / "www" / "app.js");
  EXPECT_EQ(f.admit("/current/app.js"), "(miss)");  // a directory link on the way
  EXPECT_EQ(f.admit("/app.js"), "(miss)");          // the file itself a link
  EXPECT_EQ(f.admit("/releases/v1/app.js"), "v1");  // the same file as written is fine
  fs::create_symlink("plain.js.gz", f.dir / "www" / "releases" / "v1" / "linked.js.gz");
  f.write("releases/v1/linked.js", "linked");
  EXPECT_EQ(f.admit("/releases/v1/linked.js"), "(miss)");  // a sidecar that is a link
  EXPECT_EQ(f.cache.entries(), 1u);
}

}  // namespace
}  // namespace tiny_httpd
