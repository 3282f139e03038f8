// batch.cpp — thread pool for replications and sweeps, summaries, and the
// files and lines `otasim run --replications`, `sweep` and `check` produce.
#include "ota/models/batch/batch.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>

#include <boost/math/distributions/normal.hpp>
#include <nlohmann/json.hpp>

#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/sim/statistics.hpp"

namespace ota::models {

namespace {

using Json = nlohmann::ordered_json;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Combines the partial progress of the running jobs into one non-decreasing
// fraction and hands it to the caller's callback, one call at a time.
class BatchProgress {
 public:
  BatchProgress(std::size_t slots, std::size_t jobs, const std::function<void(double)>& callback)
      : partial_(slots, 0.0), jobs_(jobs), callback_(callback) {}

  void update(std::size_t slot, double fraction) {
    if (!callback_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    partial_[slot] = std::clamp(fraction, 0.0, 1.0);
    report();
  }

  void finish(std::size_t slot) {
    std::lock_guard<std::mutex> lock(mutex_);
    partial_[slot] = 0;
    ++done_;
    if (callback_) report();
  }

 private:
  void report() {
    double sum = static_cast<double>(done_);
    for (double p : partial_) sum += p;
    const double f = done_ == jobs_ ? 1.0 : std::min(sum / static_cast<double>(jobs_), 1.0);
    // At most about a thousand updates for the whole batch, and never backwards.
    if (f < last_ + 0.001 && !(f == 1.0 && last_ < 1.0)) return;
    last_ = f;
    callback_(f);
  }

  std::mutex mutex_;
  std::vector<double> partial_;
  std::size_t jobs_;
  std::size_t done_ = 0;
  double last_ = -1;
  const std::function<void(double)>& callback_;
};

// A double for JSON: infinities and NaN as null.
Json json_number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Short human text for a table or a check line: 6 significant digits.
std::string short_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

std::string percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * f);
  return buf;
}

}  // namespace

// ---- Running -------------------------------------------------------------

std::uint64_t replication_seed(std::uint64_t base_seed, std::size_t r) {
  if (r == 0) return base_seed;
  // SplitMix64 (Steele, Lea & Flood 2014) of the r-th step from base_seed.
  std::uint64_t z = base_seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(r);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::size_t batch_threads(std::size_t requested, std::size_t jobs) {
  std::size_t t = requested;
  if (t == 0) t = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  return std::clamp<std::size_t>(t, 1, std::max<std::size_t>(jobs, 1));
}

namespace {
BatchExecutor& executor() {
  static BatchExecutor e;
  return e;
}
}  // namespace

void set_batch_executor(BatchExecutor e) { executor() = std::move(e); }

std::optional<std::vector<RunReport>> run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options) {
  if (executor()) return executor()(jobs, options);
  return run_batch_locally(jobs, options);
}

std::optional<std::vector<RunReport>> run_batch_locally(const std::vector<BatchJob>& jobs, const BatchOptions& options) {
  const std::size_t n = jobs.size();
  std::vector<RunReport> results(n);
  if (n == 0) return results;
  for (const BatchJob& job : jobs)
    if (!job.scenario || !job.artifacts) throw std::invalid_argument("run_batch: a job without scenario or artifacts");

  const std::size_t threads = batch_threads(options.threads, n);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> completed{0};
  std::atomic<bool> stop{false};  // cancelled by the caller or a run threw
  std::vector<std::exception_ptr> errors(n);
  BatchProgress progress(threads, n, options.on_progress);
  const auto cancelled = [&options] {
    return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
  };

  const auto worker = [&](std::size_t slot) {
    while (!stop.load() && !cancelled()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      RunOptions run;
      run.seed = jobs[i].seed;
      run.cancel = &stop;
      run.on_progress = [&, slot](double f) {
        if (cancelled()) stop.store(true);
        progress.update(slot, f);
      };
      try {
        results[i] = run_scenario(*jobs[i].scenario, *jobs[i].artifacts, run);
      } catch (...) {
        errors[i] = std::current_exception();
        stop.store(true);
        return;
      }
      if (stop.load()) return;  // the run may have stopped early: not a result
      if (!options.keep_series && i != 0) results[i].series = Series{};
      completed.fetch_add(1);
      progress.finish(slot);
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker, t);
    } catch (const std::system_error&) {
      break;  // fewer threads than asked: the calling thread still works
    }
  }
  worker(0);
  for (std::thread& t : pool) t.join();

  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  if (completed.load() != n) return std::nullopt;
  return results;
}

