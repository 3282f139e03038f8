// metrics.hpp — named numbers of a run report, for `otasim check`
// expectations, `otasim sweep` columns and replication summaries.
//
// Every metric is a double. Counts are the report's totals; shares are counts
// over the fleet size; times are hours, +infinity when never reached; flags are
// 0 or 1. The list is fixed and documented in scenarios/README.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ota/models/report/report.hpp"

namespace ota::models {

struct MetricInfo {
  std::string name;
  std::string description;
};

// All metric names in a fixed order, with a one-line description each.
const std::vector<MetricInfo>& metrics();

// The few a reader looks at first (outcome, time, data, energy, cost), in the
// order the run summary and the HTML report show them.
const std::vector<std::string>& headline_metrics();

// How a reader is shown a metric: the group it belongs to (one of
// metric_groups()), a readable label, its unit, and which direction is good.
enum class Better : unsigned char { Higher, Lower, Neither };
struct MetricPresentation {
  std::string group;
  std::string label;  // "time to 95 %", "server egress cost"
  std::string unit;   // "h", "s", "USD", "bytes", "J", "mAh", "share of fleet", "requests/s", "" for counts and flags
  Better better = Better::Lower;
};
const std::vector<std::string>& metric_groups();  // Outcome, Time, Cost, Delivery, Rollout
// The presentation of metric `name` (a name from metrics(); others get the
// group "Outcome", the name as label and no unit).
MetricPresentation metric_presentation(std::string_view name);

// The metric's value in `report`, or nullopt when `name` is not a metric.
std::optional<double> metric_value(const RunReport& report, std::string_view name);

}  // namespace ota::models
