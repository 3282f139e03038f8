// Replications, summaries, sweeps and expectations (models/batch/batch.hpp) and
// the metric table (models/report/metrics.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fleet_fixture.hpp"
#include "ota/models/batch/batch.hpp"
#include "ota/models/batch/sweep_run.hpp"
#include "ota/models/report/metrics.hpp"

using namespace ota::models;
using ota::models::testing::load;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Scenario small_default(std::uint64_t devices = 300) {
  return load("default.json", {{"/fleet/devices", std::to_string(devices)}});
}

std::string summary_of(const std::vector<RunReport>& reports, std::uint64_t base_seed) {
  std::vector<std::uint64_t> seeds;
  for (const RunReport& r : reports) seeds.push_back(r.run.seed);
  return summary_json(reports.front().scenario, base_seed, seeds, summarize_all(reports));
}

std::string csv_of(const std::vector<RunReport>& reports) {
  std::vector<std::uint64_t> seeds;
  for (const RunReport& r : reports) seeds.push_back(r.run.seed);
  return replications_csv(reports, seeds);
}

}  // namespace

TEST_CASE("metric table: unique names, values from the report, unknown names refused", "[models][batch]") {
  std::set<std::string> names;
  for (const MetricInfo& m : metrics()) {
    CHECK(names.insert(m.name).second);
    CHECK_FALSE(m.description.empty());
  }
  for (const char* required : {"devices", "exposed", "reverted", "service_cost_usd", "updated_share", "exposed_share",
                               "time_to_99pct_h", "stopped_at_h", "aborted", "paused", "completed", "total_cost_usd"})
    CHECK(names.count(required) == 1);

  RunReport r;
  r.totals.devices = 200;
  r.totals.updated = 150;
  r.totals.exposed = 3;
  r.totals.data_cost_usd = 1.5;
  r.totals.server_egress_cost_usd = 0.25;
  r.totals.cdn_cost_usd = 0.125;
  r.totals.service_cost_usd = 400;
  r.totals.time_to_50pct_s = 7200;
  r.rollout.state = "rolled_back";
  r.rollout.stopped_at_s = 5400;
  CHECK(*metric_value(r, "updated") == 150);
  CHECK(*metric_value(r, "updated_share") == Approx(0.75));
  CHECK(*metric_value(r, "exposed_share") == Approx(0.015));
  CHECK(*metric_value(r, "time_to_50pct_h") == Approx(2.0));
  CHECK(*metric_value(r, "time_to_90pct_h") == kInf);
  CHECK(*metric_value(r, "total_cost_usd") == Approx(401.875));
  CHECK(*metric_value(r, "stopped") == 1);
  CHECK(*metric_value(r, "stopped_at_h") == Approx(1.5));
  CHECK(*metric_value(r, "aborted") == 1);
  CHECK(*metric_value(r, "completed") == 0);
  r.rollout.state = "completed";
  r.rollout.stopped_at_s.reset();
  CHECK(*metric_value(r, "aborted") == 0);
  CHECK(*metric_value(r, "completed") == 1);
  CHECK(*metric_value(r, "stopped_at_h") == kInf);
  CHECK_FALSE(metric_value(r, "updatd_share").has_value());
  CHECK(unknown_metrics({"updated", "nope", "exposed_share", ""}) == std::vector<std::string>{"nope", ""});
}

TEST_CASE("replication seeds: replication 0 is the base seed, the rest distinct", "[models][batch]") {
  CHECK(replication_seed(42, 0) == 42);
  std::set<std::uint64_t> seen;
  for (std::size_t r = 0; r < 10000; ++r) seen.insert(replication_seed(7, r));
  CHECK(seen.size() == 10000);
  CHECK(replication_seed(7, 1) != replication_seed(8, 1));
  CHECK(batch_threads(0, 3) >= 1);
  CHECK(batch_threads(0, 3) <= 3);
  CHECK(batch_threads(8, 3) == 3);
  CHECK(batch_threads(2, 0) == 1);
}

TEST_CASE("replications: byte-identical summary and CSV for any thread count", "[models][batch]") {
  const Scenario s = small_default();
  const ReleaseArtifacts a = prepare_artifacts(s);
  BatchOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const auto r1 = run_replications(s, a, 7, 11, one);
  const auto r3 = run_replications(s, a, 7, 11, three);
  REQUIRE(r1);
  REQUIRE(r3);
  REQUIRE(r1->size() == 7);
  const std::string summary = summary_of(*r1, 11);
  CHECK(summary == summary_of(*r3, 11));
  CHECK(csv_of(*r1) == csv_of(*r3));
  for (std::size_t r = 0; r < r1->size(); ++r) {
    CHECK((*r1)[r].run.seed == replication_seed(11, r));
    CHECK(report_json((*r1)[r], false) == report_json((*r3)[r], false));
  }
  // Replication 0 is exactly the single run with the base seed.
  CHECK(report_json(r1->front(), false) == report_json(ota::models::testing::run(s, 11), false));
  CHECK(summary.find("\"wall_s\"") == std::string::npos);
}

