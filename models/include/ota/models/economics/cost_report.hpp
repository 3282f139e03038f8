// cost_report.hpp — what a run cost: data by link, CDN, origin egress, energy,
// service calls for bricked devices; and the delta-update break-even.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// The delta break-even question from the reference text: given a fleet that
// installs `updates_per_year` releases, is building delta updates worth it?
struct DeltaBreakEvenInput {
  double devices = 0;
  double updates_per_year = 0;
  double full_bytes = 0;
  double delta_bytes = 0;
  double usd_per_mb = 0;
  double bytes_per_mb = 1e6;           // reference convention: 1 MB = 10^6 B
  double development_cost_usd = 0;     // one-time cost of building delta support
};

struct DeltaBreakEven {
  DeltaBreakEvenInput input;
  double annual_cost_full_usd = 0;
  double annual_cost_delta_usd = 0;
  double annual_saving_usd = 0;
  std::optional<double> break_even_years;  // none when delta saves nothing
};

// Pure: annual cost = devices x updates/year x size / bytes_per_mb x $/MB;
// break-even years = development cost / annual saving.
DeltaBreakEven delta_break_even(const DeltaBreakEvenInput& in);

struct CostReport {
  std::string scenario;
  std::uint64_t devices = 0;
  double bytes_per_mb = 1e6;
  std::vector<LinkTotals> data_by_link;  // as the run reported them
  double data_cost_usd = 0;            // sum over links
  double cdn_cost_usd = 0;
  double server_egress_cost_usd = 0;   // origin egress
  double energy_j = 0;
  double energy_mah = 0;               // battery devices
  std::uint64_t service_calls = 0;     // one per bricked device
  double service_call_usd = 0;
  double service_cost_usd = 0;
  double total_usd = 0;                // data + CDN + origin egress + service calls (energy is not priced)
  std::optional<DeltaBreakEven> delta;
};

// Options for the break-even section of a run's cost report.
struct BreakEvenOptions {
  double updates_per_year = 0;
  double development_cost_usd = 0;
};

// Builds the cost report of a run. With `break_even` and a delta payload
// (report.release.patch_bytes > 0), adds the break-even using the run's
// devices, full image and patch sizes, and the fleet's average price per MB
// (data $ / data bytes over all links, so Wi-Fi devices dilute it).
CostReport make_cost_report(const RunReport& report, const Scenario& scenario,
                            const std::optional<BreakEvenOptions>& break_even = std::nullopt);

enum class CostFormat : std::uint8_t { Markdown, Csv, Json };

// "md", "csv" or "json"; nullopt otherwise.
std::optional<CostFormat> parse_cost_format(std::string_view name);
// The file extension: "md", "csv" or "json".
const char* cost_format_extension(CostFormat format);

std::string render_cost_report(const CostReport& report, CostFormat format);

// Writes DIR/cost.<ext> through a temporary file renamed into place. Returns an
// error message naming the file, or an empty string.
std::string write_cost_report(const std::string& text, CostFormat format, const std::string& dir);

}  // namespace ota::models
