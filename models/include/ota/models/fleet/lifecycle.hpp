// lifecycle.hpp — the device lifecycle: what each device does next.
//
// Owns: every device's record (fleet/device.hpp) and the agent's BootRecord
// beside it, the device classes, the idle-poll calendars (aggregate mode) and
// the fleet's health (confirmed devices and their crash rates).
// Decides: what a device does at each of its events — poll, ask the delivery
// network for a download, stream or write the image, boot, confirm, roll
// back, recover, defer for battery, back off and retry, give up — and
// schedules the device's next event. It carries out the rollout
// controller's commands on devices (offer, withdraw, revert).
// Never: decides for the agent. Every accept/refuse is the agent's verifier
// (verdicts prepared per artifact variant, artifacts.hpp) and every boot,
// confirm and rollback the agent's boot control (ota::agent::boot, apply,
// begin_install); a refusal by the boot control of an event the model gives
// it is a bug and throws. It is the model's only caller of agent code.
//
// A device has at most one pending event, or waits (in a server queue, for a
// CDN fill or a peer), or is idle with none, so no device event needs
// cancelling except a poll replaced by a push notification (events mode) and
// a P2P fallback timer.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/models/delivery/delivery_network.hpp"
#include "ota/models/delivery/idle_polls.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/device.hpp"
#include "ota/models/fleet/device_class.hpp"
#include "ota/models/random_keys.hpp"
#include "ota/models/report/recorder.hpp"
#include "ota/models/rollout/controller.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/models/shard.hpp"
#include "ota/sim/simulator.hpp"

namespace ota::models {

// The fleet model's event kinds.
enum EventKind : sim::EventKind {
  kPoll = 1,       // the device checks in with the server
  kTransferEnd,    // the download (and, A/B, its streaming write) completed
  kTransferDrop,   // the link dropped the transfer
  kPowerLoss,      // power lost during an update activity
  kWriteEnd,       // single partition: the main slot is written
  kBootEnd,        // a boot finished; the action taken is in Device::boot_action
  kHealthReport,   // a trial image ran long enough to report healthy
  kTrialCrash,     // a trial image crashed before its health report
  kStageOpen,      // the rollout controller opens the first stage
  kSoakEnd,        // a stage's soak ended: its gate decides
  kTick,           // periodic gate evaluation, timeouts, the rate ramp
  kPauseDecision,  // the scripted operator decision after a pause
  kEdgeFill,       // a CDN edge finished fetching an artifact from the origin
  kP2pFallback,    // a device waited too long for a peer: fetch from the origin
  kShareWake,      // a shared link's next transfer completes (may be stale: its rates changed)
};

class DeviceLifecycle {
 public:
  // `fill_targets`: the kernel target of the first CDN fill (one per edge and
  // artifact follow it); `link_targets`: of shared link 0 (then one per link,
  // DeliveryNetwork::link_bound).
  DeviceLifecycle(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, const Shard* shard,
                  DeliveryNetwork& network, RolloutController& controller, RunRecorder& recorder,
                  sim::TargetId fill_targets, sim::TargetId link_targets);

  // Every device's first poll (events mode), or the idle-poll calendar's.
  void start(sim::Simulator& sim);

  // Device events.
  void on_poll(sim::Simulator& sim, std::uint32_t d, double t);
  void on_transfer_end(sim::Simulator& sim, std::uint32_t d, double t);
  void on_transfer_drop(sim::Simulator& sim, std::uint32_t d, double t);
  void on_power_loss(sim::Simulator& sim, std::uint32_t d, double t);
  void on_write_end(sim::Simulator& sim, std::uint32_t d, double t);
  void on_boot_end(sim::Simulator& sim, std::uint32_t d, double t);
  void on_health_report(sim::Simulator& sim, std::uint32_t d, double t);
  void on_trial_crash(sim::Simulator& sim, std::uint32_t d, double t);
  void on_p2p_fallback(sim::Simulator& sim, std::uint32_t d, double t);
  // A CDN edge's fill completed (index from the delivery network).
  void on_edge_fill(sim::Simulator& sim, std::uint32_t index, double t);
  // A shared link's wake-up scheduled for `when_us` (stale when the link has
  // been re-timed since): its completed flows end their transfers.
  void on_share_wake(sim::Simulator& sim, FairShare::LinkId link, double t, std::int64_t when_us);
  // After every event: wakes for the links whose rates changed.
  void schedule_wakes(sim::Simulator& sim) {
    if (!network_.touched().empty()) schedule_wakes_slow(sim);
  }

