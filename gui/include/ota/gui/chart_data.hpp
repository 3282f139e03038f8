// chart_data.hpp — what each planner chart plots, computed from run reports.
//
// Pure functions from reports to numbers (no Qt), so the view only draws and
// the CSV export writes exactly what is drawn. Times are hours from the start
// of the run. With a baseline, every chart gets the baseline's series too,
// flagged `baseline`, which the view draws dashed over the current run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ota/models/report/report.hpp"

namespace ota::gui {

enum class SeriesKind {
  Line,     // a curve over time
  Area,     // a layer of a stack (y is the layer's own value; the view stacks in order)
  Step,     // a level held until the next point
  Events,   // markers at (x, y) with a label each
  Marker,   // vertical lines at x (y unused) with a label each
};

enum class Axis { Left, Right };

struct SeriesData {
  std::string name;            // as in the legend; baseline series start with "baseline: "
  SeriesKind kind = SeriesKind::Line;
  Axis axis = Axis::Left;
  bool baseline = false;
  unsigned color = 0;          // 0xRRGGBB
  std::vector<double> x, y;    // x in hours
  std::vector<std::string> labels;  // Events / Marker: one per point
  // Events / Marker of the current run: each point's position in the report's
  // rollout.events (not every event has a point in every series). Empty for
  // the baseline's series and for series that are not decisions.
  std::vector<std::size_t> event_index;
};

struct ChartData {
  std::string id;              // file-name friendly: "adoption", "failures", ...
  std::string title;
  std::string left_label, right_label;  // right_label empty: no right axis
  double x_max = 0;            // the horizon, hours
  double x_active = 0;         // where the runs stop changing, hours: the span shown first
  double left_fixed_max = 0;   // > 0: the left axis always spans [0, this] (a percentage)
  std::vector<SeriesData> series;
};

// The planner's charts, in display order. `baseline` may be null.
ChartData adoption_chart(const models::RunReport& current, const models::RunReport* baseline);
ChartData failures_chart(const models::RunReport& current, const models::RunReport* baseline);
ChartData server_chart(const models::RunReport& current, const models::RunReport* baseline);
ChartData bandwidth_cost_chart(const models::RunReport& current, const models::RunReport* baseline);
ChartData battery_chart(const models::RunReport& current, const models::RunReport* baseline);
ChartData timeline_chart(const models::RunReport& current, const models::RunReport* baseline);

std::vector<ChartData> all_charts(const models::RunReport& current, const models::RunReport* baseline);
inline constexpr std::size_t kChartCount = 6;

// A partial report (RunOptions::on_partial) holds every bin of the horizon,
// the bins not yet closed all zero. The closed bins are the leading ones whose
// running-version levels (on_old + on_new + on_none) count the fleet.
std::size_t closed_bins(const models::RunReport& partial);
// The charts of a run still going: `partial` cut to its closed bins, the time
// axis still spanning the whole horizon (x_max) and first showing at least the
// time simulated so far. Empty when no bin has closed yet.
std::vector<ChartData> live_charts(const models::RunReport& partial, const models::RunReport* baseline);

// The time by which `report` has stopped changing, hours: the last bin with a
// transfer, an update, a failure or a change of state, or the last rollout
// decision, whichever is later. 0 when nothing happened.
double activity_end_h(const models::RunReport& report);

// Cumulative total cost (data + egress + CDN + service calls) at each bin's
// end: the totals spread over time in proportion to the bytes downloaded in
// each bin, service calls at the bins where devices bricked. The last value
// is the report's total cost.
std::vector<double> cumulative_cost_usd(const models::RunReport& report);

// `chart` as seen through a time window [lo_h, hi_h]: the points inside it,
// each line, area and step carried to both edges at its value there
// (interpolated for lines and areas, held for steps), events and markers
// outside it dropped; x_max becomes hi_h. What an SVG export draws, since SVG
// output does not clip what Qt paints outside the plot area.
ChartData clip_to(const ChartData& chart, double lo_h, double hi_h);

// The chart's data as CSV: "series,t_h,value,label", one row per point.
std::string chart_csv(const ChartData& chart);

}  // namespace ota::gui
