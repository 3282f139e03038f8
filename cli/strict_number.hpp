// strict_number.hpp — command-line numbers read strictly.
//
// Boost.Program_options reads "-1" into an unsigned type as 2^64 - 1 (a
// wrapped sign). A flag of type StrictU64 accepts only the decimal digits of a
// number in [0, 2^64 - 1]: a sign, a fraction, trailing text or an overflow is
// refused with the flag named ("the argument ('-1') for option '--seed' is
// invalid"), and the command exits 2 like for any bad flag.
#pragma once

#include <boost/any.hpp>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace ota::cli {

struct StrictU64 {
  std::uint64_t value = 0;
  operator std::uint64_t() const { return value; }  // NOLINT: used as the number it holds
};

inline void validate(boost::any& out, const std::vector<std::string>& values, StrictU64*, int) {
  namespace po = boost::program_options;
  po::validators::check_first_occurrence(out);
  const std::string& s = po::validators::get_single_string(values);
  std::uint64_t x = 0;
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, x);
  if (s.empty() || ec != std::errc() || p != end) throw po::invalid_option_value(s);
  out = StrictU64{x};
}

// A finite decimal number: "inf", "nan", "1e999" (out of range), hex and
// trailing text are refused with the flag named, as for StrictU64.
struct StrictFinite {
  double value = 0;
  operator double() const { return value; }  // NOLINT: used as the number it holds
};

inline void validate(boost::any& out, const std::vector<std::string>& values, StrictFinite*, int) {
  namespace po = boost::program_options;
  po::validators::check_first_occurrence(out);
  const std::string& s = po::validators::get_single_string(values);
  double x = 0;
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, x, std::chars_format::general);
  if (s.empty() || ec != std::errc() || p != end || !std::isfinite(x)) throw po::invalid_option_value(s);
  out = StrictFinite{x};
}

}  // namespace ota::cli