TEST_CASE("replications: a different base seed gives different runs", "[models][batch]") {
  const Scenario s = small_default();
  const ReleaseArtifacts a = prepare_artifacts(s);
  const auto x = run_replications(s, a, 4, 1);
  const auto y = run_replications(s, a, 4, 2);
  REQUIRE(x);
  REQUIRE(y);
  CHECK(csv_of(*x) != csv_of(*y));
  CHECK(summary_of(*x, 1) != summary_of(*y, 2));
  // Within a batch, replications differ from one another too.
  const std::vector<double> energy = metric_values(*x, "energy_j");
  CHECK(std::set<double>(energy.begin(), energy.end()).size() == energy.size());
}

TEST_CASE("replications: the CI of a Bernoulli share contains its known mean and has the binomial width",
          "[models][batch]") {
  // Each device's new image never boots with probability 0.2, so the agent rolls
  // back 20 % of the fleet on average, Binomial(300, 0.2) / 300 per replication.
  const Scenario s = load("default.json", {{"/fleet/devices", "300"},
                                           {"/release/behaviour/default/failing_device_share", "0.2"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  const std::size_t R = 40;
  const auto reports = run_replications(s, a, R, 5);
  REQUIRE(reports);
  const MetricSummary m = summarize("rolled_back_share", metric_values(*reports, "rolled_back_share"));
  INFO("mean " << m.mean << " CI [" << m.ci_low << ", " << m.ci_high << "]");
  CHECK(m.n == R);
  CHECK(m.finite == R);
  CHECK(m.ci_low <= 0.2);
  CHECK(m.ci_high >= 0.2);
  // The binomial half-width: 1.96 sqrt(p (1 - p) / n) / sqrt(R) = 0.0072. A CI
  // from the wrong spread (not divided by sqrt(R), or zero) is far outside.
  const double half = (m.ci_high - m.ci_low) / 2;
  CHECK(half > 0.0072 / 2);
  CHECK(half < 0.0072 * 2);
  CHECK(m.min <= m.mean);
  CHECK(m.max >= m.mean);
}

TEST_CASE("summaries: t interval by hand; infinite values make the mean infinite", "[models][batch]") {
  const MetricSummary s = summarize("x", {1, 2, 3, 4, 5});
  CHECK(s.mean == Approx(3));
  // t(0.975, 4) = 2.7764, sd = sqrt(2.5): half-width 1.9632.
  CHECK(s.ci_high - s.mean == Approx(1.9632).epsilon(1e-3));
  CHECK(s.min == 1);
  CHECK(s.max == 5);
  CHECK(s.finite == 5);

  const MetricSummary t = summarize("time_to_99pct_h", {10, kInf, 20, kInf});
  CHECK(t.n == 4);
  CHECK(t.finite == 2);
  CHECK(t.mean == kInf);
  CHECK(t.ci_low == kInf);
  CHECK(t.min == 10);
  CHECK(t.max == kInf);
  REQUIRE(t.mean_finite);
  CHECK(*t.mean_finite == Approx(15));
  const std::string json = summary_json("s", 1, {1, 2, 3, 4}, {t});
  CHECK(json.find("\"mean\": null") != std::string::npos);
  CHECK(json.find("\"finite\": 2") != std::string::npos);

  const MetricSummary none = summarize("stopped_at_h", {kInf, kInf});
  CHECK(none.finite == 0);
  CHECK_FALSE(none.mean_finite);
  CHECK(format_number(kInf) == "inf");
  CHECK(format_number(0.1) == "0.1");
  CHECK(format_number(200) == "200");
}

TEST_CASE("Wilson interval: published values", "[models][batch]") {
  // Newcombe (1998), Table I: 0/10 -> [0, 0.2775]; and the textbook 50/100.
  auto [lo0, hi0] = wilson_interval(0, 10);
  CHECK(lo0 == 0);
  CHECK(hi0 == Approx(0.2775).epsilon(1e-3));
  auto [lo5, hi5] = wilson_interval(5, 5);
  CHECK(lo5 == Approx(0.5655).epsilon(1e-3));
  CHECK(hi5 == 1);
  auto [lo, hi] = wilson_interval(50, 100);
  CHECK(lo == Approx(0.4038).epsilon(1e-3));
  CHECK(hi == Approx(0.5962).epsilon(1e-3));
}

TEST_CASE("expectations: share of replications, the required count, comparisons with infinity", "[models][batch]") {
  CHECK(satisfies(1, Comparison::LessEqual, 1));
  CHECK_FALSE(satisfies(1, Comparison::Less, 1));
  CHECK(satisfies(kInf, Comparison::Greater, 1e300));
  CHECK_FALSE(satisfies(kInf, Comparison::LessEqual, 1e300));
  CHECK(satisfies(2, Comparison::Equal, 2));

  std::vector<RunReport> reports(200);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    reports[i].totals.devices = 1000;
    reports[i].totals.exposed = i < 198 ? 10 : 20;  // 198 of 200 at 1 %, 2 at 2 %
  }
  Expectation x{"exposed_share", Comparison::LessEqual, 0.015, 0.99, "exposure stays under 1.5 %"};
  ExpectationResult r = evaluate_expectation(x, 0, reports);
  CHECK(r.satisfied == 198);
  CHECK(r.required == 198);
  CHECK(r.passed);
  CHECK(describe(r).rfind("PASS", 0) == 0);
  reports[0].totals.exposed = 30;
  r = evaluate_expectation(x, 3, reports);
  CHECK(r.satisfied == 197);
  CHECK_FALSE(r.passed);
  CHECK(describe(r).rfind("FAIL", 0) == 0);
  CHECK(describe(r).find("exposure stays under 1.5 %") != std::string::npos);

  const std::string xml = junit_xml({CheckedFile{"a&b.json", "s<1>", 200, 1, {r}}});
  CHECK(xml.find("<testsuite name=\"a&amp;b.json\"") != std::string::npos);
  CHECK(xml.find("classname=\"s&lt;1&gt;\"") != std::string::npos);
  CHECK(xml.find("/check/expect/3: exposure stays under 1.5 %") != std::string::npos);
  CHECK(xml.find("<failure") != std::string::npos);
  CHECK(xml_escape("a\"b'c\x01\n") == "a&quot;b&apos;c?&#10;");
}

TEST_CASE("sweep: parameters, grid order and CSV shape", "[models][batch]") {
  std::string error;
  CHECK_FALSE(parse_sweep_param("fleet/devices=1,2", error));
  CHECK(error.find("fleet/devices=1,2") != std::string::npos);
  CHECK_FALSE(parse_sweep_param("/fleet/devices", error));
  CHECK_FALSE(parse_sweep_param("/fleet/devices=1,,2", error));
  CHECK_FALSE(parse_sweep_param("/fleet/devices=", error));
  const auto a = parse_sweep_param("/fleet/devices=100,200", error);
  const auto b = parse_sweep_param("/release/payload=full,delta,\"x\"", error);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->values == std::vector<std::string>{"full", "delta", "\"x\""});
  const auto grid = sweep_grid({*a, *b});
  REQUIRE(grid.size() == 6);
  CHECK(grid[0] == std::vector<std::pair<std::string, std::string>>{{"/fleet/devices", "100"},
                                                                      {"/release/payload", "full"}});
  CHECK(grid[1][1].second == "delta");
  CHECK(grid[3][0].second == "200");
  CHECK(grid[3][1].second == "full");

  std::vector<std::vector<MetricSummary>> sums(grid.size(), {summarize("updated", {1, 3})});
  const std::string csv = sweep_csv({*a, *b}, grid, {"updated"}, sums);
  CHECK(csv.rfind("/fleet/devices,/release/payload,updated_mean,updated_ci_low,updated_ci_high\n", 0) == 0);
  CHECK(csv.find("\n100,\"\"\"x\"\"\",2,") != std::string::npos);  // quotes doubled, field quoted
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 7);
}

