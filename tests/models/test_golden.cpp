// Golden reports: the model's behaviour pinned byte for byte.
//
// Each case runs a shipped scenario at a size that takes well under a second
// and compares its report with tests/golden/<case>.json: report_json without
// the fields that measure the machine or the implementation rather than the
// fleet (run.wall_s, run.peak_rss_bytes, and run.bytes_per_device, the memory
// layout's cost, which bench/RESULTS.md and a test track instead). Together
// the cases touch every feature of the fleet model: A/B and single partition,
// recovery, delta, bad releases, push, CDN, P2P with hostile peers, a server
// that queues and refuses, every gate mode and action, the rate ramp, named
// groups, device timeouts, retry limits, maintenance windows and a gate's
// rollback.
//
// A refactoring must leave every file unchanged. A model change that moves a
// figure updates them with one command, which lists what moved:
//   bash scripts/update-golden
// and the commit says why the figures moved.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "models/fleet_fixture.hpp"
#include "ota/models/fleet/run_estimate.hpp"
#include "ota/models/report/report.hpp"

using namespace ota::models;
using namespace ota::models::testing;

namespace {

using Overrides = std::vector<std::pair<std::string, std::string>>;

struct GoldenCase {
  const char* name;
  const char* scenario;
  Overrides overrides;
  bool sharded = false;  // as one shard of otasim-mpi shard (the whole fleet, collectives on one rank)
};

const std::vector<GoldenCase>& cases() {
  static const std::vector<GoldenCase> all = {
      {"default", "default.json", {{"/fleet/devices", "20000"}}},
      {"default-idle-poll-events", "default.json", {{"/fleet/devices", "3000"}, {"/polling/idle_polls", "\"events\""}}},
      {"thermostat-single-partition", "thermostat-single-partition.json", {{"/fleet/devices", "20000"}}},
      {"thermostat-ab", "thermostat-ab.json", {{"/fleet/devices", "20000"}}},
      {"thermostat-single-recovery", "thermostat-single-partition.json",
       {{"/fleet/devices", "20000"}, {"/fleet/classes/0/partitioning", "\"single_recovery\""}}},
      {"bad-release-rollback", "bad-release-rollback.json", {{"/fleet/devices", "2000"}}},
      {"cellular-cost-delta", "cellular-cost-delta.json", {{"/fleet/devices", "5000"}}},
      {"cellular-cost-full", "cellular-cost-full.json", {{"/fleet/devices", "5000"}}},
      {"push-vs-poll", "push-vs-poll.json", {{"/fleet/devices", "20000"}}},
      {"cdn-vs-origin", "cdn-vs-origin.json", {{"/fleet/devices", "20000"}}},
      {"p2p-mesh", "p2p-mesh.json", {{"/fleet/devices", "20000"}}},
      {"p2p-mesh-fallbacks", "p2p-mesh.json", {{"/fleet/devices", "5000"}, {"/delivery/p2p/fallback_min", "0.5"}}},
      {"push-vs-poll-events", "push-vs-poll.json", {{"/fleet/devices", "5000"}, {"/polling/idle_polls", "\"events\""}}},
      {"herd-synchronized", "herd-synchronized.json",
       {{"/fleet/devices", "20000"},
        {"/server/max_requests_per_s", "100"},
        {"/server/max_concurrent_downloads", "150"}}},
      {"gate-threshold", "gate-threshold.json", {{"/fleet/devices", "20000"}}},
      {"gate-bayes", "gate-bayes.json", {{"/fleet/devices", "20000"}}},
      {"gate-sprt", "gate-sprt.json", {{"/fleet/devices", "20000"}}},
      {"ramp", "ramp.json",
       {{"/fleet/devices", "20000"},
        {"/rollout/ramp/increase_every_successes", "200"},
        {"/rollout/ramp/max_per_minute", "400"}}},
      {"regression-crash-rollback", "regression/crash-regression.json", {{"/fleet/devices", "20000"}}},
      {"regression-crash-rollback-single-partition", "regression/crash-regression.json",
       {{"/fleet/devices", "20000"},
        {"/fleet/classes/0/partitioning", "\"single_recovery\""},
        {"/fleet/classes/1/partitioning", "\"single_recovery\""}}},
      {"regression-crash-rollback-events", "regression/crash-regression.json",
       {{"/fleet/devices", "20000"}, {"/polling/idle_polls", "\"events\""}}},
      {"sharded-crash-rollback", "regression/crash-regression.json", {{"/fleet/devices", "20000"}}, true},
      {"sharded-ramp", "ramp.json",
       {{"/fleet/devices", "20000"}, {"/rollout/ramp/increase_every_successes", "200"}}, true},
      {"regression-bricking-timeouts", "regression/bricking-release.json", {{"/fleet/devices", "20000"}}},
      {"regression-anti-rollback", "regression/anti-rollback.json", {{"/fleet/devices", "20000"}}},
      {"regression-pause-resume", "regression/revision-boot-failure.json",
       {{"/fleet/devices", "20000"},
        {"/rollout/gate/on_breach", "\"pause\""},
        {"/rollout/on_pause", R"({"decide_after_h": 3, "action": "resume"})"}}},
      {"regression-pause-abort", "regression/revision-boot-failure.json",
       {{"/fleet/devices", "20000"},
        {"/rollout/gate/on_breach", "\"pause\""},
        {"/rollout/on_pause", R"({"decide_after_h": 3, "action": "abort"})"}}},
      {"regression-breach-ignored", "regression/revision-boot-failure.json",
       {{"/fleet/devices", "20000"}, {"/rollout/gate/on_breach", "\"continue\""}}},
      {"regression-sprt-good-release", "regression/good-release.json",
       {{"/fleet/devices", "20000"}, {"/rollout/gate/mode", "\"sprt\""}}},
      {"regression-maintenance-windows", "regression/good-release.json",
       {{"/fleet/devices", "5000"},
        {"/rollout/gate", "null"},
        {"/rollout/maintenance_windows", R"({"eu": {"utc_offset_h": 1, "from_h": 2, "to_h": 4},
                                              "us": {"utc_offset_h": -5, "from_h": 2, "to_h": 4}})"}}},
      {"regression-groups-retry-limit", "regression/good-release.json",
       {{"/fleet/devices", "10000"},
        {"/fleet/classes/0/share", "0.98"},
        {"/fleet/classes/1/share", "0.02"},
        {"/fleet/classes/1/group", "\"beta\""},
        {"/rollout/stages/0", R"({"groups": ["beta"], "soak_h": 6})"},
        {"/release/corruption_per_transfer", "0.3"},
        {"/rollout/max_attempts", "3"}}},
  };
  return all;
}

// The report as pinned: every model figure, nothing that measures the machine,
// the memory layout or the build.
std::string pinned_report(const RunReport& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(report_json(r, false));
  j["run"].erase("bytes_per_device");
  j["run"].erase("version");
  return j.dump(2) + "\n";
}

std::string golden_path(const std::string& name) {
  return std::string(OTA_SOURCE_DIR) + "/tests/golden/" + name + ".json";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return in ? ss.str() : std::string();
}

// The figures that differ between two reports, one line per changed scalar;
// an array of numbers is one line with how many of its entries changed.
void list_moves(const nlohmann::json& before, const nlohmann::json& after, const std::string& path,
                std::vector<std::string>& out) {
  if (before.type() != after.type()) {
    out.push_back(path + ": " + before.dump() + " -> " + after.dump());
    return;
  }
  if (before.is_object()) {
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (!before.contains(it.key())) out.push_back(path + "/" + it.key() + ": (new) " + it.value().dump());
      else list_moves(before[it.key()], it.value(), path + "/" + it.key(), out);
    }
    for (auto it = before.begin(); it != before.end(); ++it)
      if (!after.contains(it.key())) out.push_back(path + "/" + it.key() + ": removed");
    return;
  }
  if (before.is_array()) {
    const bool scalars = std::all_of(after.begin(), after.end(), [](const auto& x) { return x.is_primitive(); });
    if (scalars && before.size() == after.size()) {
      std::size_t changed = 0;
      for (std::size_t i = 0; i < after.size(); ++i) changed += before[i] != after[i];
      if (changed > 0)
        out.push_back(path + ": " + std::to_string(changed) + " of " + std::to_string(after.size()) +
                      " entries changed");
      return;
    }
    if (before.size() != after.size())
      out.push_back(path + ": " + std::to_string(before.size()) + " -> " + std::to_string(after.size()) + " entries");
    for (std::size_t i = 0; i < std::min(before.size(), after.size()); ++i)
      list_moves(before[i], after[i], path + "/" + std::to_string(i), out);
    return;
  }
  if (before != after) out.push_back(path + ": " + before.dump() + " -> " + after.dump());
}

}  // namespace

