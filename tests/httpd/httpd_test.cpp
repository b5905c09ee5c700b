// tiny_httpd end to end (SPEC.md §3): the binary on a free port, real clients — raw sockets
// from the test and curl.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "httpd/httpd_fixture.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/wait_for.h"

namespace tiny_coro::test {
namespace {

namespace fs = std::filesystem;

// Entries under `dir`, counted while the server may be removing some: a directory that
// vanishes under the walk makes the count start over (the callers poll until it settles).
std::size_t entries_in(const fs::path& dir) {
  for (;;) {
    std::size_t n = 0;
    std::error_code error;
    fs::recursive_directory_iterator it(dir, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) ++n;
    if (!error) return n;
  }
}

// Files the process has open whose path lies under `dir`.
int open_files_under(pid_t pid, const fs::path& dir) {
  int count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code ignored;
    const std::string target = fs::read_symlink(entry.path(), ignored).string();
    if (target.rfind(dir.string() + "/", 0) == 0) ++count;
  }
  return count;
}

std::string put_request(const std::string& target, const std::string& body) {
  return "PUT " + target +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

TEST(TinyHttpd, ReusePortLetsTwoProcessesShareOnePort) {
  Httpd first({"--reuse-port"});
  ASSERT_GT(first.port(), 0);
  const std::string port = std::to_string(first.port());
  Httpd second({"--reuse-port", "--port", port});
  EXPECT_EQ(second.port(), first.port()) << second.first_line();
  write_whole_file(second.www() / "which.txt", "second");
  write_whole_file(first.www() / "which.txt", "first");
  // The kernel spreads new connections over both listeners: keep asking until each answered.
  bool first_answered = false;
  bool second_answered = false;
  for (int i = 0; i < 10'000 && !(first_answered && second_answered); ++i) {
    const auto response = first.get("/which.txt");
    ASSERT_TRUE(response);
    first_answered |= response->body == "first";
    second_answered |= response->body == "second";
  }
  EXPECT_TRUE(first_answered && second_answered);
  // Without the option the port is taken.
  Httpd refused({"--port", port});
  EXPECT_EQ(refused.port(), -1);
}

TEST(TinyHttpd, PrintsTheListeningLineOnce) {
  Httpd httpd;
  ASSERT_GT(httpd.port(), 0) << httpd.first_line();
  EXPECT_EQ(httpd.first_line(), "listening on http://127.0.0.1:" + std::to_string(httpd.port()));
}

TEST(TinyHttpd, HelpListsEveryFlagAndBadFlagsFail) {
  ChildProcess help({TINY_HTTPD_PATH, "--help"});
  std::string text;
  while (auto line = help.read_line()) text += *line + "\n";
  for (const char* flag : {"--root", "--host", "--port", "--threads", "--max-body",
                           "--header-timeout", "--idle-timeout", "--shutdown-timeout",
                           "--cache-size", "--metrics-path", "--reuse-port", "--quiet", "--help"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.stop(0), 0);
  ChildProcess bad({TINY_HTTPD_PATH, "--port", "http"});
  const auto status = bad.stop(0);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
}

TEST(TinyHttpd, ServesFilesWithLengthAndType) {
  Httpd httpd;
  write_whole_file(httpd.www() / "index.html", "<h1>home</h1>");
  write_whole_file(httpd.www() / "notes.txt", "plain text");
  write_whole_file(httpd.www() / "img" / "dot.png", std::string("\x89PNG\r\n\x1a\n", 8));
  write_whole_file(httpd.www() / "a b" / "c%d.bin", std::string(100000, 'z'));
  auto html = httpd.get("/index.html?ignored=1");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->body, "<h1>home</h1>");
  EXPECT_EQ(html->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(html->header("content-length"), "13");
  auto text = httpd.get("/notes.txt");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->header("content-type"), "text/plain; charset=utf-8");
  auto png = httpd.get("/img/dot.png");
  ASSERT_TRUE(png);
  EXPECT_EQ(png->header("content-type"), "image/png");
  EXPECT_EQ(png->body.size(), 8u);
  auto encoded = httpd.get("/a%20b/c%25d.bin");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->status, 200);
  EXPECT_EQ(encoded->header("content-type"), "application/octet-stream");
  EXPECT_EQ(encoded->body, std::string(100000, 'z'));
  auto head = httpd.request("HEAD /notes.txt HTTP/1.1\r\nHost: t\r\n\r\n", /*head_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length"), "10");
  EXPECT_TRUE(head->body.empty());
  auto missing = httpd.get("/nope.txt");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

std::string get_with(const std::string& target, const std::string& fields) {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n";
}

// The parts of a multipart/byteranges body: each part's Content-Range and bytes.
std::vector<std::pair<std::string, std::string>> multipart_parts(const ParsedResponse& response) {
  std::vector<std::pair<std::string, std::string>> parts;
  const std::string type = response.header("content-type");
  const std::string marker = "boundary=";
  const std::size_t at = type.find(marker);
  if (at == std::string::npos) return parts;
  const std::string delimiter = "--" + type.substr(at + marker.size());
  std::size_t pos = 0;
  while ((pos = response.body.find(delimiter, pos)) != std::string::npos) {
    pos += delimiter.size();
    if (response.body.compare(pos, 2, "--") == 0) break;
    const std::size_t head_end = response.body.find("\r\n\r\n", pos);
    const std::string head = response.body.substr(pos, head_end - pos);
    const std::size_t range_at = head.find("Content-Range: ");
    const std::string range =
        head.substr(range_at + 15, head.find("\r\n", range_at) - range_at - 15);
    const std::size_t next = response.body.find("\r\n" + delimiter, head_end);
    parts.emplace_back(range, response.body.substr(head_end + 4, next - head_end - 4));
    pos = next;
  }
  return parts;
}

TEST(TinyHttpd, AnswersConditionalRequestsWithStrongEtags) {
  Httpd httpd;
  write_whole_file(httpd.www() / "page.html", "<p>one</p>");
  auto first = httpd.get("/page.html");
  ASSERT_TRUE(first);
  const std::string etag = first->header("etag");
  const std::string modified = first->header("last-modified");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(modified.size(), 29u);
  EXPECT_EQ(first->header("accept-ranges"), "bytes");

  auto not_modified = httpd.request(get_with("/page.html", "If-None-Match: " + etag + "\r\n"));
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->header("etag"), etag);
  EXPECT_TRUE(not_modified->body.empty());
  auto since = httpd.request(get_with("/page.html", "If-Modified-Since: " + modified + "\r\n"));
  ASSERT_TRUE(since);
  EXPECT_EQ(since->status, 304);
  auto other = httpd.request(get_with("/page.html", "If-None-Match: \"other\"\r\n"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, "<p>one</p>");
  auto failed = httpd.request(get_with("/page.html", "If-Match: \"other\"\r\n"));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 412);
  auto unmodified = httpd.request(
      get_with("/page.html", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
  ASSERT_TRUE(unmodified);
  EXPECT_EQ(unmodified->status, 412);

  // Same size, new content: a new strong tag, however close in time.
  write_whole_file(httpd.www() / "page.html", "<p>two</p>");
  wait_past_freshness_bound();
  auto changed = httpd.request(get_with("/page.html", "If-None-Match: " + etag + "\r\n"));
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200);
  EXPECT_EQ(changed->body, "<p>two</p>");
  EXPECT_NE(changed->header("etag"), etag);
}

TEST(TinyHttpd, PutHonoursItsPreconditions) {
  Httpd httpd;
  write_whole_file(httpd.www() / "doc.txt", "version 1");
  const std::string etag = httpd.get("/doc.txt").value().header("etag");
  auto put_with = [&](const std::string& fields, const std::string& body) {
    return httpd.request("PUT /doc.txt HTTP/1.1\r\nHost: t\r\n" + fields +
                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  auto create_only = put_with("If-None-Match: *\r\n", "clobber");
  ASSERT_TRUE(create_only);
  EXPECT_EQ(create_only->status, 412);
  auto stale = put_with("If-Match: \"stale\"\r\n", "clobber");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 412);
  EXPECT_EQ(read_whole_file(httpd.www() / "doc.txt"), "version 1");
  auto current = put_with("If-Match: " + etag + "\r\n", "version 2");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->status, 204);
  EXPECT_EQ(read_whole_file(httpd.www() / "doc.txt"), "version 2");
  auto missing = httpd.request(
      "PUT /new.txt HTTP/1.1\r\nHost: t\r\nIf-Match: *\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 412);
  EXPECT_FALSE(fs::exists(httpd.www() / "new.txt"));
  auto fresh = httpd.request(
      "PUT /new.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 201);
  EXPECT_TRUE(httpd.healthy());
}

// Two "create only" PUTs of one name, the first still sending its body when the second
// completes: the first passed its check when it began, but must fail at its commit.
TEST(TinyHttpd, ConditionalPutsAreCheckedAgainWhenTheyCommit) {
  Httpd httpd;
  BlockingClient slow(httpd.port());
  ASSERT_TRUE(
      slow.send("PUT /race.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n"
                "Content-Length: 10\r\n\r\nslow-"));
  ASSERT_TRUE(httpd.healthy());  // a round trip: the server has read the slow head by now
  auto fast = httpd.request(
      "PUT /race.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\nContent-Length: 4\r\n\r\nfast");
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->status, 201);
  ASSERT_TRUE(slow.send("body!"));
  auto late = slow.read_response();
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 412);
  EXPECT_EQ(read_whole_file(httpd.www() / "race.txt"), "fast");
}

TEST(TinyHttpd, ServesRangesSingleMultipleOverlappingSuffixAndUnsatisfiable) {
  Httpd httpd;
  std::string small;
  for (int i = 0; i < 1000; ++i) small.push_back(static_cast<char>('A' + i % 26));
  std::string large;  // above the in-memory limit: sent from its descriptor
  for (int i = 0; i < (1 << 20); ++i) large.push_back(static_cast<char>('a' + (i * 7) % 26));
  write_whole_file(httpd.www() / "small.txt", small);
  write_whole_file(httpd.www() / "large.bin", large);
  for (const auto& [name, content] :
       {std::pair{"/small.txt", small}, std::pair{"/large.bin", large}}) {
    SCOPED_TRACE(name);
    const std::string size = std::to_string(content.size());
    auto single = httpd.request(get_with(name, "Range: bytes=10-19\r\n"));
    ASSERT_TRUE(single);
    EXPECT_EQ(single->status, 206);
    EXPECT_EQ(single->header("content-range"), "bytes 10-19/" + size);
    EXPECT_EQ(single->body, content.substr(10, 10));
    auto suffix = httpd.request(get_with(name, "Range: bytes=-5\r\n"));
    ASSERT_TRUE(suffix);
    EXPECT_EQ(suffix->body, content.substr(content.size() - 5));
    auto overlapping = httpd.request(get_with(name, "Range: bytes=0-9,5-14\r\n"));
    ASSERT_TRUE(overlapping);
    EXPECT_EQ(overlapping->status, 206);
    EXPECT_EQ(overlapping->header("content-range"), "bytes 0-14/" + size);
    EXPECT_EQ(overlapping->body, content.substr(0, 15));
    auto several = httpd.request(get_with(name, "Range: bytes=100-109, 0-4, -3\r\n"));
    ASSERT_TRUE(several);
    EXPECT_EQ(several->status, 206);
    EXPECT_EQ(several->header("content-type").rfind("multipart/byteranges; boundary=", 0), 0u);
    const auto parts = multipart_parts(*several);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0],
              (std::pair<std::string, std::string>{"bytes 0-4/" + size, content.substr(0, 5)}));
    EXPECT_EQ(parts[1], (std::pair<std::string, std::string>{"bytes 100-109/" + size,
                                                             content.substr(100, 10)}));
    const std::uint64_t tail = content.size() - 3;
    EXPECT_EQ(parts[2],
              (std::pair<std::string, std::string>{
                  "bytes " + std::to_string(tail) + "-" + std::to_string(tail + 2) + "/" + size,
                  content.substr(tail)}));
    auto unsatisfiable = httpd.request(get_with(name, "Range: bytes=" + size + "-\r\n"));
    ASSERT_TRUE(unsatisfiable);
    EXPECT_EQ(unsatisfiable->status, 416);
    EXPECT_EQ(unsatisfiable->header("content-range"), "bytes */" + size);
    const std::string etag = httpd.get(name).value().header("etag");
    auto still = httpd.request(get_with(name, "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n"));
    ASSERT_TRUE(still);
    EXPECT_EQ(still->status, 206);
    auto stale = httpd.request(get_with(name, "Range: bytes=0-0\r\nIf-Range: \"old\"\r\n"));
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, 200);
    EXPECT_EQ(stale->body.size(), content.size());
    auto ignored = httpd.request(get_with(name, "Range: lines=1-2\r\n"));
    ASSERT_TRUE(ignored);
    EXPECT_EQ(ignored->status, 200);
  }
}

