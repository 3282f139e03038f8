// shard_merge.cpp — the whole-fleet report from the shards' reports: each
// total and series column combined by its Merge rule (report_fields.hpp).
#include <algorithm>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ota/models/report/report.hpp"
#include "ota/models/report/report_fields.hpp"

namespace ota::models {

namespace {

bool adds(const FieldInfo& info) { return info.merge == Merge::Sum || info.merge == Merge::UpperBound; }

// `from` into `into` for a Sum or UpperBound field (numbers, or series bin by bin).
template <class F>
void add(F& into, const F& from) {
  if constexpr (std::is_arithmetic_v<F>) {
    into += from;
  } else {
    for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) into[i] += from[i];
  }
}

void merge_links(std::vector<LinkTotals>& into, const std::vector<LinkTotals>& from) {
  for (const LinkTotals& l : from) {
    auto it = std::find_if(into.begin(), into.end(), [&](const LinkTotals& x) { return x.link == l.link; });
    if (it == into.end()) {
      into.push_back(l);
      continue;
    }
    visit_link_zip(
        [](std::string_view, const FieldInfo& info, auto& a, const auto& b) {
          if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(a)>>)
            if (adds(info)) a += b;
        },
        *it, l);
  }
}

// A weighted mean's running sum of mean x weight, in visiting order.
void add_weighted(std::vector<double>& sums, std::size_t& i, const Totals& t, const FieldInfo& info,
                  const std::optional<double>& mean) {
  const double term = mean.value_or(0) * static_cast<double>(t.*info.weight);
  if (i == sums.size())
    sums.push_back(term);
  else
    sums[i] += term;
  ++i;
}

}  // namespace

RunReport merge_shard_reports(const std::vector<RunReport>& parts) {
  if (parts.empty()) return {};
  RunReport r = parts.front();  // Shard0 fields stay as they are
  Totals& t = r.totals;
  std::vector<double> weighted;  // per WeightedMean field: sum over shards of mean x weight
  const auto weigh = [&weighted](const Totals& from) {
    std::size_t i = 0;
    visit_totals(from, [&](std::string_view, const auto& f, const FieldInfo& info) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(f)>, std::optional<double>>)
        if (info.merge == Merge::WeightedMean) add_weighted(weighted, i, from, info, f);
    });
  };
  weigh(t);
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const Totals& o = parts[k].totals;
    visit_totals_zip(
        [](std::string_view, const FieldInfo& info, auto& into, const auto& from) {
          using F = std::remove_cvref_t<decltype(into)>;
          if constexpr (std::is_arithmetic_v<F>) {
            if (adds(info)) add(into, from);
          } else if constexpr (std::is_same_v<F, std::vector<LinkTotals>>) {
            if (info.merge == Merge::ByLink) merge_links(into, from);
          }
        },
        t, o);
    weigh(o);
    visit_series_zip(
        [](std::string_view, const FieldInfo& info, auto& into, const auto& from) {
          if (adds(info)) add(into, from);
        },
        r.series, parts[k].series);
    r.run.events += parts[k].run.events;
    r.run.wall_s = std::max(r.run.wall_s, parts[k].run.wall_s);
    r.run.peak_rss_bytes += parts[k].run.peak_rss_bytes;
  }
  std::size_t i = 0;
  visit_totals(t, [&](std::string_view, auto& f, const FieldInfo& info) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(f)>, std::optional<double>>) {
      if (info.merge != Merge::WeightedMean) return;
      const std::uint64_t weight = t.*info.weight;
      f.reset();
      if (weight > 0) f = weighted[i] / static_cast<double>(weight);
      ++i;
    }
  });
  return r;
}

}  // namespace ota::models
