// The fleet model: one compact record per device, driven by events, with
// every boot, confirm and rollback decision taken by the agent's boot control
// (ota::agent::boot, apply, begin_install) and every accept/refuse by the
// agent's verifier (verdicts prepared once per artifact variant, artifacts.hpp).
//
// A device has at most one pending event, or waits in the server's queue, or
// is idle with none — so no event ever needs cancelling, and the kernel's
// cheap non-cancellable events are used throughout.
//
// Idle polls (a poll that finds nothing to do changes only server load) are
// accounted in aggregate by an IdlePollCalendar (expected polls per small time
// bucket, delivery/idle_polls.hpp) unless the scenario asks for one event per
// poll (`idle_polls: events`) or starts every device's polling at the same
// instant (a herd is not an expectation). tests/models check that both modes
// agree.
#include "ota/models/fleet/flash_timing.hpp"
#include "ota/models/fleet/fleet_model.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/models/delivery/idle_polls.hpp"
#include "ota/models/delivery/update_server.hpp"
#include "ota/sim/random.hpp"
#include "ota/sim/simulator.hpp"

namespace ota::models {

namespace {

using sim::Duration;
using sim::Event;
using sim::RandomStream;
using sim::SimTime;

enum Kind : sim::EventKind {
  kPoll = 1,       // the device checks in with the server
  kTransferEnd,    // the download (and, A/B, its streaming write) completed
  kTransferDrop,   // the link dropped the transfer
  kPowerLoss,      // power lost during an update activity
  kWriteEnd,       // single partition: the main slot is written
  kBootEnd,        // a boot finished; the action taken is in Device::boot_action
  kHealthReport,   // a trial image ran long enough to report healthy
  kTrialCrash,     // a trial image crashed before its health report
  kStageOpen,      // the rollout controller opens the next stage
};

enum class Phase : std::uint8_t {
  Idle,            // between polls (or not yet offered the release)
  Waiting,         // in the server's download queue
  Downloading,
  Installing,      // single partition: overwriting the main slot
  Rebooting,
  TrialRunning,    // the new image runs on trial until its health report
  Updated,         // confirmed on the new version
  RolledBack,
  Bricked,
  Refused,         // the verifier refused the genuine release for this device
  BatteryBlocked,  // can never gather the energy for the update
  Dead,            // battery below brown-out, no recharge
};
constexpr std::size_t kPhaseCount = 12;

enum class RunningVersion : std::uint8_t { Old, New, None };

constexpr bool is_terminal(Phase p) {
  return p == Phase::Updated || p == Phase::RolledBack || p == Phase::Bricked || p == Phase::Refused ||
         p == Phase::BatteryBlocked || p == Phase::Dead;
}
constexpr bool polls_when_done(Phase p) { return p != Phase::Bricked && p != Phase::Dead; }

// The per-device hot record: 32 bytes. Together with the agent's 24-byte
// BootRecord, 56 bytes a device.
struct Device {
  std::uint32_t draws = 0;          // random draws used from the device's stream
  std::uint32_t progress = 0;       // payload bytes persisted (resume point)
  std::uint32_t pending_bytes = 0;  // bytes received by the time the pending event fires
  float soc = 1.0f;                 // battery state of charge
  float battery_t = 0.0f;           // time (s) the charge was last brought up to date
  float pending_j = 0.0f;           // energy the pending activity uses
  std::uint16_t cls = 0;
  Phase phase = Phase::Idle;
  std::uint8_t attempts = 0;        // consecutive failures (backoff exponent)
  std::uint8_t flags = 0;
  agent::BootActionKind boot_action = agent::BootActionKind::BootNormal;
  std::uint8_t pad[2] = {0, 0};
};
static_assert(sizeof(Device) == 32, "keep the per-device record at 32 bytes");

constexpr std::uint8_t kVersionMask = 0x03;  // RunningVersion
constexpr std::uint8_t kActive = 0x04;       // aggregate mode: polls are events
constexpr std::uint8_t kOffered = 0x08;      // the device's stage has opened
constexpr std::uint8_t kRecovery = 0x10;     // running the recovery image

// What a device class needs on the hot path, precomputed.
struct ClassInfo {
  std::size_t hardware = 0;
  std::size_t link_index = 0;
  const LinkProfile* link = nullptr;
  const Battery* battery = nullptr;
  agent::BootConfig boot_config;
  Partitioning partitioning = Partitioning::AB;
  double power_loss_per_s = 0;
  double usd_per_byte = 0;
  double flash_s = 0;        // erase + program the full image
  double write_watts = 0;
  double background_watts = 0;  // battery: sleep draw plus hourly check-ins, minus recharge
  double boot_s = 0;
  double boot_failure = 0;
  double crash_per_s = 0;
  std::uint32_t sector_bytes = 4096;
};

std::uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux: kilobytes
}

class FleetModel final : public sim::EventHandler {
 public:
  FleetModel(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed)
      : s_(s), art_(a), seed_(seed), server_(s.server),
        n_(static_cast<std::uint32_t>(s.devices)), controller_(n_),
        aggregate_(s.polling.idle_polls == IdlePollMode::Aggregate && !s.polling.synchronized_start),
        never_offered_(s.polling.interval_s, s.polling.jitter),
        finished_(s.polling.interval_s, s.polling.jitter) {
    build_classes();
    link_bytes_.assign(s.links.size(), 0);
    link_cost_.assign(s.links.size(), 0.0);
    devices_.resize(n_);
    boot_.resize(n_);
    init_series();
    const agent::PackedVersion from =
        agent::pack_version({s.release.from_version.major, s.release.from_version.minor,
                             s.release.from_version.patch})
            .value_or(0);
    to_version_ = agent::pack_version({s.release.to_version.major, s.release.to_version.minor,
                                       s.release.to_version.patch})
                      .value_or(0);
    std::uint32_t d = 0;
    for (std::size_t c = 0; c < s.classes.size(); ++c) {
      for (std::uint64_t k = 0; k < s.classes[c].devices; ++k, ++d) {
        Device& dev = devices_[d];
        dev.cls = static_cast<std::uint16_t>(c);
        boot_[d] = agent::factory_record(from, s.release.from_security_counter);
        if (const Battery* b = classes_[c].battery) {
          RandomStream st = static_stream(d, 2);
          dev.soc = static_cast<float>(std::clamp(st.normal(b->soc_mean, b->soc_stddev), 0.0, 1.0));
        }
        phase_count_[static_cast<std::size_t>(Phase::Idle)]++;
        version_count_[static_cast<std::size_t>(RunningVersion::Old)]++;
      }
    }
  }