std::optional<std::vector<RunReport>> run_replications(const Scenario& scenario, const ReleaseArtifacts& artifacts,
                                                       std::size_t replications,
                                                       std::optional<std::uint64_t> base_seed,
                                                       const BatchOptions& options) {
  const std::uint64_t base = base_seed.value_or(scenario.seed);
  std::vector<BatchJob> jobs(replications);
  for (std::size_t r = 0; r < replications; ++r) jobs[r] = BatchJob{&scenario, &artifacts, replication_seed(base, r)};
  return run_batch(jobs, options);
}

// ---- Summaries -----------------------------------------------------------

std::vector<double> metric_values(std::span<const RunReport> reports, const std::string& metric) {
  std::vector<double> values;
  values.reserve(reports.size());
  for (const RunReport& r : reports) {
    const std::optional<double> v = metric_value(r, metric);
    if (!v) throw std::invalid_argument("metric_values: '" + metric + "' is not a metric");
    values.push_back(*v);
  }
  return values;
}

MetricSummary summarize(const std::string& metric, const std::vector<double>& values) {
  MetricSummary s;
  s.metric = metric;
  s.n = values.size();
  if (values.empty()) {
    s.mean = s.ci_low = s.ci_high = s.min = s.max = kNaN;
    return s;
  }
  std::vector<double> finite;
  finite.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  s.finite = finite.size();
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  if (!finite.empty()) s.mean_finite = sim::mean_confidence_interval(finite, kConfidenceLevel).mean;
  if (s.finite == s.n) {
    const sim::ConfidenceInterval ci = sim::mean_confidence_interval(values, kConfidenceLevel);
    s.mean = ci.mean;
    s.ci_low = ci.lower();
    s.ci_high = ci.upper();
  } else {
    // An infinite sample value (never reached) means the expectation is infinite.
    s.mean = s.ci_low = s.ci_high = kInf;
  }
  return s;
}

std::vector<MetricSummary> summarize_all(const std::vector<RunReport>& reports) {
  std::vector<MetricSummary> out;
  out.reserve(metrics().size());
  for (const MetricInfo& m : metrics()) out.push_back(summarize(m.name, metric_values(reports, m.name)));
  return out;
}

std::vector<std::string> unknown_metrics(const std::vector<std::string>& names) {
  std::vector<std::string> unknown;
  const RunReport empty;
  for (const std::string& name : names)
    if (!metric_value(empty, name)) unknown.push_back(name);
  return unknown;
}

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, res.ptr);
}

std::string summary_json(const std::string& scenario_name, std::uint64_t base_seed,
                         const std::vector<std::uint64_t>& seeds, const std::vector<MetricSummary>& summaries) {
  Json j;
  j["format"] = "otasim-summary/1";
  j["scenario"] = scenario_name;
  j["replications"] = seeds.size();
  j["base_seed"] = base_seed;
  j["confidence"] = kConfidenceLevel;
  j["seeds"] = seeds;
  Json ms = Json::object();
  for (const MetricSummary& s : summaries) {
    Json m;
    m["n"] = s.n;
    m["finite"] = s.finite;
    m["mean"] = json_number(s.mean);
    m["ci_low"] = json_number(s.ci_low);
    m["ci_high"] = json_number(s.ci_high);
    m["min"] = json_number(s.min);
    m["max"] = json_number(s.max);
    m["mean_finite"] = s.mean_finite ? json_number(*s.mean_finite) : Json(nullptr);
    ms[s.metric] = std::move(m);
  }
  j["metrics"] = std::move(ms);
  return j.dump(2) + "\n";
}

std::string replications_csv(const std::vector<RunReport>& reports, const std::vector<std::uint64_t>& seeds) {
  if (seeds.size() != reports.size()) throw std::invalid_argument("replications_csv: one seed per report");
  std::string out = "replication,seed";
  for (const MetricInfo& m : metrics()) out += "," + m.name;
  out += "\n";
  for (std::size_t r = 0; r < reports.size(); ++r) {
    out += std::to_string(r) + "," + std::to_string(seeds[r]);
    for (const MetricInfo& m : metrics()) out += "," + format_number(*metric_value(reports[r], m.name));
    out += "\n";
  }
  return out;
}

