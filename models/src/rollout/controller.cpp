// controller.cpp — offer order, stages, gates, ramp, pause/abort/rollback.
#include "ota/models/rollout/controller.hpp"

#include <algorithm>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <cstdio>

#include "ota/models/random_keys.hpp"

namespace ota::models {

namespace {

// Boost.Random distributions over a controller stream.
struct StreamBits {
  sim::RandomStream& r;
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return r.next_u64(); }
};

std::string num(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}

// The class of a device of the whole fleet (classes are contiguous ranges).
std::size_t class_of(const Scenario& s, std::uint32_t g) {
  std::size_t c = 0;
  std::uint64_t end = s.classes.empty() ? 0 : s.classes[0].devices;
  while (c + 1 < s.classes.size() && g >= end) end += s.classes[++c].devices;
  return c;
}

}  // namespace

std::string_view to_string(RolloutState s) {
  switch (s) {
    case RolloutState::InProgress: return "in_progress";
    case RolloutState::Completed: return "completed";
    case RolloutState::Paused: return "paused";
    case RolloutState::PausedCompleted: return "paused_completed";
    case RolloutState::Aborted: return "aborted";
    case RolloutState::RolledBack: return "rolled_back";
  }
  return "?";
}

std::string_view to_string(RolloutTrigger t) {
  switch (t) {
    case RolloutTrigger::Complete: return "complete";
    case RolloutTrigger::Pause: return "pause";
    case RolloutTrigger::Resume: return "resume";
    case RolloutTrigger::Abort: return "abort";
    case RolloutTrigger::Rollback: return "rollback";
  }
  return "?";
}

std::string_view report_name(RolloutState s) {
  return s == RolloutState::PausedCompleted ? to_string(RolloutState::Paused) : to_string(s);
}

RolloutController::RolloutController(const Scenario& s, std::uint64_t seed, const Shard* shard)
    : s_(s), seed_(seed), shard_(shard), fleet_(static_cast<std::uint32_t>(s.devices)) {
  tick_s_ = s_.rollout.ramp ? std::min(60.0, s_.rollout.evaluate_every_s) : s_.rollout.evaluate_every_s;
  last_tick_s_ = s_.rollout.start_s;
  build_order();
}