// The cache is warm for every file below (each was served twice); each change must be
// served to the first request made the freshness bound after it.
TEST(TinyHttpd, NeverServesAChangedFileStale) {
  Httpd httpd;
  const fs::path page = httpd.www() / "docs" / "page.txt";
  write_whole_file(page, "version-00");
  auto warm = [&](const std::string& target) {
    for (int i = 0; i < 2; ++i) ASSERT_EQ(httpd.get(target).value().status, 200);
  };
  // Rewritten in place: same size, same second, same inode.
  for (int round = 1; round <= 20; ++round) {
    warm("/docs/page.txt");
    char version[16];
    std::snprintf(version, sizeof(version), "version-%02d", round);
    const int fd = ::open(page.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, version, 10, 0), 10);
    ::close(fd);
    wait_past_freshness_bound();
    ASSERT_EQ(httpd.get("/docs/page.txt").value().body, version) << "round " << round;
  }
  // Renamed over.
  warm("/docs/page.txt");
  write_whole_file(httpd.www() / "docs" / "next.txt", "renamed over");
  fs::rename(httpd.www() / "docs" / "next.txt", page);
  wait_past_freshness_bound();
  EXPECT_EQ(httpd.get("/docs/page.txt").value().body, "renamed over");
  // Written through a hard link outside the root: only the inode knows.
  warm("/docs/page.txt");
  fs::create_hard_link(page, httpd.outside() / "link.txt");
  {
    std::ofstream out(httpd.outside() / "link.txt", std::ios::binary | std::ios::in);
    out << "RENAMED OVER";
  }
  wait_past_freshness_bound();
  EXPECT_EQ(httpd.get("/docs/page.txt").value().body, "RENAMED OVER");
  // Deleted.
  warm("/docs/page.txt");
  fs::remove(page);
  wait_past_freshness_bound();
  EXPECT_EQ(httpd.get("/docs/page.txt").value().status, 404);
  // A directory's index.html removed: the listing takes its place.
  write_whole_file(httpd.www() / "site" / "index.html", "index");
  warm("/site/");
  fs::remove(httpd.www() / "site" / "index.html");
  wait_past_freshness_bound();
  const auto listing = httpd.get("/site/").value();
  EXPECT_EQ(listing.status, 200);
  EXPECT_NE(listing.body, "index");
}