TEST_CASE("sweep values: lists and ranges as typed, bad ones named", "[models][batch][sweep]") {
  std::string error;
  using V = std::vector<std::string>;
  CHECK(parse_sweep_values("1,2,4", error) == V{"1", "2", "4"});
  CHECK(parse_sweep_values(" full , delta ", error) == V{"full", "delta"});
  CHECK(parse_sweep_values("10..50 step 10", error) == V{"10", "20", "30", "40", "50"});
  CHECK(parse_sweep_values("10..45 step 10", error) == V{"10", "20", "30", "40"});
  CHECK(parse_sweep_values("50..10 step 20", error) == V{"50", "30", "10"});
  CHECK(parse_sweep_values("10..50 n=5", error) == V{"10", "20", "30", "40", "50"});
  CHECK(parse_sweep_values("0.1..0.3 step 0.1", error) == V{"0.1", "0.2", "0.3"});
  CHECK(parse_sweep_values("0..1 n=4", error) == V{"0", "0.333333333333", "0.666666666667", "1"});
  CHECK(parse_sweep_values("-1..1 step 1", error) == V{"-1", "0", "1"});
  for (const char* bad : {"", " ", "1,,2", "1,", "10..50", "10..50 step 0", "10..50 step -1", "a..50 step 1",
                          "10..b step 1", "10..50 n=1", "10..50 n=x", "10..50 by 5", "0..1 step 1e-6",
                          "0..1 step 1e-300"}) {
    error.clear();
    CHECK_FALSE(parse_sweep_values(bad, error));
    CHECK_FALSE(error.empty());
  }
  error.clear();
  CHECK_FALSE(parse_sweep_values("10..50 step 0", error));
  CHECK(error.find("'10..50 step 0'") != std::string::npos);
  CHECK(error.find("step '0'") != std::string::npos);
}