TEST_CASE("golden reports: every pinned scenario's report is byte-identical", "[models][golden]") {
  const bool update = std::getenv("OTA_UPDATE_GOLDEN") != nullptr;
  for (const GoldenCase& c : cases()) {
    INFO("golden case " << c.name << " (" << c.scenario << "); update with: bash scripts/update-golden");
    const Scenario s = load(c.scenario, c.overrides);
    RunOptions options;
    Shard shard{0, s.devices, [](std::vector<double>&) {}, [](std::vector<double>&) {}};
    if (c.sharded) options.shard = &shard;
    const std::string got = pinned_report(run_scenario(s, prepare_artifacts(s), options));
    const std::string path = golden_path(c.name);
    const std::string want = read_text(path);
    if (update) {
      if (want == got) continue;
      std::vector<std::string> moves;
      if (want.empty()) moves.push_back("(new golden file)");
      else list_moves(nlohmann::json::parse(want), nlohmann::json::parse(got), "", moves);
      std::cout << c.name << ":\n";
      for (const std::string& m : moves) std::cout << "  " << m << "\n";
      std::ofstream(path, std::ios::binary) << got;
      continue;
    }
    REQUIRE_FALSE(want.empty());
    if (want != got) {
      std::vector<std::string> moves;
      list_moves(nlohmann::json::parse(want), nlohmann::json::parse(got), "", moves);
      std::string listing;
      for (const std::string& m : moves) listing += "  " + m + "\n";
      if (moves.empty()) listing = "  (same figures, different text)\n";
      FAIL_CHECK("golden case " << c.name << " differs from tests/golden/" << c.name << ".json:\n" << listing);
    }
  }
}

