// metrics.cpp — the metric table: one row per name, in the documented order:
// the report's fields that are metrics (report_fields.hpp), then the derived ones.
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report_fields.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ota::models {

namespace {

using Extract = double (*)(const RunReport&);

// A metric: its name, description and value. The report's fields that are
// metrics (report_fields.hpp) read their value by their position among the
// visited totals; the derived ones by a function.
struct MetricRow {
  std::string name;
  std::string description;
  Extract value = nullptr;
  std::size_t field = 0;  // position in visit_totals when `value` is null
  const char* unit = nullptr;  // a field's unit (FieldInfo::unit)
};

constexpr double kInf = std::numeric_limits<double>::infinity();

// A total as a metric: a count as a double, a null mean +infinity.
template <class F>
std::optional<double> as_metric(const F& f) {
  if constexpr (std::is_same_v<F, std::optional<double>>)
    return f.value_or(kInf);
  else if constexpr (std::is_arithmetic_v<F>)
    return static_cast<double>(f);
  else
    return std::nullopt;
}

double field_value(const Totals& t, std::size_t field) {
  double out = 0;
  std::size_t i = 0;
  visit_totals(t, [&](std::string_view, const auto& f, const FieldInfo&) {
    if (i++ == field) out = as_metric(f).value_or(0);
  });
  return out;
}

// Over the fleet size. The loader guarantees at least one device; a report
// without devices has nothing exposed, so its shares are 0.
double share(std::uint64_t n, const RunReport& r) {
  return r.totals.devices == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(r.totals.devices);
}

double hours_or_inf(const std::optional<double>& s) { return s ? *s / 3600.0 : kInf; }

double flag(bool b) { return b ? 1.0 : 0.0; }

// Captureless lambdas, so the derived rows are plain data.
#define OTA_SHARE(name, field, text) \
  MetricRow { name, text, [](const RunReport& r) { return share(r.totals.field, r); } }
#define OTA_TIME(name, field, text) \
  MetricRow { name, text, [](const RunReport& r) { return hours_or_inf(r.totals.field); } }

// Metrics derived from the report's fields.
std::vector<MetricRow> derived_rows() {
  return {
      OTA_SHARE("updated_share", updated, "updated / devices"),
      OTA_SHARE("exposed_share", exposed, "exposed / devices"),
      OTA_SHARE("rolled_back_share", rolled_back, "rolled_back / devices"),
      OTA_SHARE("bricked_share", bricked, "bricked / devices"),
      OTA_SHARE("failed_share", failed, "failed / devices"),
      OTA_TIME("time_to_50pct_h", time_to_50pct_s, "hours until 50 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_90pct_h", time_to_90pct_s, "hours until 90 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_95pct_h", time_to_95pct_s, "hours until 95 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_99pct_h", time_to_99pct_s, "hours until 99 % of the fleet is updated; +inf if never"),
      MetricRow{"stages_opened", "rollout stages opened",
                [](const RunReport& r) { return static_cast<double>(r.rollout.stages_opened); }},
      MetricRow{"stopped", "1 if the rollout was paused, aborted or rolled back, else 0",
                [](const RunReport& r) { return flag(r.rollout.stopped_at_s.has_value()); }},
      MetricRow{"stopped_at_h", "hours until the rollout first stopped; +inf if it never did",
                [](const RunReport& r) { return hours_or_inf(r.rollout.stopped_at_s); }},
      MetricRow{"aborted", "1 if the rollout ended aborted or rolled back, else 0",
                [](const RunReport& r) {
                  return flag(r.rollout.state == "aborted" || r.rollout.state == "rolled_back");
                }},
      MetricRow{"paused", "1 if the rollout ended paused, else 0",
                [](const RunReport& r) { return flag(r.rollout.state == "paused"); }},
      MetricRow{"completed", "1 if the rollout completed, else 0",
                [](const RunReport& r) { return flag(r.rollout.state == "completed"); }},
      MetricRow{"total_cost_usd", "data_cost_usd + server_egress_cost_usd + cdn_cost_usd + service_cost_usd",
                [](const RunReport& r) {
                  const Totals& t = r.totals;
                  return t.data_cost_usd + t.server_egress_cost_usd + t.cdn_cost_usd + t.service_cost_usd;
                }},
  };
}

#undef OTA_SHARE
#undef OTA_TIME

// Every total with a description, in report.json order, then the derived
// metrics. The documented order has one exception, kept because the columns
// of replications.csv and summary.json follow it: peak_requests_per_s comes
// after the costs (after cdn_cost_usd).
const std::vector<MetricRow>& table() {
  static const std::vector<MetricRow> rows = [] {
    std::vector<MetricRow> v;
    std::size_t i = 0;
    const Totals names;
    visit_totals(names, [&](std::string_view name, const auto&, const FieldInfo& info) {
      if (info.description) v.push_back(MetricRow{std::string(name), info.description, nullptr, i, info.unit});
      ++i;
    });
    const auto at = [&](std::string_view name) {
      return std::find_if(v.begin(), v.end(), [&](const MetricRow& m) { return m.name == name; });
    };
    const auto peak = at("peak_requests_per_s"), after = at("cdn_cost_usd");
    if (peak < after) std::rotate(peak, peak + 1, after + 1);
    for (MetricRow& row : derived_rows()) v.push_back(std::move(row));
    return v;
  }();
  return rows;
}

double row_value(const MetricRow& row, const RunReport& r) {
  return row.value ? row.value(r) : field_value(r.totals, row.field);
}

const std::unordered_map<std::string_view, const MetricRow*>& index() {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, const MetricRow*> m;
    for (const MetricRow& row : table()) m.emplace(row.name, &row);
    return m;
  }();
  return by_name;
}

}  // namespace

