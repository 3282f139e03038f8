// Statistical gates against a fixed threshold on the same rollout
// (scenarios/gate-{threshold,bayes,sprt}.json): the same bad release is
// stopped with fewer devices exposed, without more false alarms on a good one.
// bench/RESULTS.md has the 200-replication figures; this test uses fewer.
#include <catch2/catch.hpp>

#include <string>

#include "fleet_fixture.hpp"
#include "ota/models/batch/batch.hpp"

using namespace ota::models;
using namespace ota::models::testing;

namespace {

struct Outcome {
  MetricSummary exposed;    // bad release: devices that booted it
  double false_alarms = 0;  // good release: share of replications stopped
};

Outcome measure(const std::string& mode, std::size_t replications) {
  Outcome out;
  const std::string file = "gate-" + mode + ".json";
  const Scenario bad = load(file);
  const ReleaseArtifacts bad_art = prepare_artifacts(bad);
  BatchOptions o;
  o.threads = 2;
  o.keep_series = false;
  const auto bad_runs = run_replications(bad, bad_art, replications, std::nullopt, o);
  REQUIRE(bad_runs);
  for (const RunReport& r : *bad_runs) REQUIRE(r.rollout.state == "aborted");
  out.exposed = summarize("exposed", metric_values(*bad_runs, "exposed"));
  // The good release: 0.2 % of devices roll back, a fifth of the gates' 1 % limit.
  const Scenario good = load(file, {{"/release/behaviour/default/failing_device_share", "0.002"},
                                    {"/fleet/devices", "30000"}});
  const ReleaseArtifacts good_art = prepare_artifacts(good);
  const auto good_runs = run_replications(good, good_art, replications, std::nullopt, o);
  REQUIRE(good_runs);
  std::size_t stopped = 0;
  for (const RunReport& r : *good_runs) stopped += r.rollout.stopped_at_s ? 1 : 0;
  out.false_alarms = static_cast<double>(stopped) / static_cast<double>(replications);
  return out;
}

}  // namespace

TEST_CASE("Bayesian and SPRT gates stop a bad release with fewer devices exposed than a fixed threshold",
          "[rollout][gates][slow]") {
  const std::size_t n = 40;
  const Outcome threshold = measure("threshold", n);
  const Outcome bayes = measure("bayes", n);
  const Outcome sprt = measure("sprt", n);
  INFO("exposed: threshold " << threshold.exposed.mean << " bayes " << bayes.exposed.mean << " sprt "
                             << sprt.exposed.mean << "; false alarms: " << threshold.false_alarms << " "
                             << bayes.false_alarms << " " << sprt.false_alarms);
  // The threshold waits for 300 reports; the others decide on the evidence.
  CHECK(bayes.exposed.ci_high < threshold.exposed.ci_low);
  CHECK(sprt.exposed.ci_high < threshold.exposed.ci_low);
  CHECK(sprt.exposed.mean < 0.6 * threshold.exposed.mean);
  // False alarms stay rare for all three (the 200-replication figures are in
  // bench/RESULTS.md: threshold 3.5 %, Bayes 0 %, SPRT 1.5 %).
  CHECK(threshold.false_alarms <= 0.15);
  CHECK(bayes.false_alarms <= 0.10);
  CHECK(sprt.false_alarms <= 0.10);
}