  void start(sim::Simulator& sim) {
    if (!aggregate_) {
      // One event per poll for every device from the start.
      for (std::uint32_t d = 0; d < n_; ++d) {
        double first = 0;
        if (!s_.polling.synchronized_start) first = static_stream(d, 3).uniform() * s_.polling.interval_s;
        sim.schedule_at(at(first), d, kPoll);
      }
    } else {
      // The same first polls, in expectation: uniform over one interval.
      never_offered_.add_uniform(0.0, s_.polling.interval_s, static_cast<double>(n_));
    }
    sim.schedule_at(at(s_.rollout.start_s), controller_, kStageOpen);
  }

  void on_event(sim::Simulator& sim, const Event& e) override {
    const double t = e.time().seconds_f();
    advance(t);
    if (e.target == controller_) {
      open_stage(sim, t);
      return;
    }
    const std::uint32_t d = e.target;
    switch (static_cast<Kind>(e.kind)) {
      case kPoll: on_poll(sim, d, t); break;
      case kTransferEnd: on_transfer_end(sim, d, t); break;
      case kTransferDrop: on_transfer_drop(sim, d, t); break;
      case kPowerLoss: on_power_loss(sim, d, t); break;
      case kWriteEnd: on_write_end(sim, d, t); break;
      case kBootEnd: on_boot_end(sim, d, t); break;
      case kHealthReport: on_health_report(sim, d, t); break;
      case kTrialCrash: on_trial_crash(sim, d, t); break;
      case kStageOpen: break;
    }
  }

  RunReport finish(const sim::RunResult& result, double horizon_s, double wall_s) {
    advance(horizon_s);
    close_bins(horizon_s);
    RunReport r;
    r.scenario = s_.name;
    r.release.image_bytes = art_.image_bytes;
    r.release.patch_bytes = art_.patch_bytes;
    r.release.payload_bytes = art_.payload_bytes;
    r.release.delta_from_images = art_.delta_from_files;
    totals_.devices = n_;
    totals_.updated = count(Phase::Updated);
    totals_.rolled_back = count(Phase::RolledBack);
    totals_.bricked = count(Phase::Bricked);
    totals_.failed = count(Phase::Refused);
    totals_.battery_blocked = count(Phase::BatteryBlocked) + count(Phase::Dead);
    totals_.in_progress = count(Phase::Waiting) + count(Phase::Downloading) + count(Phase::Installing) +
                          count(Phase::Rebooting) + count(Phase::TrialRunning);
    totals_.service_calls = totals_.bricked;
    std::vector<bool> used(s_.links.size(), false);
    for (const DeviceClass& c : s_.classes)
      if (c.devices > 0) used[c.link] = true;
    for (std::size_t l = 0; l < s_.links.size(); ++l)
      if (used[l]) totals_.by_link.push_back({s_.links[l].name, link_bytes_[l], link_cost_[l]});
    totals_.service_cost_usd = static_cast<double>(totals_.bricked) * s_.prices.service_call_usd;
    totals_.server_requests = event_requests_ + static_cast<std::uint64_t>(std::llround(idle_requests_));
    r.totals = totals_;
    r.series = std::move(series_);
    r.run.seed = seed_;
    r.run.events = result.events;
    r.run.status = std::string(sim::to_string(result.status));
    r.run.wall_s = wall_s;
    r.run.bytes_per_device = static_cast<double>(bytes_per_device());
    r.run.peak_rss_bytes = peak_rss_bytes();
    return r;
  }

