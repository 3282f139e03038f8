// read_rollout.cpp — ScenarioReader: the rollout (start, ramp, maintenance windows, stages), gates, the check block.
#include "scenario_reader.hpp"

#include <algorithm>

namespace ota::models::scenario_detail {

// A gate object; `path` is its JSON Pointer. Absent keys keep `g`'s values.
// null: no gate (a stage that overrides the rollout's default gate).
Gate ScenarioReader::read_gate(const Json& v, const std::string& path, Gate g) {
  if (v.is_null()) return Gate{};
  if (!v.is_object()) {
    diag_.add(path, show(v) + " has the wrong type (expected an object or null: a gate)");
    return g;
  }
  const Fields f(diag_, v, path,
                 {"max_failure_rate", "max_rollback_rate", "max_crash_rate_per_day", "max_deferral_rate",
                  "max_failures", "max_rollbacks", "min_reports", "min_exposure_days", "mode", "confidence", "prior", "sprt",
                  "on_breach"});
  const auto rate = [&](std::string_view key, std::optional<double>& slot) {
    if (f.has(key)) slot = number(f, key, probability(), Need::Required);
  };
  rate("max_failure_rate", g.max_failure_rate);
  rate("max_rollback_rate", g.max_rollback_rate);
  rate("max_deferral_rate", g.max_deferral_rate);
  if (f.has("max_crash_rate_per_day"))
    g.max_crash_rate_per_day =
        number(f, "max_crash_rate_per_day", at_least_tiny(1e6, "crashes per device-day"), Need::Required);
  if (f.has("max_failures")) g.max_failures = integer(f, "max_failures", 0, kMaxFleetDevices, Need::Required, "devices");
  if (f.has("max_rollbacks"))
    g.max_rollbacks = integer(f, "max_rollbacks", 0, kMaxFleetDevices, Need::Required, "devices");
  g.min_reports = integer(f, "min_reports", 0, kMaxFleetDevices, Need::Optional, "reports").value_or(g.min_reports);
  g.min_exposure_days = number_or(f, "min_exposure_days", non_negative(1e12, "device-days"), g.min_exposure_days);
  g.mode = choice<GateMode>(f, "mode",
                            {{"threshold", GateMode::Threshold}, {"bayes", GateMode::Bayes}, {"sprt", GateMode::Sprt}},
                            Need::Optional)
               .value_or(g.mode);
  g.confidence = number_or(f, "confidence", Bounds{0, 1, true, true, nullptr, true}, g.confidence);
  if (const Json* prior = object(f, "prior", Need::Optional)) {
    const Fields p(diag_, *prior, f.path_of("prior"), {"a", "b"});
    g.prior_a = number_or(p, "a", at_least_tiny(1e9), g.prior_a);
    g.prior_b = number_or(p, "b", at_least_tiny(1e9), g.prior_b);
  }
  if (const Json* sprt = object(f, "sprt", Need::Optional)) {
    const Fields p(diag_, *sprt, f.path_of("sprt"), {"alpha", "beta", "good_ratio"});
    g.sprt_alpha = number_or(p, "alpha", Bounds{0, 0.5, true, true, nullptr, true}, g.sprt_alpha);
    g.sprt_beta = number_or(p, "beta", Bounds{0, 0.5, true, true, nullptr, true}, g.sprt_beta);
    g.sprt_good_ratio = number_or(p, "good_ratio", Bounds{0, 1, true, true, nullptr, false}, g.sprt_good_ratio);
  }
  g.on_breach = choice<GateAction>(f, "on_breach",
                                   {{"continue", GateAction::Continue},
                                    {"pause", GateAction::Pause},
                                    {"abort", GateAction::Abort},
                                    {"rollback", GateAction::Rollback}},
                                   Need::Optional)
                    .value_or(g.on_breach);
  return g;
}

void ScenarioReader::read_rollout(const Fields& root) {
  Rollout& R = s_.rollout;
  R.stages = {Stage{1.0, 0.0, {}, {}}};
  R.start_s = 0;
  R.windows.assign(s_.regions.size(), std::nullopt);
  const Json* rollout = object(root, "rollout", Need::Optional);
  if (!rollout) return;
  const Fields f(diag_, *rollout, root.path_of("rollout"),
                 {"start_h", "stages", "gate", "selection", "ramp", "evaluate_every_min", "device_timeout_h",
                  "max_attempts", "maintenance_windows", "on_pause"});
  if (const auto start = number(f, "start_h", non_negative(kMaxHours, "hours"), Need::Optional)) {
    R.start_s = *start * 3600;
    if (horizon_ok_ && R.start_s >= s_.horizon_s)
      f.error("start_h", show(*f.find("start_h")) + " is not before the horizon (expected start_h < horizon_h = " +
                             format_number(s_.horizon_s / 3600) + ")");
  }
  Gate default_gate;
  if (const Json* g = f.find("gate")) default_gate = read_gate(*g, f.path_of("gate"), Gate{});
  R.stages[0].gate = default_gate;
  R.selection = choice<CanarySelection>(f, "selection",
                                        {{"random", CanarySelection::Random},
                                         {"stratified", CanarySelection::Stratified}},
                                        Need::Optional)
                    .value_or(CanarySelection::Random);
  R.evaluate_every_s = number_or(f, "evaluate_every_min", Bounds{1, kMaxMinutes, false, false, "minutes", false}, 10) * 60;
  R.device_timeout_s = number_or(f, "device_timeout_h", non_negative(kMaxHours, "hours; 0 = never"), 0) * 3600;
  R.max_attempts = static_cast<std::uint32_t>(
      integer(f, "max_attempts", 0, 255, Need::Optional, "attempts; 0 = retry for ever").value_or(0));
  if (const Json* ramp = object(f, "ramp", Need::Optional)) {
    const Fields r(diag_, *ramp, f.path_of("ramp"),
                   {"base_per_minute", "increment_factor", "increase_every_successes", "max_per_minute"});
    RateRamp rr;
    rr.base_per_minute = number(r, "base_per_minute", at_least_tiny(1e9, "devices per minute"), Need::Required).value_or(1);
    rr.increment_factor = number_or(r, "increment_factor", Bounds{1, 100, false, false, nullptr, false}, 2);
    rr.increase_every_successes =
        integer(r, "increase_every_successes", 1, kMaxFleetDevices, Need::Required, "successful devices").value_or(1);
    rr.max_per_minute = number_or(r, "max_per_minute", non_negative(1e9, "devices per minute; 0 = no cap"), 0);
    if (rr.max_per_minute > 0 && rr.max_per_minute < rr.base_per_minute)
      r.error("max_per_minute", format_number(rr.max_per_minute) + " is below base_per_minute " +
                                    format_number(rr.base_per_minute) + " (expected max_per_minute >= base_per_minute)");
    R.ramp = rr;
    if (f.has("stages"))
      f.error("ramp", "a ramp together with \"stages\" (expected one of the two: stages, or a rate ramp whose gate is "
                      "/rollout/gate)");
  }
  for_each_region(f, "maintenance_windows", Need::Optional, "a maintenance window",
                  [&](std::size_t region, const Json& value, const std::string& path) {
      const Fields w(diag_, value, path, {"utc_offset_h", "from_h", "to_h"});
      MaintenanceWindow mw;
      mw.utc_offset_h = number_or(w, "utc_offset_h", Bounds{-12, 14, false, false, "hours", false}, 0);
      mw.from_h = number(w, "from_h", Bounds{0, 24, false, true, "local hours", false}, Need::Required).value_or(0);
      mw.to_h = number(w, "to_h", Bounds{0, 24, false, false, "local hours", false}, Need::Required).value_or(24);
      if (w.has("from_h") && w.has("to_h") && mw.from_h == mw.to_h)
        w.error("to_h", format_number(mw.to_h) + " equals from_h (expected a window of some length)");
      R.windows[region] = mw;
  });
  if (const Json* pause = object(f, "on_pause", Need::Optional)) {
    const Fields p(diag_, *pause, f.path_of("on_pause"), {"decide_after_h", "action"});
    PauseDecision d;
    d.after_s = number(p, "decide_after_h", non_negative(kMaxHours, "hours"), Need::Required).value_or(0) * 3600;
    d.action = choice<GateAction>(p, "action",
                                  {{"resume", GateAction::Continue},
                                   {"abort", GateAction::Abort},
                                   {"rollback", GateAction::Rollback}},
                                  Need::Required)
                   .value_or(GateAction::Continue);
    R.on_pause = d;
  }
  const Json* stages = array(f, "stages", Need::Optional, "an array of stages");
  if (!stages) return;
  const std::string spath = f.path_of("stages");
  if (stages->empty()) {
    diag_.add(spath, "[] is empty (expected at least one stage, the last at 100 percent)");
    return;
  }
  R.stages.clear();
  bool have_previous = false;       // the previous stage had a valid percent:
  double previous = 0;              // this one
  std::size_t previous_index = 0;
  for (std::size_t i = 0; i < stages->size(); ++i) {
    const std::string path = child(spath, i);
    const Json& entry = (*stages)[i];
    const bool last = i + 1 == stages->size();
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected an object: a stage)");
      have_previous = false;
      continue;
    }
    const Fields st(diag_, entry, path, {"percent", "soak_h", "groups", "gate"});
    Stage stage;
    stage.soak_s = number_or(st, "soak_h", non_negative(kMaxHours, "hours"), 0) * 3600;
    stage.gate = default_gate;
    if (const Json* g = st.find("gate")) stage.gate = read_gate(*g, st.path_of("gate"), default_gate);
    if (const Json* groups = array(st, "groups", Need::Optional, "an array of group names")) {
      if (st.has("percent"))
        st.error("groups", "a stage with both \"groups\" and \"percent\" (expected one: a named-group stage or a "
                           "percent of the fleet)");
      if (last) st.error("groups", "a named-group stage is the last stage (expected the last stage at 100 percent)");
      if (groups->empty()) st.error("groups", "[] is empty (expected at least one group name)");
      for (std::size_t k = 0; k < groups->size(); ++k) {
        const Json& g = (*groups)[k];
        const auto it = g.is_string() ? std::find(s_.groups.begin(), s_.groups.end(), g.get<std::string>())
                                      : s_.groups.end();
        if (it == s_.groups.end())
          diag_.add(child(st.path_of("groups"), k),
                    show(g) + " names no group (expected a \"group\" of a /fleet/classes entry; defined: " +
                        join(s_.groups) + ")");
        else
          stage.groups.push_back(static_cast<std::size_t>(it - s_.groups.begin()));
      }
      stage.fraction = have_previous ? previous / 100 : 0;
      R.stages.push_back(std::move(stage));
      continue;
    }
    const auto percent = number(st, "percent", positive(100, "percent of the fleet, cumulative"), Need::Required);
    if (percent) {
      if (have_previous && !(*percent > previous))
        st.error("percent", format_number(*percent) + " does not exceed stage " + std::to_string(previous_index) +
                                "'s " + format_number(previous) +
                                " (expected percents to increase strictly from stage to stage)");
      if (last && *percent != 100)
        st.error("percent", format_number(*percent) +
                                " is not 100 (expected the last stage to offer the release to the whole fleet: 100)");
      have_previous = true;
      previous = *percent;
      previous_index = i;
    } else {
      have_previous = false;
    }
    stage.fraction = percent.value_or(0) / 100;
    R.stages.push_back(std::move(stage));
  }
}