TEST_CASE("sweep run: a scenario's text and its file load the same points and give the same CSV",
          "[models][batch][sweep]") {
  const std::string path = ota::models::testing::scenario_path("default.json");
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<SweepParam> params{{"/polling/interval_min", {"30", "120"}}};
  const SweepPoint base{{"/fleet/devices", "300"}};
  const SweepLoad from_file = load_sweep_file(path, params, base);
  const SweepLoad from_text = load_sweep_text(text, OTA_SOURCE_DIR "/scenarios", params, base);
  REQUIRE(from_file.ok());
  REQUIRE(from_text.ok());
  REQUIRE(from_file.scenarios.size() == 2);
  CHECK(from_text.scenarios[1].devices == 300);
  const auto jobs_file = sweep_jobs(from_file, 2), jobs_text = sweep_jobs(from_text, 2);
  REQUIRE(jobs_file.size() == 4);
  CHECK(jobs_file[0].seed == jobs_file[2].seed);  // common random numbers across points
  CHECK(jobs_file[1].seed == replication_seed(from_file.scenarios[0].seed, 1));
  CHECK(jobs_text[3].scenario == &from_text.scenarios[1]);
  const auto ra = run_batch(jobs_file), rb = run_batch(jobs_text);
  REQUIRE(ra);
  REQUIRE(rb);
  const auto names = default_sweep_metrics();
  CHECK(names.size() == 7);
  const auto sa = summarize_sweep(*ra, 2, 2, names), sb = summarize_sweep(*rb, 2, 2, names);
  const std::string csv = sweep_csv(params, from_file.points, names, sa);
  CHECK(csv == sweep_csv(params, from_text.points, names, sb));
  CHECK(csv.rfind("/polling/interval_min,updated_share_mean,", 0) == 0);
  CHECK_THROWS_AS(summarize_sweep(*ra, 3, 2, names), std::invalid_argument);

  // A bad point is reported with the others still tried, and nothing is kept.
  const SweepLoad bad = load_sweep_text(text, ".", {{"/fleet/devices", {"0", "100", "-1"}}});
  CHECK_FALSE(bad.ok());
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[1].index == 2);
  CHECK(bad.scenarios.empty());
  CHECK(sweep_jobs(bad, 3).empty());
  const std::string message = format_sweep_errors(bad, "sweep", "");
  CHECK(message.rfind("sweep: grid point 0 (/fleet/devices=0):\nsweep: /fleet/devices: ", 0) == 0);
  CHECK(message.find("grid point 2 (/fleet/devices=-1)") != std::string::npos);
}

TEST_CASE("run_batch: progress never goes back and ends at 1; cancel returns nothing", "[models][batch]") {
  const Scenario s = small_default(200);
  const ReleaseArtifacts a = prepare_artifacts(s);
  std::vector<double> seen;
  BatchOptions o;
  o.threads = 2;
  o.on_progress = [&seen](double f) { seen.push_back(f); };  // run_batch serialises the calls
  REQUIRE(run_replications(s, a, 4, 3, o));
  REQUIRE_FALSE(seen.empty());
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] >= seen[i - 1]);
  CHECK(seen.back() == 1.0);

  std::atomic<bool> cancel{true};
  BatchOptions c;
  c.cancel = &cancel;
  CHECK_FALSE(run_replications(s, a, 4, 3, c).has_value());
}
