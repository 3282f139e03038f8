// sweep_run.cpp — loading, jobs and summaries of a sweep, shared by
// `otasim sweep` and the planner's sweep panel.
#include "ota/models/batch/sweep_run.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <stdexcept>
#include <system_error>

namespace ota::models {

namespace {

using PointLoader = std::function<LoadResult(const SweepPoint&)>;

SweepLoad load_points(const std::vector<SweepParam>& params, const SweepPoint& base_overrides,
                      const PointLoader& load) {
  SweepLoad out;
  out.params = params;
  out.points = sweep_grid(params);
  out.scenarios.reserve(out.points.size());
  out.artifacts.reserve(out.points.size());
  for (std::size_t i = 0; i < out.points.size(); ++i) {
    SweepPoint overrides = base_overrides;
    overrides.insert(overrides.end(), out.points[i].begin(), out.points[i].end());
    LoadResult loaded = load(overrides);
    if (!loaded.scenario) {
      out.errors.push_back(SweepPointError{i, out.points[i], std::move(loaded.errors), {}});
      continue;
    }
    try {
      out.artifacts.push_back(prepare_artifacts(*loaded.scenario));
    } catch (const ArtifactError& e) {
      out.errors.push_back(SweepPointError{i, out.points[i], {}, e.what()});
      continue;
    }
    out.scenarios.push_back(std::move(*loaded.scenario));
  }
  if (!out.errors.empty()) {
    out.scenarios.clear();
    out.artifacts.clear();
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> read_number(std::string_view s) {
  s = trimmed(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// 12 significant digits, then the shortest text of that double: range
// arithmetic (0.1 + 2 * 0.1) does not leak into the values.
std::string range_value(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  const double rounded = std::strtod(buf, nullptr);
  return format_number(rounded == 0 ? 0.0 : rounded);
}

}  // namespace

std::vector<std::string> default_sweep_metrics() {
  std::vector<std::string> out;
  std::string_view rest = kDefaultSweepMetrics;
  while (true) {
    const std::size_t comma = rest.find(',');
    out.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string describe_sweep_point(std::size_t index, const SweepPoint& point) {
  std::string s = "grid point " + std::to_string(index) + " (";
  for (std::size_t k = 0; k < point.size(); ++k) s += (k ? ", " : "") + point[k].first + "=" + point[k].second;
  return s + ")";
}

SweepLoad load_sweep_file(const std::string& path, const std::vector<SweepParam>& params,
                          const SweepPoint& base_overrides) {
  return load_points(params, base_overrides,
                     [&path](const SweepPoint& overrides) { return load_scenario_file(path, overrides); });
}

SweepLoad load_sweep_text(std::string_view json_text, const std::string& base_dir,
                          const std::vector<SweepParam>& params, const SweepPoint& base_overrides) {
  return load_points(params, base_overrides, [&](const SweepPoint& overrides) {
    return parse_scenario_with_overrides(json_text, overrides, base_dir);
  });
}

std::string format_sweep_errors(const SweepLoad& load, const std::string& command, const std::string& file) {
  std::string out;
  for (const SweepPointError& e : load.errors) {
    const std::string head =
        command + ": " + (file.empty() ? "" : file + ": ") + describe_sweep_point(e.index, e.point);
    if (e.errors.empty())
      out += head + ": " + e.artifact_error + "\n";
    else
      out += head + ":\n" + format_errors(e.errors, command, file);
  }
  return out;
}

std::vector<BatchJob> sweep_jobs(const SweepLoad& load, std::size_t replications, std::optional<std::uint64_t> seed) {
  std::vector<BatchJob> jobs;
  if (!load.ok()) return jobs;
  jobs.reserve(load.scenarios.size() * replications);
  for (std::size_t i = 0; i < load.scenarios.size(); ++i) {
    const std::uint64_t base = seed ? *seed : load.scenarios[i].seed;
    for (std::size_t r = 0; r < replications; ++r)
      jobs.push_back(BatchJob{&load.scenarios[i], &load.artifacts[i], replication_seed(base, r)});
  }
  return jobs;
}

std::vector<std::vector<MetricSummary>> summarize_sweep(const std::vector<RunReport>& reports, std::size_t points,
                                                        std::size_t replications,
                                                        const std::vector<std::string>& metric_names) {
  if (reports.size() != points * replications)
    throw std::invalid_argument("summarize_sweep: " + std::to_string(reports.size()) + " reports for " +
                                std::to_string(points) + " points x " + std::to_string(replications) +
                                " replications");
  std::vector<std::vector<MetricSummary>> summaries(points);
  for (std::size_t i = 0; i < points; ++i) {
    const std::span<const RunReport> at_point(reports.data() + i * replications, replications);
    for (const std::string& m : metric_names) summaries[i].push_back(summarize(m, metric_values(at_point, m)));
  }
  return summaries;
}

std::optional<std::vector<std::string>> parse_sweep_values(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::string_view t = trimmed(text);
  if (t.empty()) {
    error = "no values (expected a list such as 1,2,4 or a range such as 10..50 step 10 or 10..50 n=5)";
    return std::nullopt;
  }
  const std::size_t dots = t.find("..");
  if (dots == std::string_view::npos) {
    std::vector<std::string> values;
    std::string_view rest = t;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = trimmed(rest.substr(0, comma));
      if (item.empty()) {
        error = "values " + quoted + ": empty value in the list (expected v1,v2,... with no empty item)";
        return std::nullopt;
      }
      values.emplace_back(item);
      if (values.size() > kMaxSweepValues) {
        error = "values " + quoted + ": more than " + std::to_string(kMaxSweepValues) + " values";
        return std::nullopt;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return values;
  }
  // A range: FROM..TO step S, or FROM..TO n=N.
  const auto bad_range = [&](const std::string& why) {
    error = "range " + quoted + ": " + why + " (expected FROM..TO step S or FROM..TO n=N, e.g. 10..50 step 10)";
    return std::nullopt;
  };
  const std::optional<double> from = read_number(t.substr(0, dots));
  if (!from) return bad_range("'" + std::string(trimmed(t.substr(0, dots))) + "' is not a number");
  std::string_view rest = trimmed(t.substr(dots + 2));
  const std::size_t space = rest.find_first_of(" \t");
  if (space == std::string_view::npos) return bad_range("no step or count after the end");
  const std::optional<double> to = read_number(rest.substr(0, space));
  if (!to) return bad_range("'" + std::string(rest.substr(0, space)) + "' is not a number");
  rest = trimmed(rest.substr(space));
  std::vector<double> xs;
  if (rest.rfind("step", 0) == 0) {
    const std::string_view step_text = trimmed(rest.substr(4));
    const std::optional<double> step = read_number(step_text);
    if (!step || *step <= 0) return bad_range("step '" + std::string(step_text) + "' is not a positive number");
    const double span = std::fabs(*to - *from);
    const double steps = std::floor(span / *step + 1e-9);
    if (steps + 1 > static_cast<double>(kMaxSweepValues))
      return bad_range("more than " + std::to_string(kMaxSweepValues) + " values");
    const double dir = *to >= *from ? 1.0 : -1.0;
    for (std::size_t i = 0; i <= static_cast<std::size_t>(steps); ++i)
      xs.push_back(*from + dir * static_cast<double>(i) * *step);
  } else if (rest.rfind("n=", 0) == 0 || rest.rfind("n =", 0) == 0) {
    const std::string_view n_text = trimmed(rest.substr(rest.find('=') + 1));
    std::size_t n = 0;
    const auto [ptr, ec] = std::from_chars(n_text.data(), n_text.data() + n_text.size(), n);
    if (n_text.empty() || ec != std::errc() || ptr != n_text.data() + n_text.size() || n < 2 ||
        n > kMaxSweepValues)
      return bad_range("count '" + std::string(n_text) + "' is not a whole number from 2 to " +
                       std::to_string(kMaxSweepValues));
    for (std::size_t i = 0; i < n; ++i)
      xs.push_back(i + 1 == n ? *to : *from + (*to - *from) * static_cast<double>(i) / static_cast<double>(n - 1));
  } else {
    return bad_range("'" + std::string(rest) + "' is neither 'step S' nor 'n=N'");
  }
  std::vector<std::string> values;
  for (double x : xs) {
    std::string v = range_value(x);
    if (!values.empty() && values.back() == v) return bad_range("values closer than 12 significant digits");
    values.push_back(std::move(v));
  }
  return values;
}

}  // namespace ota::models
