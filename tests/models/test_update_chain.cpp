// The analytic model of one device's update (rollout/update_chain.hpp):
// closed forms first, then agreement with the simulator within its confidence
// intervals, then `otasim analyze` as a planner meets it.
#include <catch2/catch.hpp>

#include "shell.hpp"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <nlohmann/json.hpp>

#include "fleet_fixture.hpp"
#include "ota/models/rollout/update_chain.hpp"

using namespace ota::models;
using namespace ota::models::testing;
using Overrides = std::vector<std::pair<std::string, std::string>>;

namespace {

// A device with nothing but what the test sets: A/B, no hazards, an instant link.
UpdateChainParams bare(ota::agent::PartitionScheme scheme = ota::agent::PartitionScheme::DualSlot) {
  UpdateChainParams p;
  p.boot.scheme = scheme;
  p.payload_bytes = p.image_bytes = 100'000;
  p.link_bps = 1e6;
  p.flash_s = 10;
  p.report_after_s = 600;
  return p;
}

UpdateOutcome solve(const UpdateChainParams& p) { return solve_update_chain(build_update_chain(p), p); }

void check_rows_sum_to_one(const UpdateChain& c) {
  for (std::size_t i = 0; i < c.size(); ++i) {
    double sum = 0;
    for (std::size_t j = 0; j < c.size(); ++j) {
      const double pij = c.probability(i, j);
      INFO(to_string(c.states[i]) << " -> " << to_string(c.states[j]) << " = " << pij);
      CHECK(pij >= 0.0);
      CHECK(pij <= 1.0);
      sum += pij;
    }
    INFO("row " << to_string(c.states[i]));
    CHECK(sum == Approx(1.0).margin(1e-12));
    if (i >= c.transient) CHECK(c.probability(i, i) == 1.0);  // absorbing
    else CHECK(c.probability(i, i) < 1.0);
  }
}

// Two-sided 99% interval of a Binomial(n, p) count.
std::pair<double, double> binomial_99(double n, double p) {
  if (p <= 0) return {0, 0};
  if (p >= 1) return {n, n};
  boost::math::binomial_distribution<> b(n, p);
  return {boost::math::quantile(b, 0.005), boost::math::quantile(boost::math::complement(b, 0.005))};
}

// R replications of a scenario, each with its own seed, all devices finished.
struct Replications {
  std::vector<RunReport> runs;
  double devices = 0;  // over all replications

  template <class F>
  std::uint64_t sum(F field) const {
    std::uint64_t s = 0;
    for (const RunReport& r : runs) s += field(r.totals);
    return s;
  }
  // 99% Student-t interval of the per-device mean of `field` across replications.
  template <class F>
  std::pair<double, double> mean_99(F field) const {
    const double n = static_cast<double>(runs.size());
    std::vector<double> x;
    for (const RunReport& r : runs)
      x.push_back(static_cast<double>(field(r.totals)) / static_cast<double>(r.totals.devices));
    double mean = 0, var = 0;
    for (double v : x) mean += v / n;
    for (double v : x) var += (v - mean) * (v - mean) / (n - 1);
    const double t = boost::math::quantile(boost::math::complement(boost::math::students_t(n - 1), 0.005));
    const double half = t * std::sqrt(var / n);
    return {mean - half, mean + half};
  }
};

Replications replicate(const Scenario& s, int r) {
  const ReleaseArtifacts a = prepare_artifacts(s);
  Replications out;
  for (int i = 0; i < r; ++i) {
    RunOptions o;
    o.seed = 1000 + static_cast<std::uint64_t>(i);
    out.runs.push_back(run_scenario(s, a, o));
    REQUIRE(out.runs.back().totals.in_progress == 0);  // the chain has no horizon: every device must finish
    out.devices += static_cast<double>(out.runs.back().totals.devices);
  }
  return out;
}

UpdateOutcome analytic(const Scenario& s) {
  const UpdateAnalysis a = analyze_update(s, prepare_artifacts(s));
  REQUIRE(a.classes.size() == 1);
  return a.fleet;
}

// The simulated count of `field` over all replications lies in the 99%
// binomial interval of the analytic probability `p`.
void check_share(const Replications& reps, const char* name, std::uint64_t Totals::*field, double p) {
  const double count = static_cast<double>(reps.sum([field](const Totals& t) { return t.*field; }));
  const auto [lo, hi] = binomial_99(reps.devices, p);
  INFO(name << ": simulated " << count << " of " << reps.devices << ", analytic p = " << p << ", 99% interval ["
            << lo << ", " << hi << "]");
  CHECK(count >= lo);
  CHECK(count <= hi);
}

// The analytic expectation per device lies in the 99% interval of the
// simulated per-device mean across replications.
template <class F>
void check_mean(const Replications& reps, const char* name, F per_run, double expected) {
  const auto [lo, hi] = reps.mean_99(per_run);
  INFO(name << " per device: analytic " << expected << ", simulated 99% interval [" << lo << ", " << hi << "]");
  CHECK(expected >= lo);
  CHECK(expected <= hi);
}
void check_mean(const Replications& reps, const char* name, std::uint64_t Totals::*field, double expected) {
  check_mean(reps, name, [field](const Totals& t) { return t.*field; }, expected);
}

constexpr int kReplications = 8;

}  // namespace

