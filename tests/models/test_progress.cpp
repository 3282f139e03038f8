// The progress reporter of the otasim commands (cli/progress_bar.hpp) on a
// clock the test sets: no time left shown before it can be estimated, lines
// every 10 s, a start and an end line when lines are asked for.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../../cli/progress_bar.hpp"

using ota::cli::ProgressBar;
using ota::cli::ProgressMode;

namespace {

// What a reporter wrote, through a memory stream.
struct Captured {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  ~Captured() {
    if (f) std::fclose(f);
    std::free(buf);
  }
  std::string text() {
    std::fflush(f);
    return std::string(buf, size);
  }
};

}  // namespace

TEST_CASE("progress bar: the time left appears only once it can be estimated", "[cli][progress]") {
  Captured out;
  double now = 100;
  ProgressBar bar("otasim run", ProgressMode::Bar, out.f, [&] { return now; });
  now = 100.5;
  bar(0.0005);  // the "0.0%  ETA 0.0s"
  std::string t = out.text();
  CHECK(t.find("time left not known yet") != std::string::npos);
  CHECK(t.find("0.0 s") == std::string::npos);
  now = 110;
  bar(0.5);
  t = out.text();
  CHECK(t.find(" 50.0%") != std::string::npos);
  CHECK(t.find("about 10.0 s left") != std::string::npos);
  now = 120;
  bar(1.0);
  t = out.text();
  CHECK(t.find("100.0%  done in 20.0 s") != std::string::npos);
  CHECK(t.back() == '\n');
  const auto length = t.size();
  bar(1.0);  // nothing after the end
  CHECK(out.text().size() == length);
}

TEST_CASE("progress lines: a start line, one every 10 s, an end line", "[cli][progress]") {
  Captured out;
  double now = 0;
  ProgressBar lines("otasim sweep", ProgressMode::Lines, out.f, [&] { return now; });
  CHECK(out.text() == "otasim sweep: started\n");
  now = 5;
  lines(0.1);
  CHECK(out.text() == "otasim sweep: started\n");  // not yet 10 s
  now = 10.5;
  lines(0.3);
  now = 11;
  lines(0.31);  // the next line is due at 20 s
  now = 95;
  lines(0.9);
  now = 100;
  lines(1.0);
  CHECK(out.text() ==
        "otasim sweep: started\n"
        "otasim sweep: 30.0% after 10.5 s, about 24.5 s left\n"
        "otasim sweep: 90.0% after 95.0 s, about 10.6 s left\n"
        "otasim sweep: 100% done in 100.0 s\n");
}

TEST_CASE("progress: none prints nothing, and minutes and hours read as such", "[cli][progress]") {
  Captured quiet;
  double now = 0;
  ProgressBar none("otasim", ProgressMode::None, quiet.f, [&] { return now; });
  now = 50;
  none(0.5);
  none(1.0);
  CHECK(quiet.text().empty());

  Captured out;
  now = 0;
  ProgressBar lines("otasim run", ProgressMode::Lines, out.f, [&] { return now; });
  now = 600;
  lines(0.1);
  now = 9000;
  lines(0.5);
  const std::string t = out.text();
  CHECK(t.find("10.0% after 10.0 min, about 90.0 min left") != std::string::npos);
  CHECK(t.find("50.0% after 2.5 h, about 2.5 h left") != std::string::npos);
}
