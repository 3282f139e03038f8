// The fleet model: routes each event of the kernel to the unit that owns it,
// and holds the points where a sharded run's ranks meet.
//
//   fleet/lifecycle     what each device does next (the only caller of agent code)
//   delivery/           origin, CDN edges, P2P neighbourhoods, push broker
//   rollout/controller  offer order, stages, gates, ramp, pause/abort/rollback
//   report/recorder     totals, series, time marks, reports
//
// Idle polls (a poll that finds nothing to do changes only server load) are
// accounted in aggregate by an IdlePollCalendar (expected polls per small
// time bucket, delivery/idle_polls.hpp) unless the scenario asks for one event
// per poll (`idle_polls: events`) or starts every device's polling at the
// same instant (a herd is not an expectation). tests/models check that both
// modes agree.
#include "ota/models/fleet/fleet_model.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ota/models/delivery/delivery_network.hpp"
#include "ota/models/fleet/lifecycle.hpp"
#include "ota/models/report/recorder.hpp"
#include "ota/models/rollout/controller.hpp"
#include "ota/sim/simulator.hpp"

namespace ota::models {

namespace {

using sim::Duration;
using sim::Event;
using sim::SimTime;

class FleetModel final : public sim::EventHandler {
 public:
  // `shard`: this model simulates only devices [first, end) of the fleet
  // (otasim-mpi's sharded run); nullptr for the whole fleet.
  FleetModel(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, const Shard* shard)
      : s_(s), n_(shard ? static_cast<std::uint32_t>(shard->end - shard->first)
                                       : static_cast<std::uint32_t>(s.devices)),
        controller_target_(n_), tick_target_(n_ + 1), pause_target_(n_ + 2), fill_targets_(n_ + 3),
        link_targets_(fill_targets_ + static_cast<std::uint32_t>(s.regions.size() * kArtifactKinds)),
        recorder_(s, a, seed, n_, s.polling.idle_polls == IdlePollMode::Aggregate && !s.polling.synchronized_start,
                  shard),
        network_(s, a, seed, shard != nullptr,
                 [this](std::uint32_t d, std::uint64_t n) { return draw_peer(d, n); }),
        controller_(s, seed, shard),
        lifecycle_(s, a, seed, shard, network_, controller_, recorder_, fill_targets_, link_targets_) {
    recorder_.totals().p2p_malicious_peers = network_.malicious_peers();
  }

  // Targets the kernel needs: one per device, the controller's three, one
  // per (CDN edge, artifact) for cache fills, and one per shared link.
  static std::uint32_t targets(const Scenario& s, const Shard* shard) {
    const std::uint64_t devices = shard ? shard->end - shard->first : s.devices;
    return static_cast<std::uint32_t>(devices) + 3 +
           static_cast<std::uint32_t>(s.regions.size() * kArtifactKinds) + DeliveryNetwork::link_bound(s);
  }

  void start(sim::Simulator& sim) {
    // First, so that a device polling at the very instant the rollout starts
    // (a synchronized fleet) already finds the release offered.
    sim.schedule_at(at(s_.rollout.start_s), controller_target_, kStageOpen);
    lifecycle_.start(sim);
    sim.schedule_at(at(controller_.first_tick_s()), tick_target_, kTick);
  }

  void on_event(sim::Simulator& sim, const Event& e) override {
    dispatch(sim, e);
    lifecycle_.schedule_wakes(sim);
  }