TEST(TinyHttpd, ServesTheSameWithTheCacheOff) {
  Httpd httpd({"--cache-size", "0"});
  write_whole_file(httpd.www() / "a.txt", "first");
  write_whole_file(httpd.www() / "a.txt.gz", "GZ");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(httpd.get("/a.txt").value().body, "first");
  EXPECT_EQ(httpd.request(get_with("/a.txt", "Accept-Encoding: gzip\r\n")).value().body, "GZ");
  write_whole_file(httpd.www() / "a.txt", "second");
  EXPECT_EQ(httpd.get("/a.txt").value().body, "second");  // no cache: no bound to wait for
}

TEST(TinyHttpd, ADirectorySwappedForASymlinkOutOfTheRootIsNeverFollowed) {
  Httpd httpd;
  write_whole_file(httpd.www() / "dir" / "file.txt", "inside");
  write_whole_file(httpd.outside() / "elsewhere" / "file.txt", "SECRET");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(httpd.get("/dir/file.txt").value().body, "inside");
  fs::rename(httpd.www() / "dir", httpd.www() / ".moved");
  fs::create_directory_symlink(httpd.outside() / "elsewhere", httpd.www() / "dir");
  wait_past_freshness_bound();
  const auto response = httpd.get("/dir/file.txt").value();
  EXPECT_NE(response.body, "SECRET");
  EXPECT_NE(response.body, "inside");
  EXPECT_TRUE(response.status == 403 || response.status == 404) << response.status;
}

