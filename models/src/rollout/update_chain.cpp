// The update chain (update_chain.hpp): built as a list of (state, next state,
// probability) rows, solved with Eigen. The trial-boot structure and the
// outcome of a failed trial or of a cut while writing are read from the
// agent's boot control, never restated here.
#include "ota/models/rollout/update_chain.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "ota/models/fleet/flash_timing.hpp"

namespace ota::models {

namespace {

using agent::BootActionKind;

double clamp01(double x) { return std::isnan(x) ? 0.0 : std::clamp(x, 0.0, 1.0); }

// P(at least one event of a Poisson process of rate `rate` within `window`).
double p_within(double rate, double window) {
  if (!(rate > 0) || !(window > 0)) return 0.0;
  return clamp01(-std::expm1(-rate * window));
}

// E[min(X, window)] / window for X ~ Exp(rate): the share of a window that
// passes, on average, before the first event or the window's end.
double share_before_event(double rate, double window) {
  const double x = rate * window;
  if (!(x > 1e-12)) return 1.0;
  if (!std::isfinite(x)) return 0.0;
  return -std::expm1(-x) / x;
}

// What the agent does with a device, read by running its boot control.
struct AgentRules {
  int trial_boots = 1;                                // boots on trial before the agent gives up
  BootActionKind exhausted = BootActionKind::Bricked;  // the boot after the last failed trial
  BootActionKind cut_while_writing = BootActionKind::Bricked;  // a boot while the install target is written
};

AgentRules agent_rules(const agent::BootConfig& config) {
  constexpr agent::PackedVersion kOld = 0x01000000, kNew = 0x01010000;
  AgentRules rules;
  const agent::BootRecord factory = agent::factory_record(kOld, 1);
  const std::optional<agent::BootRecord> writing = agent::begin_install(factory, config, kNew, 2);
  if (!writing) return rules;
  rules.cut_while_writing = agent::boot(*writing, config).action.kind;
  std::optional<agent::BootRecord> rec = agent::apply(*writing, config, agent::BootEvent::WriteVerified);
  if (rec) rec = agent::apply(*rec, config, agent::BootEvent::SetPending);
  if (!rec) return rules;
  // Each trial boot is consumed when it starts; a trial that neither reports
  // healthy nor unhealthy leads to the next boot.
  int trials = 0;
  agent::BootStep step = agent::boot(*rec, config);
  while (step.action.kind == BootActionKind::BootTrial && trials < 1000) {
    ++trials;
    step = agent::boot(step.record, config);
  }
  rules.trial_boots = std::max(trials, 1);
  rules.exhausted = step.action.kind;
  return rules;
}

class ChainBuilder {
 public:
  explicit ChainBuilder(const UpdateChainParams& prm) : prm_(prm), rules_(agent_rules(prm.boot)) {
    using enum ChainStateKind;
    single_ = agent::is_single_partition(prm.boot.scheme);
    const auto needs_recovery = [](BootActionKind k) { return k == BootActionKind::BootRecovery; };
    recovery_ = single_ && (needs_recovery(rules_.exhausted) || needs_recovery(rules_.cut_while_writing));
    add({Download});
    add({Verify});
    if (single_) add({Write});
    for (int k = 1; k <= rules_.trial_boots; ++k) {
      add({TrialBoot, static_cast<std::uint8_t>(k)});
      add({TrialRun, static_cast<std::uint8_t>(k)});
    }
    if (recovery_) {
      add({RecoveryBoot});
      add({RecoveryDownload});
      add({RecoveryVerify});
    }
    chain_.transient = chain_.states.size();
    for (ChainStateKind k : {Updated, RolledBack, Bricked, Refused}) add({k});
    const std::size_t n = chain_.states.size();
    chain_.p.assign(n * n, 0.0);
    chain_.rewards.assign(n, VisitRewards{});
    chain_.start = prm.refused ? at({Refused}) : at({Download});
  }