std::string summary_table(const std::vector<MetricSummary>& summaries, const std::vector<std::string>& names) {
  std::size_t width = 6;
  for (const std::string& n : names) width = std::max(width, n.size());
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "  %-*s %12s   %-27s %12s %12s\n", static_cast<int>(width), "metric", "mean",
                "95% CI", "min", "max");
  out += line;
  for (const std::string& name : names) {
    const auto it = std::find_if(summaries.begin(), summaries.end(),
                                 [&](const MetricSummary& s) { return s.metric == name; });
    if (it == summaries.end()) continue;
    const MetricSummary& s = *it;
    const std::string ci = "[" + short_number(s.ci_low) + ", " + short_number(s.ci_high) + "]";
    std::snprintf(line, sizeof line, "  %-*s %12s   %-27s %12s %12s", static_cast<int>(width), name.c_str(),
                  short_number(s.mean).c_str(), ci.c_str(), short_number(s.min).c_str(), short_number(s.max).c_str());
    out += line;
    if (s.finite < s.n) {
      out += "   (finite in " + std::to_string(s.finite) + "/" + std::to_string(s.n);
      if (s.mean_finite) out += ", mean of those " + short_number(*s.mean_finite);
      out += ")";
    }
    out += "\n";
  }
  return out;
}

// ---- Sweeps --------------------------------------------------------------

std::optional<SweepParam> parse_sweep_param(const std::string& text, std::string& error) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || text[0] != '/') {
    error = "--param '" + text + "': expected POINTER=v1,v2,... with a JSON Pointer starting with '/'";
    return std::nullopt;
  }
  SweepParam p;
  p.pointer = text.substr(0, eq);
  const std::string list = text.substr(eq + 1);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    const std::string value = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (value.empty()) {
      error = "--param '" + text + "': empty value in the list (expected v1,v2,... after '=')";
      return std::nullopt;
    }
    p.values.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return p;
}

std::vector<std::vector<std::pair<std::string, std::string>>> sweep_grid(const std::vector<SweepParam>& params) {
  std::vector<std::vector<std::pair<std::string, std::string>>> points;
  if (params.empty()) return points;
  for (const SweepParam& p : params)
    if (p.values.empty()) return points;
  std::vector<std::size_t> at(params.size(), 0);
  while (true) {
    std::vector<std::pair<std::string, std::string>> point;
    for (std::size_t k = 0; k < params.size(); ++k) point.emplace_back(params[k].pointer, params[k].values[at[k]]);
    points.push_back(std::move(point));
    // Odometer: the last parameter turns fastest.
    std::size_t k = params.size();
    while (k > 0) {
      --k;
      if (++at[k] < params[k].values.size()) break;
      at[k] = 0;
      if (k == 0) return points;
    }
  }
}

std::string sweep_csv(const std::vector<SweepParam>& params,
                      const std::vector<std::vector<std::pair<std::string, std::string>>>& points,
                      const std::vector<std::string>& metric_names,
                      const std::vector<std::vector<MetricSummary>>& summaries) {
  std::string out;
  bool first = true;
  for (const SweepParam& p : params) {
    out += (first ? "" : ",") + csv_field(p.pointer);
    first = false;
  }
  for (const std::string& m : metric_names) out += "," + m + "_mean," + m + "_ci_low," + m + "_ci_high";
  out += "\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    first = true;
    for (const auto& [pointer, value] : points[i]) {
      out += (first ? "" : ",") + csv_field(value);
      first = false;
    }
    for (const MetricSummary& s : summaries.at(i))
      out += "," + format_number(s.mean) + "," + format_number(s.ci_low) + "," + format_number(s.ci_high);
    out += "\n";
  }
  return out;
}

// ---- Expectations --------------------------------------------------------

const char* to_string(Comparison op) {
  switch (op) {
    case Comparison::Less: return "<";
    case Comparison::LessEqual: return "<=";
    case Comparison::Greater: return ">";
    case Comparison::GreaterEqual: return ">=";
    case Comparison::Equal: return "==";
  }
  return "?";
}

bool satisfies(double x, Comparison op, double value) {
  switch (op) {
    case Comparison::Less: return x < value;
    case Comparison::LessEqual: return x <= value;
    case Comparison::Greater: return x > value;
    case Comparison::GreaterEqual: return x >= value;
    case Comparison::Equal: return x == value;
  }
  return false;
}

std::pair<double, double> wilson_interval(std::size_t successes, std::size_t n, double level) {
  if (n == 0) return {0.0, 1.0};
  const double z = boost::math::quantile(boost::math::normal(), 1 - (1 - level) / 2);
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double centre = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  // Exact at the ends: every success leaves no room above, none none below.
  const double low = successes == 0 ? 0.0 : std::max(0.0, centre - half);
  const double high = successes == n ? 1.0 : std::min(1.0, centre + half);
  return {low, high};
}