// A deploy that swaps what a symlink inside the root points through: nothing on the path
// as requested changes, so a cache that watched only that path would serve the old release.
TEST(TinyHttpd, AReleaseSwappedBehindASymlinkIsServedNew) {
  Httpd httpd;
  write_whole_file(httpd.www() / "releases" / "v1" / "app.js", "release one");
  fs::create_directory_symlink("releases/v1", httpd.www() / "current");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(httpd.get("/current/app.js").value().body, "release one");
  fs::rename(httpd.www() / "releases", httpd.www() / "releases.old");
  write_whole_file(httpd.www() / "releases" / "v1" / "app.js", "release two");
  wait_past_freshness_bound();
  EXPECT_EQ(httpd.get("/current/app.js").value().body, "release two");
}

TEST(TinyHttpd, APutIsServedByTheVeryNextRequest) {
  Httpd httpd;
  write_whole_file(httpd.www() / "note.txt", "old");
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 2; ++i) ASSERT_EQ(httpd.get("/note.txt").value().status, 200);
    const std::string body = "new " + std::to_string(round);
    ASSERT_EQ(httpd.request(put_request("/note.txt", body)).value().status, 204);
    ASSERT_EQ(httpd.get("/note.txt").value().body, body);  // no wait: the PUT caught up
  }
}