// ---------------------------------------------------------------- closed forms

TEST_CASE("update chain: boot failures alone roll back with probability p^L", "[models][chain]") {
  for (const int limit : {1, 3, 5}) {
    for (const double p : {0.1, 0.3, 0.7, 1.0}) {
      UpdateChainParams prm = bare();
      prm.boot.trial_boot_limit = static_cast<std::uint8_t>(limit);
      prm.boot_failure = p;
      const UpdateOutcome o = solve(prm);
      INFO("limit " << limit << ", p " << p);
      CHECK(o.p_rolled_back == Approx(std::pow(p, limit)).margin(1e-12));
      CHECK(o.p_updated == Approx(1 - std::pow(p, limit)).margin(1e-12));
      CHECK(o.p_bricked == 0.0);
      // Trial k happens iff the k-1 before it failed: sum of p^(k-1).
      double boots = 0;
      for (int k = 0; k < limit; ++k) boots += std::pow(p, k);
      CHECK(o.expected_trial_boots == Approx(boots).epsilon(1e-12));
      CHECK(o.expected_trial_boot_failures == Approx(p * boots).epsilon(1e-12));
      CHECK(o.expected_downloads == Approx(1.0).epsilon(1e-12));
      CHECK(o.expected_bytes == Approx(prm.payload_bytes).epsilon(1e-12));
    }
  }
}

TEST_CASE("update chain: the trial-boot limit and scheme are the agent's", "[models][chain]") {
  // The default limit is agent::BootConfig{}'s, and 0 means 1 as the agent reads it.
  UpdateChainParams prm = bare();
  prm.boot_failure = 0.5;
  const int default_limit = ota::agent::BootConfig{}.trial_boot_limit;
  const UpdateChain c = build_update_chain(prm);
  CHECK(c.index_of({ChainStateKind::TrialBoot, static_cast<std::uint8_t>(default_limit)}).has_value());
  CHECK_FALSE(c.index_of({ChainStateKind::TrialBoot, static_cast<std::uint8_t>(default_limit + 1)}).has_value());
  CHECK(solve(prm).p_rolled_back == Approx(std::pow(0.5, default_limit)));
  prm.boot.trial_boot_limit = 0;
  CHECK(solve(prm).p_rolled_back == Approx(0.5));
  // A failed trial on a single partition cannot roll back: no old image.
  prm.boot.trial_boot_limit = 2;
  prm.boot.scheme = ota::agent::PartitionScheme::SingleNoRecovery;
  const UpdateOutcome single = solve(prm);
  CHECK(single.p_rolled_back == 0.0);
  CHECK(single.p_bricked == Approx(0.25).margin(1e-12));
  // With a recovery image it downloads and tries again until one trial confirms.
  prm.boot.scheme = ota::agent::PartitionScheme::SingleWithRecovery;
  const UpdateOutcome recovered = solve(prm);
  CHECK(recovered.p_updated == Approx(1.0).margin(1e-12));
  CHECK(recovered.expected_recovery_boots == Approx(0.25 / 0.75).epsilon(1e-12));  // geometric
  // A release that never boots there never settles; the chain says so instead of dividing by zero.
  prm.boot_failure = 1.0;
  const UpdateOutcome stuck = solve(prm);
  CHECK(stuck.p_never_settles == Approx(1.0));
  CHECK(stuck.p_updated == 0.0);
}