  void dispatch(sim::Simulator& sim, const Event& e) {
    const double t = e.time().seconds_f();
    advance(t);
    if (t >= next_partial_s_) {
      on_partial_(recorder_.report(controller_.summary()));
      while (next_partial_s_ <= t) next_partial_s_ += partial_every_s_;
    }
    const std::uint32_t d = e.target;
    switch (static_cast<EventKind>(e.kind)) {
      case kPoll: lifecycle_.on_poll(sim, d, t); return;
      case kTransferEnd: lifecycle_.on_transfer_end(sim, d, t); return;
      case kTransferDrop: lifecycle_.on_transfer_drop(sim, d, t); return;
      case kPowerLoss: lifecycle_.on_power_loss(sim, d, t); return;
      case kWriteEnd: lifecycle_.on_write_end(sim, d, t); return;
      case kBootEnd: lifecycle_.on_boot_end(sim, d, t); return;
      case kHealthReport: lifecycle_.on_health_report(sim, d, t); return;
      case kTrialCrash: lifecycle_.on_trial_crash(sim, d, t); return;
      case kP2pFallback: lifecycle_.on_p2p_fallback(sim, d, t); return;
      case kEdgeFill: lifecycle_.on_edge_fill(sim, e.target - fill_targets_, t); return;
      case kShareWake: lifecycle_.on_share_wake(sim, e.target - link_targets_, t, e.time().micros()); return;
      case kStageOpen: carry_out(sim, controller_.open_first_stage(t), t); return;
      case kSoakEnd: carry_out(sim, controller_.soak_end(t), t); return;
      case kPauseDecision: carry_out(sim, controller_.pause_decision(t), t); return;
      case kTick:
        // Aborted or rolled back: no more ticks.
        if (!controller_.live()) return;
        // A sharded run's ranks meet here: the gates' inputs are summed over
        // every shard (RolloutController::tick), so all take the same decisions.
        lifecycle_.expire_timeouts(t);
        carry_out(sim, controller_.tick(t, lifecycle_.health()), t);
        return;
    }
  }

  RunReport finish(const sim::RunResult& result, double horizon_s, double wall_s) {
    advance(horizon_s);
    recorder_.close_bins();
    return recorder_.finish(controller_.summary(), result.events, sim::to_string(result.status).data(), wall_s);
  }

  // Partial reports while the run goes (RunOptions::on_partial).
  void set_partial(std::function<void(const RunReport&)> f, double every_s) {
    on_partial_ = std::move(f);
    partial_every_s_ = every_s;
    next_partial_s_ = on_partial_ ? every_s : std::numeric_limits<double>::infinity();
  }

 private:
  static SimTime at(double t_s) { return SimTime::start() + Duration::from_seconds(t_s); }

  // Idle polls and in-service crashes up to t, and the levels at each bin end.
  void advance(double t) {
    lifecycle_.advance_idle_polls(t);
    recorder_.advance(t, lifecycle_.crash_rate());
  }

  // The rollout controller's commands, in order.
  void carry_out(sim::Simulator& sim, const RolloutController::Commands& commands, double t) {
    using Kind = RolloutController::Command::Kind;
    for (const RolloutController::Command& c : commands) {
      switch (c.kind) {
        case Kind::Offer: lifecycle_.offer(sim, c.from, c.to, t); break;
        case Kind::ScheduleSoakEnd: sim.schedule_at(at(c.at_s), controller_target_, kSoakEnd); break;
        case Kind::SchedulePauseDecision: sim.schedule_at(at(c.at_s), pause_target_, kPauseDecision); break;
        case Kind::Withdraw: lifecycle_.withdraw(); break;
        case Kind::StartRevert: lifecycle_.start_revert(sim, t); break;
        case Kind::ScheduleTick: sim.schedule_at(at(c.at_s), tick_target_, kTick); break;
      }
    }
  }

  // A P2P device's choice among `n` candidate peers, from its own stream.
  std::uint64_t draw_peer(std::uint32_t d, std::uint64_t n) { return lifecycle_.draw_index(d, n); }

  const Scenario& s_;
  std::uint32_t n_;  // devices this model simulates
  sim::TargetId controller_target_, tick_target_, pause_target_, fill_targets_, link_targets_;
  RunRecorder recorder_;
  DeliveryNetwork network_;
  RolloutController controller_;
  DeviceLifecycle lifecycle_;
  std::function<void(const RunReport&)> on_partial_;
  double partial_every_s_ = 0;
  double next_partial_s_ = std::numeric_limits<double>::infinity();
};

}  // namespace

std::size_t bytes_per_device() {
  using OrderEntry = std::remove_cvref_t<decltype(std::declval<const RolloutController&>().order())>::value_type;
  return sizeof(Device) + sizeof(agent::BootRecord) + sizeof(sim::Simulator::Epoch) + sizeof(OrderEntry);
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
