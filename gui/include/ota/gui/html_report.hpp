// html_report.hpp — the reports people read: one self-contained HTML file per
// `otasim run | sweep | check`, with the planner's charts drawn by the planner's
// own chart code (ChartPanel, offscreen) and inlined as SVG; and its PDF,
// printed by headless Chromium.
//
// Self-contained: no script, no network, no external file; the style sheet is
// inline and every chart is an inline <svg>. Deterministic: the same inputs
// give the same bytes (the run's wall time and the build version are the only
// parts that differ between two runs of the same scenario and seed).
//
// Rendering needs a QApplication; render_* create one (offscreen platform
// unless QT_QPA_PLATFORM says otherwise) when the process has none, so the
// command-line tools call them without a display. Call from the main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ota/models/batch/batch.hpp"
#include "ota/models/economics/cost_report.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/gui/chart_data.hpp"

namespace ota::gui {

// One scenario value that differs between the baseline and this run, as
// written in the two files (JSON Pointer, value or "(not set)").
struct ScenarioChange {
  std::string pointer;
  std::string baseline;
  std::string current;
};

// What a `run` report shows.
struct RunHtmlInput {
  std::string command;                        // the command line, for the record
  std::string version;                        // the build's
  std::string scenario_path;
  const models::Scenario* scenario = nullptr;
  const models::RunReport* report = nullptr;  // the single run, or replication 0
  const models::CostReport* cost = nullptr;   // of `report`
  std::size_t replications = 1;
  std::vector<models::MetricSummary> summaries;  // replications > 1: every metric, metrics() order

  // --baseline: the other plan, run with the same seeds.
  std::string baseline_path;
  const models::Scenario* baseline_scenario = nullptr;
  const models::RunReport* baseline = nullptr;
  const models::CostReport* baseline_cost = nullptr;
  std::vector<models::MetricSummary> baseline_summaries;
  std::vector<ScenarioChange> changes;
};

// What a `sweep` report shows: the grid, and each metric over it.
struct SweepHtmlInput {
  std::string command;
  std::string scenario_path;
  const models::Scenario* scenario = nullptr;  // the scenario as loaded without the swept values
  std::vector<models::SweepParam> params;
  std::vector<std::vector<std::pair<std::string, std::string>>> points;
  std::vector<std::string> metric_names;
  std::vector<std::vector<models::MetricSummary>> summaries;  // [point][metric]
  std::size_t replications = 0;
  std::optional<std::uint64_t> seed;          // --seed, or each point's scenario seed
  std::string version;                        // the build's
};

// What a `check` report shows.
struct CheckHtmlInput {
  std::string command;
  std::vector<models::CheckedFile> files;
  std::string version;                        // the build's
};

std::string run_report_html(const RunHtmlInput& in);
std::string sweep_report_html(const SweepHtmlInput& in);
std::string check_report_html(const CheckHtmlInput& in);

// The planner chart `chart` as an SVG document, drawn by ChartPanel at
// `width` x `height` pixels. Empty when drawing failed.
std::string chart_svg(const ChartData& chart, int width = 920, int height = 430);

// The scenario values that differ between two scenario documents (JSON text),
// leaf by leaf, in JSON Pointer order; `current_overrides` (pointer, value
// text) are applied to both first, as the command applied them (e.g.
// --devices). Throws std::invalid_argument when a text is not JSON.
std::vector<ScenarioChange> scenario_changes(const std::string& baseline_json, const std::string& current_json,
                                             const std::vector<std::pair<std::string, std::string>>& overrides);

// Prints `html` to `pdf_path` with headless Chromium (found on PATH as
// chromium, chromium-browser, google-chrome or in $OTASIM_CHROMIUM), through a
// temporary file renamed into place. Returns an empty string or an error
// message naming what failed.
std::string print_pdf(const std::string& html, const std::string& pdf_path);

// The Chromium executable print_pdf would use, or empty.
std::string find_chromium();

}  // namespace ota::gui