TEST(TinyHttpd, SendsPrecompressedSidecarsTheClientAccepts) {
  Httpd httpd;
  write_whole_file(httpd.www() / "app.js", "plain javascript");
  write_whole_file(httpd.www() / "app.js.gz", "GZIP BYTES");
  write_whole_file(httpd.www() / "app.js.br", "BROTLI BYTES");
  write_whole_file(httpd.www() / "alone.txt", "no sidecars");
  auto with = [&](const std::string& accept) {
    return httpd.request(get_with("/app.js", "Accept-Encoding: " + accept + "\r\n")).value();
  };
  const auto plain = httpd.get("/app.js").value();
  EXPECT_EQ(plain.body, "plain javascript");
  EXPECT_EQ(plain.header("content-encoding"), "");
  EXPECT_EQ(plain.header("vary"), "Accept-Encoding");
  for (int pass = 0; pass < 2; ++pass) {  // from disk, then from the cache
    const auto brotli = with("gzip, deflate, br");
    EXPECT_EQ(brotli.body, "BROTLI BYTES");
    EXPECT_EQ(brotli.header("content-encoding"), "br");
    EXPECT_EQ(brotli.header("content-type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(brotli.header("vary"), "Accept-Encoding");
    EXPECT_EQ(with("gzip").body, "GZIP BYTES");
    EXPECT_EQ(with("br;q=0.1, gzip;q=0.9").body, "GZIP BYTES");
    EXPECT_EQ(with("gzip;q=0, br;q=0, identity").body, "plain javascript");
    EXPECT_EQ(with("identity;q=0, gzip").body, "GZIP BYTES");
    EXPECT_EQ(with("compress").body, "plain javascript");
  }
  // Each form has its own validator; a range is of the encoded bytes.
  const auto gzip = with("gzip");
  EXPECT_NE(gzip.header("etag"), plain.header("etag"));
  const auto revalidated = httpd.request(get_with(
      "/app.js", "Accept-Encoding: gzip\r\nIf-None-Match: " + gzip.header("etag") + "\r\n"));
  EXPECT_EQ(revalidated.value().status, 304);
  EXPECT_EQ(revalidated.value().header("vary"), "Accept-Encoding");
  const auto part =
      httpd.request(get_with("/app.js", "Accept-Encoding: gzip\r\nRange: bytes=0-3\r\n")).value();
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "GZIP");
  EXPECT_EQ(part.header("content-encoding"), "gzip");
  EXPECT_EQ(httpd.get("/alone.txt").value().header("vary"), "");
  // Sidecars that come and go are seen like any other change.
  fs::remove(httpd.www() / "app.js.br");
  wait_past_freshness_bound();
  EXPECT_EQ(with("br, gzip").body, "GZIP BYTES");
  write_whole_file(httpd.www() / "alone.txt.br", "NOW COMPRESSED");
  wait_past_freshness_bound();
  const auto now = httpd.request(get_with("/alone.txt", "Accept-Encoding: br\r\n")).value();
  EXPECT_EQ(now.body, "NOW COMPRESSED");
  EXPECT_EQ(now.header("vary"), "Accept-Encoding");
}

TEST(TinyHttpd, ServesDirectoriesAndRedirectsTheirBareNames) {
  Httpd httpd;
  write_whole_file(httpd.www() / "site" / "index.html", "site index");
  write_whole_file(httpd.www() / "files" / "one.txt", "1");
  write_whole_file(httpd.www() / "files" / "two & <three>.txt", "2");
  auto index = httpd.get("/site/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->body, "site index");
  auto listing = httpd.get("/files/");
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->status, 200);
  EXPECT_NE(listing->body.find("one.txt"), std::string::npos);
  EXPECT_NE(listing->body.find("two &amp; &lt;three&gt;.txt"), std::string::npos);
  auto redirect = httpd.get("/files?x=1");
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 301);
  EXPECT_EQ(redirect->header("location"), "/files/?x=1");
  // The Location never names another host, whatever the request's slashes.
  fs::create_directories(httpd.www() / "evil.example");
  auto offsite = httpd.get("//evil.example");
  ASSERT_TRUE(offsite);
  EXPECT_EQ(offsite->status, 301);
  EXPECT_EQ(offsite->header("location"), "/evil.example/");
}

// What python's json module makes of `text`: its entries as "type name size" lines, or
// "invalid" — a real parser, so escaping mistakes show.
std::string parsed_json_listing(const std::string& text) {
  return output_for_file(
      text,
      "python3 -c 'import json,sys\n"
      "try:\n d=json.load(open(sys.argv[1],encoding=\"utf-8\"))\n"
      "except Exception: print(\"invalid\"); sys.exit()\n"
      "for e in d: print(e[\"type\"], e[\"name\"], e.get(\"size\",\"-\"), len(e[\"mtime\"]))'",
      "listing_");
}

TEST(TinyHttpd, ListsDirectoriesLikeAutoindexAsHtmlOrJson) {
  Httpd httpd;
  write_whole_file(httpd.www() / "d" / "b.txt", "12345");
  write_whole_file(httpd.www() / "d" / "a \"<q>\".txt", "1");
  write_whole_file(httpd.www() / "d" / std::string("bad\xff.bin"), "xyz");
  write_whole_file(httpd.www() / "d" / ".hidden", "h");
  write_whole_file(httpd.www() / "d" / "zsub" / "inner.txt", "i");
  auto html = httpd.get("/d/");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->header("vary"), "Accept");
  const std::string& page = html->body;
  EXPECT_NE(page.find("<a href=\"../\">../</a>"), std::string::npos);
  const std::size_t sub = page.find("href=\"zsub/\"");
  const std::size_t quoted = page.find("a &quot;&lt;q&gt;&quot;.txt");
  const std::size_t plain = page.find("href=\"b.txt\"");
  ASSERT_NE(sub, std::string::npos);
  ASSERT_NE(quoted, std::string::npos);
  ASSERT_NE(plain, std::string::npos);
  EXPECT_LT(sub, quoted);  // directories first, then names in order
  EXPECT_LT(quoted, plain);
  EXPECT_NE(page.find("<td class=\"size\">5</td>"), std::string::npos);
  EXPECT_EQ(page.find(".hidden"), std::string::npos);
  EXPECT_EQ(page.find("<q>"), std::string::npos);

  auto json = httpd.request(get_with("/d/", "Accept: application/json\r\n"));
  ASSERT_TRUE(json);
  EXPECT_EQ(json->header("content-type"), "application/json");
  EXPECT_EQ(parsed_json_listing(json->body),
            "directory zsub - 29\n"
            "file a \"<q>\".txt 1 29\n"
            "file b.txt 5 29\n"
            "file bad\xef\xbf\xbd.bin 3 29\n");  // U+FFFD for the byte that is not UTF-8
}

