// text.hpp — how numbers read in what people read: the run summary, progress
// lines, the up-front estimate and the HTML report all write durations and
// large counts the same way.
#pragma once

#include <string>

namespace ota::models {

// A duration in the unit that reads best: "0.012 s", "42.0 s", "7.4 min",
// "43.3 h", "61.0 days", "31.7 years". Seconds below 1 keep two significant
// digits; from there one decimal. "n/a" for NaN or a negative value, "never"
// for +infinity.
std::string human_duration(double seconds);

// A whole number with thousands separators: "2,000,000,000". Rounded to the
// nearest integer; beyond 10^18 (or not finite) in "%.3g" form.
std::string with_commas(double value);

}  // namespace ota::models