 private:
  // ------------------------------------------------------------ set-up

  void build_classes() {
    for (const DeviceClass& c : s_.classes) {
      ClassInfo ci;
      const Hardware& hw = s_.hardware[c.hardware];
      ci.hardware = c.hardware;
      ci.link_index = c.link;
      ci.link = &s_.links[c.link];
      ci.battery = c.battery ? &*c.battery : nullptr;
      ci.partitioning = c.partitioning;
      ci.boot_config.scheme = c.partitioning == Partitioning::AB ? agent::PartitionScheme::DualSlot
                              : c.partitioning == Partitioning::SingleWithRecovery
                                  ? agent::PartitionScheme::SingleWithRecovery
                                  : agent::PartitionScheme::SingleNoRecovery;
      ci.boot_config.trial_boot_limit = hw.trial_boot_limit;
      ci.power_loss_per_s = c.power_loss_per_hour / 3600.0;
      ci.usd_per_byte = ci.link->usd_per_mb / s_.prices.bytes_per_mb;
      ci.flash_s = flash_seconds(hw.flash, art_.image_bytes);
      ci.write_watts = hw.flash.write_watts;
      if (ci.battery)
        ci.background_watts = ci.battery->idle_watts + ci.link->poll_joules / s_.polling.interval_s -
                              ci.battery->recharge_watts;
      ci.boot_s = hw.boot_s;
      ci.sector_bytes = hw.flash.sector_bytes;
      if (c.hardware < s_.release.behaviour.size()) {
        ci.boot_failure = s_.release.behaviour[c.hardware].boot_failure_probability;
        ci.crash_per_s = s_.release.behaviour[c.hardware].crash_per_day / 86400.0;
      }
      classes_.push_back(ci);
    }
  }

  void init_series() {
    const auto bins = static_cast<std::size_t>(std::ceil(s_.horizon_s / s_.bin_s));
    Series& S = series_;
    S.bin_s = s_.bin_s;
    for (std::size_t i = 0; i < bins; ++i) S.t_s.push_back(static_cast<double>(i) * s_.bin_s);
    for (auto* v : {&S.on_old, &S.on_new, &S.on_none, &S.idle, &S.waiting, &S.downloading, &S.installing,
                    &S.rebooting, &S.updated, &S.rolled_back, &S.bricked, &S.refused, &S.battery_blocked,
                    &S.failures, &S.rollbacks, &S.bricks, &S.battery_deferrals, &S.updates})
      v->assign(bins, 0);
    for (auto* v : {&S.downloads_in_flight_peak, &S.queue_length_peak, &S.requests_per_s, &S.bytes_per_s, &S.crashes})
      v->assign(bins, 0.0);
  }

  // ------------------------------------------------------------ helpers

  SimTime at(double t_s) const { return SimTime::start() + Duration::from_seconds(t_s); }

  // Per-device random streams: dynamic draws (counter kept in the record) and
  // static attributes (rank, link rate, initial charge, poll phase) that are a
  // pure function of (seed, device), so they take no memory.
  RandomStream stream(std::uint32_t d) const { return RandomStream(seed_, d, devices_[d].draws); }
  void keep(std::uint32_t d, const RandomStream& r) { devices_[d].draws = static_cast<std::uint32_t>(r.counter()); }
  RandomStream static_stream(std::uint32_t d, std::uint64_t which) const {
    return RandomStream(seed_, (std::uint64_t{1} << 40) | d, which);
  }
  double rank(std::uint32_t d) const { return static_stream(d, 0).uniform(); }
  double link_bps(std::uint32_t d) const {
    const LinkProfile& l = *classes_[devices_[d].cls].link;
    RandomStream st = static_stream(d, 1);
    return std::clamp(l.median_bps * std::exp(st.normal(0.0, l.sigma)), l.min_bps, l.max_bps);
  }

  // What device d downloads: the release as offered, or the full image when it
  // runs the recovery image (which has no base for a delta).
  std::uint64_t payload_of(std::uint32_t d) const {
    return (devices_[d].flags & kRecovery) ? art_.image_bytes : art_.payload_bytes;
  }
  agent::Verdict verdict(std::uint32_t d, Variant v) const {
    const std::size_t hw = classes_[devices_[d].cls].hardware;
    return (devices_[d].flags & kRecovery) ? art_.full_verdict(hw, v) : art_.verdict(hw, v);
  }
  // The agent's boot control must accept every event the model gives it; a
  // refusal means the model and the agent disagree about the device's state,
  // which is a bug, never something to paper over.
  agent::BootRecord must(const std::optional<agent::BootRecord>& next, std::uint32_t d, const char* event) const {
    if (!next)
      throw std::logic_error(std::string("fleet model: the agent refused ") + event + " for device " +
                             std::to_string(d) + " in slot state " +
                             std::string(agent::to_string(boot_[d].state_of(boot_[d].active))));
    return *next;
  }

