// update_chain.hpp — an analytic model of one device's update: an absorbing
// Markov chain over the phases the fleet model simulates, solved exactly.
//
// The chain answers what a planner asks before a rollout — what share of the
// fleet ends updated, rolled back or bricked, how many downloads and bytes an
// update costs — in microseconds instead of a simulation, and it is the
// simulator's validation: the two are written independently and the tests
// (tests/models/test_update_chain.cpp) check that they agree within the
// simulator's confidence intervals.
//
// States (transient, then absorbing). h: the class's power-cut hazard (1/s);
// w: flash time of the full image (ceil(bytes/sector) x erase + bytes/1024 x
// program, the fleet model's formula); T: health.report_after_s; c: the
// release's crash rate on this hardware (1/s); p: its boot-failure
// probability; r: chance a complete transfer arrives corrupted or tampered and
// the agent's verifier rejects it; D: one download pass at the link's median
// rate; L: the agent's trial-boot limit.
//
//   state              next state (probability)                              one visit is
//   -----------------  ----------------------------------------------------  --------------------------
//   Download           Download (q: a drop or power cut, resumed)            one transfer attempt
//                      Verify (1 - q)
//   Verify             Download (r: rejected, downloaded again from 0)       one complete transfer
//                      Write (1 - r; single) | TrialBoot 1 (1 - r; A/B)
//   Write              TrialBoot 1 (e^-hw)                                   single partition only
//                      cut-while-writing (1 - e^-hw)
//   TrialBoot k        TrialRun k (1 - p)                                    one trial boot
//                      TrialBoot k+1 | exhausted (p)
//   TrialRun k         Updated (e^-(c+h)T)                                   one trial run
//                      TrialBoot k+1 | exhausted (1 - e^-(c+h)T: crash or cut)
//   RecoveryBoot       RecoveryDownload (1; Refused if the verifier          single + recovery only
//                      refuses the genuine full image, as the simulator does)
//   RecoveryDownload   RecoveryDownload (q_r: a drop, resumed)               one transfer attempt
//                      RecoveryVerify ((1 - q_r) e^-hD_full)
//                      RecoveryBoot ((1 - q_r)(1 - e^-hD_full): cut, restart from 0)
//   RecoveryVerify     RecoveryDownload (r_full) | Write (1 - r_full)
//   Updated, RolledBack, Bricked, Refused: absorbing.
//
// "exhausted" and "cut-while-writing" are not written here: they are the
// agent's own boot decisions (agent::boot on the record after L failed trials,
// and on a record whose main slot is being written) for the class's
// agent::BootConfig — RolledBack on A/B, RecoveryBoot on a single partition
// with a recovery image, Bricked without one. The limit L is likewise counted
// by running agent::boot, so a change in the agent changes the chain.
//
// The self-loops of the two download states make the number of resumed
// attempts geometric with the exact mean (drops: drop_per_mb x MB; cuts: h x
// D; the true count is Poisson): expected attempts, bytes and power losses are
// exact in expectation, and a resumed attempt cannot change where the device
// ends, so the absorption probabilities do not depend on them.
//
// Approximations, all stated in expectation:
//   * The download rate is the link's median (clamped to its min/max), not the
//     per-device lognormal draw, and the server is assumed not to throttle
//     (bandwidth sharing and queueing change time, not outcome). This moves only
//     the download-time terms (attempts, bytes, power losses during download).
//   * An interrupted attempt re-receives half a sector on average (the slot
//     writer persists progress at sector boundaries); the request latency is
//     counted once per pass.
//   * Mains behaviour: battery deferrals, brown-outs and a battery too low to
//     ever update (the simulator's battery_blocked) are not modelled.
//   * No power cut during a boot (the fleet model draws none there either).
//   * The chain's time is unbounded: the simulator's devices still in progress
//     at the horizon have no counterpart; neither do stage soaks or gates.
//
// Nothing here throws; a chain whose transient states cannot all reach an
// absorbing state (for example a release that never boots on a single
// partition with recovery: the device cycles through recovery for ever)
// reports that share as p_never_settles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

enum class ChainStateKind : std::uint8_t {
  Download,
  Verify,
  Write,
  TrialBoot,
  TrialRun,
  RecoveryBoot,
  RecoveryDownload,
  RecoveryVerify,
  Updated,
  RolledBack,
  Bricked,
  Refused,  // the verifier refuses the genuine release on this hardware: nothing is downloaded
};
inline constexpr std::size_t kChainStateKindCount = 12;

constexpr bool is_absorbing(ChainStateKind k) {
  return k == ChainStateKind::Updated || k == ChainStateKind::RolledBack || k == ChainStateKind::Bricked ||
         k == ChainStateKind::Refused;
}

struct ChainState {
  ChainStateKind kind = ChainStateKind::Download;
  std::uint8_t trial = 0;  // 1..L for TrialBoot and TrialRun, else 0
  friend constexpr bool operator==(const ChainState&, const ChainState&) = default;
};

