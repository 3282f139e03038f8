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
#include <boost/random/poisson_distribution.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <unordered_map>
#include <utility>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/models/delivery/idle_polls.hpp"
#include "ota/models/delivery/update_server.hpp"
#include "ota/models/rollout/gates.hpp"
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
  kSoakEnd,        // a stage's soak ended: its gate decides
  kTick,           // periodic gate evaluation, timeouts, the rate ramp
  kPauseDecision,  // the scripted operator decision after a pause
  kEdgeFill,       // a CDN edge finished fetching an artifact from the origin
  kP2pFallback,    // a device waited too long for a peer: fetch from the origin
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
  Reverted,        // reinstalled the previous release after a gate's rollback
};
constexpr std::size_t kPhaseCount = 13;

enum class RunningVersion : std::uint8_t { Old, New, None };

constexpr bool is_terminal(Phase p) {
  return p == Phase::Updated || p == Phase::RolledBack || p == Phase::Bricked || p == Phase::Refused ||
         p == Phase::BatteryBlocked || p == Phase::Dead || p == Phase::Reverted;
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
  std::uint8_t flags2 = 0;
  std::uint8_t flags3 = 0;
};
static_assert(sizeof(Device) == 32, "keep the per-device record at 32 bytes");

constexpr std::uint8_t kVersionMask = 0x03;  // RunningVersion
constexpr std::uint8_t kActive = 0x04;       // aggregate mode: polls are events
constexpr std::uint8_t kOffered = 0x08;      // the device's stage has opened
constexpr std::uint8_t kRecovery = 0x10;     // running the recovery image
// flags2
constexpr std::uint8_t kStarted = 0x01;      // admitted for the update: the device timeout runs
constexpr std::uint8_t kReported = 0x02;     // its outcome reached the gates (or it timed out)
constexpr std::uint8_t kExposed = 0x04;      // booted the new image at least once
constexpr std::uint8_t kRevert = 0x08;       // installing the previous release (a gate's rollback)
constexpr std::uint8_t kRevertDone = 0x10;   // the rollback is over for this device (done, refused or given up)
constexpr std::uint8_t kLearned = 0x20;      // checked in for the offered release at least once
constexpr std::uint8_t kFromServer = 0x40;   // P2P class fetching from the origin (a seed, or after fallback)
constexpr std::uint8_t kPushed = 0x80;       // the broker's notification reached it
// flags3
constexpr std::uint8_t kSeeder = 0x01;       // holds the verified image and serves its neighbours

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
  double failing_share = 0;  // devices on which the new image never boots
  std::size_t region = 0;
  Notify notify = Notify::Poll;
  Source source = Source::Origin;
  std::uint32_t first_device = 0;        // the class's devices are first_device, first_device + 1, ...
  std::uint32_t first_neighbourhood = 0; // P2P: index of its first neighbourhood
  std::uint32_t sector_bytes = 4096;
};

// Boost.Random distributions over a device or controller stream.
struct StreamBits {
  RandomStream& r;
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return r.next_u64(); }
};

enum class RolloutState : std::uint8_t { InProgress, Completed, Paused, Aborted, RolledBack };
const char* to_string(RolloutState s) {
  switch (s) {
    case RolloutState::InProgress: return "in_progress";
    case RolloutState::Completed: return "completed";
    case RolloutState::Paused: return "paused";
    case RolloutState::Aborted: return "aborted";
    case RolloutState::RolledBack: return "rolled_back";
  }
  return "?";
}

std::string num(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}

std::uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux: kilobytes
}

class FleetModel final : public sim::EventHandler {
 public:
  // `shard`: this model simulates only devices [first, end) of the fleet
  // (otasim-mpi's sharded run); nullptr for the whole fleet.
  FleetModel(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, const Shard* shard)
      : s_(s), art_(a), seed_(seed), server_(s.server), shard_(shard),
        N_(static_cast<std::uint32_t>(s.devices)), first_(shard ? static_cast<std::uint32_t>(shard->first) : 0),
        n_(shard ? static_cast<std::uint32_t>(shard->end - shard->first) : N_), controller_(n_), tick_(n_ + 1),
        pause_(n_ + 2), edge_base_(n_ + 3),
        aggregate_(s.polling.idle_polls == IdlePollMode::Aggregate && !s.polling.synchronized_start),
        never_offered_(s.polling.interval_s, s.polling.jitter),
        finished_(s.polling.interval_s, s.polling.jitter) {
    build_classes();
    link_bytes_.assign(s.links.size(), 0);
    link_cost_.assign(s.links.size(), 0.0);
    devices_.resize(n_);
    boot_.resize(n_);
    init_series();
    from_version_ =
        agent::pack_version({s.release.from_version.major, s.release.from_version.minor,
                             s.release.from_version.patch})
            .value_or(0);
    to_version_ = agent::pack_version({s.release.to_version.major, s.release.to_version.minor,
                                       s.release.to_version.patch})
                      .value_or(0);
    std::uint32_t g = 0;
    for (std::size_t c = 0; c < s.classes.size(); ++c) {
      for (std::uint64_t k = 0; k < s.classes[c].devices; ++k, ++g) {
        if (g < first_ || g - first_ >= n_) continue;  // another shard's device
        const std::uint32_t d = g - first_;
        Device& dev = devices_[d];
        dev.cls = static_cast<std::uint16_t>(c);
        boot_[d] = agent::factory_record(from_version_, s.release.from_security_counter);
        if (const Battery* b = classes_[c].battery) {
          RandomStream st = static_stream(d, 2);
          dev.soc = static_cast<float>(std::clamp(st.normal(b->soc_mean, b->soc_stddev), 0.0, 1.0));
        }
        phase_count_[static_cast<std::size_t>(Phase::Idle)]++;
        version_count_[static_cast<std::size_t>(RunningVersion::Old)]++;
      }
    }
    build_order();
  }

  // Targets the kernel needs: one per device, the controller's three, and
  // one per (CDN edge, artifact) for cache fills.
  static std::uint32_t targets(const Scenario& s, const Shard* shard) {
    const std::uint64_t devices = shard ? shard->end - shard->first : s.devices;
    return static_cast<std::uint32_t>(devices) + 3 + static_cast<std::uint32_t>(s.regions.size()) * 3;
  }

  void start(sim::Simulator& sim) {
    // First, so that a device polling at the very instant the rollout starts
    // (a synchronized fleet) already finds the release offered.
    sim.schedule_at(at(s_.rollout.start_s), controller_, kStageOpen);
    if (!aggregate_) {
      // One event per poll for every device from the start.
      for (std::uint32_t d = 0; d < n_; ++d) {
        double first = 0;
        if (!s_.polling.synchronized_start) first = static_stream(d, 3).uniform() * s_.polling.interval_s;
        schedule_poll(sim, d, first);
      }
    } else {
      // The same first polls, in expectation: uniform over one interval.
      never_offered_.add_uniform(0.0, s_.polling.interval_s, static_cast<double>(n_));
    }
    tick_s_ = s_.rollout.ramp ? std::min(60.0, s_.rollout.evaluate_every_s) : s_.rollout.evaluate_every_s;
    last_tick_s_ = s_.rollout.start_s;
    sim.schedule_at(at(s_.rollout.start_s + tick_s_), tick_, kTick);
  }

  void on_event(sim::Simulator& sim, const Event& e) override {
    const double t = e.time().seconds_f();
    advance(t);
    if (t >= next_partial_s_) {
      on_partial_(report_so_far());
      while (next_partial_s_ <= t) next_partial_s_ += partial_every_s_;
    }
    if (e.target >= controller_) {
      switch (static_cast<Kind>(e.kind)) {
        case kStageOpen: open_stage(sim, t); break;
        case kSoakEnd: on_soak_end(sim, t); break;
        case kTick: on_tick(sim, t); break;
        case kPauseDecision: on_pause_decision(sim, t); break;
        case kEdgeFill: on_edge_fill(sim, e.target - edge_base_, t); break;
        default: break;
      }
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
      case kStageOpen:
      case kSoakEnd:
      case kTick:
      case kPauseDecision:
      case kEdgeFill: break;
      case kP2pFallback: on_p2p_fallback(sim, d, t); break;
    }
  }