  UpdateChain build() {
    using enum ChainStateKind;
    const double h = std::max(0.0, prm_.power_loss_per_s);
    const double waste = std::min(prm_.sector_bytes, std::max(prm_.payload_bytes, 1.0)) / 2;
    const double rate = prm_.link_bps;

    // Download: one pass over the payload. A/B writes while it downloads, so
    // the slower of the two sets the pace. Drops and cuts both resume.
    {
      const double transfer_s = rate > 0 ? prm_.latency_s + prm_.payload_bytes * 8.0 / rate
                                         : std::numeric_limits<double>::infinity();
      const double pass_s = single_ ? transfer_s : std::max(transfer_s, prm_.flash_s);
      const double drops = std::max(0.0, prm_.drops_per_byte) * prm_.payload_bytes;
      const double cuts = h * pass_s;
      const double interruptions = drops + cuts;
      const std::size_t s = at({Download});
      if (std::isfinite(interruptions)) {
        const double attempts = 1 + interruptions;
        row(s, {Download}, interruptions / attempts);
        row(s, {Verify}, 1 / attempts);
        VisitRewards& r = chain_.rewards[s];
        r.transfer_attempts = 1;
        r.bytes = (prm_.payload_bytes + interruptions * waste) / attempts;
        r.transfer_drops = drops / attempts;
        r.power_losses = cuts / attempts;
      } else {
        row(s, {Download}, 1.0);  // never completes
      }
    }
    // Verify: a rejected transfer is downloaded again from the start.
    {
      const double r = clamp01(prm_.p_reject);
      const std::size_t s = at({Verify});
      row(s, {Download}, r);
      row(s, single_ ? ChainState{Write} : first_trial(), 1 - r);
      chain_.rewards[s].complete_transfers = 1;
      chain_.rewards[s].rejected_transfers = r;
    }
    // Write (single partition): the main slot has no bootable image until done.
    if (single_) {
      const double cut = p_within(h, prm_.flash_s);
      const std::size_t s = at({Write});
      row(s, first_trial(), 1 - cut);
      row(s, target_of(rules_.cut_while_writing), cut);
      chain_.rewards[s].power_losses = cut;
    }
    // Trial boots and runs.
    const double p_fail = clamp01(prm_.boot_failure);
    const double c = std::max(0.0, prm_.crash_per_s);
    const double stop = p_within(c + h, prm_.report_after_s);
    for (int k = 1; k <= rules_.trial_boots; ++k) {
      const auto tk = static_cast<std::uint8_t>(k);
      const ChainState next = k < rules_.trial_boots ? ChainState{TrialBoot, static_cast<std::uint8_t>(k + 1)}
                                                     : target_of(rules_.exhausted);
      const std::size_t b = at({TrialBoot, tk});
      row(b, {TrialRun, tk}, 1 - p_fail);
      row(b, next, p_fail);
      chain_.rewards[b].trial_boots = 1;
      chain_.rewards[b].trial_boot_failures = p_fail;
      const std::size_t run = at({TrialRun, tk});
      row(run, {Updated}, 1 - stop);
      row(run, next, stop);
      if (c + h > 0) {
        chain_.rewards[run].trial_crashes = stop * c / (c + h);
        chain_.rewards[run].power_losses = stop * h / (c + h);
      }
    }
    // Recovery: the recovery image downloads the full image; a cut reboots
    // into recovery, which starts again from the first byte.
    if (recovery_) {
      const std::size_t rb = at({RecoveryBoot});
      row(rb, prm_.recovery_refused ? ChainState{Refused} : ChainState{RecoveryDownload}, 1.0);
      chain_.rewards[rb].recovery_boots = 1;

      const std::size_t rd = at({RecoveryDownload});
      const double pass_s = rate > 0 ? prm_.latency_s + prm_.image_bytes * 8.0 / rate
                                     : std::numeric_limits<double>::infinity();
      const double completes = 1 - p_within(h, pass_s);
      const double share = share_before_event(h, pass_s);
      const double received = prm_.image_bytes * share;  // per pass, cut or not
      const double drops = std::max(0.0, prm_.drops_per_byte) * received;
      if (std::isfinite(pass_s) && std::isfinite(drops)) {
        const double attempts = 1 + drops;
        row(rd, {RecoveryDownload}, drops / attempts);
        row(rd, {RecoveryVerify}, completes / attempts);
        row(rd, {RecoveryBoot}, (1 - completes) / attempts);
        VisitRewards& r = chain_.rewards[rd];
        r.transfer_attempts = 1;
        r.bytes = (received + drops * waste) / attempts;
        r.transfer_drops = drops / attempts;
        r.power_losses = (1 - completes) / attempts;
      } else {
        row(rd, {RecoveryDownload}, 1.0);
      }

      const double r_full = clamp01(prm_.p_reject_full);
      const std::size_t rv = at({RecoveryVerify});
      row(rv, {RecoveryDownload}, r_full);
      row(rv, {Write}, 1 - r_full);
      chain_.rewards[rv].complete_transfers = 1;
      chain_.rewards[rv].rejected_transfers = r_full;
    }
    for (std::size_t a = chain_.transient; a < chain_.size(); ++a) chain_.p[a * chain_.size() + a] = 1.0;
    return std::move(chain_);
  }