  double idle_rate() const { return never_offered_.rate_now() + finished_.rate_now(); }

  std::size_t bin_of(double t) const {
    const auto i = static_cast<std::size_t>(std::max(0.0, t) / s_.bin_s);
    return std::min(i, series_.t_s.empty() ? 0 : series_.t_s.size() - 1);
  }

  std::uint64_t count(Phase p) const { return phase_count_[static_cast<std::size_t>(p)]; }

  void set_phase(std::uint32_t d, Phase p) {
    Device& dev = devices_[d];
    phase_count_[static_cast<std::size_t>(dev.phase)]--;
    phase_count_[static_cast<std::size_t>(p)]++;
    dev.phase = p;
  }
  void set_version(std::uint32_t d, RunningVersion v) {
    Device& dev = devices_[d];
    const auto old = static_cast<RunningVersion>(dev.flags & kVersionMask);
    version_count_[static_cast<std::size_t>(old)]--;
    version_count_[static_cast<std::size_t>(v)]++;
    dev.flags = static_cast<std::uint8_t>((dev.flags & ~kVersionMask) | static_cast<std::uint8_t>(v));
  }

  // Snapshots of levels at each bin end up to time t, and the idle polls.
  void advance(double t) {
    if (aggregate_) {
      const auto count_polls = [this](double when, double polls) {
        if (when >= s_.horizon_s) return;
        series_.requests_per_s[bin_of(when)] += polls / s_.bin_s;
        idle_requests_ += polls;
      };
      never_offered_.advance(t, count_polls);
      finished_.advance(t, count_polls);
    }
    // Crashes of confirmed images, in expectation: the health signal that
    // rollout gates read.
    if (t > health_t_ && crash_rate_ > 0) {
      double from = health_t_;
      while (from < t) {
        const std::size_t b = bin_of(from);
        const double to = b + 1 >= series_.t_s.size() ? t : std::min(t, static_cast<double>(b + 1) * s_.bin_s);
        const double n = crash_rate_ * (to - from);
        series_.crashes[b] += n;
        totals_.crashes += n;
        from = to;
      }
    }
    health_t_ = std::max(health_t_, t);
    while (next_snapshot_ < series_.t_s.size() &&
           static_cast<double>(next_snapshot_ + 1) * s_.bin_s <= t)
      snapshot(next_snapshot_++);
  }
  void close_bins(double) {
    while (next_snapshot_ < series_.t_s.size()) snapshot(next_snapshot_++);
  }
  void snapshot(std::size_t b) {
    Series& S = series_;
    S.on_old[b] = version_count_[0];
    S.on_new[b] = version_count_[1];
    S.on_none[b] = version_count_[2];
    S.idle[b] = count(Phase::Idle);
    S.waiting[b] = count(Phase::Waiting);
    S.downloading[b] = count(Phase::Downloading);
    S.installing[b] = count(Phase::Installing);
    S.rebooting[b] = count(Phase::Rebooting) + count(Phase::TrialRunning);
    S.updated[b] = count(Phase::Updated);
    S.rolled_back[b] = count(Phase::RolledBack);
    S.bricked[b] = count(Phase::Bricked);
    S.refused[b] = count(Phase::Refused);
    S.battery_blocked[b] = count(Phase::BatteryBlocked) + count(Phase::Dead);
  }
  void observe_server(double t) {
    const std::size_t b = bin_of(t);
    series_.downloads_in_flight_peak[b] =
        std::max(series_.downloads_in_flight_peak[b], static_cast<double>(server_.active_downloads()));
    series_.queue_length_peak[b] =
        std::max(series_.queue_length_peak[b], static_cast<double>(server_.queue_length()));
  }

  // A device finished its campaign: it goes on polling with nothing to do (in
  // aggregate mode, back into the idle-poll calendar one interval on), or
  // stops when it cannot poll.
  void retire(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const bool polls = polls_when_done(dev.phase);
    if (aggregate_) {
      dev.flags &= static_cast<std::uint8_t>(~kActive);
      if (polls) finished_.add_after_poll(t);
      return;
    }
    if (polls) schedule_poll(sim, d, t + next_interval(d));
  }