const std::vector<MetricInfo>& metrics() {
  static const std::vector<MetricInfo> infos = [] {
    std::vector<MetricInfo> v;
    v.reserve(table().size());
    for (const MetricRow& row : table()) v.push_back(MetricInfo{row.name, row.description});
    return v;
  }();
  return infos;
}

const std::vector<std::string>& metric_groups() {
  static const std::vector<std::string> groups = {"Outcome", "Time", "Cost", "Delivery", "Rollout"};
  return groups;
}

MetricPresentation metric_presentation(std::string_view name_view) {
  const std::string name(name_view);
  auto in = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (name == n) return true;
    return false;
  };
  auto starts = [&](const char* prefix) { return name.starts_with(prefix); };
  MetricPresentation p;
  // The unit, from the name's suffix; the label is the rest, words spaced.
  std::string stem = name;
  static const std::pair<const char*, const char*> kSuffixes[] = {
      {"_usd", "USD"}, {"_bytes", "bytes"}, {"_share", "share of fleet"}, {"_per_s", "requests/s"},
      {"_mah", "mAh"},  {"_j", "J"},         {"_h", "h"},                  {"_s", "s"}};
  for (const auto& [suffix, unit] : kSuffixes) {
    if (stem.ends_with(suffix)) {
      stem.resize(stem.size() - std::string_view(suffix).size());
      p.unit = unit;
      break;
    }
  }
  // A report field's unit is the field's own (report_fields.hpp).
  if (const auto it = index().find(name_view); it != index().end() && it->second->unit) p.unit = it->second->unit;
  for (char& c : stem)
    if (c == '_') c = ' ';
  if (const auto pct = stem.find("pct"); pct != std::string::npos) stem.replace(pct, 3, " %");
  p.label = stem;

  if (in({"stages_opened", "stopped", "stopped_at_h", "aborted", "paused", "completed", "offered", "withdrawn",
          "reverted", "revert_refused"}))
    p.group = "Rollout";
  else if (starts("time_to_") || name.ends_with("_delay_mean_s"))
    p.group = "Time";
  else if (name.ends_with("_usd") || in({"data_bytes", "metered_bytes", "energy_j", "energy_mah", "service_calls"}))
    p.group = "Cost";
  else if (in({"server_requests", "refused_requests", "peak_requests_per_s", "origin_bytes", "edge_bytes",
               "peer_bytes", "cdn_fills", "learned_by_push", "learned_by_poll", "transfer_drops"}) ||
           starts("origin_") || starts("edge_") || starts("peer_") || starts("p2p_"))
    p.group = "Delivery";
  else
    p.group = "Outcome";

  if (in({"updated", "updated_share", "completed", "edge_bytes", "peer_bytes"}))
    p.better = Better::Higher;
  else if (in({"devices", "offered", "exposed", "exposed_share", "withdrawn", "stages_opened", "stopped",
               "stopped_at_h", "aborted", "paused", "learned_by_push", "learned_by_poll", "cdn_fills", "origin_bytes",
               "digest_rejections", "signature_rejections", "p2p_rejected_transfers", "p2p_seeds",
               "p2p_malicious_peers", "reverted", "origin_downloads", "edge_downloads", "peer_downloads"}))
    // Depends on the question: stopping early is right for a bad build, wrong for a good one.
    p.better = Better::Neither;
  else
    p.better = Better::Lower;
  return p;
}

std::optional<double> metric_value(const RunReport& report, std::string_view name) {
  const auto& m = index();
  const auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return row_value(*it->second, report);
}

const std::vector<std::string>& headline_metrics() {
  static const std::vector<std::string> names = {
      "updated_share", "exposed_share", "rolled_back_share", "bricked_share", "failed_share", "in_progress",
      "time_to_50pct_h", "time_to_95pct_h", "stopped", "data_bytes", "energy_j", "service_calls", "total_cost_usd"};
  return names;
}

}  // namespace ota::models