  RunReport finish(const sim::RunResult& result, double horizon_s, double wall_s) {
    advance(horizon_s);
    close_bins(horizon_s);
    if (shard_) shard_time_marks();
    RunReport r = report_so_far();
    if (shard_) {
      // Idle requests rounded once for the whole fleet (on shard 0), as one process would.
      std::vector<double> v = {idle_requests_};
      shard_->all_sum(v);
      const double idle = shard_->first == 0 ? v[0] : 0.0;
      r.totals.server_requests = event_requests_ + static_cast<std::uint64_t>(std::llround(idle));
    }
    r.series = std::move(series_);
    r.run.events = result.events;
    r.run.status = std::string(sim::to_string(result.status));
    r.run.wall_s = wall_s;
    r.run.peak_rss_bytes = peak_rss_bytes();
    return r;
  }

  // Partial reports while the run goes (RunOptions::on_partial).
  void set_partial(std::function<void(const RunReport&)> f, double every_s) {
    on_partial_ = std::move(f);
    partial_every_s_ = every_s;
    next_partial_s_ = on_partial_ ? every_s : std::numeric_limits<double>::infinity();
  }

  // The report as it stands: totals and rollout now, the time series up to the
  // last closed bin (the rest zero).
  RunReport report_so_far() const {
    RunReport r;
    r.scenario = s_.name;
    r.release.image_bytes = art_.image_bytes;
    r.release.patch_bytes = art_.patch_bytes;
    r.release.payload_bytes = art_.payload_bytes;
    r.release.delta_from_images = art_.delta_from_files;
    Totals& t = r.totals;
    t = totals_;
    t.devices = n_;
    t.updated = count(Phase::Updated);
    t.rolled_back = count(Phase::RolledBack);
    t.bricked = count(Phase::Bricked);
    t.failed = count(Phase::Refused);
    t.reverted = count(Phase::Reverted);
    t.battery_blocked = count(Phase::BatteryBlocked) + count(Phase::Dead);
    t.in_progress = count(Phase::Waiting) + count(Phase::Downloading) + count(Phase::Installing) +
                    count(Phase::Rebooting) + count(Phase::TrialRunning);
    t.service_calls = t.bricked;
    std::vector<bool> used(s_.links.size(), false);
    for (const DeviceClass& c : s_.classes)
      if (c.devices > 0) used[c.link] = true;
    for (std::size_t l = 0; l < s_.links.size(); ++l)
      if (used[l]) t.by_link.push_back({s_.links[l].name, link_bytes_[l], link_cost_[l]});
    t.service_cost_usd = static_cast<double>(t.bricked) * s_.prices.service_call_usd;
    t.server_requests = event_requests_ + static_cast<std::uint64_t>(std::llround(idle_requests_));
    if (aggregate_) t.peak_requests_per_s = std::max(t.peak_requests_per_s, peak_idle_rate_);
    if (t.learned_by_push > 0) t.push_delay_mean_s = push_delay_s_ / static_cast<double>(t.learned_by_push);
    if (t.learned_by_poll > 0) t.poll_delay_mean_s = poll_delay_s_ / static_cast<double>(t.learned_by_poll);
    r.rollout = rollout_;
    r.rollout.state = to_string(state_);
    r.series = series_;
    r.run.seed = seed_;
    r.run.bytes_per_device = static_cast<double>(bytes_per_device());
    return r;
  }

