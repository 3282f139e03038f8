// read_rollout.cpp — ScenarioReader: the rollout (start, ramp, maintenance windows, stages), gates, the check block.
#include "scenario_reader.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>

namespace ota::models::scenario_detail {

namespace {

// A gate's field: as given; else, in a stage's gate, the rollout gate's value
// (`inherited`); else the table's default.
double number_or_inherited(const Fields& f, std::string_view key, const Gate* inherited, double Gate::*member) {
  return inherited ? number(f, key).value_or(inherited->*member) : number_or_default(f, key);
}

std::uint64_t integer_or_inherited(const Fields& f, std::string_view key, const Gate* inherited,
                                   std::uint64_t Gate::*member) {
  return inherited ? integer(f, key).value_or(inherited->*member) : integer_or_default(f, key);
}

template <class E>
E choice_or_inherited(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices,
                      const Gate* inherited, E Gate::*member) {
  return inherited ? choice(f, key, choices).value_or(inherited->*member) : choice_or_default(f, key, choices);
}

}  // namespace

// A gate object at `path`, whose table path is `table`. Its absent keys take
// `inherited`'s values (a stage's gate: the rollout's gate) or, without one,
// the table's defaults (/rollout/gate). null: no gate (a stage that overrides
// the rollout's default gate).
Gate ScenarioReader::read_gate(const Json& v, const std::string& path, const std::string& table,
                               const Gate* inherited) {
  if (v.is_null()) return Gate{};
  if (!v.is_object()) {
    const fields::Field* spec = fields::find(table);
    if (!spec) throw std::logic_error("scenario field table has no entry " + table);
    diag_.add(path, show(v) + " has the wrong type (expected " + spec->expected() + ")");
    return inherited ? *inherited : Gate{};
  }
  const Fields f(diag_, v, path, table);
  Gate g = inherited ? *inherited : Gate{};
  if (f.has("max_failure_rate")) g.max_failure_rate = number(f, "max_failure_rate");
  if (f.has("max_rollback_rate")) g.max_rollback_rate = number(f, "max_rollback_rate");
  if (f.has("max_deferral_rate")) g.max_deferral_rate = number(f, "max_deferral_rate");
  if (f.has("max_crash_rate_per_day")) g.max_crash_rate_per_day = number(f, "max_crash_rate_per_day");
  if (f.has("max_failures")) g.max_failures = integer(f, "max_failures");
  if (f.has("max_rollbacks")) g.max_rollbacks = integer(f, "max_rollbacks");
  g.min_reports = integer_or_inherited(f, "min_reports", inherited, &Gate::min_reports);
  g.min_exposure_days = number_or_inherited(f, "min_exposure_days", inherited, &Gate::min_exposure_days);
  g.mode = choice_or_inherited<GateMode>(
      f, "mode", {{"threshold", GateMode::Threshold}, {"bayes", GateMode::Bayes}, {"sprt", GateMode::Sprt}},
      inherited, &Gate::mode);
  g.confidence = number_or_inherited(f, "confidence", inherited, &Gate::confidence);
  // Without a prior or sprt block, a stage's gate keeps the rollout gate's
  // values; the rollout's gate takes the table's defaults.
  const Json* prior = object(f, "prior");
  if (prior || !inherited) {
    const Fields p(diag_, or_empty(prior), f.path_of("prior"), f.table_of("prior"));
    g.prior_a = number_or_inherited(p, "a", inherited, &Gate::prior_a);
    g.prior_b = number_or_inherited(p, "b", inherited, &Gate::prior_b);
  }
  const Json* sprt = object(f, "sprt");
  if (sprt || !inherited) {
    const Fields p(diag_, or_empty(sprt), f.path_of("sprt"), f.table_of("sprt"));
    g.sprt_alpha = number_or_inherited(p, "alpha", inherited, &Gate::sprt_alpha);
    g.sprt_beta = number_or_inherited(p, "beta", inherited, &Gate::sprt_beta);
    g.sprt_good_ratio = number_or_inherited(p, "good_ratio", inherited, &Gate::sprt_good_ratio);
  }
  g.on_breach = choice_or_inherited<GateAction>(f, "on_breach",
                                                {{"continue", GateAction::Continue},
                                                 {"pause", GateAction::Pause},
                                                 {"abort", GateAction::Abort},
                                                 {"rollback", GateAction::Rollback}},
                                                inherited, &Gate::on_breach);
  return g;
}

void ScenarioReader::read_rollout(const Fields& root) {
  Rollout& R = s_.rollout;
  R.windows.assign(s_.regions.size(), std::nullopt);
  // Without a rollout block every field takes its default (one stage at 100
  // percent, no gate limits).
  const Json* rollout = object(root, "rollout");
  const Fields f(diag_, or_empty(rollout), root.path_of("rollout"), root.table_of("rollout"));
  const auto start = number(f, "start_h");
  R.start_s = (start ? *start : default_of(f, "start_h")) * 3600;
  if (start && horizon_ok_ && R.start_s >= s_.horizon_s)
    f.error("start_h", show(*f.find("start_h")) + " is not before the horizon (expected start_h < horizon_h = " +
                           format_number(s_.horizon_s / 3600) + ")");
  const Json* gate = f.find("gate");
  const Gate default_gate = read_gate(or_empty(gate), f.path_of("gate"), f.table_of("gate"), nullptr);
  R.selection = choice_or_default<CanarySelection>(
      f, "selection", {{"random", CanarySelection::Random}, {"stratified", CanarySelection::Stratified}});
  R.evaluate_every_s = number_or_default(f, "evaluate_every_min") * 60;
  R.device_timeout_s = number_or_default(f, "device_timeout_h") * 3600;
  R.max_attempts = static_cast<std::uint32_t>(integer_or_default(f, "max_attempts"));
  if (const Json* ramp = object(f, "ramp")) {
    const Fields r(diag_, *ramp, f.path_of("ramp"), f.table_of("ramp"));
    RateRamp rr;
    // Placeholders where a required field is missing or invalid (the error is reported).
    rr.base_per_minute = number(r, "base_per_minute").value_or(1);
    rr.increment_factor = number_or_default(r, "increment_factor");
    rr.increase_every_successes = integer(r, "increase_every_successes").value_or(1);
    rr.max_per_minute = number_or_default(r, "max_per_minute");
    if (rr.max_per_minute > 0 && rr.max_per_minute < rr.base_per_minute)
      r.error("max_per_minute", format_number(rr.max_per_minute) + " is below base_per_minute " +
                                    format_number(rr.base_per_minute) + " (expected max_per_minute >= base_per_minute)");
    R.ramp = rr;
    if (f.has("stages"))
      f.error("ramp", "a ramp together with \"stages\" (expected one of the two: stages, or a rate ramp whose gate is "
                      "/rollout/gate)");
  }
  {
    const fields::Field& window = item_spec(f, "maintenance_windows");
    const std::string what = window.expected();  // "an object: a maintenance window"; for_each_region adds "an object: "
    const std::string noun(what.substr(what.find(": ") + 2));
    for_each_region(f, "maintenance_windows",
                    need_of(f.spec("maintenance_windows")), noun.c_str(),
                    [&](std::size_t region, const Json& value, const std::string& path) {
                      const Fields w(diag_, value, path, std::string(window.path));
                      MaintenanceWindow mw;
                      mw.utc_offset_h = number_or_default(w, "utc_offset_h");
                      // Placeholders where a bound is missing or invalid (the error is reported).
                      mw.from_h = number(w, "from_h").value_or(0);
                      mw.to_h = number(w, "to_h").value_or(24);
                      if (w.has("from_h") && w.has("to_h") && mw.from_h == mw.to_h)
                        w.error("to_h", format_number(mw.to_h) + " equals from_h (expected a window of some length)");
                      R.windows[region] = mw;
                    });
  }
  if (const Json* pause = object(f, "on_pause")) {
    const Fields p(diag_, *pause, f.path_of("on_pause"), f.table_of("on_pause"));
    PauseDecision d;
    d.after_s = number(p, "decide_after_h").value_or(0) * 3600;
    d.action = choice<GateAction>(p, "action",
                                  {{"resume", GateAction::Continue},
                                   {"abort", GateAction::Abort},
                                   {"rollback", GateAction::Rollback}})
                   .value_or(GateAction::Continue);
    R.on_pause = d;
  }
  // Without stages (or with a ramp): the table's default stages, read like given ones.
  const Json* stages = array_unsized(f, "stages");
  Json default_stages;
  if (!stages) {
    default_stages = Json::parse(f.spec("stages").default_json);
    stages = &default_stages;
  }
  const std::string spath = f.path_of("stages");
  if (stages->empty()) {
    diag_.add(spath, "[] is empty (expected at least one stage, the last at 100 percent)");
    return;
  }
  const fields::Field& stage_entry = item_spec(f, "stages");
  const std::string stage_table(stage_entry.path);
  R.stages.clear();
  bool have_previous = false;       // the previous stage had a valid percent:
  double previous = 0;              // this one
  std::size_t previous_index = 0;
  for (std::size_t i = 0; i < stages->size(); ++i) {
    const std::string path = child(spath, i);
    const Json& entry = (*stages)[i];
    const bool last = i + 1 == stages->size();
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected " + stage_entry.expected() + ")");
      have_previous = false;
      continue;
    }
    const Fields st(diag_, entry, path, stage_table);
    Stage stage;
    stage.soak_s = number_or_default(st, "soak_h") * 3600;
    stage.gate = default_gate;
    if (const Json* g = st.find("gate"))
      stage.gate = read_gate(*g, st.path_of("gate"), st.table_of("gate"), &default_gate);
    if (const Json* groups = array_unsized(st, "groups")) {
      if (st.has("percent"))
        st.error("groups", "a stage with both \"groups\" and \"percent\" (expected one: a named-group stage or a "
                           "percent of the fleet)");
      if (last) st.error("groups", "a named-group stage is the last stage (expected the last stage at 100 percent)");
      if (groups->empty()) st.error("groups", "[] is empty (expected at least one group name)");
      const fields::Field& group_entry = item_spec(st, "groups");
      for (std::size_t k = 0; k < groups->size(); ++k) {
        const Json& g = (*groups)[k];
        const auto it = g.is_string() ? std::find(s_.groups.begin(), s_.groups.end(), g.get<std::string>())
                                      : s_.groups.end();
        if (it == s_.groups.end())
          diag_.add(child(st.path_of("groups"), k), show(g) + " names no group (expected " + group_entry.expected() +
                                                        "; defined: " + join(s_.groups) + ")");
        else
          stage.groups.push_back(static_cast<std::size_t>(it - s_.groups.begin()));
      }
      stage.fraction = have_previous ? previous / 100 : 0;
      R.stages.push_back(std::move(stage));
      continue;
    }
    // A percent stage: percent is required unless groups is given.
    if (!st.has("percent")) st.missing("percent", st.spec("percent").expected());
    const auto percent = number(st, "percent");
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
  // Without a check block, replications takes its default (for `otasim check`).
  const Json* check = object(root, "check");
  const Fields f(diag_, or_empty(check), root.path_of("check"), root.table_of("check"));
  s_.check.replications = static_cast<std::uint32_t>(integer_or_default(f, "replications"));
  if (!check) return;
  const Json* expect = array_unsized(f, "expect");
  if (!expect) return;
  const std::string epath = f.path_of("expect");
  if (expect->empty()) diag_.add(epath, "[] is empty (expected at least one expectation)");
  const fields::Field& expectation = item_spec(f, "expect");
  for (std::size_t i = 0; i < expect->size(); ++i) {
    const std::string path = child(epath, i);
    const Json& entry = (*expect)[i];
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected " + expectation.expected() + ")");
      continue;
    }
    const Fields e(diag_, entry, path, std::string(expectation.path));
    Expectation x;
    // Placeholders where a required field is missing or invalid (the error is reported).
    x.metric = text(e, "metric").value_or("");
    x.op = choice<Comparison>(e, "op",
                              {{"<", Comparison::Less},
                               {"<=", Comparison::LessEqual},
                               {">", Comparison::Greater},
                               {">=", Comparison::GreaterEqual},
                               {"==", Comparison::Equal}})
               .value_or(Comparison::LessEqual);
    x.value = number(e, "value").value_or(0);
    x.share = number_or_default(e, "share");
    x.description = text(e, "description").value_or("");
    s_.check.expect.push_back(std::move(x));
  }
}

}  // namespace ota::models::scenario_detail
