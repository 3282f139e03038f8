// How durations and counts read in summaries, progress lines, estimates and reports.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ota/models/report/text.hpp"

using ota::models::human_duration;
using ota::models::with_commas;

TEST_CASE("human_duration: the unit that reads best, at every boundary", "[report][text]") {
  CHECK(human_duration(0) == "0 s");
  CHECK(human_duration(0.0123) == "0.012 s");
  CHECK(human_duration(1) == "1.0 s");
  CHECK(human_duration(119.94) == "119.9 s");
  CHECK(human_duration(120) == "2.0 min");
  CHECK(human_duration(7199) == "120.0 min");
  CHECK(human_duration(7200) == "2.0 h");
  CHECK(human_duration(155906.958) == "43.3 h");
  CHECK(human_duration(3 * 86400.0) == "3.0 days");
  CHECK(human_duration(61 * 86400.0) == "61.0 days");
  CHECK(human_duration(3 * 365 * 86400.0) == "3.0 years");
  CHECK(human_duration(std::numeric_limits<double>::infinity()) == "never");
  CHECK(human_duration(-1) == "n/a");
  CHECK(human_duration(std::nan("")) == "n/a");
}

TEST_CASE("with_commas: thousands separated, rounded, huge values in short form", "[report][text]") {
  CHECK(with_commas(0) == "0");
  CHECK(with_commas(999) == "999");
  CHECK(with_commas(1000) == "1,000");
  CHECK(with_commas(2000000000) == "2,000,000,000");
  CHECK(with_commas(1234.6) == "1,235");
  CHECK(with_commas(-1234567) == "-1,234,567");
  CHECK(with_commas(5.256e21) == "5.26e+21");
  CHECK(with_commas(std::numeric_limits<double>::infinity()) == "inf");
}