TEST_CASE("update chain: a single partition without recovery bricks with 1 - exp(-h w)", "[models][chain]") {
  // The reference text's thermostats: 60 s write, 0.1% of devices lose power during it.
  const Scenario s = load("thermostat-single-partition.json");
  const UpdateChainParams prm = chain_params(s, prepare_artifacts(s), 0);
  CHECK(prm.flash_s == Approx(60.0));  // 120 sectors x 0.5 s
  const double h = prm.power_loss_per_s;
  const double w = prm.flash_s, t = prm.report_after_s;
  const int limit = 3;
  const UpdateOutcome o = solve(prm);
  // The write window, plus the (tiny) chance that every trial run of all
  // three is cut too: that exhausts the trial on a device with no old image.
  const double write_cut = 1 - std::exp(-h * w);
  const double exact = write_cut + std::exp(-h * w) * std::pow(1 - std::exp(-h * t), limit);
  CHECK(o.p_bricked == Approx(exact).epsilon(1e-12));
  CHECK(o.p_bricked == Approx(0.001).epsilon(1e-3));  // the write window is all but the whole story
  CHECK(o.p_updated + o.p_bricked == Approx(1.0).margin(1e-12));

  // Hazard only in the write window (no trial runs to cut): exactly 1 - exp(-h w).
  UpdateChainParams only_write = bare(ota::agent::PartitionScheme::SingleNoRecovery);
  only_write.power_loss_per_s = 1.0 / 300;
  only_write.report_after_s = 0;
  only_write.link_bps = 1e300;  // the download takes no time, so no cut there either
  CHECK(solve(only_write).p_bricked == Approx(1 - std::exp(-10.0 / 300)).epsilon(1e-12));
}

TEST_CASE("update chain: every row is a probability distribution", "[models][chain]") {
  using ota::agent::PartitionScheme;
  for (const PartitionScheme scheme :
       {PartitionScheme::DualSlot, PartitionScheme::SingleWithRecovery, PartitionScheme::SingleNoRecovery}) {
    for (const double h : {0.0, 1e-5, 1e-2}) {
      UpdateChainParams prm = bare(scheme);
      prm.power_loss_per_s = h;
      prm.boot_failure = 0.2;
      prm.crash_per_s = 1e-3;
      prm.drops_per_byte = 2e-5;
      prm.latency_s = 0.3;
      prm.p_reject = 0.1;
      prm.p_reject_full = 0.05;
      prm.boot.trial_boot_limit = 4;
      const UpdateChain c = build_update_chain(prm);
      INFO(ota::agent::to_string(scheme) << ", h = " << h);
      REQUIRE(c.size() > c.transient);
      check_rows_sum_to_one(c);
      const UpdateOutcome o = solve_update_chain(c, prm);
      CHECK(o.p_updated + o.p_rolled_back + o.p_bricked + o.p_refused + o.p_never_settles ==
            Approx(1.0).margin(1e-12));
    }
  }
}

TEST_CASE("update chain: resumed and repeated downloads have closed forms", "[models][chain]") {
  // A/B, drops and cuts during the download: the mean number of interruptions
  // is drops/byte x bytes + h x time; each resumes and costs half a sector.
  UpdateChainParams prm = bare();
  prm.payload_bytes = prm.image_bytes = 1e6;
  prm.link_bps = 8e4;  // 100 s
  prm.drops_per_byte = 1e-6;
  prm.power_loss_per_s = 1e-3;
  prm.report_after_s = 0;
  const UpdateOutcome o = solve(prm);
  const double m = 1.0 + 0.1;
  CHECK(o.expected_transfer_attempts == Approx(1 + m).epsilon(1e-12));
  CHECK(o.expected_transfer_drops == Approx(1.0).epsilon(1e-12));
  CHECK(o.expected_power_losses == Approx(0.1).epsilon(1e-12));
  CHECK(o.expected_bytes == Approx(1e6 + m * 2048).epsilon(1e-12));
  CHECK(o.p_updated == Approx(1.0).margin(1e-12));  // resuming cannot change the outcome
  // Rejected transfers start over: 1 / (1 - r) complete downloads.
  prm.p_reject = 0.2;
  CHECK(solve(prm).expected_downloads == Approx(1.25).epsilon(1e-12));

  // Single partition with recovery, cuts only: a write cut (pi) leads to a
  // recovery boot; a recovery download is cut (rho) and restarts from zero
  // through another recovery boot. E[recovery boots] = pi / ((1 - pi)(1 - rho)).
  UpdateChainParams rec = bare(ota::agent::PartitionScheme::SingleWithRecovery);
  rec.power_loss_per_s = 1e-2;
  rec.report_after_s = 0;
  rec.image_bytes = rec.payload_bytes = 1e5;
  rec.link_bps = 8e3;  // 100 s
  const double pi = 1 - std::exp(-1e-2 * rec.flash_s), rho = 1 - std::exp(-1.0);
  const UpdateOutcome r = solve(rec);
  CHECK(r.p_bricked == 0.0);
  CHECK(r.p_updated == Approx(1.0).margin(1e-12));
  CHECK(r.expected_recovery_boots == Approx(pi / ((1 - pi) * (1 - rho))).epsilon(1e-12));
  CHECK(r.expected_downloads == Approx(1 + pi / (1 - pi)).epsilon(1e-12));
}