  // The rollout controller's commands, carried out on devices.
  void offer(sim::Simulator& sim, std::uint64_t from, std::uint64_t to, double t);
  void withdraw();
  void start_revert(sim::Simulator& sim, double t);
  // Devices whose timeout passed by t and never reported: failures.
  void expire_timeouts(double t);

  // Idle polls accounted in aggregate, up to t, into the recorder.
  void advance_idle_polls(double t) {
    if (!aggregate_) return;
    if (never_offered_.bucket_end() <= t || finished_.bucket_end() <= t) advance_calendars(t);
    recorder_.idle_rate(idle_rate());
  }
  RolloutController::Health health() const { return {crash_rate_, confirmed_new_}; }
  double crash_rate() const { return crash_rate_; }

  // A uniform index in [0, n) from device d's own stream (its choice of a peer).
  std::uint64_t draw_index(std::uint32_t d, std::uint64_t n) {
    sim::RandomStream r = stream(d);
    const std::uint64_t u = r.uniform_int(n);
    keep(d, r);
    return u;
  }

 private:
  // ---- lifecycle.cpp: polls, offers, battery, retries, boots
  void advance_calendars(double t);
  std::vector<double> leave_calendar(IdlePollCalendar& calendar, const std::vector<std::uint32_t>& leaving,
                                     Attribute shard_draw, double t);
  sim::RandomStream stream(std::uint32_t d) const { return device_stream(seed_, first_ + d, devices_[d].draws); }
  void keep(std::uint32_t d, const sim::RandomStream& r) { devices_[d].draws = static_cast<std::uint32_t>(r.counter()); }
  sim::RandomStream attribute(std::uint32_t d, Attribute a) const { return attribute_stream(seed_, first_ + d, a); }
  bool local(std::uint32_t g) const { return g >= first_ && g - first_ < n_; }
  static sim::SimTime at(double t_s) { return sim::SimTime::start() + sim::Duration::from_seconds(t_s); }
  double link_bps(std::uint32_t d) const;
  bool reverting(std::uint32_t d) const { return devices_[d].revert == Revert::Installing; }
  std::uint64_t payload_of(std::uint32_t d) const;
  agent::Verdict verdict(std::uint32_t d, Variant v) const;
  agent::BootRecord must(const std::optional<agent::BootRecord>& next, std::uint32_t d, const char* event) const;
  double idle_rate() const { return never_offered_.rate_now() + finished_.rate_now(); }
  void set_phase(std::uint32_t d, Phase p) {
    Device& dev = devices_[d];
    recorder_.phase_changed(dev.phase, p);
    dev.phase = p;
  }
  void set_version(std::uint32_t d, RunningVersion v) {
    Device& dev = devices_[d];
    recorder_.version_changed(dev.version, v);
    dev.version = v;
  }
  void retire(sim::Simulator& sim, std::uint32_t d, double t);
  double next_interval(std::uint32_t d);
  double backoff(std::uint32_t d);
  void schedule_poll(sim::Simulator& sim, std::uint32_t d, double t);
  void fail_and_retry(sim::Simulator& sim, std::uint32_t d, double t);
  void refuse(sim::Simulator& sim, std::uint32_t d, double t);
  void end_revert(std::uint32_t d) { devices_[d].revert = Revert::Done; }
  bool needs_revert(std::uint32_t d) const {
    const Device& dev = devices_[d];
    return revert_active_ && dev.phase == Phase::Updated && dev.revert == Revert::None;
  }
  bool failing_device(std::uint32_t d) const;
  void battery_to(std::uint32_t d, double t);
  void spend(std::uint32_t d, double joules);
  void report(std::uint32_t d, RolloutController::Outcome what);
  bool enough_energy(std::uint32_t d) const;
  struct Interruption {  // the earliest of: the activity's end, a power cut, a brown-out
    double after_s = std::numeric_limits<double>::infinity();
    EventKind kind = kTransferEnd;
  };
  Interruption interruption(std::uint32_t d, double activity_watts, sim::RandomStream& r) const;
  void start_boot(sim::Simulator& sim, std::uint32_t d, double t);