ExpectationResult evaluate_expectation(const Expectation& expectation, std::size_t index,
                                       std::span<const RunReport> reports) {
  ExpectationResult r;
  r.expectation = expectation;
  r.index = index;
  const std::vector<double> values = metric_values(reports, expectation.metric);
  r.measured = summarize(expectation.metric, values);
  for (double v : values)
    if (satisfies(v, expectation.op, expectation.value)) ++r.satisfied;
  const double n = static_cast<double>(values.size());
  // The smallest count k with k / n >= share; the tolerance keeps 0.99 x 200 at 198.
  r.required = static_cast<std::size_t>(std::max(0.0, std::ceil(expectation.share * n - 1e-9)));
  std::tie(r.share_low, r.share_high) = wilson_interval(r.satisfied, values.size());
  r.passed = r.satisfied >= r.required;
  return r;
}

namespace {

std::string formula(const Expectation& x) {
  return x.metric + " " + to_string(x.op) + " " + short_number(x.value);
}

std::string share_text(const ExpectationResult& r) {
  const std::size_t n = r.measured.n;
  const double f = n == 0 ? 0.0 : static_cast<double>(r.satisfied) / static_cast<double>(n);
  return std::to_string(r.satisfied) + "/" + std::to_string(n) + " = " + percent(f) + " [" + percent(r.share_low) +
         ", " + percent(r.share_high) + "]";
}

std::string measured_text(const MetricSummary& s) {
  std::string t = "mean " + short_number(s.mean);
  if (s.finite == s.n)
    t += " [" + short_number(s.ci_low) + ", " + short_number(s.ci_high) + "]";
  else {
    t += " (finite in " + std::to_string(s.finite) + "/" + std::to_string(s.n);
    if (s.mean_finite) t += ", mean of those " + short_number(*s.mean_finite);
    t += ")";
  }
  return t;
}

std::string failure_message(const ExpectationResult& r) {
  return formula(r.expectation) + " held in " + std::to_string(r.satisfied) + " of " + std::to_string(r.measured.n) +
         " replications; required " + std::to_string(r.required) + " (share " + short_number(r.expectation.share) +
         "); " + measured_text(r.measured);
}

}  // namespace

std::string describe(const ExpectationResult& r) {
  std::string line = r.passed ? "PASS  " : "FAIL  ";
  line += formula(r.expectation) + " in >= " + percent(r.expectation.share) + " of runs: " + share_text(r) + "; " +
          measured_text(r.measured);
  if (!r.expectation.description.empty()) line += " — " + r.expectation.description;
  return line;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default:
        // Other control characters are not allowed in XML 1.0 at all.
        out += c < 0x20 || c == 0x7f ? '?' : ch;
    }
  }
  return out;
}

std::string junit_xml(const std::vector<CheckedFile>& files) {
  std::size_t tests = 0, failures = 0;
  for (const CheckedFile& f : files)
    for (const ExpectationResult& r : f.results) {
      ++tests;
      if (!r.passed) ++failures;
    }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"otasim check\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
       std::to_string(failures) + "\" errors=\"0\">\n";
  for (const CheckedFile& f : files) {
    std::size_t suite_failures = 0;
    for (const ExpectationResult& r : f.results)
      if (!r.passed) ++suite_failures;
    x += "  <testsuite name=\"" + xml_escape(f.path) + "\" tests=\"" + std::to_string(f.results.size()) +
         "\" failures=\"" + std::to_string(suite_failures) + "\" errors=\"0\" skipped=\"0\">\n";
    x += "    <properties>\n";
    x += "      <property name=\"scenario\" value=\"" + xml_escape(f.scenario) + "\"/>\n";
    x += "      <property name=\"replications\" value=\"" + std::to_string(f.replications) + "\"/>\n";
    x += "      <property name=\"seed\" value=\"" + std::to_string(f.base_seed) + "\"/>\n";
    x += "    </properties>\n";
    for (const ExpectationResult& r : f.results) {
      const Expectation& e = r.expectation;
      std::string name = "/check/expect/" + std::to_string(r.index) + ": ";
      name += e.description.empty() ? formula(e) : e.description + " (" + formula(e) + ")";
      x += "    <testcase classname=\"" + xml_escape(f.scenario) + "\" name=\"" + xml_escape(name) + "\"";
      if (r.passed) {
        x += ">\n      <system-out>" + xml_escape(describe(r)) + "</system-out>\n    </testcase>\n";
      } else {
        x += ">\n      <failure type=\"expectation\" message=\"" + xml_escape(failure_message(r)) + "\">" +
             xml_escape(describe(r)) + "</failure>\n    </testcase>\n";
      }
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

}  // namespace ota::models