// What one class's device brings to the chain, in SI units. chain_params()
// fills it from a scenario; tests may build one directly.
struct UpdateChainParams {
  agent::BootConfig boot;               // partition scheme and trial-boot limit as the agent reads them
  double power_loss_per_s = 0;          // h
  double boot_failure = 0;              // p: each trial boot of the new image fails
  double crash_per_s = 0;               // c: crash rate of the new image while on trial
  double report_after_s = 600;          // T: a trial image confirms after running this long
  double payload_bytes = 0;             // what a device downloads (the patch for a delta)
  double image_bytes = 0;               // the full image: what recovery downloads and flash writes
  double link_bps = 0;                  // the link's median rate, clamped to its min/max
  double latency_s = 0;                 // per request
  double drops_per_byte = 0;            // the link's drop_per_mb / 1e6
  double flash_s = 0;                   // w: erase + program the full image
  double sector_bytes = 4096;           // progress persists at sector boundaries
  double p_reject = 0;                  // r: a complete transfer of the release is rejected
  double p_reject_full = 0;             // r_full: the same for the full image recovery downloads
  bool refused = false;                 // the verifier refuses the genuine release (no download at all)
  bool recovery_refused = false;        // it refuses the genuine full image: a recovery cannot succeed
  double usd_per_byte = 0;              // the link's data price
  double egress_usd_per_byte = 0;       // the server's egress price
  double service_call_usd = 0;          // per bricked device
};

// Expected counts accumulated per visit of a state.
struct VisitRewards {
  double transfer_attempts = 0;
  double complete_transfers = 0;
  double bytes = 0;
  double transfer_drops = 0;
  double power_losses = 0;
  double rejected_transfers = 0;
  double trial_boots = 0;
  double trial_boot_failures = 0;
  double trial_crashes = 0;
  double recovery_boots = 0;
};

// The chain of one class: states in order, transient ones first.
struct UpdateChain {
  std::vector<ChainState> states;
  std::size_t transient = 0;          // states[0, transient) are transient
  std::size_t start = 0;              // where a device offered the release starts
  std::vector<double> p;              // row-major states.size()^2: p[i * n + j] = P(i -> j)
  std::vector<VisitRewards> rewards;  // per state

  std::size_t size() const { return states.size(); }
  double probability(std::size_t from, std::size_t to) const { return p[from * states.size() + to]; }
  std::optional<std::size_t> index_of(ChainState s) const;
};

// Probabilities of where a device ends, and expected counts per device.
struct UpdateOutcome {
  double p_updated = 0;
  double p_rolled_back = 0;
  double p_bricked = 0;
  double p_refused = 0;
  double p_never_settles = 0;             // cycles for ever among transient states (see above)
  double expected_downloads = 0;          // complete transfers (each one is verified)
  double expected_transfer_attempts = 0;  // transfers started, resumptions included
  double expected_bytes = 0;              // bytes downloaded, all attempts
  double expected_transfer_drops = 0;
  double expected_power_losses = 0;       // during download, write or trial run
  double expected_rejected_transfers = 0; // corrupted or tampered, caught by the verifier
  double expected_trial_boots = 0;
  double expected_trial_boot_failures = 0;
  double expected_trial_crashes = 0;
  double expected_recovery_boots = 0;
  double expected_data_usd = 0;           // bytes x the link's price
  double expected_egress_usd = 0;         // bytes x the server's egress price
  double expected_service_usd = 0;        // p_bricked x the service-call price
};

struct ClassAnalysis {
  std::string name;
  std::uint64_t devices = 0;
  UpdateChainParams params;
  std::size_t states = 0;  // size of the chain
  UpdateOutcome outcome;   // per device
};

struct UpdateAnalysis {
  std::uint64_t devices = 0;
  std::vector<ClassAnalysis> classes;
  UpdateOutcome fleet;  // per device, classes weighted by their device counts
};

// The parameters of class `class_index` (must be < scenario.classes.size()).
// `artifacts` is prepare_artifacts(scenario): it gives the sizes actually
// downloaded and the agent's verdict on each variant a device may receive.
UpdateChainParams chain_params(const Scenario& scenario, const ReleaseArtifacts& artifacts, std::size_t class_index);

// Builds the chain; every row of `p` sums to 1 (absorbing states loop on
// themselves). Probabilities outside [0, 1] in `params` are clamped.
UpdateChain build_update_chain(const UpdateChainParams& params);

// Absorption probabilities B = (I - Q)^-1 R and expected visits from the start
// state, weighted by each state's rewards.
UpdateOutcome solve_update_chain(const UpdateChain& chain, const UpdateChainParams& params);

// Every class, and the fleet weighted by device counts.
UpdateAnalysis analyze_update(const Scenario& scenario, const ReleaseArtifacts& artifacts);

std::string_view to_string(ChainStateKind k);
std::string to_string(const ChainState& s);  // e.g. "trial_boot_2"

}  // namespace ota::models
