#include "ota/models/report/text.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace ota::models {

std::string human_duration(double s) {
  if (std::isinf(s) && s > 0) return "never";
  if (!(s >= 0)) return "n/a";
  constexpr double kDay = 86400, kYear = 365 * kDay;
  char buf[64];
  if (s < 1) std::snprintf(buf, sizeof buf, "%.2g s", s);
  else if (s < 120) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  else if (s < 3 * kDay) std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else if (s < 3 * kYear) std::snprintf(buf, sizeof buf, "%.1f days", s / kDay);
  else std::snprintf(buf, sizeof buf, "%.1f years", s / kYear);
  return buf;
}

std::string with_commas(double v) {
  if (!std::isfinite(v) || std::fabs(v) >= 1e18) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  const double r = std::round(v);
  const std::string digits = std::to_string(static_cast<std::uint64_t>(std::fabs(r)));
  std::string out = r < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace ota::models