// The order in which devices are offered the release, fixed at set-up:
// named-group stages first (their groups' devices, in stage order), then the
// rest in a random order, or stratified so that every (hardware, region)
// stratum receives each stage's share of its own devices. A stage at p %
// offers exactly the first round(p x N) devices of this order.
void RolloutController::build_order() {
  const Rollout& R = s_.rollout;
  const auto rank = [this](std::uint32_t g) { return attribute_stream(seed_, g, Attribute::Rank).uniform(); };
  order_.reserve(fleet_);
  group_end_.assign(R.stages.size(), 0);
  std::vector<std::uint8_t> placed;
  bool any_groups = false;
  for (const Stage& st : R.stages) any_groups = any_groups || !st.groups.empty();
  if (any_groups) {
    placed.assign(fleet_, 0);
    for (std::size_t i = 0; i < R.stages.size(); ++i) {
      const Stage& st = R.stages[i];
      if (!st.groups.empty()) {
        std::vector<std::pair<double, std::uint32_t>> members;
        for (std::uint32_t d = 0; d < fleet_; ++d) {
          const auto& g = s_.classes[class_of(s_, d)].group;
          if (placed[d] || !g || std::find(st.groups.begin(), st.groups.end(), *g) == st.groups.end()) continue;
          placed[d] = 1;
          members.emplace_back(rank(d), d);
        }
        std::sort(members.begin(), members.end());
        for (const auto& m : members) order_.push_back(m.second);
      }
      group_end_[i] = order_.size();
    }
  }
  std::vector<std::pair<double, std::uint32_t>> rest;
  rest.reserve(fleet_ - order_.size());
  for (std::uint32_t d = 0; d < fleet_; ++d)
    if (placed.empty() || !placed[d]) rest.emplace_back(rank(d), d);
  if (R.selection == CanarySelection::Stratified && !rest.empty()) {
    // Within each stratum in rank order, a device's key is its quantile in
    // the stratum; merging all strata by key interleaves them in proportion.
    const auto stratum = [&](std::uint32_t d) {
      const DeviceClass& c = s_.classes[class_of(s_, d)];
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

RolloutController::Command RolloutController::offer_until(std::uint64_t target) {
  target = std::min<std::uint64_t>(target, order_.size());
  Command c{Command::Kind::Offer};
  c.from = offered_;
  offered_ = std::max(offered_, target);
  c.to = offered_;
  return c;
}

bool RolloutController::in_window(const MaintenanceWindow& w, double t) {
  double h = std::fmod(t / 3600.0 + w.utc_offset_h, 24.0);
  if (h < 0) h += 24;
  return w.from_h < w.to_h ? (h >= w.from_h && h < w.to_h) : (h >= w.from_h || h < w.to_h);
}

void RolloutController::report(Outcome what) {
  ++gate_.reports;
  switch (what) {
    case Outcome::Success: ++gate_.successes; break;
    case Outcome::Failure: ++gate_.failures; break;
    case Outcome::Rollback: ++gate_.rollbacks; break;
    case Outcome::Neutral: break;
  }
}

void RolloutController::log(double t, const char* kind, std::string reason) {
  RolloutEvent e;
  e.t_s = t;
  e.stage = stage_;
  e.kind = kind;
  e.reason = std::move(reason);
  e.offered = offered_;
  e.reports = seen_.reports;
  e.failures = seen_.failures;
  e.rollbacks = seen_.rollbacks;
  e.crashes = seen_.crashes;
  e.exposure_days = seen_.exposure_days;
  summary_.events.push_back(std::move(e));
}

RolloutSummary RolloutController::summary() const {
  RolloutSummary r = summary_;
  r.state = std::string(report_name(state_));
  return r;
}

bool RolloutController::fire(RolloutTrigger trigger) {
  const auto next = rollout_transition(state_, trigger);
  if (!next) return false;
  state_ = *next;
  return true;
}

RolloutController::Commands RolloutController::open_first_stage(double t) {
  Commands out;
  open_stage(t, out);
  return out;
}

void RolloutController::open_stage(double t, Commands& out) {
  const Stage& st = s_.rollout.stages[stage_];
  if (!s_.rollout.ramp) {
    const std::uint64_t target =
        st.groups.empty() ? static_cast<std::uint64_t>(std::llround(st.fraction * static_cast<double>(fleet_)))
                          : group_end_[stage_];
    out.push_back(offer_until(target));
  }
  summary_.stages_opened = stage_ + 1;
  log(t, "stage_open");
  awaiting_ = false;
  if (s_.rollout.ramp) return;  // the ramp offers on ticks and completes when all are offered
  soak_end_s_ = t + st.soak_s;
  if (!shard_) out.push_back({Command::Kind::ScheduleSoakEnd, soak_end_s_});
}

void RolloutController::next_stage(double t, Commands& out) {
  if (stage_ + 1 < s_.rollout.stages.size()) {
    ++stage_;
    open_stage(t, out);
  } else if (state_ == RolloutState::InProgress) {
    fire(RolloutTrigger::Complete);
    log(t, "completed");
  }
}

// The end of a stage's soak: its gate decides, or waits for enough reports.
RolloutController::Commands RolloutController::soak_end(double t) {
  Commands out;
  if (state_ != RolloutState::InProgress || t != soak_end_s_) return out;
  seen_ = gate_;
  seen_.crashes += sampled_.crashes;
  seen_.exposure_days = sampled_.exposure_days;
  decide(t, true, out);
  return out;
}

// The gates' view at a tick: the reports of the whole fleet. A sharded run
// sums every shard's counts (with the crash rate and the confirmed devices for
// the health sample) in one collective; then every shard draws the same
// sample and takes the same decisions.
void RolloutController::refresh_gate(double dt, const Health& health) {
  std::vector<double> v = {static_cast<double>(gate_.reports),   static_cast<double>(gate_.successes),
                           static_cast<double>(gate_.failures),  static_cast<double>(gate_.rollbacks),
                           gate_.crashes,                        static_cast<double>(gate_.checkins),
                           static_cast<double>(gate_.deferrals), health.crash_rate_per_s,
                           static_cast<double>(health.confirmed)};
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
    sim::RandomStream r(seed_, kHealthStream, sampled_.draws);
    StreamBits bits{r};
    boost::random::poisson_distribution<std::uint64_t, double> poisson(expected);
    sampled_.crashes += static_cast<double>(poisson(bits));
    sampled_.draws = r.counter();
  }
  sampled_.exposure_days += v[8] * dt / 86400.0;
  seen_.crashes = v[4] + sampled_.crashes;
  seen_.exposure_days = sampled_.exposure_days;
}

// Evaluates the current stage's gate. A breach acts at once, at any time; a
// pass opens the next stage only at (or after) the soak's end.
void RolloutController::decide(double t, bool soak_over, Commands& out) {
  // An operator's override, or an SPRT that accepted the good rate (Wald's
  // error bounds hold for a test that stops at its first decision), ends the
  // stage's judging.
  const bool acknowledged = acknowledged_stage_ == stage_ || sprt_accepted_stage_ == stage_;
  const GateResult g = acknowledged ? GateResult{} : judge(gate_of_stage(), seen_, offered_);
  if (!acknowledged && g.judgement == Judgement::Pass && gate_of_stage().mode == GateMode::Sprt &&
      !gate_of_stage().empty()) {
    sprt_accepted_stage_ = stage_;
    log(t, "sprt_accept");
  }
  if (g.judgement == Judgement::Breach) {
    act(t, gate_of_stage().on_breach, g.reason, out);
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
  next_stage(t, out);
}

void RolloutController::act(double t, GateAction action, const std::string& reason, Commands& out) {
  switch (action) {
    case GateAction::Continue:
      // Logged once; the stage is then judged as passed.
      log(t, "breach_ignored", reason);
      acknowledged_stage_ = stage_;
      if (state_ == RolloutState::InProgress && (awaiting_ || t >= soak_end_s_) && !s_.rollout.ramp) {
        awaiting_ = false;
        next_stage(t, out);
      }
      return;
    case GateAction::Pause:
      if (!fire(RolloutTrigger::Pause)) return;  // already paused
      stop(t, "pause", reason);
      if (s_.rollout.on_pause)
        out.push_back({Command::Kind::SchedulePauseDecision, t + s_.rollout.on_pause->after_s});
      return;
    case GateAction::Abort:
      fire(RolloutTrigger::Abort);
      stop(t, "abort", reason);
      out.push_back({Command::Kind::Withdraw});
      return;
    case GateAction::Rollback:
      fire(RolloutTrigger::Rollback);
      stop(t, "rollback", reason);
      out.push_back({Command::Kind::Withdraw});
      out.push_back({Command::Kind::StartRevert});
      return;
  }
}

void RolloutController::stop(double t, const char* kind, const std::string& reason) {
  if (!summary_.stopped_at_s) summary_.stopped_at_s = t;
  log(t, kind, reason);
}

// The scripted operator decision some time after a pause.
RolloutController::Commands RolloutController::pause_decision(double t) {
  Commands out;
  const bool paused = state_ == RolloutState::Paused || state_ == RolloutState::PausedCompleted;
  if (!paused || !s_.rollout.on_pause) return out;
  const GateAction a = s_.rollout.on_pause->action;
  if (a != GateAction::Continue) {
    act(t, a, "operator decision after the pause", out);
    return out;
  }
  fire(RolloutTrigger::Resume);
  acknowledged_stage_ = stage_;
  log(t, "resume", "operator decision after the pause");
  if (state_ == RolloutState::InProgress && !s_.rollout.ramp && t >= soak_end_s_) next_stage(t, out);
  return out;
}

RolloutController::Commands RolloutController::tick(double t, const Health& health) {
  Commands out;
  if (!live()) return out;
  const double dt = t - last_tick_s_;
  last_tick_s_ = t;
  refresh_gate(dt, health);
  if (s_.rollout.ramp && state_ == RolloutState::InProgress && summary_.stages_opened > 0) ramp_step(t, dt, out);
  // A sharded run judges soak ends at ticks only (its shards meet there).
  decide(t, t >= soak_end_s_ && (awaiting_ || shard_), out);
  if (t + tick_s_ < s_.horizon_s) out.push_back({Command::Kind::ScheduleTick, t + tick_s_});
  return out;
}

void RolloutController::ramp_step(double t, double dt, Commands& out) {
  const RateRamp& ramp = *s_.rollout.ramp;
  if (ramp_.rate == 0) ramp_.rate = ramp.base_per_minute;
  while (seen_.successes >= ramp_.successes + ramp.increase_every_successes &&
         (ramp.max_per_minute == 0 || ramp_.rate < ramp.max_per_minute)) {
    ramp_.successes += ramp.increase_every_successes;
    ramp_.rate *= ramp.increment_factor;
    if (ramp.max_per_minute > 0) ramp_.rate = std::min(ramp_.rate, ramp.max_per_minute);
    log(t, "ramp", "rate " + num(ramp_.rate) + " devices per minute");
  }
  ramp_.allowance += ramp_.rate * dt / 60.0;
  const auto k = static_cast<std::uint64_t>(ramp_.allowance);
  ramp_.allowance -= static_cast<double>(k);
  out.push_back(offer_until(offered_ + k));
  if (offered_ >= fleet_) {
    fire(RolloutTrigger::Complete);
    log(t, "completed");
  }
}

}  // namespace ota::models