// ---------------------------------------------------- agreement with the simulator

TEST_CASE("update chain agrees with the simulator: boot failures 0.3, trial limits 3 and 5",
          "[models][chain][simulator]") {
  for (const char* limit : {"3", "5"}) {
    const Scenario s = load("bad-release-rollback.json",
                            {{"/fleet/devices", "5000"},
                             {"/horizon_h", "12"},
                             {"/fleet/classes/0/power_loss_per_hour", "0"},
                             {"/hardware/0/trial_boot_limit", limit},
                             {"/release/behaviour", R"({"default": {"boot_failure_probability": 0.3}})"}});
    const UpdateOutcome o = analytic(s);
    CHECK(o.p_rolled_back == Approx(std::pow(0.3, std::stoi(limit))).epsilon(1e-9));
    const Replications reps = replicate(s, kReplications);
    INFO("trial boot limit " << limit);
    check_share(reps, "rolled_back", &Totals::rolled_back, o.p_rolled_back);
    check_share(reps, "updated", &Totals::updated, o.p_updated);
    CHECK(reps.sum([](const Totals& t) { return t.bricked; }) == 0);
    check_mean(reps, "trial_boot_failures", &Totals::trial_boot_failures, o.expected_trial_boot_failures);
  }
}

TEST_CASE("update chain agrees with the simulator: single partition, no recovery, frequent power cuts",
          "[models][chain][simulator]") {
  // 3 cuts an hour: 4.9% of 60 s writes are cut, and 39% of 10-minute trial
  // runs, so a device also bricks when all three of its trial runs are cut.
  const Scenario s = load("thermostat-single-partition.json",
                          {{"/fleet/devices", "5000"}, {"/fleet/classes/0/power_loss_per_hour", "3"}});
  const UpdateOutcome o = analytic(s);
  const double h = 3.0 / 3600;
  const double write_cut = 1 - std::exp(-h * 60), run_cut = 1 - std::exp(-h * 600);
  CHECK(o.p_bricked == Approx(write_cut + (1 - write_cut) * std::pow(run_cut, 3)).epsilon(1e-9));
  const Replications reps = replicate(s, kReplications);
  check_share(reps, "bricked", &Totals::bricked, o.p_bricked);
  check_share(reps, "updated", &Totals::updated, o.p_updated);
  check_mean(reps, "power_losses", &Totals::power_losses, o.expected_power_losses);
  check_mean(reps, "data_bytes", &Totals::data_bytes, o.expected_bytes);
}