TEST_CASE("golden reports: the comparison sees a one-figure change", "[models][golden]") {
  // The check above compares text; this shows that a single moved figure in a
  // pinned report changes the text and is named in the listing.
  const std::string want = read_text(golden_path("default"));
  REQUIRE_FALSE(want.empty());
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(want);
  CHECK(j.dump(2) + "\n" == want);  // the pinned text is the canonical dump
  j["totals"]["updated"] = j["totals"]["updated"].get<std::uint64_t>() + 1;
  CHECK(j.dump(2) + "\n" != want);
  std::vector<std::string> moves;
  list_moves(nlohmann::json::parse(want), nlohmann::json::parse(j.dump()), "", moves);
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].rfind("/totals/updated: ", 0) == 0);
}

TEST_CASE("run estimate: never below the pinned reports' events, within 3x of every rollout that runs to the end",
          "[models][golden][estimate]") {
  // The CLI refuses or warns on this estimate before simulating
  // (cli/run_guard.hpp), so it must not undercount; a rollout a gate stops
  // early takes far fewer events than the estimate of the whole rollout.
  for (const GoldenCase& c : cases()) {
    const nlohmann::json pinned = nlohmann::json::parse(read_text(golden_path(c.name)));
    const Scenario s = load(c.scenario, c.overrides);
    const double events = pinned["run"]["events"].get<double>();
    const double updated = pinned["totals"]["updated"].get<double>() / static_cast<double>(s.devices);
    const RunEstimate e = estimate_run(s);
    INFO("golden case " << c.name << ": estimate " << e.events << " events, the run took " << events
                        << ", updated share " << updated);
    CHECK(e.events >= events);
    if (updated > 0.9) CHECK(e.events <= 3 * events);
  }
}

TEST_CASE("run estimate: scales with the fleet and names what drives it", "[models][estimate]") {
  const Scenario s = load("default.json", {{"/fleet/devices", "1000"}});
  const RunEstimate small = estimate_run(s);
  const RunEstimate big = estimate_run(s, 1'000'000);
  CHECK(estimate_run(s, 2'000'000).events - big.events == Approx(big.events - estimate_run(s, 0).events));
  CHECK(big.events > 1000 * small.events / 2);
  CHECK(big.memory_bytes - big.memory_fixed == Approx(1000 * (small.memory_bytes - small.memory_fixed)));
  CHECK(big.memory_per_device >= static_cast<double>(bytes_per_device()));
  CHECK(small.driver.empty());

  // The issue's case: 60 ms polls as events for ten years.
  const Scenario polls = load("default.json", {{"/fleet/devices", "1000"},
                                               {"/polling/interval_min", "0.001"},
                                               {"/polling/idle_polls", "\"events\""},
                                               {"/horizon_h", "87600"}});
  const RunEstimate p = estimate_run(polls);
  CHECK(p.events > 1000.0 * 87600 * 3600 / 0.06 * 0.99);
  CHECK(p.driver.find("idle polls") != std::string::npos);

  // Every transfer corrupted, no attempt limit, 1 ms backoff: bounded by the horizon.
  const Scenario retries = load("default.json", {{"/fleet/devices", "1000"},
                                                 {"/release/corruption_per_transfer", "1"},
                                                 {"/polling/backoff", R"({"initial_s": 0.001, "max_s": 0.001})"}});
  const RunEstimate r = estimate_run(retries);
  CHECK(std::isfinite(r.events));
  CHECK(r.events > 1e6);
  CHECK(r.driver.find("retried transfers") != std::string::npos);
}