void ScenarioReader::read_check(const Fields& root) {
  const Json* check = object(root, "check", Need::Optional);
  if (!check) return;
  const Fields f(diag_, *check, root.path_of("check"), {"replications", "expect"});
  s_.check.replications = static_cast<std::uint32_t>(
      integer(f, "replications", 1, 100000, Need::Optional, "replications").value_or(20));
  const Json* expect = array(f, "expect", Need::Required, "an array of expectations");
  if (!expect) return;
  const std::string epath = f.path_of("expect");
  if (expect->empty()) diag_.add(epath, "[] is empty (expected at least one expectation)");
  for (std::size_t i = 0; i < expect->size(); ++i) {
    const std::string path = child(epath, i);
    const Json& entry = (*expect)[i];
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected an object: an expectation)");
      continue;
    }
    const Fields e(diag_, entry, path, {"metric", "op", "value", "share", "description"});
    Expectation x;
    x.metric = name_field(e, "metric", Need::Required).value_or("");
    x.op = choice<Comparison>(e, "op",
                              {{"<", Comparison::Less},
                               {"<=", Comparison::LessEqual},
                               {">", Comparison::Greater},
                               {">=", Comparison::GreaterEqual},
                               {"==", Comparison::Equal}},
                              Need::Required)
               .value_or(Comparison::LessEqual);
    x.value = number(e, "value", Bounds{-1e300, 1e300, false, false, nullptr, false}, Need::Required).value_or(0);
    x.share = number_or(e, "share", Bounds{0, 1, true, false, nullptr, true}, 1);
    x.description = text(e, "description", Need::Optional, "a string").value_or("");
    s_.check.expect.push_back(std::move(x));
  }
}

}  // namespace ota::models::scenario_detail