 private:
  void add(ChainState s) { chain_.states.push_back(s); }
  std::size_t at(ChainState s) const { return *chain_.index_of(s); }
  void row(std::size_t from, ChainState to, double probability) {
    chain_.p[from * chain_.size() + at(to)] += probability;
  }
  ChainState first_trial() const { return {ChainStateKind::TrialBoot, 1}; }
  // Where the chain goes after the agent's boot decision `kind`.
  ChainState target_of(BootActionKind kind) const {
    switch (kind) {
      case BootActionKind::RollBack: return {ChainStateKind::RolledBack};
      case BootActionKind::BootRecovery: return {ChainStateKind::RecoveryBoot};
      case BootActionKind::Bricked: return {ChainStateKind::Bricked};
      case BootActionKind::BootNormal:  // the old image runs: the update starts over
      case BootActionKind::BootTrial: return {ChainStateKind::Download};
    }
    return {ChainStateKind::Bricked};
  }

  const UpdateChainParams& prm_;
  AgentRules rules_;
  bool single_ = false;
  bool recovery_ = false;
  UpdateChain chain_;
};

void add_scaled(VisitRewards& sum, const VisitRewards& r, double w) {
  sum.transfer_attempts += w * r.transfer_attempts;
  sum.complete_transfers += w * r.complete_transfers;
  sum.bytes += w * r.bytes;
  sum.transfer_drops += w * r.transfer_drops;
  sum.power_losses += w * r.power_losses;
  sum.rejected_transfers += w * r.rejected_transfers;
  sum.trial_boots += w * r.trial_boots;
  sum.trial_boot_failures += w * r.trial_boot_failures;
  sum.trial_crashes += w * r.trial_crashes;
  sum.recovery_boots += w * r.recovery_boots;
}

void add_scaled(UpdateOutcome& sum, const UpdateOutcome& o, double w) {
  sum.p_updated += w * o.p_updated;
  sum.p_rolled_back += w * o.p_rolled_back;
  sum.p_bricked += w * o.p_bricked;
  sum.p_refused += w * o.p_refused;
  sum.p_never_settles += w * o.p_never_settles;
  sum.expected_downloads += w * o.expected_downloads;
  sum.expected_transfer_attempts += w * o.expected_transfer_attempts;
  sum.expected_bytes += w * o.expected_bytes;
  sum.expected_transfer_drops += w * o.expected_transfer_drops;
  sum.expected_power_losses += w * o.expected_power_losses;
  sum.expected_rejected_transfers += w * o.expected_rejected_transfers;
  sum.expected_trial_boots += w * o.expected_trial_boots;
  sum.expected_trial_boot_failures += w * o.expected_trial_boot_failures;
  sum.expected_trial_crashes += w * o.expected_trial_crashes;
  sum.expected_recovery_boots += w * o.expected_recovery_boots;
  sum.expected_data_usd += w * o.expected_data_usd;
  sum.expected_egress_usd += w * o.expected_egress_usd;
  sum.expected_service_usd += w * o.expected_service_usd;
}

}  // namespace

std::optional<std::size_t> UpdateChain::index_of(ChainState s) const {
  const auto it = std::find(states.begin(), states.end(), s);
  if (it == states.end()) return std::nullopt;
  return static_cast<std::size_t>(it - states.begin());
}

UpdateChainParams chain_params(const Scenario& s, const ReleaseArtifacts& a, std::size_t class_index) {
  const DeviceClass& dc = s.classes[class_index];
  const Hardware& hw = s.hardware[dc.hardware];
  const LinkProfile& link = s.links[dc.link];
  UpdateChainParams p;
  p.boot.scheme = dc.partitioning == Partitioning::AB                   ? agent::PartitionScheme::DualSlot
                  : dc.partitioning == Partitioning::SingleWithRecovery ? agent::PartitionScheme::SingleWithRecovery
                                                                        : agent::PartitionScheme::SingleNoRecovery;
  p.boot.trial_boot_limit = hw.trial_boot_limit;
  p.power_loss_per_s = dc.power_loss_per_hour / 3600.0;
  if (dc.hardware < s.release.behaviour.size()) {
    p.boot_failure = s.release.behaviour[dc.hardware].boot_failure_probability;
    p.crash_per_s = s.release.behaviour[dc.hardware].crash_per_day / 86400.0;
  }
  p.report_after_s = s.health.report_after_s;
  p.payload_bytes = static_cast<double>(a.payload_bytes);
  p.image_bytes = static_cast<double>(a.image_bytes);
  p.link_bps = std::min(std::max(link.median_bps, link.min_bps), link.max_bps);
  p.latency_s = link.latency_s;
  p.drops_per_byte = link.drop_per_mb / 1e6;
  p.flash_s = flash_seconds(hw.flash, a.image_bytes);
  p.sector_bytes = hw.flash.sector_bytes;
  // The fleet model's draw: u < tamper -> tampered; u < tamper + corruption -> corrupted.
  const double p_tampered = clamp01(s.release.tamper_per_transfer);
  const double p_corrupted = clamp01(s.release.tamper_per_transfer + s.release.corruption_per_transfer) - p_tampered;
  const auto rejected = [&](const auto& verdicts) {
    if (dc.hardware >= verdicts.size()) return 0.0;
    const auto& v = verdicts[dc.hardware];
    double r = 0;
    if (v[static_cast<std::size_t>(Variant::Tampered)] != agent::Verdict::Accepted) r += p_tampered;
    if (v[static_cast<std::size_t>(Variant::Corrupted)] != agent::Verdict::Accepted) r += p_corrupted;
    return r;
  };
  const auto refuses = [&](const auto& verdicts) {
    return dc.hardware >= verdicts.size() ||
           verdicts[dc.hardware][static_cast<std::size_t>(Variant::Intact)] != agent::Verdict::Accepted;
  };
  p.p_reject = rejected(a.verdicts);
  p.p_reject_full = rejected(a.full_verdicts);
  p.refused = refuses(a.verdicts);
  p.recovery_refused = refuses(a.full_verdicts);
  p.usd_per_byte = link.usd_per_mb / s.prices.bytes_per_mb;
  p.egress_usd_per_byte = s.server.usd_per_gb / 1e9;
  p.service_call_usd = s.prices.service_call_usd;
  return p;
}

UpdateChain build_update_chain(const UpdateChainParams& params) { return ChainBuilder(params).build(); }

UpdateOutcome solve_update_chain(const UpdateChain& chain, const UpdateChainParams& params) {
  UpdateOutcome out;
  const std::size_t n = chain.size(), t = chain.transient;
  const auto absorbed_in = [&](std::size_t a, double probability) {
    switch (chain.states[a].kind) {
      case ChainStateKind::Updated: out.p_updated += probability; break;
      case ChainStateKind::RolledBack: out.p_rolled_back += probability; break;
      case ChainStateKind::Bricked: out.p_bricked += probability; break;
      case ChainStateKind::Refused: out.p_refused += probability; break;
      default: break;
    }
  };
  if (chain.start >= t) {
    absorbed_in(chain.start, 1.0);
    return out;
  }
  // Transient states that can reach an absorbing one; the others form closed
  // classes the device never leaves (it "never settles").
  std::vector<bool> settles(t, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < t; ++i) {
      if (settles[i]) continue;
      for (std::size_t j = 0; j < n && !settles[i]; ++j)
        if (chain.probability(i, j) > 0 && (j >= t || settles[j])) settles[i] = changed = true;
    }
  }
  if (!settles[chain.start]) {
    out.p_never_settles = 1.0;
    return out;
  }
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < t; ++i)
    if (settles[i]) live.push_back(i);
  const auto k = static_cast<Eigen::Index>(live.size());
  const auto absorbing = static_cast<Eigen::Index>(n - t);
  Eigen::MatrixXd q(k, k), r(k, absorbing + 1);  // last column: into a closed class
  r.setZero();
  for (Eigen::Index a = 0; a < k; ++a) {
    const std::size_t i = live[static_cast<std::size_t>(a)];
    for (Eigen::Index b = 0; b < k; ++b) q(a, b) = chain.probability(i, live[static_cast<std::size_t>(b)]);
    for (std::size_t j = 0; j < t; ++j)
      if (!settles[j]) r(a, absorbing) += chain.probability(i, j);
    for (Eigen::Index j = 0; j < absorbing; ++j) r(a, j) = chain.probability(i, t + static_cast<std::size_t>(j));
  }
  // The start's row of the fundamental matrix N = (I - Q)^-1: expected visits
  // to each transient state, from (I - Q)^T v = e_start.
  const Eigen::MatrixXd i_minus_q = Eigen::MatrixXd::Identity(k, k) - q;
  Eigen::VectorXd e = Eigen::VectorXd::Zero(k);
  const auto start = std::find(live.begin(), live.end(), chain.start) - live.begin();
  e(start) = 1.0;
  const Eigen::VectorXd visits = i_minus_q.transpose().fullPivLu().solve(e);
  const Eigen::VectorXd absorption = r.transpose() * visits;  // row `start` of B = N R
  for (Eigen::Index j = 0; j < absorbing; ++j) absorbed_in(t + static_cast<std::size_t>(j), absorption(j));
  out.p_never_settles = absorption(absorbing);

  VisitRewards total;
  for (Eigen::Index a = 0; a < k; ++a) add_scaled(total, chain.rewards[live[static_cast<std::size_t>(a)]], visits(a));
  out.expected_downloads = total.complete_transfers;
  out.expected_transfer_attempts = total.transfer_attempts;
  out.expected_bytes = total.bytes;
  out.expected_transfer_drops = total.transfer_drops;
  out.expected_power_losses = total.power_losses;
  out.expected_rejected_transfers = total.rejected_transfers;
  out.expected_trial_boots = total.trial_boots;
  out.expected_trial_boot_failures = total.trial_boot_failures;
  out.expected_trial_crashes = total.trial_crashes;
  out.expected_recovery_boots = total.recovery_boots;
  out.expected_data_usd = total.bytes * params.usd_per_byte;
  out.expected_egress_usd = total.bytes * params.egress_usd_per_byte;
  out.expected_service_usd = out.p_bricked * params.service_call_usd;
  return out;
}