TEST_CASE("update chain agrees with the simulator: single partition with recovery", "[models][chain][simulator]") {
  // Cuts and boot failures send devices through recovery, which downloads the
  // full image again; nothing bricks and everyone ends updated. 15% of the
  // transfers arrive corrupted or tampered and are downloaded again.
  const Scenario s = load("thermostat-single-partition.json",
                          {{"/fleet/devices", "5000"},
                           {"/fleet/classes/0/partitioning", "single_recovery"},
                           {"/release/corruption_per_transfer", "0.1"},
                           {"/release/tamper_per_transfer", "0.05"},
                           {"/fleet/classes/0/power_loss_per_hour", "3"},
                           {"/release/behaviour", R"({"default": {"boot_failure_probability": 0.3}})"}});
  const UpdateOutcome o = analytic(s);
  CHECK(o.p_bricked == 0.0);
  CHECK(o.p_updated == Approx(1.0).margin(1e-9));
  CHECK(o.expected_recovery_boots > 0.05);
  const Replications reps = replicate(s, kReplications);
  check_share(reps, "updated", &Totals::updated, o.p_updated);
  check_share(reps, "bricked", &Totals::bricked, o.p_bricked);
  check_mean(reps, "recovery_boots", &Totals::recovery_boots, o.expected_recovery_boots);
  check_mean(reps, "trial_boot_failures", &Totals::trial_boot_failures, o.expected_trial_boot_failures);
  check_mean(reps, "power_losses", &Totals::power_losses, o.expected_power_losses);
  check_mean(reps, "data_bytes", &Totals::data_bytes, o.expected_bytes);
  check_mean(
      reps, "rejected transfers", [](const Totals& t) { return t.digest_rejections + t.signature_rejections; },
      o.expected_rejected_transfers);
}

TEST_CASE("update chain agrees with the simulator: crashes during the trial run", "[models][chain][simulator]") {
  // 100 crashes a day: half of the 10-minute trial runs crash before their
  // health report; with 10% boot failures each trial fails with 0.55.
  const Scenario s = load(
      "bad-release-rollback.json",
      {{"/fleet/devices", "5000"},
       {"/horizon_h", "12"},
       {"/release/behaviour", R"({"default": {"boot_failure_probability": 0.1, "crash_per_day": 100}})"}});
  const UpdateOutcome o = analytic(s);
  const double h = s.classes[0].power_loss_per_hour / 3600;
  const double trial_fails = 1 - 0.9 * std::exp(-(100.0 / 86400 + h) * 600);
  CHECK(o.p_rolled_back == Approx(std::pow(trial_fails, 3)).epsilon(1e-9));
  const Replications reps = replicate(s, kReplications);
  check_share(reps, "rolled_back", &Totals::rolled_back, o.p_rolled_back);
  check_share(reps, "updated", &Totals::updated, o.p_updated);
  check_mean(reps, "trial_boot_failures", &Totals::trial_boot_failures, o.expected_trial_boot_failures);
}

// ---------------------------------------------------------------- otasim analyze

namespace {
}  // namespace

TEST_CASE("otasim analyze: about 50 of the reference's 50,000 thermostats brick", "[models][chain][cli]") {
  const Outcome o = sh(otasim() + " analyze " + scenario_path("thermostat-single-partition.json") + " --json");
  INFO(o.out);
  REQUIRE(o.status == 0);
  const nlohmann::json j = nlohmann::json::parse(o.out);
  CHECK(j["devices"] == 50000);
  const double bricked = j["fleet"]["expected_devices"]["bricked"];
  CHECK(bricked == Approx(50.0).margin(0.1));
  CHECK(j["fleet"]["expected_totals"]["service_cost_usd"].get<double>() == Approx(200 * bricked));
  CHECK(j["fleet"]["expected_devices"]["rolled_back"].get<double>() == 0.0);
  CHECK(j["classes"][0]["partitioning"] == "single");
  // --devices scales the answer; the summary names the classes.
  const Outcome small = sh(otasim() + " analyze " + scenario_path("thermostat-single-partition.json") +
                           " --devices 5000");
  INFO(small.out);
  CHECK(small.status == 0);
  CHECK(small.out.find("bricked 5.00") != std::string::npos);
  CHECK(small.out.find("class thermostat") != std::string::npos);
}

TEST_CASE("otasim analyze: bad input exits 2 naming the field", "[models][chain][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "otasim-analyze-test";
  fs::create_directories(dir);
  std::ifstream in(scenario_path("thermostat-single-partition.json"));
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["fleet"]["classes"][0]["partitioning"] = "triple";
  const fs::path bad = dir / "bad.json";
  std::ofstream(bad) << doc.dump();
  const Outcome o = sh(otasim() + " analyze " + bad.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("/fleet/classes/0/partitioning") != std::string::npos);
  CHECK(sh(otasim() + " analyze " + (dir / "nope.json").string()).status == 2);
  CHECK(sh(otasim() + " analyze " + scenario_path("thermostat-single-partition.json") + " --devices 0").status == 2);
  CHECK(sh(otasim() + " analyze").status == 2);
  fs::remove_all(dir);
}
