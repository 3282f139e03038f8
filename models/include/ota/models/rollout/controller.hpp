// controller.hpp — the rollout controller: which devices are offered the
// release when, and what the gates decide.
//
// Owns: the offer order (fixed at set-up), the stages or the rate ramp, the
// gates' inputs (device reports, sampled in-service crashes, exposure), the
// device timeouts, the maintenance windows, and the rollout's state machine
// (kRolloutTransitions) with its log of decisions and their evidence.
// Decides: when each stage opens and how far the offer reaches; each gate's
// verdict and action (continue, pause, abort, roll back); the scripted
// operator decision after a pause; which devices timed out.
// Never: touches a device record or schedules events. It answers each of its
// events with Commands that the fleet model carries out in order (offer these
// devices, withdraw the offer, revert, schedule the next tick ...), and it
// learns of devices only through what the lifecycle tells it: reports,
// check-ins, battery deferrals, trial crashes, started updates (for their
// timeouts) and, at ticks, the fleet's health. Its tests drive it with
// synthetic reports, without a simulation.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/models/report/report.hpp"
#include "ota/models/rollout/gates.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/models/shard.hpp"

namespace ota::models {

// The rollout's states. A pause remembers whether the rollout had completed
// (its breach came after the last stage opened): resuming returns there.
enum class RolloutState : std::uint8_t { InProgress, Completed, Paused, PausedCompleted, Aborted, RolledBack };
enum class RolloutTrigger : std::uint8_t {
  Complete,  // the last stage passed its gate, or the ramp offered every device
  Pause,     // a gate's breach with on_breach pause
  Resume,    // the operator's decision after a pause
  Abort,     // a breach (or the operator) stops offering
  Rollback,  // a breach (or the operator) stops offering and reverts updated devices
};

struct RolloutTransition {
  RolloutState from;
  RolloutTrigger on;
  RolloutState to;
};

// clang-format off
inline constexpr std::array kRolloutTransitions = {
  //                from                           trigger                    to
  RolloutTransition{RolloutState::InProgress,      RolloutTrigger::Complete,  RolloutState::Completed},
  RolloutTransition{RolloutState::InProgress,      RolloutTrigger::Pause,     RolloutState::Paused},
  RolloutTransition{RolloutState::Completed,       RolloutTrigger::Pause,     RolloutState::PausedCompleted},
  RolloutTransition{RolloutState::Paused,          RolloutTrigger::Resume,    RolloutState::InProgress},
  RolloutTransition{RolloutState::PausedCompleted, RolloutTrigger::Resume,    RolloutState::Completed},
  RolloutTransition{RolloutState::InProgress,      RolloutTrigger::Abort,     RolloutState::Aborted},
  RolloutTransition{RolloutState::Completed,       RolloutTrigger::Abort,     RolloutState::Aborted},
  RolloutTransition{RolloutState::Paused,          RolloutTrigger::Abort,     RolloutState::Aborted},
  RolloutTransition{RolloutState::PausedCompleted, RolloutTrigger::Abort,     RolloutState::Aborted},
  RolloutTransition{RolloutState::InProgress,      RolloutTrigger::Rollback,  RolloutState::RolledBack},
  RolloutTransition{RolloutState::Completed,       RolloutTrigger::Rollback,  RolloutState::RolledBack},
  RolloutTransition{RolloutState::Paused,          RolloutTrigger::Rollback,  RolloutState::RolledBack},
  RolloutTransition{RolloutState::PausedCompleted, RolloutTrigger::Rollback,  RolloutState::RolledBack},
};
// clang-format on
inline constexpr std::size_t kRolloutStateCount = 6;

// The state after `trigger` in `from`, or nullopt when the trigger does not
// apply there (a pause while paused; anything after an abort or a rollback).
constexpr std::optional<RolloutState> rollout_transition(RolloutState from, RolloutTrigger trigger) {
  for (const RolloutTransition& t : kRolloutTransitions)
    if (t.from == from && t.on == trigger) return t.to;
  return std::nullopt;
}
std::string_view to_string(RolloutState s);
std::string_view to_string(RolloutTrigger t);
// The state as the report names it (both pauses are "paused").
std::string_view report_name(RolloutState s);
// Gates are judged and ticks run in these states; not after an abort or a rollback.
constexpr bool is_live(RolloutState s) { return s != RolloutState::Aborted && s != RolloutState::RolledBack; }

class RolloutController {
 public:
  // `shard` for a sharded run (its all_sum makes the gates see the whole
  // fleet's reports; soaks are then judged at ticks), else nullptr.
  RolloutController(const Scenario& s, std::uint64_t seed, const Shard* shard);
  // It keeps a reference to the scenario: never a temporary.
  RolloutController(Scenario&&, std::uint64_t, const Shard*) = delete;