TEST(TinyHttpd, NeverReadsOutsideTheRoot) {
  Httpd httpd;
  write_whole_file(httpd.outside() / "secret.txt", "SECRET");
  write_whole_file(httpd.www() / "sub" / "ok.txt", "ok");
  fs::create_symlink(httpd.outside() / "secret.txt", httpd.www() / "link.txt");
  fs::create_directory_symlink(httpd.outside(), httpd.www() / "linkdir");
  const std::vector<std::string> attacks = {
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/sub/../../secret.txt",
      "/sub/%2e%2e/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/link.txt",
      "/linkdir/secret.txt",
      "//secret.txt",
      "/./../secret.txt",
      "/%00/secret.txt",
      "/sub/..%2f..%2fsecret.txt",
      "http://t/../secret.txt",
      "/" + httpd.outside().string() + "/secret.txt",
  };
  for (const std::string& target : attacks) {
    auto response = httpd.get(target);
    ASSERT_TRUE(response) << target;
    EXPECT_TRUE(response->status == 400 || response->status == 403 || response->status == 404)
        << target << " -> " << response->status;
    EXPECT_EQ(response->body.find("SECRET"), std::string::npos) << target;
  }
  auto inside = httpd.get("/sub/../sub/ok.txt");  // '..' is refused even when it stays inside
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->status, 400);
  // Writes are held to the root the same way.
  for (const std::string& target :
       {std::string("/../planted.txt"), std::string("/linkdir/planted.txt"),
        std::string("/%2e%2e/planted.txt")}) {
    auto response = httpd.request(put_request(target, "x"));
    ASSERT_TRUE(response) << target;
    EXPECT_GE(response->status, 400) << target;
  }
  EXPECT_FALSE(fs::exists(httpd.outside() / "planted.txt"));
  EXPECT_TRUE(httpd.healthy());
}

TEST(TinyHttpd, PutStoresFilesCreatingDirectories) {
  Httpd httpd;
  auto created = httpd.request(put_request("/new/deep/file.txt", "first"));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(read_whole_file(httpd.www() / "new" / "deep" / "file.txt"), "first");
  auto replaced = httpd.request(put_request("/new/deep/file.txt", "second"));
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(replaced->status == 200 || replaced->status == 204) << replaced->status;
  EXPECT_EQ(read_whole_file(httpd.www() / "new" / "deep" / "file.txt"), "second");
  auto chunked = httpd.request(
      "PUT /chunked.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 201);
  EXPECT_EQ(read_whole_file(httpd.www() / "chunked.txt"), "abcdefg");
  auto fetched = httpd.get("/new/deep/file.txt");
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->body, "second");
}

// --fsync-uploads: the same PUTs, each synced before its rename; a large body crosses the
// pool writer's pieces.
TEST(TinyHttpd, FsyncUploadsStoresEveryPut) {
  Httpd httpd({"--fsync-uploads"});
  std::string big(600'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  auto created = httpd.request(put_request("/synced/big.bin", big));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(read_whole_file(httpd.www() / "synced" / "big.bin"), big);
  auto small = httpd.request(put_request("/synced/small.txt", "tiny"));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 201);
  EXPECT_EQ(httpd.get("/synced/small.txt").value().body, "tiny");
}

