// tiny_httpd in a real browser: Debian's Chromium, headless. A page renders with its
// stylesheet and image (pixels of the screenshot checked), its media element is fetched with
// Range requests and seeked near its end (the server's access log shows each request), and
// a directory listing renders as a table of links with sizes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "httpd/httpd_fixture.h"
#include "support/child_process.h"

namespace tiny_coro::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";

std::string run(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (const std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
    ::pclose(pipe);
  }
  return out;
}

// Headless Chromium on `url` with `what` (--screenshot=FILE or --dump-dom); its stdout.
std::string chromium(const fs::path& profile, const std::string& what, const std::string& url) {
  // --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
  return run(std::string(kChromium) +
             " --headless --no-sandbox --disable-gpu --hide-scrollbars --mute-audio"
             " --no-first-run --user-data-dir=" +
             profile.string() + " --window-size=400,300 --virtual-time-budget=5000 " + what + " " +
             url + " 2>/dev/null");
}

std::string pixel(const fs::path& png, int x, int y) {
  const std::string out = run("python3 " BROWSER_SITE_PY " pixel " + png.string() + " " +
                              std::to_string(x) + " " + std::to_string(y));
  return out.substr(0, out.find('\n'));
}

TEST(TinyHttpdBrowser, RendersAPageWithItsStylesheetImageAndASeekedMedia) {
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << "chromium is not installed";
  Httpd httpd({}, /*quiet=*/false);  // the access log is on its stdout
  ASSERT_EQ(run("python3 " BROWSER_SITE_PY " make " + httpd.www().string()), "");
  const fs::path scratch = httpd.outside() / "browser";
  fs::create_directories(scratch);
  const std::string base = "http://127.0.0.1:" + std::to_string(httpd.port());

  const fs::path shot = scratch / "page.png";
  chromium(scratch / "profile", "--screenshot=" + shot.string(), base + "/");
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_EQ(pixel(shot, 10, 10), "cc2211");    // the image, where the stylesheet put it
  EXPECT_EQ(pixel(shot, 200, 200), "3366cc");  // the stylesheet's background

  // Every request of the page, up to the one the page makes once its media has seeked.
  std::vector<std::string> log;
  while (auto line = httpd.process().read_line(std::chrono::seconds(20))) {
    log.push_back(*line);
    if (line->find("GET /seeked.txt") != std::string::npos) break;
  }
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (const std::string& line : log) n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  };
  EXPECT_EQ(count("\"GET /style.css HTTP/1.1\" 200 "), 1);
  EXPECT_EQ(count("\"GET /img/block.png HTTP/1.1\" 200 "), 1);
  // The media element asks for ranges only: the first from 0, then one where it seeked to.
  EXPECT_GE(count("\"GET /media/tone.wav HTTP/1.1\" 206 "), 2);
  EXPECT_EQ(count("\"GET /media/tone.wav HTTP/1.1\" 200 "), 0);
  EXPECT_EQ(count("GET /seeked.txt?at=540 "), 1);  // 90% of its 600 s

  const std::string dom = chromium(scratch / "profile", "--dump-dom", base + "/docs/");
  EXPECT_NE(dom.find("<a href=\"notes.txt\">notes.txt</a>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<td class=\"size\">6</td>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<a href=\"../\">../</a>"), std::string::npos) << dom;
}

}  // namespace
}  // namespace tiny_coro::test
