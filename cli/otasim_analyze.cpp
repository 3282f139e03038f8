// otasim analyze SCENARIO.json [--devices N] [--json]
//
// The analytic answer for a scenario (models/.../rollout/update_chain.hpp): per
// device class and for the fleet, the expected number of devices that end
// updated, rolled back or bricked, and the expected bytes and cost — from an
// absorbing Markov chain, without simulating. Instant; the simulator agrees
// within its confidence intervals (tests/models/test_update_chain.cpp).
// Exit status: 0 done; 2 bad input (scenario, flags, image files).
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/rollout/update_chain.hpp"
#include "scenario_command.hpp"

namespace po = boost::program_options;
using namespace ota::models;

namespace {

std::string_view scheme_name(ota::agent::PartitionScheme s) {
  switch (s) {
    case ota::agent::PartitionScheme::DualSlot: return "ab";
    case ota::agent::PartitionScheme::SingleWithRecovery: return "single_recovery";
    case ota::agent::PartitionScheme::SingleNoRecovery: return "single";
  }
  return "?";
}

nlohmann::ordered_json outcome_json(const UpdateOutcome& o, double devices) {
  nlohmann::ordered_json j;
  j["probability"] = {{"updated", o.p_updated},
                      {"rolled_back", o.p_rolled_back},
                      {"bricked", o.p_bricked},
                      {"refused", o.p_refused},
                      {"never_settles", o.p_never_settles}};
  j["expected_devices"] = {{"updated", devices * o.p_updated},
                           {"rolled_back", devices * o.p_rolled_back},
                           {"bricked", devices * o.p_bricked},
                           {"refused", devices * o.p_refused},
                           {"never_settles", devices * o.p_never_settles}};
  j["per_device"] = {{"downloads", o.expected_downloads},
                     {"transfer_attempts", o.expected_transfer_attempts},
                     {"bytes", o.expected_bytes},
                     {"transfer_drops", o.expected_transfer_drops},
                     {"power_losses", o.expected_power_losses},
                     {"rejected_transfers", o.expected_rejected_transfers},
                     {"trial_boots", o.expected_trial_boots},
                     {"trial_boot_failures", o.expected_trial_boot_failures},
                     {"trial_crashes", o.expected_trial_crashes},
                     {"recovery_boots", o.expected_recovery_boots}};
  j["expected_totals"] = {{"data_bytes", devices * o.expected_bytes},
                          {"data_cost_usd", devices * o.expected_data_usd},
                          {"server_egress_cost_usd", devices * o.expected_egress_usd},
                          {"service_calls", devices * o.p_bricked},
                          {"service_cost_usd", devices * o.expected_service_usd}};
  return j;
}

void print_outcome(const UpdateOutcome& o, double n) {
  std::printf("  expected     updated %.2f (%.4f%%)   rolled back %.2f   bricked %.2f   refused %.2f\n",
              n * o.p_updated, 100.0 * o.p_updated, n * o.p_rolled_back, n * o.p_bricked, n * o.p_refused);
  if (o.p_never_settles > 0)
    std::printf("  never settle %.2f devices (%.4f%%): they cycle for ever without reaching an end state\n",
                n * o.p_never_settles, 100.0 * o.p_never_settles);
  std::printf("  per device   %.4f downloads (%.4f attempts)   %.1f KB   %.4f power losses   %.4f drops\n",
              o.expected_downloads, o.expected_transfer_attempts, o.expected_bytes / 1e3, o.expected_power_losses,
              o.expected_transfer_drops);
  std::printf("               %.4f trial boots (%.4f failed, %.4f crashed)   %.4f recovery boots\n",
              o.expected_trial_boots, o.expected_trial_boot_failures, o.expected_trial_crashes,
              o.expected_recovery_boots);
  std::printf("  data         %.1f MB ($%.2f data, $%.2f server egress)   service calls %.2f ($%.0f)\n",
              n * o.expected_bytes / 1e6, n * o.expected_data_usd, n * o.expected_egress_usd, n * o.p_bricked,
              n * o.expected_service_usd);
}

}  // namespace

int otasim_analyze(int argc, char** argv) {
  po::options_description opts("otasim analyze SCENARIO.json [options]");
  opts.add_options()("json", "print the analysis as JSON on stdout instead of the summary");
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  const Scenario& scenario = cmd.scenario;
  const ReleaseArtifacts& artifacts = cmd.artifacts;
  const po::variables_map& vm = cmd.options;
  const UpdateAnalysis a = analyze_update(scenario, artifacts);

  if (vm.count("json")) {
    nlohmann::ordered_json j;
    j["scenario"] = scenario.name;
    j["model"] = "absorbing Markov chain of one device's update (no simulation)";
    j["devices"] = a.devices;
    j["release"] = {{"image_bytes", artifacts.image_bytes}, {"payload_bytes", artifacts.payload_bytes}};
    j["classes"] = nlohmann::ordered_json::array();
    for (const ClassAnalysis& c : a.classes) {
      nlohmann::ordered_json cj;
      cj["name"] = c.name;
      cj["devices"] = c.devices;
      cj["partitioning"] = scheme_name(c.params.boot.scheme);
      cj["trial_boot_limit"] = ota::agent::effective_trial_limit(c.params.boot);
      cj["chain_states"] = c.states;
      cj.update(outcome_json(c.outcome, static_cast<double>(c.devices)));
      j["classes"].push_back(std::move(cj));
    }
    j["fleet"] = outcome_json(a.fleet, static_cast<double>(a.devices));
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  std::printf("otasim analyze: %s (%llu devices; analytic model, no simulation)\n", scenario.name.c_str(),
              static_cast<unsigned long long>(a.devices));
  for (const ClassAnalysis& c : a.classes) {
    std::printf("class %s: %llu devices, %s partitioning, %u trial boots, %zu chain states\n", c.name.c_str(),
                static_cast<unsigned long long>(c.devices), std::string(scheme_name(c.params.boot.scheme)).c_str(),
                static_cast<unsigned>(ota::agent::effective_trial_limit(c.params.boot)), c.states);
    print_outcome(c.outcome, static_cast<double>(c.devices));
  }
  if (a.classes.size() > 1) {
    std::printf("fleet: %llu devices\n", static_cast<unsigned long long>(a.devices));
    print_outcome(a.fleet, static_cast<double>(a.devices));
  }
  return 0;
}