 private:
  // A sharded run's time marks: the k-th confirmation of the whole fleet,
  // found by bisection on time with one collective count per step, then the
  // exact time by a collective minimum. Confirmations later undone by a
  // rollback still count (unlike the single-process marks, which follow the
  // updated count down).
  void shard_time_marks() {
    std::sort(update_times_.begin(), update_times_.end());
    const auto count_upto = [this](double x) {
      std::vector<double> v = {static_cast<double>(
          std::upper_bound(update_times_.begin(), update_times_.end(), x) - update_times_.begin())};
      shard_->all_sum(v);
      return static_cast<std::uint64_t>(std::llround(v[0]));
    };
    const double total = static_cast<double>(count_upto(std::numeric_limits<double>::infinity()));
    const auto mark = [&](std::optional<double>& slot, double share) {
      slot.reset();
      const auto k = static_cast<std::uint64_t>(std::ceil(share * static_cast<double>(N_)));
      if (total < static_cast<double>(k)) return;
      double lo = 0, hi = s_.horizon_s;  // count(lo) < k <= count(hi)
      if (count_upto(lo) >= k) {
        slot = lo;
        return;
      }
      for (int i = 0; i < 200 && hi - lo > 0; ++i) {
        const double mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        (count_upto(mid) >= k ? hi : lo) = mid;
      }
      // The k-th time is the smallest confirmation in (lo, hi].
      const auto it = std::upper_bound(update_times_.begin(), update_times_.end(), lo);
      std::vector<double> v = {it != update_times_.end() ? -*it : -std::numeric_limits<double>::infinity()};
      shard_->all_max(v);
      slot = -v[0];
    };
    mark(totals_.time_to_50pct_s, 0.50);
    mark(totals_.time_to_90pct_s, 0.90);
    mark(totals_.time_to_95pct_s, 0.95);
    mark(totals_.time_to_99pct_s, 0.99);
  }

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
      ci.region = c.region;
      ci.notify = c.notify;
      ci.source = c.source;
      if (c.hardware < s_.release.behaviour.size()) {
        ci.boot_failure = s_.release.behaviour[c.hardware].boot_failure_probability;
        ci.crash_per_s = s_.release.behaviour[c.hardware].crash_per_day / 86400.0;
        ci.failing_share = s_.release.behaviour[c.hardware].failing_device_share;
      }
      classes_.push_back(ci);
    }
    // Device index ranges per class, P2P neighbourhoods, CDN edges, push reach.
    std::uint32_t first = 0, neighbourhoods = 0;
    std::uint64_t push_devices = 0;
    for (std::size_t c = 0; c < s_.classes.size(); ++c) {
      ClassInfo& ci = classes_[c];
      const auto count = static_cast<std::uint32_t>(s_.classes[c].devices);
      ci.first_device = first;
      first += count;
      if (ci.source == Source::P2p) {
        const std::uint32_t k = s_.delivery.p2p->neighbourhood_size;
        ci.first_neighbourhood = neighbourhoods;
        neighbourhoods += (count + k - 1) / k;
      }
      if (ci.notify == Notify::Push) push_devices += count;
    }
    neighbourhoods_.resize(neighbourhoods);
    if (s_.delivery.p2p && s_.delivery.p2p->malicious_share > 0 && !shard_) {
      for (std::size_t c = 0; c < s_.classes.size(); ++c) {
        const ClassInfo& ci = classes_[c];
        if (ci.source != Source::P2p) continue;
        for (std::uint32_t d = ci.first_device; d < ci.first_device + s_.classes[c].devices; ++d)
          if (static_stream(d, 5).uniform() < s_.delivery.p2p->malicious_share) {
            // (devices_ is not filled yet: the neighbourhood from the class.)
            neighbourhoods_[ci.first_neighbourhood + (d - ci.first_device) / s_.delivery.p2p->neighbourhood_size]
                .malicious.push_back(d);
            ++totals_.p2p_malicious_peers;
          }
      }
    }
    if (s_.delivery.cdn) {
      for (const auto& edge : s_.delivery.cdn->edges) {
        Server limits;
        if (edge) {
          limits.bandwidth_bps = edge->bandwidth_bps;
          limits.max_concurrent_downloads = edge->max_concurrent_downloads;
          limits.usd_per_gb = edge->usd_per_gb;
        }
        edges_.emplace_back(limits);
      }
    }
    push_share_ = s_.delivery.push.connected_share;
    if (s_.delivery.push.max_connections > 0 && push_devices > 0)
      push_share_ *= std::min(1.0, static_cast<double>(s_.delivery.push.max_connections) / static_cast<double>(push_devices));
  }

  // ------------------------------------------------------------ delivery

  struct Neighbourhood {
    std::vector<std::uint32_t> free_slots;  // one entry per upload a seeder can take on now
    std::vector<std::uint32_t> waiting;     // devices waiting for a peer, in arrival order
    std::vector<std::uint32_t> malicious;   // hostile peers not yet caught
    bool seeding = false;                   // a device fetches the image from the origin for it
  };
  struct Edge {
    explicit Edge(const Server& limits) : server(limits) {}
    UpdateServer server;
    std::array<bool, 3> cached{}, filling{};
    std::array<double, 3> filled_t{};
    std::array<std::vector<std::uint32_t>, 3> waiting;
  };
  static constexpr std::uint32_t kMaliciousBit = 0x80000000u;

  Neighbourhood& neighbourhood(std::uint32_t d) {
    const ClassInfo& ci = classes_[devices_[d].cls];
    return neighbourhoods_[ci.first_neighbourhood + (d - ci.first_device) / s_.delivery.p2p->neighbourhood_size];
  }
  // Which artifact d downloads: 0 the release as offered, 1 the full image
  // (recovery), 2 the previous release (rollback). 0 and 1 are the same bytes
  // for a full release.
  std::size_t artifact_kind(std::uint32_t d) const {
    if (reverting(d)) return 2;
    if ((devices_[d].flags & kRecovery) && art_.payload_bytes != art_.image_bytes) return 1;
    return 0;
  }
  std::uint64_t artifact_bytes(std::size_t kind) const {
    return kind == 2 ? art_.revert_bytes : kind == 1 ? art_.image_bytes : art_.payload_bytes;
  }
  // P2P applies to the release as offered; recovery and rollback use the origin.
  bool uses_peers(std::uint32_t d) const {
    const Device& dev = devices_[d];
    return classes_[dev.cls].source == Source::P2p && !(dev.flags2 & (kFromServer | kRevert)) &&
           !(dev.flags & kRecovery);
  }
  UpdateServer& server_of(std::uint32_t d) {
    const ClassInfo& ci = classes_[devices_[d].cls];
    return ci.source == Source::Cdn ? edges_[ci.region].server : server_;
  }
  double peer_bps(std::uint32_t d) const {
    const P2p& p = *s_.delivery.p2p;
    RandomStream st = static_stream(d, 6);
    return p.link_bps * std::exp(st.normal(0.0, p.sigma));
  }

  // A device that may download now: from its source.
  void request_download(sim::Simulator& sim, std::uint32_t d, double t) {
    const ClassInfo& ci = classes_[devices_[d].cls];
    if (uses_peers(d)) return p2p_request(sim, d, t);
    if (ci.source == Source::Cdn) return cdn_request(sim, d, t);
    server_request(sim, d, t, server_);
  }

  void server_request(sim::Simulator& sim, std::uint32_t d, double t, UpdateServer& srv) {
    const UpdateServer::Grant grant = srv.request_download(d, link_bps(d));
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

  // CDN: the region's edge serves what it has cached; the first request for
  // an artifact (or the first after its TTL) makes the edge fetch it from the
  // origin, and requests wait for that fill.
  void cdn_request(sim::Simulator& sim, std::uint32_t d, double t) {
    const ClassInfo& ci = classes_[devices_[d].cls];
    Edge& e = edges_[ci.region];
    const std::size_t k = artifact_kind(d);
    const double ttl = s_.delivery.cdn->cache_ttl_s;
    const bool fresh = e.cached[k] && (ttl <= 0 || t < e.filled_t[k] + ttl);
    if (!fresh) {
      if (!e.filling[k]) {
        e.filling[k] = true;
        const double fill_s = static_cast<double>(artifact_bytes(k)) * 8.0 / s_.delivery.cdn->origin_fill_bps;
        sim.schedule_at(at(t + fill_s), edge_base_ + static_cast<std::uint32_t>(ci.region * 3 + k), kEdgeFill);
      }
      e.waiting[k].push_back(d);
      set_phase(d, Phase::Waiting);
      return;
    }
    server_request(sim, d, t, e.server);
  }

  void on_edge_fill(sim::Simulator& sim, std::uint32_t index, double t) {
    const std::size_t region = index / 3, k = index % 3;
    Edge& e = edges_[region];
    e.filling[k] = false;
    e.cached[k] = true;
    e.filled_t[k] = t;
    const std::uint64_t bytes = artifact_bytes(k);
    ++totals_.cdn_fills;
    totals_.origin_bytes += bytes;
    totals_.server_egress_cost_usd += static_cast<double>(bytes) * s_.server.usd_per_gb / 1e9;
    std::vector<std::uint32_t> waiting = std::move(e.waiting[k]);
    e.waiting[k].clear();
    for (const std::uint32_t w : waiting) server_request(sim, w, t, e.server);
  }

  // P2P: a free honest peer or a hostile one (which the device cannot tell
  // apart before verifying), else the neighbourhood's first requester fetches
  // from the origin as its seed, else wait for a peer (at most fallback_s).
  void p2p_request(sim::Simulator& sim, std::uint32_t d, double t) {
    Neighbourhood& nb = neighbourhood(d);
    if (serve_from_peer(sim, d, t, nb)) return;
    if (!nb.seeding) {
      nb.seeding = true;
      ++totals_.p2p_seeds;
      devices_[d].flags2 |= kFromServer;
      server_request(sim, d, t, server_);
      return;
    }
    nb.waiting.push_back(d);
    set_phase(d, Phase::Waiting);
    sim.schedule_cancellable_at(at(t + s_.delivery.p2p->fallback_s), d, kP2pFallback);
  }

  bool serve_from_peer(sim::Simulator& sim, std::uint32_t d, double t, Neighbourhood& nb) {
    const std::size_t honest = nb.free_slots.size(), candidates = honest + nb.malicious.size();
    if (candidates == 0) return false;
    RandomStream r = stream(d);
    const auto u = static_cast<std::size_t>(r.uniform_int(candidates));
    keep(d, r);
    std::uint32_t peer = 0;
    if (u < honest) {
      peer = nb.free_slots[u];
      if (peer == d) return false;
      nb.free_slots[u] = nb.free_slots.back();
      nb.free_slots.pop_back();
    } else {
      peer = nb.malicious[u - honest];
      if (peer == d) return false;
      peer |= kMaliciousBit;
    }
    peer_of_[d] = peer;
    start_download(sim, d, t, peer_bps(d));
    return true;
  }

  // A peer's upload ended: its slot serves the next waiting neighbour.
  void release_peer(sim::Simulator& sim, std::uint32_t d, std::uint32_t peer, double t) {
    if (peer & kMaliciousBit) return;
    const double bytes = static_cast<double>(devices_[d].pending_bytes);
    spend(peer, s_.delivery.p2p->tx_watts * bytes * 8.0 / peer_bps(d));
    Neighbourhood& nb = neighbourhood(d);
    nb.free_slots.push_back(peer);
    serve_waiting(sim, nb, t);
  }

  void serve_waiting(sim::Simulator& sim, Neighbourhood& nb, double t) {
    std::size_t served = 0;
    while (served < nb.waiting.size() && !(nb.free_slots.empty() && nb.malicious.empty())) {
      const std::uint32_t w = nb.waiting[served];
      if (!serve_from_peer(sim, w, t, nb)) break;
      sim.cancel_target(w);  // its fallback timer
      ++served;
    }
    nb.waiting.erase(nb.waiting.begin(), nb.waiting.begin() + static_cast<std::ptrdiff_t>(served));
  }

  // Waited too long for a peer: the origin.
  void on_p2p_fallback(sim::Simulator& sim, std::uint32_t d, double t) {
    Neighbourhood& nb = neighbourhood(d);
    const auto it = std::find(nb.waiting.begin(), nb.waiting.end(), d);
    if (it == nb.waiting.end()) return;
    nb.waiting.erase(it);
    ++totals_.p2p_fallbacks;
    devices_[d].flags2 |= kFromServer;
    server_request(sim, d, t, server_);
  }

  // A P2P device verified the release: it serves its neighbours from now on.
  void become_seeder(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    dev.flags2 &= static_cast<std::uint8_t>(~kFromServer);
    if (classes_[dev.cls].source != Source::P2p || (dev.flags3 & kSeeder) || reverting(d) ||
        (dev.flags & kRecovery))
      return;
    dev.flags3 |= kSeeder;
    Neighbourhood& nb = neighbourhood(d);
    for (std::uint32_t i = 0; i < s_.delivery.p2p->uploads_per_peer; ++i) nb.free_slots.push_back(d);
    serve_waiting(sim, nb, t);
  }

  // Push: the broker notifies a newly offered device if it is connected (and
  // awake); it checks in at once. Others learn at their next poll.
  std::optional<double> push_time(std::uint32_t d, double t) { return push_time_global(first_ + d, t); }
  std::optional<double> push_time_global(std::uint32_t g, double t) {
    const ClassInfo& ci = classes_[class_of_global(g)];
    if (ci.notify != Notify::Push || ci.link->wake_interval_s > 0) return std::nullopt;
    if (!(global_stream(g, 7).uniform() < push_share_)) return std::nullopt;
    broker_t_ = std::max(broker_t_, t) + 1.0 / s_.delivery.push.fanout_per_s;
    return broker_t_ + s_.delivery.push.latency_s;
  }

  void init_series() {
    const auto bins = static_cast<std::size_t>(std::ceil(s_.horizon_s / s_.bin_s));
    Series& S = series_;
    S.bin_s = s_.bin_s;
    for (std::size_t i = 0; i < bins; ++i) S.t_s.push_back(static_cast<double>(i) * s_.bin_s);
    for (auto* v : {&S.offered, &S.on_old, &S.on_new, &S.on_none, &S.idle, &S.waiting, &S.downloading, &S.installing,
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
  // Streams are keyed by the device's index in the whole fleet, so a device
  // behaves the same whichever shard simulates it.
  RandomStream stream(std::uint32_t d) const { return RandomStream(seed_, first_ + d, devices_[d].draws); }
  void keep(std::uint32_t d, const RandomStream& r) { devices_[d].draws = static_cast<std::uint32_t>(r.counter()); }
  RandomStream static_stream(std::uint32_t d, std::uint64_t which) const { return global_stream(first_ + d, which); }
  RandomStream global_stream(std::uint32_t g, std::uint64_t which) const {
    return RandomStream(seed_, (std::uint64_t{1} << 40) | g, which);
  }
  double rank(std::uint32_t d) const { return static_stream(d, 0).uniform(); }
  double global_rank(std::uint32_t g) const { return global_stream(g, 0).uniform(); }
  bool local(std::uint32_t g) const { return g >= first_ && g - first_ < n_; }
  // The class of a device of the whole fleet (classes are contiguous ranges).
  std::size_t class_of_global(std::uint32_t g) const {
    std::size_t c = 0;
    while (c + 1 < classes_.size() && g >= classes_[c].first_device + s_.classes[c].devices) ++c;
    return c;
  }
  double link_bps(std::uint32_t d) const {
    const LinkProfile& l = *classes_[devices_[d].cls].link;
    RandomStream st = static_stream(d, 1);
    return std::clamp(l.median_bps * std::exp(st.normal(0.0, l.sigma)), l.min_bps, l.max_bps);
  }

  // What device d downloads: the release as offered, or the full image when it
  // runs the recovery image (which has no base for a delta).
  // A device reinstalling the previous release (a gate's rollback) downloads
  // that release's full image instead.
  std::uint64_t payload_of(std::uint32_t d) const {
    if (devices_[d].flags2 & kRevert) return art_.revert_bytes;
    return (devices_[d].flags & kRecovery) ? art_.image_bytes : art_.payload_bytes;
  }
  agent::Verdict verdict(std::uint32_t d, Variant v) const {
    const std::size_t hw = classes_[devices_[d].cls].hardware;
    if (devices_[d].flags2 & kRevert) return art_.revert_verdict(hw, v);
    return (devices_[d].flags & kRecovery) ? art_.full_verdict(hw, v) : art_.verdict(hw, v);
  }
  bool reverting(std::uint32_t d) const { return (devices_[d].flags2 & kRevert) != 0; }
  agent::PackedVersion install_version(std::uint32_t d) const { return reverting(d) ? from_version_ : to_version_; }
  std::uint32_t install_counter(std::uint32_t d) const {
    return reverting(d) ? s_.release.from_security_counter : s_.release.to_security_counter;
  }
  RunningVersion installed_version(std::uint32_t d) const { return reverting(d) ? RunningVersion::Old : RunningVersion::New; }
  // The image a device boots normally: the new one once it confirmed it.
  RunningVersion normal_version(std::uint32_t d) const { return reverting(d) ? RunningVersion::New : RunningVersion::Old; }
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

  // Peak requests per second: requests that are events, counted per whole
  // second, plus the aggregate idle polls' rate at that time.
  void note_request(double t) {
    const double second = std::floor(t);
    if (second != request_second_) {
      request_second_ = second;
      requests_this_second_ = aggregate_ ? idle_rate() : 0.0;
    }
    requests_this_second_ += 1;
    totals_.peak_requests_per_s = std::max(totals_.peak_requests_per_s, requests_this_second_);
  }

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
      peak_idle_rate_ = std::max(peak_idle_rate_, idle_rate());
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
    S.offered[b] = totals_.offered;
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
    if (needs_revert(d)) {
      // The rollout was rolled back: this device is offered the previous release.
      if (aggregate_) dev.flags |= kActive;
      schedule_poll(sim, d, t + next_interval(d));
      return;
    }
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
  // In events mode a push notification replaces the pending poll, so polls
  // are cancellable there; aggregate mode keeps the cheaper plain events.
  void schedule_poll(sim::Simulator& sim, std::uint32_t d, double t) {
    if (aggregate_) sim.schedule_at(at(t), d, kPoll);
    else sim.schedule_cancellable_at(at(t), d, kPoll);
  }
  void fail_and_retry(sim::Simulator& sim, std::uint32_t d, double t) {
    series_.failures[bin_of(t)]++;
    Device& dev = devices_[d];
    const std::uint32_t max = s_.rollout.max_attempts;
    if (max > 0 && dev.attempts + 1u >= max) {
      // The device gives up (AWS IoT Jobs' retry limit): a failure report.
      dev.attempts = 0;
      if (reverting(d)) {
        end_revert(d);
        set_phase(d, Phase::Updated);
      } else {
        ++totals_.gave_up;
        set_phase(d, Phase::Refused);
        report(d, Report::Failure);
      }
      retire(sim, d, t);
      return;
    }
    set_phase(d, Phase::Idle);
    schedule_poll(sim, d, t + backoff(d));
  }

  // The agent refused the release for this device (verifier or boot control).
  void refuse(sim::Simulator& sim, std::uint32_t d, double t) {
    if (reverting(d)) {
      ++totals_.revert_refused;
      end_revert(d);
      set_phase(d, Phase::Updated);
    } else {
      set_phase(d, Phase::Refused);
      report(d, Report::Failure);
    }
    retire(sim, d, t);
  }
  void end_revert(std::uint32_t d) {
    Device& dev = devices_[d];
    dev.flags2 = static_cast<std::uint8_t>((dev.flags2 & ~kRevert) | kRevertDone);
  }
  bool needs_revert(std::uint32_t d) const {
    const Device& dev = devices_[d];
    return revert_active_ && dev.phase == Phase::Updated && !(dev.flags2 & (kRevert | kRevertDone));
  }
  bool failing_device(std::uint32_t d) const {
    const double share = classes_[devices_[d].cls].failing_share;
    return share > 0 && static_stream(d, 4).uniform() < share;
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
    const double gb = static_cast<double>(bytes) / 1e9;
    if (!peer_of_.empty() && peer_of_.count(d)) {
      // Neighbour to neighbour over the mesh or LAN: no metered link, no egress.
      totals_.peer_bytes += bytes;
      series_.bytes_per_s[bin_of(t)] += static_cast<double>(bytes) / s_.bin_s;
      return;
    }
    if (ci.link->metered) totals_.metered_bytes += bytes;
    const double cost = static_cast<double>(bytes) * ci.usd_per_byte;
    totals_.data_cost_usd += cost;
    link_bytes_[ci.link_index] += bytes;
    link_cost_[ci.link_index] += cost;
    if (ci.source == Source::Cdn) {
      totals_.edge_bytes += bytes;
      totals_.cdn_cost_usd += gb * s_.delivery.cdn->edges[ci.region]->usd_per_gb;
    } else {
      totals_.origin_bytes += bytes;
      totals_.server_egress_cost_usd += gb * s_.server.usd_per_gb;
    }
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

  // The order in which devices are offered the release, fixed at set-up:
  // named-group stages first (their groups' devices, in stage order), then the
  // rest in a random order, or stratified so that every (hardware, region)
  // stratum receives each stage's share of its own devices. A stage at p %
  // offers exactly the first round(p x N) devices of this order.
  void build_order() {
    const Rollout& R = s_.rollout;
    order_.reserve(N_);
    group_end_.assign(R.stages.size(), 0);
    std::vector<std::uint8_t> placed;
    bool any_groups = false;
    for (const Stage& st : R.stages) any_groups = any_groups || !st.groups.empty();
    if (any_groups) {
      placed.assign(N_, 0);
      for (std::size_t i = 0; i < R.stages.size(); ++i) {
        const Stage& st = R.stages[i];
        if (!st.groups.empty()) {
          std::vector<std::pair<double, std::uint32_t>> members;
          for (std::uint32_t d = 0; d < N_; ++d) {
            const auto& g = s_.classes[class_of_global(d)].group;
            if (placed[d] || !g || std::find(st.groups.begin(), st.groups.end(), *g) == st.groups.end()) continue;
            placed[d] = 1;
            members.emplace_back(global_rank(d), d);
          }
          std::sort(members.begin(), members.end());
          for (const auto& m : members) order_.push_back(m.second);
        }
        group_end_[i] = order_.size();
      }
    }
    std::vector<std::pair<double, std::uint32_t>> rest;
    rest.reserve(N_ - order_.size());
    for (std::uint32_t d = 0; d < N_; ++d)
      if (placed.empty() || !placed[d]) rest.emplace_back(global_rank(d), d);
    if (R.selection == CanarySelection::Stratified && !rest.empty()) {
      // Within each stratum in rank order, a device's key is its quantile in
      // the stratum; merging all strata by key interleaves them in proportion.
      const auto stratum = [&](std::uint32_t d) {
        const DeviceClass& c = s_.classes[class_of_global(d)];
        return c.hardware * s_.regions.size() + c.region;
      };
      std::sort(rest.begin(), rest.end(), [&](const auto& x, const auto& y) {
        const auto sx = stratum(x.second), sy = stratum(y.second);
        return sx != sy ? sx < sy : x < y;
      });
      std::size_t begin = 0;
      while (begin < rest.size()) {
        std::size_t end = begin;
        const auto st = stratum(rest[begin].second);
        while (end < rest.size() && stratum(rest[end].second) == st) ++end;
        const double size = static_cast<double>(end - begin);
        for (std::size_t i = begin; i < end; ++i) rest[i].first = (static_cast<double>(i - begin) + 0.5) / size;
        begin = end;
      }
    }
    std::sort(rest.begin(), rest.end());
    for (const auto& r : rest) order_.push_back(r.second);
  }

  // Offers the release to the next devices of the order, up to `target` in all.
  void offer_until(sim::Simulator& sim, std::uint64_t target, double t) {
    target = std::min<std::uint64_t>(target, order_.size());
    std::vector<std::uint32_t> joining;
    std::vector<double> pushed;  // per joining device: its push check-in time, or -1
    while (offered_count_ < target) {
      const std::uint32_t g = order_[offered_count_++];
      if (!local(g)) {
        // Another shard's device: it still takes its turn in the broker's queue.
        if (shard_) (void)push_time_global(g, t);
        continue;
      }
      const std::uint32_t d = g - first_;
      Device& dev = devices_[d];
      dev.flags |= kOffered;
      ++totals_.offered;
      // Until its first check-in for the release, an offered device has no
      // transfer, so pending_bytes holds its offer time (whole seconds).
      dev.pending_bytes = static_cast<std::uint32_t>(t);
      const std::optional<double> push = push_time(d, t);
      if (push) dev.flags2 |= kPushed;
      if (aggregate_ && dev.phase == Phase::Idle && !(dev.flags & kActive)) {
        joining.push_back(d);
        pushed.push_back(push.value_or(-1));
      } else if (push && !aggregate_ && dev.phase == Phase::Idle) {
        sim.cancel_target(d);  // its regular poll: the notification replaces it
        schedule_poll(sim, d, *push);
      }
    }
    if (joining.empty()) return;
    // They leave the idle-poll calendar: each one's next poll is drawn from it
    // (a sharded run draws each from the device's own stream instead, uniform
    // over the next interval, so that no device depends on another shard).
    RandomStream r(seed_, std::uint64_t{1} << 41, controller_draws_);
    std::vector<double> first = never_offered_.take(joining.size(), [&r] { return r.uniform(); });
    controller_draws_ = r.counter();
    if (shard_)
      for (std::size_t i = 0; i < joining.size(); ++i)
        first[i] = t + static_stream(joining[i], 8).uniform() * s_.polling.interval_s;
    for (std::size_t i = 0; i < joining.size(); ++i) {
      devices_[joining[i]].flags |= kActive;
      schedule_poll(sim, joining[i], pushed[i] >= 0 ? pushed[i] : std::max(t, first[i]));
    }
  }

  bool in_window(std::size_t region, double t) const {
    if (region >= s_.rollout.windows.size() || !s_.rollout.windows[region]) return true;
    const MaintenanceWindow& w = *s_.rollout.windows[region];
    double h = std::fmod(t / 3600.0 + w.utc_offset_h, 24.0);
    if (h < 0) h += 24;
    return w.from_h < w.to_h ? (h >= w.from_h && h < w.to_h) : (h >= w.from_h || h < w.to_h);
  }

  enum class Report : std::uint8_t { Success, Failure, Rollback, Neutral };
  // A device's outcome reaches the gates once (a timed-out device already counted).
  void report(std::uint32_t d, Report what) {
    Device& dev = devices_[d];
    if (dev.flags2 & kReported) return;
    dev.flags2 |= kReported;
    ++gate_.reports;
    switch (what) {
      case Report::Success: ++gate_.successes; break;
      case Report::Failure: ++gate_.failures; break;
      case Report::Rollback: ++gate_.rollbacks; break;
      case Report::Neutral: break;
    }
  }

  void log(double t, const char* kind, std::string reason = {}) {
    RolloutEvent e;
    e.t_s = t;
    e.stage = stage_;
    e.kind = kind;
    e.reason = std::move(reason);
    e.offered = offered_count_;
    e.reports = seen_.reports;
    e.failures = seen_.failures;
    e.rollbacks = seen_.rollbacks;
    e.crashes = seen_.crashes;
    e.exposure_days = seen_.exposure_days;
    rollout_.events.push_back(std::move(e));
  }

  const Gate& gate_of_stage() const { return s_.rollout.stages[stage_].gate; }

  void open_stage(sim::Simulator& sim, double t) {
    const Stage& st = s_.rollout.stages[stage_];
    if (!s_.rollout.ramp) {
      const std::uint64_t target =
          st.groups.empty() ? static_cast<std::uint64_t>(std::llround(st.fraction * static_cast<double>(N_)))
                            : group_end_[stage_];
      offer_until(sim, target, t);
    }
    rollout_.stages_opened = stage_ + 1;
    log(t, "stage_open");
    awaiting_ = false;
    if (s_.rollout.ramp) return;  // the ramp offers on ticks and completes when all are offered
    soak_end_s_ = t + st.soak_s;
    if (!shard_) sim.schedule_at(at(soak_end_s_), controller_, kSoakEnd);
  }

  void next_stage(sim::Simulator& sim, double t) {
    if (stage_ + 1 < s_.rollout.stages.size()) {
      ++stage_;
      open_stage(sim, t);
    } else if (state_ == RolloutState::InProgress) {
      state_ = RolloutState::Completed;
      log(t, "completed");
    }
  }

  // The end of a stage's soak: its gate decides, or waits for enough reports.
  void on_soak_end(sim::Simulator& sim, double t) {
    if (state_ != RolloutState::InProgress || t != soak_end_s_) return;
    seen_ = gate_;
    seen_.crashes += sampled_crashes_;
    seen_.exposure_days = exposure_days_;
    decide(sim, t, true);
  }

  // The gates' view at a tick: the reports of the whole fleet. A sharded run
  // sums every shard's counts (with the crash rate and the confirmed devices
  // for the health sample) in one collective; then every shard draws the same
  // sample and takes the same decisions.
  void refresh_gate(double dt) {
    std::vector<double> v = {static_cast<double>(gate_.reports),   static_cast<double>(gate_.successes),
                             static_cast<double>(gate_.failures),  static_cast<double>(gate_.rollbacks),
                             gate_.crashes,                        static_cast<double>(gate_.checkins),
                             static_cast<double>(gate_.deferrals), crash_rate_,
                             static_cast<double>(confirmed_new_)};
    if (shard_) shard_->all_sum(v);
    const auto count = [](double x) { return static_cast<std::uint64_t>(std::llround(x)); };
    seen_.reports = count(v[0]);
    seen_.successes = count(v[1]);
    seen_.failures = count(v[2]);
    seen_.rollbacks = count(v[3]);
    seen_.checkins = count(v[5]);
    seen_.deferrals = count(v[6]);
    // Crashes of confirmed images: a Poisson count over the interval.
    const double expected = v[7] * dt;
    if (expected > 0) {
      RandomStream r(seed_, std::uint64_t{1} << 42, health_draws_);
      StreamBits bits{r};
      boost::random::poisson_distribution<std::uint64_t, double> poisson(expected);
      sampled_crashes_ += static_cast<double>(poisson(bits));
      health_draws_ = r.counter();
    }
    exposure_days_ += v[8] * dt / 86400.0;
    seen_.crashes = v[4] + sampled_crashes_;
    seen_.exposure_days = exposure_days_;
  }

  // Evaluates the current stage's gate. A breach acts at once, at any time;
  // a pass opens the next stage only at (or after) the soak's end.
  void decide(sim::Simulator& sim, double t, bool soak_over) {
    // An operator's override, or an SPRT that accepted the good rate (Wald's
    // error bounds hold for a test that stops at its first decision), ends the
    // stage's judging.
    const bool acknowledged = acknowledged_stage_ == stage_ || sprt_accepted_stage_ == stage_;
    const GateResult g = acknowledged ? GateResult{} : judge(gate_of_stage(), seen_, offered_count_);
    if (!acknowledged && g.judgement == Judgement::Pass && gate_of_stage().mode == GateMode::Sprt &&
        !gate_of_stage().empty()) {
      sprt_accepted_stage_ = stage_;
      log(t, "sprt_accept");
    }
    if (g.judgement == Judgement::Breach) {
      act(sim, t, gate_of_stage().on_breach, g.reason);
      return;
    }
    if (!soak_over || state_ != RolloutState::InProgress) return;
    if (g.judgement == Judgement::Undecided) {
      if (!awaiting_) log(t, "awaiting_reports");
      awaiting_ = true;
      return;
    }
    awaiting_ = false;
    if (!gate_of_stage().empty() && !acknowledged) log(t, "gate_pass");
    next_stage(sim, t);
  }

  void act(sim::Simulator& sim, double t, GateAction action, const std::string& reason) {
    switch (action) {
      case GateAction::Continue:
        // Logged once; the stage is then judged as passed.
        log(t, "breach_ignored", reason);
        acknowledged_stage_ = stage_;
        if (state_ == RolloutState::InProgress && (awaiting_ || t >= soak_end_s_) && !s_.rollout.ramp) {
          awaiting_ = false;
          next_stage(sim, t);
        }
        return;
      case GateAction::Pause:
        if (state_ == RolloutState::Paused) return;
        paused_from_ = state_;
        state_ = RolloutState::Paused;
        stop(t, "pause", reason);
        if (s_.rollout.on_pause) sim.schedule_at(at(t + s_.rollout.on_pause->after_s), pause_, kPauseDecision);
        return;
      case GateAction::Abort:
        state_ = RolloutState::Aborted;
        stop(t, "abort", reason);
        withdraw();
        return;
      case GateAction::Rollback:
        state_ = RolloutState::RolledBack;
        stop(t, "rollback", reason);
        withdraw();
        start_revert(sim, t);
        return;
    }
  }

  void stop(double t, const char* kind, const std::string& reason) {
    if (!rollout_.stopped_at_s) rollout_.stopped_at_s = t;
    log(t, kind, reason);
  }

  // The scripted operator decision some time after a pause.
  void on_pause_decision(sim::Simulator& sim, double t) {
    if (state_ != RolloutState::Paused || !s_.rollout.on_pause) return;
    const GateAction a = s_.rollout.on_pause->action;
    if (a != GateAction::Continue) {
      act(sim, t, a, "operator decision after the pause");
      return;
    }
    state_ = paused_from_;
    acknowledged_stage_ = stage_;
    log(t, "resume", "operator decision after the pause");
    if (state_ == RolloutState::InProgress && !s_.rollout.ramp && t >= soak_end_s_) next_stage(sim, t);
  }

  // Stop offering: devices offered but not yet admitted for the update lose
  // the offer; those already under way finish.
  void withdraw() {
    for (std::uint64_t i = 0; i < offered_count_; ++i) {
      if (!local(order_[i])) continue;
      const std::uint32_t d = order_[i] - first_;
      Device& dev = devices_[d];
      if (!(dev.flags & kOffered) || (dev.flags2 & kStarted) || dev.phase != Phase::Idle) continue;
      dev.flags &= static_cast<std::uint8_t>(~kOffered);
      ++totals_.withdrawn;
    }
  }

  // Roll back: every device confirmed on the new release is offered the
  // previous one; those still under way are offered it when they confirm.
  void start_revert(sim::Simulator& sim, double t) {
    revert_active_ = true;
    std::vector<std::uint32_t> updated;
    for (std::uint32_t d = 0; d < n_; ++d)
      if (needs_revert(d) && (!aggregate_ || !(devices_[d].flags & kActive))) updated.push_back(d);
    if (!aggregate_) return;  // their polls are events already
    RandomStream r(seed_, std::uint64_t{1} << 41, controller_draws_);
    std::vector<double> next = finished_.take(updated.size(), [&r] { return r.uniform(); });
    controller_draws_ = r.counter();
    if (shard_)
      for (std::size_t i = 0; i < updated.size(); ++i)
        next[i] = t + static_stream(updated[i], 9).uniform() * s_.polling.interval_s;
    for (std::size_t i = 0; i < updated.size(); ++i) {
      devices_[updated[i]].flags |= kActive;
      schedule_poll(sim, updated[i], std::max(t, next[i]));
    }
  }

  // Every evaluate_every_min: health and timeouts brought up to date, the
  // ramp's offers, then the gate.
  void on_tick(sim::Simulator& sim, double t) {
    if (state_ == RolloutState::Aborted || state_ == RolloutState::RolledBack) return;
    const double dt = t - last_tick_s_;
    last_tick_s_ = t;
    while (!timeouts_.empty() && timeouts_.front().first <= t) {
      const std::uint32_t d = timeouts_.front().second;
      timeouts_.pop_front();
      if (devices_[d].flags2 & kReported) continue;
      ++totals_.timed_out;
      report(d, Report::Failure);
    }
    refresh_gate(dt);
    if (s_.rollout.ramp && state_ == RolloutState::InProgress && rollout_.stages_opened > 0) ramp_step(sim, t, dt);
    // A sharded run judges soak ends at ticks only (its shards meet there).
    decide(sim, t, t >= soak_end_s_ && (awaiting_ || shard_));
    if (t + tick_s_ < s_.horizon_s) sim.schedule_at(at(t + tick_s_), tick_, kTick);
  }

  void ramp_step(sim::Simulator& sim, double t, double dt) {
    const RateRamp& ramp = *s_.rollout.ramp;
    if (ramp_rate_ == 0) ramp_rate_ = ramp.base_per_minute;
    while (seen_.successes >= ramp_successes_ + ramp.increase_every_successes &&
           (ramp.max_per_minute == 0 || ramp_rate_ < ramp.max_per_minute)) {
      ramp_successes_ += ramp.increase_every_successes;
      ramp_rate_ *= ramp.increment_factor;
      if (ramp.max_per_minute > 0) ramp_rate_ = std::min(ramp_rate_, ramp.max_per_minute);
      log(t, "ramp", "rate " + num(ramp_rate_) + " devices per minute");
    }
    ramp_allowance_ += ramp_rate_ * dt / 60.0;
    const auto k = static_cast<std::uint64_t>(ramp_allowance_);
    ramp_allowance_ -= static_cast<double>(k);
    offer_until(sim, offered_count_ + k, t);
    if (offered_count_ >= N_) {
      state_ = RolloutState::Completed;
      log(t, "completed");
    }
  }

  // ------------------------------------------------------------ lifecycle

  void on_poll(sim::Simulator& sim, std::uint32_t d, double t) {
    Device& dev = devices_[d];
    const ClassInfo& ci = classes_[dev.cls];
    ++event_requests_;
    series_.requests_per_s[bin_of(t)] += 1.0 / s_.bin_s;
    note_request(t);
    const bool revert_offer = needs_revert(d);
    const bool wants_update = ((dev.flags & kOffered) && !is_terminal(dev.phase)) || revert_offer;
    // Outside its region's maintenance window the server offers nothing.
    const bool window_closed = wants_update && !(dev.flags & kRecovery) && !in_window(ci.region, t);
    if (!wants_update || window_closed) {
      // Nothing to do: an idle poll (events mode, a device that finished, or
      // one whose offer was withdrawn). It uses server capacity like the
      // aggregate ones; refused, it simply polls again next interval. Its
      // energy is part of the battery's background draw, as in aggregate mode.
      (void)server_.admit_request(t, 0);
      if (window_closed) {
        schedule_poll(sim, d, t + next_interval(d));
      } else if (aggregate_ && (dev.flags & kActive)) {
        retire(sim, d, t);  // back into the idle-poll calendar
      } else if (!aggregate_ && polls_when_done(dev.phase)) {
        schedule_poll(sim, d, t + next_interval(d));
      }
      return;
    }
    if (!revert_offer && !reverting(d) && !(dev.flags2 & kLearned)) {
      // The first check-in for the release: how the device learned of it.
      dev.flags2 |= kLearned;
      const double delay = std::max(0.0, t - static_cast<double>(dev.pending_bytes));
      if (dev.flags2 & kPushed) {
        ++totals_.learned_by_push;
        push_delay_s_ += delay;
      } else {
        ++totals_.learned_by_poll;
        poll_delay_s_ += delay;
      }
    }
    if (revert_offer) {
      // The previous release's manifest, checked by the agent's verifier
      // against this device (its anti-rollback minimum is the new release's).
      if (art_.revert_verdict(classes_[dev.cls].hardware, Variant::Intact) != agent::Verdict::Accepted) {
        ++totals_.revert_refused;
        dev.flags2 |= kRevertDone;
        retire(sim, d, t);
        return;
      }
      dev.flags2 |= kRevert;
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
    if (!reverting(d)) {
      ++gate_.checkins;
      if (!(dev.flags2 & kStarted)) {
        dev.flags2 |= kStarted;  // the device's in-progress timeout starts
        if (s_.rollout.device_timeout_s > 0) timeouts_.emplace_back(t + s_.rollout.device_timeout_s, d);
      }
    }
    if (verdict(d, Variant::Intact) != agent::Verdict::Accepted) {
      refuse(sim, d, t);
      return;
    }
    if (ci.battery && !enough_energy(d)) {
      ++totals_.deferred_battery;
      series_.battery_deferrals[bin_of(t)]++;
      if (!reverting(d)) ++gate_.deferrals;
      if (ci.background_watts < 0) {  // the battery gains charge: try again later
        set_phase(d, Phase::Idle);
        schedule_poll(sim, d, t + next_interval(d));
      } else if (reverting(d)) {
        end_revert(d);
        set_phase(d, Phase::Updated);
        retire(sim, d, t);
      } else {
        set_phase(d, Phase::BatteryBlocked);
        report(d, Report::Neutral);
        retire(sim, d, t);
      }
      return;
    }
    request_download(sim, d, t);
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
        const auto next = agent::begin_install(rec, ci.boot_config, install_version(d), install_counter(d));
        if (!next) {
          release_slot(sim, d, t);
          refuse(sim, d, t);
          return;
        }
        rec = *next;
        dev.progress = 0;
      }
    }
    set_phase(d, Phase::Downloading);
    const std::uint64_t total = payload_of(d);
    const std::uint64_t remaining = total - std::min<std::uint64_t>(dev.progress, total);
    const bool peer = !peer_of_.empty() && peer_of_.count(d) != 0;  // from a neighbour over the mesh/LAN
    const double latency = peer ? 0.0 : ci.link->latency_s;
    const double rx_watts = peer ? s_.delivery.p2p->rx_watts : ci.link->rx_watts;
    double duration = latency + static_cast<double>(remaining) * 8.0 / rate;
    double flash_s = 0;
    double watts = rx_watts;
    if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery)) {
      // Writing overlaps the download; the slower of the two sets the pace.
      flash_s = ci.flash_s * static_cast<double>(remaining) / static_cast<double>(total);
      duration = std::max(duration, flash_s);
      watts += ci.write_watts;  // for brown-out: the worst case, both at once
    }
    RandomStream r = stream(d);
    Interruption stop{duration, kTransferEnd};
    if (ci.link->drop_per_mb > 0 && !peer) {
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
    dev.pending_j = static_cast<float>(rx_watts * stop.after_s +
                                       ci.write_watts * std::min(stop.after_s, flash_s));
    sim.schedule_at(at(t + stop.after_s), d, stop.kind);
    observe_server(t);
  }

  // Gives back `d`'s download slot and starts whoever the server lets in.
  void release_slot(sim::Simulator& sim, std::uint32_t d, double t) {
    if (const auto it = peer_of_.find(d); it != peer_of_.end()) {
      const std::uint32_t peer = it->second;
      peer_of_.erase(it);
      release_peer(sim, d, peer, t);
      return;
    }
    for (const UpdateServer::Started& next : server_of(d).finish_download(d))
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
    const auto peer_it = peer_of_.find(d);
    const bool hostile = peer_it != peer_of_.end() && (peer_it->second & kMaliciousBit);
    const std::uint32_t hostile_peer = hostile ? peer_it->second & ~kMaliciousBit : 0;
    const std::uint64_t received = dev.pending_bytes;
    const double received_j = dev.pending_j;
    end_transfer(sim, d, t);
    dev.progress = static_cast<std::uint32_t>(payload_of(d));
    // What arrived, and what the agent's verifier said of those bytes.
    RandomStream r = stream(d);
    Variant v = Variant::Intact;
    const double u = r.uniform();
    if (u < s_.release.tamper_per_transfer) v = Variant::Tampered;
    else if (u < s_.release.tamper_per_transfer + s_.release.corruption_per_transfer) v = Variant::Corrupted;
    keep(d, r);
    // A hostile peer relays the genuine signed manifest (it cannot sign one)
    // with a modified image: the agent's digest check is what stops it.
    if (hostile) v = Variant::Corrupted;
    const agent::Verdict got = verdict(d, v);
    if (hostile) {
      if (got == agent::Verdict::Accepted) ++totals_.tampered_installs;  // would be a security failure
      else if (got == agent::Verdict::DigestMismatch) ++totals_.digest_rejections;
      else ++totals_.signature_rejections;
      ++totals_.p2p_rejected_transfers;
      totals_.p2p_wasted_bytes += received;
      totals_.p2p_wasted_energy_j += received_j;
      // The neighbourhood stops using the peer; the device asks again at once.
      Neighbourhood& nb = neighbourhood(d);
      nb.malicious.erase(std::remove(nb.malicious.begin(), nb.malicious.end(), hostile_peer), nb.malicious.end());
      if (ci.partitioning == Partitioning::AB && !(dev.flags & kRecovery))
        boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::WriteFailed), d, "WriteFailed");
      dev.progress = 0;
      set_phase(d, Phase::Idle);
      schedule_poll(sim, d, t);
      return;
    }
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
    become_seeder(sim, d, t);
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
      const auto next = agent::begin_install(rec, ci.boot_config, install_version(d), install_counter(d));
      if (!next) {
        refuse(sim, d, t);
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
        const bool revert = reverting(d);
        set_version(d, installed_version(d));
        if (!revert && !(dev.flags2 & kExposed)) {
          dev.flags2 |= kExposed;
          ++totals_.exposed;
        }
        RandomStream r = stream(d);
        // The previous release is known good: its trial boots and runs.
        const bool fails = r.bernoulli(ci.boot_failure) || (!revert && failing_device(d));
        if (fails && !revert) {
          keep(d, r);
          ++totals_.trial_boot_failures;
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
        series_.rollbacks[bin_of(t)]++;
        report(d, Report::Rollback);
        retire(sim, d, t);
        return;
      }
      case agent::BootActionKind::BootNormal: {
        // The running image runs again after a cut mid-download: resume at once.
        set_version(d, normal_version(d));
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
    report(d, Report::Success);
    ++confirmed_new_;
    if (shard_) update_times_.push_back(t);
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
    gate_.crashes += 1;
    series_.crashes[bin_of(t)] += 1;
    totals_.crashes += 1;
    start_boot(sim, d, t);  // a crash resets the device; the trial counter decides
  }

  const Scenario& s_;
  const ReleaseArtifacts& art_;
  std::uint64_t seed_;
  UpdateServer server_;
  const Shard* shard_;
  std::uint32_t N_;      // devices in the fleet
  std::uint32_t first_;  // this model's first device (0 unless sharded)
  std::uint32_t n_;      // devices this model simulates
  sim::TargetId controller_;
  sim::TargetId tick_;
  sim::TargetId pause_;
  sim::TargetId edge_base_;
  bool aggregate_;
  agent::PackedVersion to_version_ = 0;
  agent::PackedVersion from_version_ = 0;
  std::vector<ClassInfo> classes_;
  std::vector<Device> devices_;
  std::vector<agent::BootRecord> boot_;
  std::array<std::uint64_t, kPhaseCount> phase_count_{};
  std::array<std::uint64_t, 3> version_count_{};
  std::size_t stage_ = 0;
  // Rollout controller
  std::vector<std::uint32_t> order_;        // offer order (build_order)
  std::vector<std::uint64_t> group_end_;    // per stage: end of its named groups in order_
  std::uint64_t offered_count_ = 0;
  RolloutState state_ = RolloutState::InProgress;
  RolloutState paused_from_ = RolloutState::InProgress;
  RolloutSummary rollout_;
  GateInputs gate_;                         // this model's reports (a shard's own devices)
  GateInputs seen_;                         // what the gates judge: the whole fleet's
  double sampled_crashes_ = 0;              // in-service crashes drawn at ticks
  double exposure_days_ = 0;
  std::vector<double> update_times_;        // sharded runs: this shard's confirmations, for the time marks
  double soak_end_s_ = 0;
  bool awaiting_ = false;                   // soak over, the gate waits for reports
  std::size_t acknowledged_stage_ = static_cast<std::size_t>(-1);  // breach overridden
  std::size_t sprt_accepted_stage_ = static_cast<std::size_t>(-1);  // SPRT accepted the good rate
  bool revert_active_ = false;
  double tick_s_ = 600, last_tick_s_ = 0;
  std::uint64_t health_draws_ = 0;
  std::uint64_t confirmed_new_ = 0;         // devices confirmed on the new image
  std::deque<std::pair<double, std::uint32_t>> timeouts_;  // (deadline, device), in time order
  double ramp_rate_ = 0, ramp_allowance_ = 0;
  // Delivery
  std::vector<Neighbourhood> neighbourhoods_;
  std::vector<Edge> edges_;                          // per region (CDN)
  std::unordered_map<std::uint32_t, std::uint32_t> peer_of_;  // downloader -> peer (| kMaliciousBit)
  double push_share_ = 0;                            // chance a push device is reached
  double broker_t_ = 0;                              // when the broker's queue is free
  double push_delay_s_ = 0, poll_delay_s_ = 0;       // sums, offer to first check-in
  double request_second_ = -1;                       // peak request rate: the current second
  double requests_this_second_ = 0;
  double peak_idle_rate_ = 0;
  std::function<void(const RunReport&)> on_partial_;
  double partial_every_s_ = 0;
  double next_partial_s_ = std::numeric_limits<double>::infinity();
  std::uint64_t ramp_successes_ = 0;
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
  // The hot record, the agent's boot record, the kernel's per-target epoch,
  // and the device's place in the rollout's offer order.
  return sizeof(Device) + sizeof(agent::BootRecord) + sizeof(std::uint16_t) + sizeof(std::uint32_t);
}

std::string shard_obstacle(const Scenario& s) {
  const Server& v = s.server;
  if (v.max_requests_per_s > 0 || v.max_concurrent_downloads > 0 || v.bandwidth_bps > 0)
    return "/server: a sharded run needs an origin without limits (max_requests_per_s, max_concurrent_downloads and "
           "bandwidth_mbps 0): the shards do not share a server queue";
  for (std::size_t c = 0; c < s.classes.size(); ++c)
    if (s.classes[c].source != Source::Origin)
      return "/fleet/classes/" + std::to_string(c) +
             "/source: a sharded run supports origin delivery only (CDN edges and P2P neighbourhoods are shared)";
  return {};
}

RunReport merge_shard_reports(const std::vector<RunReport>& parts) {
  if (parts.empty()) return {};
  RunReport r = parts.front();
  Totals& t = r.totals;
  double push_delay = t.push_delay_mean_s.value_or(0) * static_cast<double>(t.learned_by_push);
  double poll_delay = t.poll_delay_mean_s.value_or(0) * static_cast<double>(t.learned_by_poll);
  const auto add = [](auto& into, const auto& from) {
    for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) into[i] += from[i];
  };
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const Totals& o = parts[k].totals;
    for (auto f : {&Totals::devices, &Totals::offered, &Totals::exposed, &Totals::withdrawn, &Totals::updated,
                   &Totals::failed, &Totals::gave_up, &Totals::timed_out, &Totals::rolled_back, &Totals::bricked,
                   &Totals::in_progress, &Totals::deferred_battery, &Totals::battery_blocked, &Totals::recovery_boots,
                   &Totals::power_losses, &Totals::transfer_drops, &Totals::digest_rejections,
                   &Totals::signature_rejections, &Totals::trial_boot_failures, &Totals::server_requests,
                   &Totals::refused_requests, &Totals::data_bytes, &Totals::metered_bytes, &Totals::origin_bytes,
                   &Totals::edge_bytes, &Totals::peer_bytes, &Totals::cdn_fills, &Totals::learned_by_push,
                   &Totals::learned_by_poll, &Totals::p2p_seeds, &Totals::p2p_fallbacks, &Totals::p2p_malicious_peers,
                   &Totals::p2p_rejected_transfers, &Totals::p2p_wasted_bytes, &Totals::tampered_installs,
                   &Totals::reverted, &Totals::revert_refused, &Totals::service_calls})
      t.*f += o.*f;
    for (auto f : {&Totals::crashes, &Totals::peak_requests_per_s, &Totals::data_cost_usd,
                   &Totals::server_egress_cost_usd, &Totals::cdn_cost_usd, &Totals::p2p_wasted_energy_j,
                   &Totals::energy_j, &Totals::energy_mah, &Totals::service_cost_usd})
      t.*f += o.*f;
    for (const LinkTotals& l : o.by_link) {
      auto it = std::find_if(t.by_link.begin(), t.by_link.end(), [&](const LinkTotals& x) { return x.link == l.link; });
      if (it == t.by_link.end()) {
        t.by_link.push_back(l);
      } else {
        it->bytes += l.bytes;
        it->cost_usd += l.cost_usd;
      }
    }
    push_delay += o.push_delay_mean_s.value_or(0) * static_cast<double>(o.learned_by_push);
    poll_delay += o.poll_delay_mean_s.value_or(0) * static_cast<double>(o.learned_by_poll);
    Series& S = r.series;
    const Series& O = parts[k].series;
    for (auto f : {&Series::offered, &Series::on_old, &Series::on_new, &Series::on_none, &Series::idle,
                   &Series::waiting, &Series::downloading, &Series::installing, &Series::rebooting, &Series::updated,
                   &Series::rolled_back, &Series::bricked, &Series::refused, &Series::battery_blocked,
                   &Series::failures, &Series::rollbacks, &Series::bricks, &Series::battery_deferrals,
                   &Series::updates})
      add(S.*f, O.*f);
    for (auto f : {&Series::downloads_in_flight_peak, &Series::queue_length_peak, &Series::requests_per_s,
                   &Series::bytes_per_s, &Series::crashes})
      add(S.*f, O.*f);
    r.run.events += parts[k].run.events;
    r.run.wall_s = std::max(r.run.wall_s, parts[k].run.wall_s);
    r.run.peak_rss_bytes += parts[k].run.peak_rss_bytes;
  }
  t.push_delay_mean_s.reset();
  t.poll_delay_mean_s.reset();
  if (t.learned_by_push > 0) t.push_delay_mean_s = push_delay / static_cast<double>(t.learned_by_push);
  if (t.learned_by_poll > 0) t.poll_delay_mean_s = poll_delay / static_cast<double>(t.learned_by_poll);
  return r;
}

RunReport run_scenario(const Scenario& scenario, const ReleaseArtifacts& artifacts, const RunOptions& options) {
  if (options.shard) {
    if (const std::string why = shard_obstacle(scenario); !why.empty()) throw std::invalid_argument(why);
    if (options.shard->first > options.shard->end || options.shard->end > scenario.devices)
      throw std::invalid_argument("shard: device range outside the fleet");
  }
  const std::uint64_t seed = options.seed.value_or(scenario.seed);
  const auto begin = std::chrono::steady_clock::now();
  sim::Simulator sim(FleetModel::targets(scenario, options.shard));
  FleetModel model(scenario, artifacts, seed, options.shard);
  if (options.on_partial)
    model.set_partial(options.on_partial, scenario.horizon_s * std::clamp(options.partial_every, 1e-4, 1.0));
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