  // ---- transfer.cpp: downloads, writes and the delivery network
  bool uses_peers(std::uint32_t d) const;
  ArtifactKind artifact_kind(std::uint32_t d) const;
  void request_download(sim::Simulator& sim, std::uint32_t d, double t);
  void carry_out(sim::Simulator& sim, std::uint32_t d, double t, const DeliveryNetwork::Decision& decision);
  void start_download(sim::Simulator& sim, std::uint32_t d, double t, double rate, double since);
  void start_all(sim::Simulator& sim, const std::vector<DeliveryNetwork::Started>& started, double t);
  void release_slot(sim::Simulator& sim, std::uint32_t d, double t);
  void end_transfer(sim::Simulator& sim, std::uint32_t d, double t);
  void become_seeder(sim::Simulator& sim, std::uint32_t d, double t);
  void start_write(sim::Simulator& sim, std::uint32_t d, double t);
  // The agent opens the install target for what d installs (the release, or
  // the previous one when reverting); nullopt when it refuses.
  std::optional<agent::BootRecord> begin_install(std::uint32_t d) const;
  // The agent takes the verified image as the pending one.
  void stage_verified(std::uint32_t d);
  std::uint32_t persisted(std::uint32_t d, std::uint64_t bytes) const;
  void flow_done(sim::Simulator& sim, std::uint32_t d, double t);
  void settle_shared(std::uint32_t d, double t, bool completed);
  void schedule_wakes_slow(sim::Simulator& sim);

  const Scenario& s_;
  const ReleaseArtifacts& art_;
  std::uint64_t seed_;
  const Shard* shard_;
  std::uint32_t fleet_;  // devices in the fleet
  std::uint32_t first_;  // this model's first device (0 unless sharded)
  std::uint32_t n_;      // devices this model simulates
  bool aggregate_;       // idle polls in aggregate (IdlePollCalendar), not as events
  agent::PackedVersion to_version_ = 0;
  agent::PackedVersion from_version_ = 0;
  std::vector<ClassInfo> classes_;
  std::vector<Device> devices_;
  std::vector<agent::BootRecord> boot_;
  DeliveryNetwork& network_;
  RolloutController& controller_;
  RunRecorder& recorder_;
  sim::TargetId fill_targets_;
  sim::TargetId link_targets_;
  // Transfers running on a shared link: what their end needs.
  struct SharedTransfer {
    double start_s;
    double remaining;  // bytes the device still needed at the start
    double bytes;      // bytes of the flow (fewer when the link drops it)
    double flash_s;    // A/B: writing `remaining` bytes
    double latency_s;  // the last byte arrives this long after it left
    double rx_watts;
    double cut_at_s;   // a power cut or brown-out (infinity: none)
    EventKind ends;    // kTransferEnd or kTransferDrop
    RunRecorder::From from;
  };
  std::unordered_map<std::uint32_t, SharedTransfer> shared_;  // looked up by key only
  // Aggregate idle polls, in two populations so that devices joining a stage
  // take the poll phases of devices never offered, not of those that just
  // finished together.
  IdlePollCalendar never_offered_;
  IdlePollCalendar finished_;
  std::uint64_t calendar_draws_ = 0;  // kControllerStream: draws from the calendars
  double crash_rate_ = 0;             // sum of crash rates (per s) of confirmed devices
  std::uint64_t confirmed_new_ = 0;   // devices confirmed on the new image
  bool revert_active_ = false;        // a gate rolled the release back
};

}  // namespace ota::models
