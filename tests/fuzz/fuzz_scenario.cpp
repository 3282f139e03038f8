// libFuzzer target for the scenario loader. Built by scripts/fuzz with the
// loader's sources (fuzz_scenario* targets get models/ as well as agent/):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iagent/include \
//     -Imodels/include -Isim/include tests/fuzz/fuzz_scenario.cpp \
//     models/src/scenario/*.cpp models/src/fleet/links.cpp ...
//
// Two ways the input is used, both on every run:
//  1. as scenario text for parse_scenario;
//  2. as up to four lines "pointer=value" of overrides applied to a valid
//     embedded scenario, which reaches deep validation far more often than
//     random text does.
// Either way the loader must not crash, and what it returns must hold together:
// a scenario exactly when there are no errors, every error with a message,
// every index in range, device counts adding up to the fleet, every number
// finite. A broken invariant traps, which libFuzzer reports as a crash.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/models/scenario/scenario_loader.hpp"

namespace {

using ota::models::LoadResult;
using ota::models::Scenario;

constexpr std::string_view kValidScenario = R"({
  "format": "otasim-scenario/1", "name": "fuzz", "horizon_h": 48,
  "fleet": { "devices": 1000, "classes": [
    { "name": "bat", "share": 0.5, "hardware": "revA", "link": "nbiot", "power": "battery",
      "battery": { "capacity_mah": 3000, "voltage_v": 3 } },
    { "name": "mains", "share": 0.5, "hardware": "revB", "link": "wifi", "power": "mains" } ] },
  "hardware": [ { "name": "revA", "hardware_id": 1 }, { "name": "revB", "hardware_id": 2 } ],
  "links": { "nbiot-poor": { "base": "nbiot", "median_kbps": 3 } },
  "release": { "from_version": "1.0.0", "to_version": "1.1.0", "full_kb": 500,
               "behaviour": { "default": { "crash_per_day": 0.1 } } },
  "polling": { "backoff": {} },
  "rollout": { "stages": [ { "percent": 10, "soak_h": 1 }, { "percent": 100 } ] }
})";

// A directory that does not exist, so relative image paths find nothing.
constexpr const char* kBaseDir = "/nonexistent-otasim-fuzz";

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool finite(double x) { return std::isfinite(x); }

void check(const LoadResult& r) {
  require(r.scenario.has_value() == r.errors.empty());
  for (const auto& e : r.errors) require(!e.message.empty());
  (void)ota::models::format_errors(r.errors);
  if (!r.scenario) return;
  const Scenario& s = *r.scenario;
  require(!s.name.empty());
  require(finite(s.horizon_s) && s.horizon_s > 0 && finite(s.bin_s) && s.bin_s > 0);
  require(s.devices >= 1 && s.devices <= ota::models::kMaxFleetDevices);
  require(!s.hardware.empty() && s.hardware.size() <= ota::models::kMaxHardwareEntries);
  require(!s.classes.empty() && s.classes.size() <= ota::models::kMaxDeviceClasses);
  require(s.links.size() <= ota::models::kMaxLinkProfiles);
  std::uint64_t sum = 0;
  for (const auto& c : s.classes) {
    sum += c.devices;
    require(c.hardware < s.hardware.size() && c.link < s.links.size() && c.region < s.regions.size());
    require(c.battery.has_value() == (c.power == ota::models::PowerSource::Battery));
    require(finite(c.power_loss_per_hour) && c.power_loss_per_hour >= 0);
    if (c.battery) {
      require(finite(c.battery->capacity_j) && c.battery->capacity_j > 0);
      require(c.battery->brownout_soc < c.battery->min_soc);
    }
  }
  require(sum == s.devices);
  for (const auto& h : s.hardware) {
    require(h.trial_boot_limit >= 1 && h.flash.sector_bytes >= 256 && h.flash.slot_bytes > 0);
    require(s.release.full_bytes <= h.flash.slot_bytes);
  }
  for (const auto& l : s.links)
    require(finite(l.median_bps) && l.min_bps > 0 && l.min_bps <= l.median_bps && l.median_bps <= l.max_bps);
  require(s.release.behaviour.size() == s.hardware.size());
  require(s.release.full_bytes > 0 || s.release.new_image_file.has_value());
  require(!s.rollout.stages.empty() && s.rollout.stages.back().fraction == 1.0);
  for (std::size_t i = 1; i < s.rollout.stages.size(); ++i)
    require(s.rollout.stages[i].fraction > s.rollout.stages[i - 1].fraction);
  require(finite(s.polling.interval_s) && s.polling.interval_s > 0);
  require(s.polling.backoff_max_s >= s.polling.backoff_initial_s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(ota::models::parse_scenario(text, kBaseDir));

  std::vector<std::pair<std::string, std::string>> overrides;
  std::size_t start = 0;
  while (start <= text.size() && overrides.size() < 4) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const std::size_t eq = line.find('=');
    if (eq != std::string_view::npos)
      overrides.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    start = end + 1;
  }
  if (!overrides.empty()) check(ota::models::parse_scenario_with_overrides(kValidScenario, overrides, kBaseDir));
  return 0;
}