  // What the fleet model carries out, in order.
  struct Command {
    enum class Kind : std::uint8_t {
      Offer,                  // offer the release to order()[from, to)
      ScheduleSoakEnd,        // at at_s: soak_end
      SchedulePauseDecision,  // at at_s: pause_decision
      Withdraw,               // offered devices not yet admitted lose the offer
      StartRevert,            // devices confirmed on the new release are offered the previous one
      ScheduleTick,           // at at_s: tick
    };
    Kind kind;
    double at_s = 0;
    std::uint64_t from = 0, to = 0;
  };
  using Commands = std::vector<Command>;

  // The fleet's health at a tick: the sum of confirmed devices' crash rates
  // (per second) and how many are confirmed on the new image.
  struct Health {
    double crash_rate_per_s = 0;
    std::uint64_t confirmed = 0;
  };

  // Events. start: the rollout begins (schedule open_first_stage at
  // rollout.start_s and the first tick at first_tick_s()).
  double first_tick_s() const { return s_.rollout.start_s + tick_s_; }
  Commands open_first_stage(double t);
  Commands soak_end(double t);
  // Every evaluate_every_min (60 s at most with a ramp): health, the ramp's
  // offers, the gate, the next tick. Call expired() first for the timeouts.
  Commands tick(double t, const Health& health);
  Commands pause_decision(double t);

  // Device reports (each device's outcome once; the fleet keeps who reported).
  enum class Outcome : std::uint8_t { Success, Failure, Rollback, Neutral };
  void report(Outcome what);
  void checkin() { ++gate_.checkins; }
  void deferral() { ++gate_.deferrals; }
  void trial_crash() { gate_.crashes += 1; }
  // `device` was admitted for the update at t: its timeout runs.
  void started(std::uint32_t device, double t) {
    if (s_.rollout.device_timeout_s > 0) timeouts_.emplace_back(t + s_.rollout.device_timeout_s, device);
  }
  // The next device whose timeout passed by t, oldest first (reported or not).
  std::optional<std::uint32_t> expired(double t) {
    if (timeouts_.empty() || timeouts_.front().first > t) return std::nullopt;
    const std::uint32_t d = timeouts_.front().second;
    timeouts_.pop_front();
    return d;
  }
  // Whether the region's maintenance window is open at t (no window: always).
  bool in_window(std::size_t region, double t) const {
    if (region >= s_.rollout.windows.size() || !s_.rollout.windows[region]) return true;
    return in_window(*s_.rollout.windows[region], t);
  }
  static bool in_window(const MaintenanceWindow& w, double t);

  RolloutState state() const { return state_; }
  bool live() const { return is_live(state_); }
  // The offer order (devices of the whole fleet) and how much of it is offered.
  const std::vector<std::uint32_t>& order() const { return order_; }
  std::uint64_t offered() const { return offered_; }
  std::size_t stage() const { return stage_; }
  const GateInputs& seen() const { return seen_; }
  RolloutSummary summary() const;

 private:
  void build_order();
  Command offer_until(std::uint64_t target);
  void log(double t, const char* kind, std::string reason = {});
  const Gate& gate_of_stage() const { return s_.rollout.stages[stage_].gate; }
  bool fire(RolloutTrigger trigger);
  void open_stage(double t, Commands& out);
  void next_stage(double t, Commands& out);
  void decide(double t, bool soak_over, Commands& out);
  void act(double t, GateAction action, const std::string& reason, Commands& out);
  void stop(double t, const char* kind, const std::string& reason);
  void refresh_gate(double dt, const Health& health);
  void ramp_step(double t, double dt, Commands& out);

  struct Sampled {  // the in-service health signal drawn at ticks
    double crashes = 0;
    double exposure_days = 0;
    std::uint64_t draws = 0;
  };
  struct Ramp {
    double rate = 0, allowance = 0;
    std::uint64_t successes = 0;
  };

  const Scenario& s_;
  std::uint64_t seed_;
  const Shard* shard_;
  std::uint32_t fleet_;                     // devices in the whole fleet
  std::vector<std::uint32_t> order_;        // offer order (build_order)
  std::vector<std::uint64_t> group_end_;    // per stage: end of its named groups in order_
  std::uint64_t offered_ = 0;
  std::size_t stage_ = 0;
  RolloutState state_ = RolloutState::InProgress;
  RolloutSummary summary_;
  GateInputs gate_;                         // this model's reports (a shard's own devices)
  GateInputs seen_;                         // what the gates judge: the whole fleet's
  Sampled sampled_;
  double soak_end_s_ = 0;
  bool awaiting_ = false;                   // soak over, the gate waits for reports
  std::optional<std::size_t> acknowledged_stage_;   // breach overridden
  std::optional<std::size_t> sprt_accepted_stage_;  // SPRT accepted the good rate
  double tick_s_ = 600, last_tick_s_ = 0;
  std::deque<std::pair<double, std::uint32_t>> timeouts_;  // (deadline, device), in time order
  Ramp ramp_;
};

}  // namespace ota::models