UpdateAnalysis analyze_update(const Scenario& s, const ReleaseArtifacts& a) {
  UpdateAnalysis out;
  for (std::size_t c = 0; c < s.classes.size(); ++c) {
    ClassAnalysis ca;
    ca.name = s.classes[c].name;
    ca.devices = s.classes[c].devices;
    ca.params = chain_params(s, a, c);
    const UpdateChain chain = build_update_chain(ca.params);
    ca.states = chain.size();
    ca.outcome = solve_update_chain(chain, ca.params);
    out.devices += ca.devices;
    out.classes.push_back(std::move(ca));
  }
  if (out.devices > 0)
    for (const ClassAnalysis& ca : out.classes)
      add_scaled(out.fleet, ca.outcome, static_cast<double>(ca.devices) / static_cast<double>(out.devices));
  return out;
}

std::string_view to_string(ChainStateKind k) {
  switch (k) {
    case ChainStateKind::Download: return "download";
    case ChainStateKind::Verify: return "verify";
    case ChainStateKind::Write: return "write";
    case ChainStateKind::TrialBoot: return "trial_boot";
    case ChainStateKind::TrialRun: return "trial_run";
    case ChainStateKind::RecoveryBoot: return "recovery_boot";
    case ChainStateKind::RecoveryDownload: return "recovery_download";
    case ChainStateKind::RecoveryVerify: return "recovery_verify";
    case ChainStateKind::Updated: return "updated";
    case ChainStateKind::RolledBack: return "rolled_back";
    case ChainStateKind::Bricked: return "bricked";
    case ChainStateKind::Refused: return "refused";
  }
  return "?";
}

std::string to_string(const ChainState& s) {
  std::string name(to_string(s.kind));
  if (s.kind == ChainStateKind::TrialBoot || s.kind == ChainStateKind::TrialRun) name += "_" + std::to_string(s.trial);
  return name;
}

}  // namespace ota::models
