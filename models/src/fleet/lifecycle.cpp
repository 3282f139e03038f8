// lifecycle.cpp — polls, offers, battery, retries, boots and confirmations.
// Downloads and writes are in transfer.cpp.
#include "ota/models/fleet/lifecycle.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "ota/models/fleet/flash_timing.hpp"

namespace ota::models {

std::vector<ClassInfo> build_classes(const Scenario& s, const ReleaseArtifacts& a) {
  std::vector<ClassInfo> out;
  std::uint32_t first = 0;
  for (const DeviceClass& c : s.classes) {
    ClassInfo ci;
    const Hardware& hw = s.hardware[c.hardware];
    ci.hardware = c.hardware;
    ci.link_index = c.link;
    ci.link = &s.links[c.link];
    ci.battery = c.battery ? &*c.battery : nullptr;
    ci.partitioning = c.partitioning;
    ci.boot_config.scheme = c.partitioning == Partitioning::AB ? agent::PartitionScheme::DualSlot
                            : c.partitioning == Partitioning::SingleWithRecovery
                                ? agent::PartitionScheme::SingleWithRecovery
                                : agent::PartitionScheme::SingleNoRecovery;
    ci.boot_config.trial_boot_limit = hw.trial_boot_limit;
    ci.power_loss_per_s = c.power_loss_per_hour / 3600.0;
    ci.usd_per_byte = ci.link->usd_per_mb / s.prices.bytes_per_mb;
    ci.flash_s = flash_seconds(hw.flash, a.image_bytes);
    ci.write_watts = hw.flash.write_watts;
    if (ci.battery)
      ci.background_watts =
          ci.battery->idle_watts + ci.link->poll_joules / s.polling.interval_s - ci.battery->recharge_watts;
    ci.boot_s = hw.boot_s;
    ci.sector_bytes = hw.flash.sector_bytes;
    ci.region = c.region;
    ci.source = c.source;
    if (c.hardware < s.release.behaviour.size()) {
      ci.boot_failure = s.release.behaviour[c.hardware].boot_failure_probability;
      ci.crash_per_s = s.release.behaviour[c.hardware].crash_per_day / 86400.0;
      ci.failing_share = s.release.behaviour[c.hardware].failing_device_share;
    }
    ci.first_device = first;
    ci.devices = static_cast<std::uint32_t>(c.devices);
    first += ci.devices;
    out.push_back(ci);
  }
  return out;
}

DeviceLifecycle::DeviceLifecycle(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, const Shard* shard,
                                 DeliveryNetwork& network, RolloutController& controller, RunRecorder& recorder,
                                 sim::TargetId fill_targets, sim::TargetId link_targets)
    : s_(s), art_(a), seed_(seed), shard_(shard), fleet_(static_cast<std::uint32_t>(s.devices)),
      first_(shard ? static_cast<std::uint32_t>(shard->first) : 0),
      n_(shard ? static_cast<std::uint32_t>(shard->end - shard->first) : fleet_),
      aggregate_(s.polling.idle_polls == IdlePollMode::Aggregate && !s.polling.synchronized_start),
      classes_(build_classes(s, a)), network_(network), controller_(controller), recorder_(recorder),
      fill_targets_(fill_targets), link_targets_(link_targets), never_offered_(s.polling.interval_s, s.polling.jitter),
      finished_(s.polling.interval_s, s.polling.jitter) {
  devices_.resize(n_);
  boot_.resize(n_);
  const auto pack = [](const Version& v) { return agent::pack_version({v.major, v.minor, v.patch}).value_or(0); };
  from_version_ = pack(s.release.from_version);
  to_version_ = pack(s.release.to_version);
  std::uint32_t g = 0;
  for (std::size_t c = 0; c < s.classes.size(); ++c) {
    for (std::uint64_t k = 0; k < s.classes[c].devices; ++k, ++g) {
      if (!local(g)) continue;  // another shard's device
      const std::uint32_t d = g - first_;
      Device& dev = devices_[d];
      dev.cls = static_cast<std::uint16_t>(c);
      boot_[d] = agent::factory_record(from_version_, s.release.from_security_counter);
      if (const Battery* b = classes_[c].battery) {
        sim::RandomStream st = attribute(d, Attribute::InitialCharge);
        dev.soc = static_cast<float>(std::clamp(st.normal(b->soc_mean, b->soc_stddev), 0.0, 1.0));
      }
      recorder_.add_device(dev.phase, dev.version);
    }
  }
}

void DeviceLifecycle::start(sim::Simulator& sim) {
  if (!aggregate_) {
    // One event per poll for every device from the start.
    for (std::uint32_t d = 0; d < n_; ++d) {
      double first = 0;
      if (!s_.polling.synchronized_start) first = attribute(d, Attribute::PollPhase).uniform() * s_.polling.interval_s;
      schedule_poll(sim, d, first);
    }
  } else {
    // The same first polls, in expectation: uniform over one interval.
    never_offered_.add_uniform(0.0, s_.polling.interval_s, static_cast<double>(n_));
  }
}

void DeviceLifecycle::advance_calendars(double t) {
  const auto count_polls = [this](double when, double polls) { recorder_.idle_polls(when, polls); };
  never_offered_.advance(t, count_polls);
  finished_.advance(t, count_polls);
}

// ------------------------------------------------------------ helpers

double DeviceLifecycle::link_bps(std::uint32_t d) const {
  const LinkProfile& l = *classes_[devices_[d].cls].link;
  sim::RandomStream st = attribute(d, Attribute::LinkRate);
  return std::clamp(l.median_bps * std::exp(st.normal(0.0, l.sigma)), l.min_bps, l.max_bps);
}

// What device d downloads: the release as offered, or the full image when it
// runs the recovery image (which has no base for a delta). A device
// reinstalling the previous release (a gate's rollback) downloads that
// release's full image instead.
std::uint64_t DeviceLifecycle::payload_of(std::uint32_t d) const {
  if (reverting(d)) return art_.revert_bytes;
  return devices_[d].recovery ? art_.image_bytes : art_.payload_bytes;
}

agent::Verdict DeviceLifecycle::verdict(std::uint32_t d, Variant v) const {
  const std::size_t hw = classes_[devices_[d].cls].hardware;
  if (reverting(d)) return art_.revert_verdict(hw, v);
  return devices_[d].recovery ? art_.full_verdict(hw, v) : art_.verdict(hw, v);
}

// The agent's boot control must accept every event the model gives it; a
// refusal means the model and the agent disagree about the device's state,
// which is a bug, never something to paper over.
agent::BootRecord DeviceLifecycle::must(const std::optional<agent::BootRecord>& next, std::uint32_t d,
                                        const char* event) const {
  if (!next)
    throw std::logic_error(std::string("fleet model: the agent refused ") + event + " for device " +
                           std::to_string(d) + " in slot state " +
                           std::string(agent::to_string(boot_[d].state_of(boot_[d].active))));
  return *next;
}

bool DeviceLifecycle::failing_device(std::uint32_t d) const {
  const double share = classes_[devices_[d].cls].failing_share;
  return share > 0 && attribute(d, Attribute::FailingDevice).uniform() < share;
}

// A device's outcome reaches the gates once (a timed-out device already counted).
void DeviceLifecycle::report(std::uint32_t d, RolloutController::Outcome what) {
  Device& dev = devices_[d];
  if (dev.reported) return;
  dev.reported = true;
  controller_.report(what);
}

// A device finished its campaign: it goes on polling with nothing to do (in
// aggregate mode, back into the idle-poll calendar one interval on), or stops
// when it cannot poll.
void DeviceLifecycle::retire(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  if (needs_revert(d)) {
    // The rollout was rolled back: this device is offered the previous release.
    if (aggregate_) dev.active = true;
    schedule_poll(sim, d, t + next_interval(d));
    return;
  }
  const bool polls = polls_when_done(dev.phase);
  if (aggregate_) {
    dev.active = false;
    if (polls) finished_.add_after_poll(t);
    return;
  }
  if (polls) schedule_poll(sim, d, t + next_interval(d));
}

double DeviceLifecycle::next_interval(std::uint32_t d) {
  sim::RandomStream r = stream(d);
  const double j = s_.polling.jitter;
  const double v = s_.polling.interval_s * (j > 0 ? r.uniform(1 - j, 1 + j) : 1.0);
  keep(d, r);
  return v;
}

double DeviceLifecycle::backoff(std::uint32_t d) {
  Device& dev = devices_[d];
  if (dev.attempts < 255) ++dev.attempts;
  const double base =
      std::min(s_.polling.backoff_max_s,
               s_.polling.backoff_initial_s * std::pow(s_.polling.backoff_factor, static_cast<double>(dev.attempts - 1)));
  sim::RandomStream r = stream(d);
  const double j = s_.polling.jitter;
  const double v = base * (j > 0 ? r.uniform(1 - j, 1 + j) : 1.0);
  keep(d, r);
  return v;
}

// In events mode a push notification replaces the pending poll, so polls are
// cancellable there; aggregate mode keeps the cheaper plain events.
void DeviceLifecycle::schedule_poll(sim::Simulator& sim, std::uint32_t d, double t) {
  if (aggregate_) sim.schedule_at(at(t), d, kPoll);
  else sim.schedule_cancellable_at(at(t), d, kPoll);
}

void DeviceLifecycle::fail_and_retry(sim::Simulator& sim, std::uint32_t d, double t) {
  recorder_.failure(t);
  Device& dev = devices_[d];
  const std::uint32_t max = s_.rollout.max_attempts;
  if (max > 0 && dev.attempts + 1u >= max) {
    // The device gives up (AWS IoT Jobs' retry limit): a failure report.
    dev.attempts = 0;
    if (reverting(d)) {
      end_revert(d);
      set_phase(d, Phase::Updated);
    } else {
      ++recorder_.totals().gave_up;
      set_phase(d, Phase::Refused);
      report(d, RolloutController::Outcome::Failure);
    }
    retire(sim, d, t);
    return;
  }
  set_phase(d, Phase::Idle);
  schedule_poll(sim, d, t + backoff(d));
}

// The agent refused the release for this device (verifier or boot control).
void DeviceLifecycle::refuse(sim::Simulator& sim, std::uint32_t d, double t) {
  if (reverting(d)) {
    ++recorder_.totals().revert_refused;
    end_revert(d);
    set_phase(d, Phase::Updated);
  } else {
    set_phase(d, Phase::Refused);
    report(d, RolloutController::Outcome::Failure);
  }
  retire(sim, d, t);
}

// Battery: bring the charge up to time t (idle drain, recharge).
void DeviceLifecycle::battery_to(std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  const Battery* b = ci.battery;
  if (!b) return;
  const double dt = t - static_cast<double>(dev.battery_t);
  if (dt > 0) {
    dev.soc = static_cast<float>(
        std::clamp(static_cast<double>(dev.soc) - ci.background_watts * dt / b->capacity_j, 0.0, 1.0));
  }
  dev.battery_t = static_cast<float>(t);
}

void DeviceLifecycle::spend(std::uint32_t d, double joules) {
  Device& dev = devices_[d];
  const Battery* b = classes_[dev.cls].battery;
  if (b) dev.soc = static_cast<float>(std::max(0.0, static_cast<double>(dev.soc) - joules / b->capacity_j));
  recorder_.energy(joules, b);
}

DeviceLifecycle::Interruption DeviceLifecycle::interruption(std::uint32_t d, double activity_watts,
                                                            sim::RandomStream& r) const {
  Interruption out;
  const ClassInfo& ci = classes_[devices_[d].cls];
  if (ci.power_loss_per_s > 0) {
    const double tp = r.exponential(1.0 / ci.power_loss_per_s);
    if (tp < out.after_s) out = {tp, kPowerLoss};
  }
  if (const Battery* b = ci.battery) {
    const double net_w = activity_watts + ci.background_watts;
    const double margin = (static_cast<double>(devices_[d].soc) - b->brownout_soc) * b->capacity_j;
    if (net_w > 0) {
      const double tb = std::max(0.0, margin / net_w);
      if (tb < out.after_s) out = {tb, kPowerLoss};
    }
  }
  return out;
}

// The reference text's rule: start only with the energy the update needs,
// times a margin, above the minimum charge.
bool DeviceLifecycle::enough_energy(std::uint32_t d) const {
  const Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  const Battery& b = *ci.battery;
  const std::uint64_t total = payload_of(d);
  const double remaining = static_cast<double>(total - std::min<std::uint64_t>(dev.progress, total));
  const double rx_s = remaining * 8.0 / link_bps(d);
  const double need = rx_s * ci.link->rx_watts + ci.flash_s * ci.write_watts + 2 * ci.boot_s * b.idle_watts;
  const double available = (static_cast<double>(dev.soc) - b.min_soc) * b.capacity_j;
  return available >= need * b.update_margin;
}

// ------------------------------------------------------------ the controller's commands

// Offers the release to order()[from, to).
void DeviceLifecycle::offer(sim::Simulator& sim, std::uint64_t from, std::uint64_t to, double t) {
  const std::vector<std::uint32_t>& order = controller_.order();
  std::vector<std::uint32_t> joining;
  std::vector<std::optional<double>> pushed;  // per joining device: its push check-in time, if pushed
  for (std::uint64_t i = from; i < to; ++i) {
    const std::uint32_t g = order[i];
    if (!local(g)) {
      // Another shard's device: it still takes its turn in the broker's queue.
      if (shard_) (void)network_.push_time(g, class_of_global(classes_, g), t);
      continue;
    }
    const std::uint32_t d = g - first_;
    Device& dev = devices_[d];
    dev.offered = true;
    ++recorder_.totals().offered;
    dev.offered_s = static_cast<std::uint32_t>(t);
    const std::optional<double> push = network_.push_time(g, dev.cls, t);
    if (push) dev.pushed = true;
    if (aggregate_ && dev.phase == Phase::Idle && !dev.active) {
      joining.push_back(d);
      pushed.push_back(push);
    } else if (push && !aggregate_ && dev.phase == Phase::Idle) {
      sim.cancel_target(d);  // its regular poll: the notification replaces it
      schedule_poll(sim, d, *push);
    }
  }
  if (joining.empty()) return;
  const std::vector<double> first = leave_calendar(never_offered_, joining, Attribute::ShardOfferPoll, t);
  for (std::size_t i = 0; i < joining.size(); ++i) {
    devices_[joining[i]].active = true;
    schedule_poll(sim, joining[i], pushed[i] ? *pushed[i] : std::max(t, first[i]));
  }
}

// Devices whose polls become events again leave an idle-poll calendar: each
// one's next poll is drawn from it (a sharded run draws each from the device's
// own stream instead, uniform over the next interval, so that no device
// depends on another shard).
std::vector<double> DeviceLifecycle::leave_calendar(IdlePollCalendar& calendar, const std::vector<std::uint32_t>& leaving,
                                                    Attribute shard_draw, double t) {
  sim::RandomStream r(seed_, kControllerStream, calendar_draws_);
  std::vector<double> next = calendar.take(leaving.size(), [&r] { return r.uniform(); });
  calendar_draws_ = r.counter();
  if (shard_)
    for (std::size_t i = 0; i < leaving.size(); ++i)
      next[i] = t + attribute(leaving[i], shard_draw).uniform() * s_.polling.interval_s;
  return next;
}

// Stop offering: devices offered but not yet admitted for the update lose the
// offer; those already under way finish.
void DeviceLifecycle::withdraw() {
  const std::vector<std::uint32_t>& order = controller_.order();
  for (std::uint64_t i = 0; i < controller_.offered(); ++i) {
    if (!local(order[i])) continue;
    Device& dev = devices_[order[i] - first_];
    if (!dev.offered || dev.started || dev.phase != Phase::Idle) continue;
    dev.offered = false;
    ++recorder_.totals().withdrawn;
  }
}

// Roll back: every device confirmed on the new release is offered the
// previous one; those still under way are offered it when they confirm.
void DeviceLifecycle::start_revert(sim::Simulator& sim, double t) {
  revert_active_ = true;
  if (!aggregate_) return;  // their polls are events already
  std::vector<std::uint32_t> updated;
  for (std::uint32_t d = 0; d < n_; ++d)
    if (needs_revert(d) && !devices_[d].active) updated.push_back(d);
  const std::vector<double> next = leave_calendar(finished_, updated, Attribute::ShardRevertPoll, t);
  for (std::size_t i = 0; i < updated.size(); ++i) {
    devices_[updated[i]].active = true;
    schedule_poll(sim, updated[i], std::max(t, next[i]));
  }
}

void DeviceLifecycle::expire_timeouts(double t) {
  while (const auto d = controller_.expired(t)) {
    if (devices_[*d].reported) continue;
    ++recorder_.totals().timed_out;
    report(*d, RolloutController::Outcome::Failure);
  }
}

// ------------------------------------------------------------ polls

void DeviceLifecycle::on_poll(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  recorder_.request(t, [this] { return idle_rate(); });
  const bool revert_offer = needs_revert(d);
  const bool wants_update = (dev.offered && !is_terminal(dev.phase)) || revert_offer;
  // Outside its region's maintenance window the server offers nothing.
  const bool window_closed = wants_update && !dev.recovery && !controller_.in_window(ci.region, t);
  UpdateServer& origin = network_.origin();
  if (!wants_update || window_closed) {
    // Nothing to do: an idle poll (events mode, a device that finished, or
    // one whose offer was withdrawn). It uses server capacity like the
    // aggregate ones; refused, it simply polls again next interval. Its
    // energy is part of the battery's background draw, as in aggregate mode.
    (void)origin.admit_request(t, 0);
    if (window_closed) {
      schedule_poll(sim, d, t + next_interval(d));
    } else if (aggregate_ && dev.active) {
      retire(sim, d, t);  // back into the idle-poll calendar
    } else if (!aggregate_ && polls_when_done(dev.phase)) {
      schedule_poll(sim, d, t + next_interval(d));
    }
    return;
  }
  if (!revert_offer && !reverting(d) && !dev.learned) {
    // The first check-in for the release: how the device learned of it.
    dev.learned = true;
    recorder_.learned(dev.pushed, std::max(0.0, t - static_cast<double>(dev.offered_s)));
  }
  if (revert_offer) {
    // The previous release's manifest, checked by the agent's verifier
    // against this device (its anti-rollback minimum is the new release's).
    if (art_.revert_verdict(ci.hardware, Variant::Intact) != agent::Verdict::Accepted) {
      ++recorder_.totals().revert_refused;
      dev.revert = Revert::Done;
      retire(sim, d, t);
      return;
    }
    dev.revert = Revert::Installing;
    dev.progress = 0;  // a new artifact: nothing of it persisted yet
  }
  battery_to(d, t);
  if (ci.battery && dev.soc <= ci.battery->brownout_soc) {
    set_phase(d, Phase::Dead);
    set_version(d, RunningVersion::None);
    retire(sim, d, t);
    return;
  }
  spend(d, ci.link->poll_joules);  // a check-in that is part of the update
  sim::RandomStream admission = stream(d);
  const double u = admission.uniform();
  keep(d, admission);
  if (!origin.admit_request(t, aggregate_ ? idle_rate() : 0, u)) {
    ++recorder_.totals().refused_requests;
    fail_and_retry(sim, d, t);
    return;
  }
  if (!reverting(d)) {
    controller_.checkin();
    if (!dev.started) {
      dev.started = true;  // the device's in-progress timeout starts
      controller_.started(d, t);
    }
  }
  if (verdict(d, Variant::Intact) != agent::Verdict::Accepted) {
    refuse(sim, d, t);
    return;
  }
  if (ci.battery && !enough_energy(d)) {
    ++recorder_.totals().deferred_battery;
    recorder_.battery_deferral(t);
    if (!reverting(d)) controller_.deferral();
    if (ci.background_watts < 0) {  // the battery gains charge: try again later
      set_phase(d, Phase::Idle);
      schedule_poll(sim, d, t + next_interval(d));
    } else if (reverting(d)) {
      end_revert(d);
      set_phase(d, Phase::Updated);
      retire(sim, d, t);
    } else {
      set_phase(d, Phase::BatteryBlocked);
      report(d, RolloutController::Outcome::Neutral);
      retire(sim, d, t);
    }
    return;
  }
  request_download(sim, d, t);
}

// ------------------------------------------------------------ boots

void DeviceLifecycle::start_boot(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  const agent::BootStep step = agent::boot(boot_[d], ci.boot_config);
  boot_[d] = step.record;
  dev.boot_action = step.action.kind;
  set_phase(d, Phase::Rebooting);
  sim.schedule_at(at(t + ci.boot_s), d, kBootEnd);
}

void DeviceLifecycle::on_boot_end(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  battery_to(d, t);
  switch (dev.boot_action) {
    case agent::BootActionKind::BootTrial: {
      const bool revert = reverting(d);
      set_version(d, revert ? RunningVersion::Old : RunningVersion::New);
      if (!revert && !dev.exposed) {
        dev.exposed = true;
        ++recorder_.totals().exposed;
      }
      sim::RandomStream r = stream(d);
      // The previous release is known good: its trial boots and runs.
      const bool fails = r.bernoulli(ci.boot_failure) || (!revert && failing_device(d));
      if (fails && !revert) {
        keep(d, r);
        ++recorder_.totals().trial_boot_failures;
        start_boot(sim, d, t);  // the watchdog resets; the bootloader counts the trial
        return;
      }
      set_phase(d, Phase::TrialRunning);
      Interruption stop{s_.health.report_after_s, kHealthReport};
      if (ci.crash_per_s > 0 && !revert) {
        const double tc = r.exponential(1.0 / ci.crash_per_s);
        if (tc < stop.after_s) stop = {tc, kTrialCrash};
      }
      const Interruption cut = interruption(d, 0.0, r);
      if (cut.after_s < stop.after_s) stop = cut;
      keep(d, r);
      sim.schedule_at(at(t + stop.after_s), d, stop.kind);
      return;
    }
    case agent::BootActionKind::RollBack: {
      if (reverting(d)) {
        // The previous release failed its trial: the device is back on the new one.
        set_version(d, RunningVersion::New);
        end_revert(d);
        set_phase(d, Phase::Updated);
        retire(sim, d, t);
        return;
      }
      set_version(d, RunningVersion::Old);
      set_phase(d, Phase::RolledBack);
      recorder_.rollback(t);
      report(d, RolloutController::Outcome::Rollback);
      retire(sim, d, t);
      return;
    }
    case agent::BootActionKind::BootNormal: {
      // The running image runs again after a cut mid-download: resume at once.
      // (A device reinstalling the previous release normally runs the new one.)
      set_version(d, reverting(d) ? RunningVersion::New : RunningVersion::Old);
      set_phase(d, Phase::Idle);
      schedule_poll(sim, d, t);
      return;
    }
    case agent::BootActionKind::BootRecovery: {
      ++recorder_.totals().recovery_boots;
      dev.recovery = true;
      dev.progress = 0;
      set_version(d, RunningVersion::None);
      set_phase(d, Phase::Idle);
      schedule_poll(sim, d, t);  // recovery downloads again at once
      return;
    }
    case agent::BootActionKind::Bricked: {
      set_version(d, RunningVersion::None);
      set_phase(d, Phase::Bricked);
      recorder_.brick(t);
      retire(sim, d, t);
      return;
    }
  }
}

void DeviceLifecycle::on_health_report(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  battery_to(d, t);
  boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::ReportHealthy), d, "ReportHealthy");
  if (reverting(d)) {
    end_revert(d);
    set_phase(d, Phase::Reverted);
    crash_rate_ -= ci.crash_per_s;
    --confirmed_new_;
    dev.attempts = 0;
    retire(sim, d, t);
    return;
  }
  set_phase(d, Phase::Updated);
  report(d, RolloutController::Outcome::Success);
  ++confirmed_new_;
  recorder_.confirmed(t);
  crash_rate_ += ci.crash_per_s;
  dev.attempts = 0;
  retire(sim, d, t);
}

void DeviceLifecycle::on_trial_crash(sim::Simulator& sim, std::uint32_t d, double t) {
  battery_to(d, t);
  controller_.trial_crash();
  recorder_.trial_crash(t);
  start_boot(sim, d, t);  // a crash resets the device; the trial counter decides
}

}  // namespace ota::models