  double next_interval(std::uint32_t d) {
    RandomStream r = stream(d);
    const double j = s_.polling.jitter;
    const double v = s_.polling.interval_s * (j > 0 ? r.uniform(1 - j, 1 + j) : 1.0);
    keep(d, r);
    return v;
  }
  double backoff(std::uint32_t d) {
    Device& dev = devices_[d];
    if (dev.attempts < 255) ++dev.attempts;
    const double base = std::min(s_.polling.backoff_max_s,
                                 s_.polling.backoff_initial_s *
                                     std::pow(s_.polling.backoff_factor, static_cast<double>(dev.attempts - 1)));
    RandomStream r = stream(d);
    const double j = s_.polling.jitter;
    const double v = base * (j > 0 ? r.uniform(1 - j, 1 + j) : 1.0);
    keep(d, r);
    return v;
  }
  void schedule_poll(sim::Simulator& sim, std::uint32_t d, double t) { sim.schedule_at(at(t), d, kPoll); }
  void fail_and_retry(sim::Simulator& sim, std::uint32_t d, double t) {
    series_.failures[bin_of(t)]++;
    set_phase(d, Phase::Idle);
    schedule_poll(sim, d, t + backoff(d));
  }

  // Battery: bring the charge up to time t (idle drain, recharge).
  void battery_to(std::uint32_t d, double t) {
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
  void spend(std::uint32_t d, double joules) {
    Device& dev = devices_[d];
    totals_.energy_j += joules;
    if (const Battery* b = classes_[dev.cls].battery) {
      dev.soc = static_cast<float>(std::max(0.0, static_cast<double>(dev.soc) - joules / b->capacity_j));
      totals_.energy_mah += joules / (3.6 * b->voltage_v);
    }
  }
  void account_bytes(std::uint32_t d, std::uint64_t bytes, double t) {
    const ClassInfo& ci = classes_[devices_[d].cls];
    totals_.data_bytes += bytes;
    if (ci.link->metered) totals_.metered_bytes += bytes;
    const double cost = static_cast<double>(bytes) * ci.usd_per_byte;
    totals_.data_cost_usd += cost;
    link_bytes_[ci.link_index] += bytes;
    link_cost_[ci.link_index] += cost;
    totals_.server_egress_cost_usd += static_cast<double>(bytes) * s_.server.usd_per_gb / 1e9;
    series_.bytes_per_s[bin_of(t)] += static_cast<double>(bytes) / s_.bin_s;
  }
  std::uint32_t persisted(std::uint32_t d, std::uint64_t bytes) const {
    // The slot writer persists progress at sector boundaries.
    const std::uint32_t sector = classes_[devices_[d].cls].sector_bytes;
    return static_cast<std::uint32_t>(bytes / sector * sector);
  }

  // The earliest of: the activity's end, a power cut, a brown-out.
  struct Interruption {
    double after_s = std::numeric_limits<double>::infinity();
    Kind kind = kTransferEnd;
  };
  Interruption interruption(std::uint32_t d, double activity_watts, RandomStream& r) const {
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

  // ------------------------------------------------------------ rollout

  void open_stage(sim::Simulator& sim, double t) {
    if (stage_ >= s_.rollout.stages.size()) return;
    const double from = fraction_;
    fraction_ = s_.rollout.stages[stage_].fraction;
    std::vector<std::uint32_t> joining;
    for (std::uint32_t d = 0; d < n_; ++d) {
      const double r = rank(d);
      if (r < from || r >= fraction_) continue;
      Device& dev = devices_[d];
      dev.flags |= kOffered;
      ++totals_.offered;
      if (aggregate_ && dev.phase == Phase::Idle && !(dev.flags & kActive)) joining.push_back(d);
    }
    if (!joining.empty()) {
      // They leave the idle-poll calendar: each one's next poll is drawn from it.
      RandomStream r(seed_, std::uint64_t{1} << 41, controller_draws_);
      const std::vector<double> first = never_offered_.take(joining.size(), [&r] { return r.uniform(); });
      controller_draws_ = r.counter();
      for (std::size_t i = 0; i < joining.size(); ++i) {
        devices_[joining[i]].flags |= kActive;
        schedule_poll(sim, joining[i], std::max(t, first[i]));
      }
    }
    const double soak = s_.rollout.stages[stage_].soak_s;
    ++stage_;
    if (stage_ < s_.rollout.stages.size()) sim.schedule_at(at(t + soak), controller_, kStageOpen);
  }

  // ------------------------------------------------------------ lifecycle

  void on_poll(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    ++event_requests_;
    series_.requests_per_s[bin_of(t)] += 1.0 / s_.bin_s;
    const bool wants_update = (dev.flags & kOffered) && !is_terminal(dev.phase);
    if (!wants_update) {
      // Nothing to do: an idle poll (events mode, or a device that finished).
      // It uses server capacity like the aggregate ones; refused, it simply
      // polls again next interval. Its energy is part of the battery's
      // background draw, as in aggregate mode.
      (void)server_.admit_request(t, 0);
      if (!aggregate_ && polls_when_done(dev.phase)) schedule_poll(sim, d, t + next_interval(d));
      return;
    }
    battery_to(d, t);
    if (ci.battery && dev.soc <= ci.battery->brownout_soc) {
      set_phase(d, Phase::Dead);
      set_version(d, RunningVersion::None);
      retire(sim, d, t);
      return;
    }
    spend(d, ci.link->poll_joules);  // a check-in that is part of the update
    RandomStream admission = stream(d);
    const double u = admission.uniform();
    keep(d, admission);
    if (!server_.admit_request(t, aggregate_ ? idle_rate() : 0, u)) {
      ++totals_.refused_requests;
      fail_and_retry(sim, d, t);
      return;
    }
    if (verdict(d, Variant::Intact) != agent::Verdict::Accepted) {
      set_phase(d, Phase::Refused);
      retire(sim, d, t);
      return;
    }
    if (ci.battery && !enough_energy(d)) {
      ++totals_.deferred_battery;
      series_.battery_deferrals[bin_of(t)]++;
      if (ci.background_watts < 0) {  // the battery gains charge: try again later
        set_phase(d, Phase::Idle);
        schedule_poll(sim, d, t + next_interval(d));
      } else {
        set_phase(d, Phase::BatteryBlocked);
        retire(sim, d, t);
      }
      return;
    }
    const UpdateServer::Grant grant = server_.request_download(d, link_bps(d));
    switch (grant.slot) {
      case UpdateServer::Slot::Refused:
        ++totals_.refused_requests;
        fail_and_retry(sim, d, t);
        return;
      case UpdateServer::Slot::Queued:
        set_phase(d, Phase::Waiting);
        observe_server(t);
        return;
      case UpdateServer::Slot::Start:
        start_download(sim, d, t, grant.rate_bps);
        return;
    }
  }

  // The reference text's rule: start only with the energy the update needs,
  // times a margin, above the minimum charge.
  bool enough_energy(std::uint32_t d) const {
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

  // Starts a download the server granted at `rate` bit/s.
  void start_download(sim::Simulator& sim, std::uint32_t d, double t, double rate) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);  // a device may have waited in the queue
    agent::BootRecord& rec = boot_[d];
    if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery)) {
      // A/B streams into the inactive slot: the agent opens it for writing.
      const agent::SlotId target = agent::install_target(rec, ci.boot_config).value_or(agent::SlotId::B);
      if (rec.state_of(target) != agent::SlotState::Writing) {
        const auto next = agent::begin_install(rec, ci.boot_config, to_version_, s_.release.to_security_counter);
        if (!next) {
          release_slot(sim, d, t);
          set_phase(d, Phase::Refused);
          retire(sim, d, t);
          return;
        }
        rec = *next;
        dev.progress = 0;
      }
    }
    set_phase(d, Phase::Downloading);
    const std::uint64_t total = payload_of(d);
    const std::uint64_t remaining = total - std::min<std::uint64_t>(dev.progress, total);
    const double latency = ci.link->latency_s;
    double duration = latency + static_cast<double>(remaining) * 8.0 / rate;
    double flash_s = 0;
    double watts = ci.link->rx_watts;
    if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery)) {
      // Writing overlaps the download; the slower of the two sets the pace.
      flash_s = ci.flash_s * static_cast<double>(remaining) / static_cast<double>(total);
      duration = std::max(duration, flash_s);
      watts += ci.write_watts;  // for brown-out: the worst case, both at once
    }
    RandomStream r = stream(d);
    Interruption stop{duration, kTransferEnd};
    if (ci.link->drop_per_mb > 0) {
      const double drop_bytes = r.exponential(1e6 / ci.link->drop_per_mb);
      if (drop_bytes < static_cast<double>(remaining)) {
        const double td = latency + drop_bytes * 8.0 / rate;
        if (td < stop.after_s) stop = {td, kTransferDrop};
      }
    }
    const Interruption cut = interruption(d, watts, r);
    if (cut.after_s < stop.after_s) stop = cut;
    keep(d, r);
    const double received = stop.kind == kTransferEnd
                                ? static_cast<double>(remaining)
                                : std::clamp((stop.after_s - latency) * rate / 8.0, 0.0, static_cast<double>(remaining));
    dev.pending_bytes = static_cast<std::uint32_t>(received);
    dev.pending_j = static_cast<float>(ci.link->rx_watts * stop.after_s +
                                       ci.write_watts * std::min(stop.after_s, flash_s));
    sim.schedule_at(at(t + stop.after_s), d, stop.kind);
    observe_server(t);
  }

  // Gives back `d`'s download slot and starts whoever the server lets in.
  void release_slot(sim::Simulator& sim, std::uint32_t d, double t) {
    for (const UpdateServer::Started& next : server_.finish_download(d))
      start_download(sim, next.device, t, next.rate_bps);
  }

  // The download ended one way or another: bytes and energy, the server slot.
  void end_transfer(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    account_bytes(d, dev.pending_bytes, t);
    spend(d, dev.pending_j);
    dev.pending_j = 0;
    release_slot(sim, d, t);
    observe_server(t);
  }

  void on_transfer_end(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);
    end_transfer(sim, d, t);
    dev.progress = static_cast<std::uint32_t>(payload_of(d));
    // What arrived, and what the agent's verifier said of those bytes.
    RandomStream r = stream(d);
    Variant v = Variant::Intact;
    const double u = r.uniform();
    if (u < s_.release.tamper_per_transfer) v = Variant::Tampered;
    else if (u < s_.release.tamper_per_transfer + s_.release.corruption_per_transfer) v = Variant::Corrupted;
    keep(d, r);
    const agent::Verdict got = verdict(d, v);
    if (got != agent::Verdict::Accepted) {
      if (got == agent::Verdict::DigestMismatch) ++totals_.digest_rejections;
      else ++totals_.signature_rejections;
      if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery))
        boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::WriteFailed), d, "WriteFailed");
      dev.progress = 0;
      fail_and_retry(sim, d, t);
      return;
    }
    dev.attempts = 0;
    if (ci.partitioning == Partitioning::AB) {
      agent::BootRecord rec = boot_[d];
      rec = must(agent::apply(rec, ci.boot_config, agent::BootEvent::WriteVerified), d, "WriteVerified");
      rec = must(agent::apply(rec, ci.boot_config, agent::BootEvent::SetPending), d, "SetPending");
      boot_[d] = rec;
      start_boot(sim, d, t);
      return;
    }
    start_write(sim, d, t);
  }

  // Single partition: the staged image overwrites the only slot. From the first
  // erase until the last write the device has nothing to boot but recovery.
  void start_write(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    agent::BootRecord& rec = boot_[d];
    if (rec.state_of(agent::SlotId::A) != agent::SlotState::Writing) {
      const auto next = agent::begin_install(rec, ci.boot_config, to_version_, s_.release.to_security_counter);
      if (!next) {
        set_phase(d, Phase::Refused);
        retire(sim, d, t);
        return;
      }
      rec = *next;
    }
    set_phase(d, Phase::Installing);
    RandomStream r = stream(d);
    Interruption stop{ci.flash_s, kWriteEnd};
    const Interruption cut = interruption(d, ci.write_watts, r);
    if (cut.after_s < stop.after_s) stop = cut;
    keep(d, r);
    dev.pending_j = static_cast<float>(ci.write_watts * stop.after_s);
    sim.schedule_at(at(t + stop.after_s), d, stop.kind);
  }

  void on_write_end(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);
    spend(d, dev.pending_j);
    dev.pending_j = 0;
    agent::BootRecord rec = boot_[d];
    rec = must(agent::apply(rec, ci.boot_config, agent::BootEvent::WriteVerified), d, "WriteVerified");
    rec = must(agent::apply(rec, ci.boot_config, agent::BootEvent::SetPending), d, "SetPending");
    boot_[d] = rec;
    dev.flags &= static_cast<std::uint8_t>(~kRecovery);
    start_boot(sim, d, t);
  }

  void on_transfer_drop(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    battery_to(d, t);
    const std::uint64_t got = dev.pending_bytes;
    end_transfer(sim, d, t);
    dev.progress = persisted(d, dev.progress + got);
    ++totals_.transfer_drops;
    fail_and_retry(sim, d, t);
  }

  void on_power_loss(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);
    ++totals_.power_losses;
    if (dev.phase == Phase::Downloading) {
      const std::uint64_t got = dev.pending_bytes;
      end_transfer(sim, d, t);
      dev.progress = persisted(d, dev.progress + got);
      if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery))
        boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::PowerLoss), d, "PowerLoss");
    } else if (dev.phase == Phase::Installing) {
      spend(d, dev.pending_j);
      dev.pending_j = 0;
      boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::PowerLoss), d, "PowerLoss");
    }
    if (ci.battery && dev.soc <= ci.battery->brownout_soc) {
      set_phase(d, Phase::Dead);
      set_version(d, RunningVersion::None);
      retire(sim, d, t);
      return;
    }
    // Power comes back: the bootloader decides what runs.
    start_boot(sim, d, t);
  }

  void start_boot(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    const agent::BootStep step = agent::boot(boot_[d], ci.boot_config);
    boot_[d] = step.record;
    dev.boot_action = step.action.kind;
    set_phase(d, Phase::Rebooting);
    sim.schedule_at(at(t + ci.boot_s), d, kBootEnd);
  }

  void on_boot_end(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);
    switch (dev.boot_action) {
      case agent::BootActionKind::BootTrial: {
        set_version(d, RunningVersion::New);
        RandomStream r = stream(d);
        const bool fails = r.bernoulli(ci.boot_failure);
        if (fails) {
          keep(d, r);
          ++totals_.trial_boot_failures;
          start_boot(sim, d, t);  // the watchdog resets; the bootloader counts the trial
          return;
        }
        set_phase(d, Phase::TrialRunning);
        Interruption stop{s_.health.report_after_s, kHealthReport};
        if (ci.crash_per_s > 0) {
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
        set_version(d, RunningVersion::Old);
        set_phase(d, Phase::RolledBack);
        series_.rollbacks[bin_of(t)]++;
        retire(sim, d, t);
        return;
      }
      case agent::BootActionKind::BootNormal: {
        // The old image runs again after a cut mid-download: resume at once.
        set_version(d, RunningVersion::Old);
        set_phase(d, Phase::Idle);
        schedule_poll(sim, d, t);
        return;
      }
      case agent::BootActionKind::BootRecovery: {
        ++totals_.recovery_boots;
        dev.flags |= kRecovery;
        dev.progress = 0;
        set_version(d, RunningVersion::None);
        set_phase(d, Phase::Idle);
        schedule_poll(sim, d, t);  // recovery downloads again at once
        return;
      }
      case agent::BootActionKind::Bricked: {
        set_version(d, RunningVersion::None);
        set_phase(d, Phase::Bricked);
        series_.bricks[bin_of(t)]++;
        retire(sim, d, t);
        return;
      }
    }
  }

  void on_health_report(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    battery_to(d, t);
    boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::ReportHealthy), d, "ReportHealthy");
    set_phase(d, Phase::Updated);
    series_.updates[bin_of(t)]++;
    crash_rate_ += ci.crash_per_s;
    const std::uint64_t updated = count(Phase::Updated);
    const double n = static_cast<double>(n_);
    auto mark = [&](std::optional<double>& slot, double share) {
      if (!slot && static_cast<double>(updated) >= std::ceil(share * n)) slot = t;
    };
    mark(totals_.time_to_50pct_s, 0.50);
    mark(totals_.time_to_90pct_s, 0.90);
    mark(totals_.time_to_95pct_s, 0.95);
    mark(totals_.time_to_99pct_s, 0.99);
    dev.attempts = 0;
    retire(sim, d, t);
  }

  void on_trial_crash(sim::Simulator& sim, std::uint32_t d, double t) {
    battery_to(d, t);
    series_.crashes[bin_of(t)] += 1;
    totals_.crashes += 1;
    start_boot(sim, d, t);  // a crash resets the device; the trial counter decides
  }

  const Scenario& s_;
  const ReleaseArtifacts& art_;
  std::uint64_t seed_;
  UpdateServer server_;
  std::uint32_t n_;
  sim::TargetId controller_;
  bool aggregate_;
  agent::PackedVersion to_version_ = 0;
  std::vector<ClassInfo> classes_;
  std::vector<Device> devices_;
  std::vector<agent::BootRecord> boot_;
  std::array<std::uint64_t, kPhaseCount> phase_count_{};
  std::array<std::uint64_t, 3> version_count_{};
  std::size_t stage_ = 0;
  double fraction_ = 0;
  // Aggregate idle polls, in two populations so that devices joining a stage
  // take the poll phases of devices never offered, not of those that just
  // finished together.
  IdlePollCalendar never_offered_;
  IdlePollCalendar finished_;
  double crash_rate_ = 0;  // sum of crash rates (per s) of confirmed devices
  double health_t_ = 0;
  std::uint64_t controller_draws_ = 0;
  double idle_requests_ = 0;
  std::uint64_t event_requests_ = 0;
  std::size_t next_snapshot_ = 0;
  Totals totals_;
  Series series_;
  std::vector<std::uint64_t> link_bytes_;  // per link profile index
  std::vector<double> link_cost_;
};

}  // namespace

std::size_t bytes_per_device() {
  // The hot record, the agent's boot record, and the kernel's per-target epoch.
  return sizeof(Device) + sizeof(agent::BootRecord) + sizeof(std::uint16_t);
}

RunReport run_scenario(const Scenario& scenario, const ReleaseArtifacts& artifacts, const RunOptions& options) {
  const std::uint64_t seed = options.seed.value_or(scenario.seed);
  const auto begin = std::chrono::steady_clock::now();
  const auto n = static_cast<std::uint32_t>(scenario.devices);
  sim::Simulator sim(n + 1);
  FleetModel model(scenario, artifacts, seed);
  model.start(sim);
  sim::RunControl control;
  control.on_progress = options.on_progress;
  control.cancel = options.cancel;
  const SimTime horizon = SimTime::start() + Duration::from_seconds(scenario.horizon_s);
  const sim::RunResult result = sim.run_until(horizon, model, control);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return model.finish(result, scenario.horizon_s, wall);
}

}  // namespace ota::models