TEST(TinyHttpd, AnAbortedPutLeavesNothingBehind) {
  Httpd httpd;
  write_whole_file(httpd.www() / "keep.txt", "original");
  const std::size_t before = entries_in(httpd.www());
  {  // new file, new directories, short body then gone
    BlockingClient client(httpd.port());
    ASSERT_TRUE(client.send(
        "PUT /fresh/dir/file.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n" +
        std::string(300000, 'x')));
  }
  {  // replacement of an existing file, short body then gone
    BlockingClient client(httpd.port());
    ASSERT_TRUE(
        client.send("PUT /keep.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nshort"));
    client.shutdown_write();  // the server sees the end of stream mid-body
    auto response = client.read_response();
    if (response) {
      EXPECT_GE(response->status, 400);
    }
  }
  {  // chunked, broken off before the last chunk
    BlockingClient client(httpd.port());
    ASSERT_TRUE(client.send(
        "PUT /chunky.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  }
  EXPECT_TRUE(httpd.healthy());  // answered after the aborted uploads were handled...
  // ...but the aborts are handled asynchronously: wait until the tree settles back.
  EXPECT_TRUE(wait_for([&] { return entries_in(httpd.www()) == before; }));
  EXPECT_EQ(read_whole_file(httpd.www() / "keep.txt"), "original");
  EXPECT_FALSE(fs::exists(httpd.www() / "fresh"));
  EXPECT_FALSE(fs::exists(httpd.www() / "chunky.txt"));
}

// A body that stops coming is given up after the idle timeout, between the splices that
// move it (the socket is waited for on the worker), and leaves no file; the server goes on.
TEST(TinyHttpd, AStalledPutBodyTimesOutAndLeavesNothing) {
  Httpd httpd({"--idle-timeout", "1"});
  const std::size_t before = entries_in(httpd.www());
  BlockingClient client(httpd.port());
  ASSERT_TRUE(client.send("PUT /stalled.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 4000000\r\n\r\n"));
  ASSERT_TRUE(client.send(std::string(1500000, 's')));  // then nothing more
  EXPECT_TRUE(client.closed_by_peer());  // within the idle timeout's second, or so
  EXPECT_TRUE(wait_for([&] { return entries_in(httpd.www()) == before; }));
  EXPECT_FALSE(fs::exists(httpd.www() / "stalled.bin"));
  EXPECT_TRUE(httpd.healthy());
}

// Two uploads into one new directory: the first made it, the second walked into it. The
// first is then broken off. Tidying up "its" directory must not pull it from under the
// second, whose unnamed temporary leaves no entry there (the directory looks empty).
TEST(TinyHttpd, AFailedPutLeavesTheDirectoryAnotherPutIsUsing) {
  Httpd httpd({}, /*quiet=*/false);
  const auto start_put = [&](BlockingClient& client, const std::string& target) {
    // 100 Continue comes once the server has made the directories and the temporary file.
    EXPECT_TRUE(client.send("PUT " + target +
                            " HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
                            "Expect: 100-continue\r\n\r\n"));
    const auto interim = client.read_response();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
  };
  BlockingClient maker(httpd.port());
  start_put(maker, "/shared/first.txt");
  BlockingClient user(httpd.port());
  start_put(user, "/shared/second.txt");
  ASSERT_TRUE(maker.send("abc"));
  maker.shutdown_write();  // the first upload ends short: it fails and tidies up
  for (;;) {               // its access log line comes after the tidying
    const auto line = httpd.process().read_line();
    ASSERT_TRUE(line);
    if (line->find("PUT /shared/first.txt") != std::string::npos) break;
  }
  ASSERT_TRUE(user.send("0123456789"));
  const auto stored = user.read_response();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(read_whole_file(httpd.www() / "shared" / "second.txt"), "0123456789");
  EXPECT_FALSE(fs::exists(httpd.www() / "shared" / "first.txt"));
}

TEST(TinyHttpd, PostUploadStoresTheBodyLikeTheManualsExample) {
  Httpd httpd;
  std::string body(200000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  auto response = httpd.request("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "Upload Success!");
  EXPECT_TRUE(read_whole_file(httpd.www() / "uploaded_file.bin") == body);
}

TEST(TinyHttpd, KeepsAlivePipelinesAndHonoursHttp10AndClose) {
  Httpd httpd;
  write_whole_file(httpd.www() / "a.txt", "A");
  write_whole_file(httpd.www() / "b.txt", "BB");
  BlockingClient client(httpd.port());
  ASSERT_TRUE(
      client.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET http://t/a.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (const char* expected : {"A", "BB", "A"}) {
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, expected);
  }
  ASSERT_TRUE(client.send("GET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_peer());

  BlockingClient kept(httpd.port());  // HTTP/1.0 asking to keep the connection is told yes
  ASSERT_TRUE(kept.send("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto confirmed = kept.read_response();
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(confirmed->header("connection"), "keep-alive");
  ASSERT_TRUE(kept.send("GET /b.txt HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(kept.read_response());

  BlockingClient old(httpd.port());
  ASSERT_TRUE(old.send("GET /a.txt HTTP/1.0\r\n\r\n"));
  auto response = old.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "A");
  EXPECT_TRUE(old.closed_by_peer());
}

TEST(TinyHttpd, AnswersEveryBadInputAndKeepsServing) {
  Httpd httpd({"--max-body", "1000"});
  const std::vector<std::pair<std::string, int>> cases = {
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: evil.example/x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
      {"GET /\x7f HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n", 400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: three\r\n\r\n", 400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 184467440737095516160\r\n\r\n", 400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n", 413},
      {"GET /" + std::string(40000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 431},
      {"FROB / HTTP/1.1\r\nHost: t\r\n\r\n", 501},
      {"GET / HTTP/3.0\r\nHost: t\r\n\r\n", 400},
  };
  for (const auto& [request, status] : cases) {
    auto response = httpd.request(request);
    ASSERT_TRUE(response) << request.substr(0, 50);
    EXPECT_EQ(response->status, status) << request.substr(0, 50);
    EXPECT_TRUE(httpd.healthy());
  }
  // A chunked body over --max-body.
  auto big = httpd.request("PUT /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                           std::string("7d0\r\n") + std::string(2000, 'x') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_FALSE(fs::exists(httpd.www() / "big"));
  EXPECT_TRUE(httpd.healthy());
}

TEST(TinyHttpd, AnswersHeadersThatNeverFinishWith408) {
  Httpd httpd({"--header-timeout", "1"});
  BlockingClient slow(httpd.port());
  ASSERT_TRUE(slow.send("GET / HTTP/1.1\r\nHost: t\r\n"));  // never the blank line
  auto response = slow.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_TRUE(httpd.healthy());
}

TEST(TinyHttpd, Serves200ConcurrentKeepAliveClients) {
  Httpd httpd;
  write_whole_file(httpd.www() / "x.txt", "xyz");
  std::vector<std::unique_ptr<BlockingClient>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<BlockingClient>(httpd.port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int round = 0; round < 5; ++round) {
    for (auto& client : clients)
      ASSERT_TRUE(client->send("GET /x.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
    for (auto& client : clients) {
      auto response = client->read_response();
      ASSERT_TRUE(response);
      ASSERT_EQ(response->body, "xyz");
    }
  }
}

// A client that closes mid-download makes the server's next sendfile meet EPIPE, which comes
// with a SIGPIPE: the server must take it as an error of that connection, not die of it.
TEST(TinyHttpd, ClientsThatLeaveMidDownloadDoNotStopTheServer) {
  Httpd httpd;
  write_whole_file(httpd.www() / "big.bin", std::string(8 << 20, 'b'));
  for (int i = 0; i < 50; ++i) {
    BlockingClient client(httpd.port());
    ASSERT_TRUE(client.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"));
    char some[4096];
    ASSERT_GT(::recv(client.fd(), some, sizeof(some), 0), 0);
    // Closing with unread data sends a reset; the FIN-then-write path is the other half.
    if (i % 2 == 0) ::shutdown(client.fd(), SHUT_RDWR);
  }
  EXPECT_TRUE(httpd.healthy());
  EXPECT_EQ(httpd.process().stop(), 0);  // exited by SIGTERM's shutdown, not by a signal
}

long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(TinyHttpd, A200MiBPutStreamsInBoundedMemory) {
  Httpd httpd;
  constexpr std::size_t kTotal = 200u << 20;
  BlockingClient client(httpd.port());
  ASSERT_TRUE(client.send("PUT /big.bin HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                          std::to_string(kTotal) + "\r\n\r\n"));
  std::string chunk(1 << 20, '\0');
  for (std::size_t sent = 0; sent < kTotal; sent += chunk.size()) {
    for (std::size_t i = 0; i < chunk.size(); i += 4096)
      chunk[i] = static_cast<char>((sent + i) >> 12);
    ASSERT_TRUE(client.send(chunk));
  }
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(fs::file_size(httpd.www() / "big.bin"), kTotal);
  const long peak = peak_rss_kib(httpd.process().pid());
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 64 * 1024) << "peak RSS " << peak << " KiB";
}

TEST(TinyHttpd, WorksWithCurl) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "curl is not installed";
  Httpd httpd;
  write_whole_file(httpd.www() / "hello.txt", "hello curl\n");
  const std::string base = "http://127.0.0.1:" + std::to_string(httpd.port());
  ChildProcess get({"/usr/bin/curl", "-sS", "--fail", base + "/hello.txt"});
  EXPECT_EQ(get.read_line(), "hello curl");
  EXPECT_EQ(get.stop(0), 0);
  write_whole_file(httpd.outside() / "payload.txt", std::string(50000, 'p'));
  // -T sends Expect: 100-continue for a body this size.
  ChildProcess put({"/usr/bin/curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{http_code}\n",
                    "-T", (httpd.outside() / "payload.txt").string(), base + "/up/payload.txt"});
  EXPECT_EQ(put.read_line(), "201");
  EXPECT_EQ(put.stop(0), 0);
  EXPECT_EQ(read_whole_file(httpd.www() / "up" / "payload.txt"), std::string(50000, 'p'));
}

TEST(TinyHttpd, LogsOneLinePerRequestUnlessQuiet) {
  Httpd httpd({}, /*quiet=*/false);
  write_whole_file(httpd.www() / "a.txt", "A");
  ASSERT_TRUE(httpd.get("/a.txt"));
  const auto line = httpd.process().read_line();
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("\"GET /a.txt HTTP/1.1\" 200 1"), std::string::npos) << *line;
}

TEST(TinyHttpd, FinishesRequestsInFlightOnSigtermThenExitsZero) {
  Httpd httpd;
  BlockingClient idle(httpd.port());
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());
  BlockingClient uploading(httpd.port());
  ASSERT_TRUE(
      uploading.send("PUT /late.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345"));
  // The body is being stored once the server holds a file open in the root (an unnamed
  // O_TMPFILE one: nothing shows in the directory).
  ASSERT_TRUE(wait_for([&] { return open_files_under(httpd.process().pid(), httpd.www()) == 1; }));
  ::kill(httpd.process().pid(), SIGTERM);
  EXPECT_TRUE(idle.closed_by_peer());  // idle connections close at once
  ASSERT_TRUE(uploading.send("67890"));
  auto response = uploading.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(read_whole_file(httpd.www() / "late.txt"), "1234567890");
  const auto status = httpd.process().stop(0);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(TinyHttpd, ExitsZeroAfterTheShutdownTimeoutEvenIfARequestNeverFinishes) {
  Httpd httpd({"--shutdown-timeout", "1"});
  BlockingClient stalled(httpd.port());
  ASSERT_TRUE(stalled.send("PUT /never.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n123"));
  ASSERT_TRUE(wait_for([&] { return open_files_under(httpd.process().pid(), httpd.www()) == 1; }));
  const auto status = httpd.process().stop(SIGINT);  // the body never completes
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_FALSE(fs::exists(httpd.www() / "never.txt"));
  EXPECT_EQ(entries_in(httpd.www()), 0u);
}

}  // namespace
}  // namespace tiny_coro::test
