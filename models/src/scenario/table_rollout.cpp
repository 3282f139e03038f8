// table_rollout.cpp — the scenario field table: the rollout (start, stages, gates, ramp, maintenance windows,
// on_pause) and the check block. See field_table_sections.hpp.
#include <vector>

#include "field_table_sections.hpp"
#include "fields.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::fields {

namespace {

using scenario_detail::kMaxHours;
using scenario_detail::kMaxMinutes;
using scenario_detail::kTiny;

constexpr double kMaxFleet = static_cast<double>(kMaxFleetDevices);

// A gate, written once: at /rollout/gate (its absent keys take these
// defaults) and at /rollout/stages/*/gate (its absent keys take
// /rollout/gate's values; see stage_gate()).
const Field kGate[] = {
    {.path = "",
     .type = Type::Object,
     .expect = "an object or null: a gate",
     .description =
         "Default gate of every stage (with a ramp: the gate, evaluated continuously). A stage's own \"gate\" "
         "overrides it key by key; null: no gate. Default: no gate. A gate sets health limits on the devices' "
         "reports. Every limit is optional; a gate with none passes always. A report is a device's outcome, counted "
         "once: success (its health report on the new image), rollback (its agent rolled back), failure (refused by "
         "the verifier, gave up after max_attempts, or no report within device_timeout_h: a bricked device never "
         "reports, only the timeout counts it), or neutral (battery-blocked: counts towards min_reports only). Rates "
         "are over all reports since the rollout started, not per stage. Absolute limits breach at once; rate limits "
         "are judged only with at least min_reports reports (capped by the devices offered); a probability limit of "
         "0 breaches on the first event, 1 never breaches. The gate is evaluated every evaluate_every_min (a breach "
         "acts at once) and at the end of each soak (a pass opens the next stage; too few reports, or an undecided "
         "SPRT, wait: event awaiting_reports)."},
    {.path = "/max_failure_rate",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_note = "none: no limit",
     .description = "Limit on failures / reports. Absent: no limit."},
    {.path = "/max_rollback_rate",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_note = "none: no limit",
     .description = "Limit on rollbacks / reports. Absent: no limit."},
    {.path = "/max_crash_rate_per_day",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e6,
     .unit = "crashes per device-day",
     .default_note = "none: no limit",
     .description = "Limit on crashes of the new image per device-day in service. Judged only after min_reports "
                    "and min_exposure_days. Absent: no limit."},
    {.path = "/max_deferral_rate",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_note = "none: no limit",
     .description = "Limit on battery deferrals / update check-ins admitted by the server. Absent: no limit."},
    {.path = "/max_failures",
     .type = Type::Integer,
     .hi = kMaxFleet,
     .unit = "devices",
     .default_note = "none: no limit",
     .description = "Breach when failures exceed this count (devices), whatever min_reports. Absent: no limit."},
    {.path = "/max_rollbacks",
     .type = Type::Integer,
     .hi = kMaxFleet,
     .unit = "devices",
     .default_note = "none: no limit",
     .description = "Breach when rollbacks exceed this count (devices), whatever min_reports. Absent: no limit."},
    {.path = "/min_reports",
     .type = Type::Integer,
     .hi = kMaxFleet,
     .unit = "reports",
     .default_json = "0",
     .description =
         "Judge rates only with at least this many reports (or, if fewer devices have been offered, that many).",
     .source = kAssumption},
    {.path = "/min_exposure_days",
     .type = Type::Number,
     .hi = 1e12,
     .unit = "device-days",
     .default_json = "0",
     .description = "Judge the crash rate only after this many device-days of the new image in service.",
     .source = kAssumption},
    {.path = "/mode",
     .type = Type::Choice,
     .default_json = "\"threshold\"",
     .choices = "threshold|bayes|sprt",
     .description =
         "How a rate limit breaches. threshold: the observed rate exceeds the limit. bayes: the posterior P(true "
         "rate > limit) exceeds confidence (Beta-binomial for failure, rollback and deferral rates; Gamma-Poisson "
         "for the crash rate). sprt: Wald's sequential probability ratio test of the good rate (limit x good_ratio) "
         "against the limit: breach when the log-likelihood ratio reaches ln((1 - beta) / alpha), pass when it "
         "falls to ln(beta / (1 - alpha)), undecided between.",
     .source = kAssumption},
    {.path = "/confidence",
     .type = Type::Number,
     .hi = 1,
     .lo_open = true,
     .hi_open = true,
     .probability = true,
     .default_json = "0.95",
     .description = "bayes: breach when P(rate > limit) exceeds this.",
     .source = kAssumption},
    {.path = "/prior",
     .type = Type::Object,
     .description = "bayes: the prior, Beta(a, b) for rates; for the crash rate Gamma with shape a and rate b (in "
                    "device-days)."},
    {.path = "/prior/a",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e9,
     .default_json = "1",
     .description = "Beta a / Gamma shape.",
     .source = kAssumption},
    {.path = "/prior/b",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e9,
     .default_json = "1",
     .description = "Beta b / Gamma rate, device-days.",
     .source = kAssumption},
    {.path = "/sprt", .type = Type::Object, .description = "sprt: the test's error probabilities and good rate."},
    {.path = "/sprt/alpha",
     .type = Type::Number,
     .hi = 0.5,
     .lo_open = true,
     .hi_open = true,
     .probability = true,
     .default_json = "0.05",
     .description = "False-alarm probability at the good rate.",
     .source = kAssumption},
    {.path = "/sprt/beta",
     .type = Type::Number,
     .hi = 0.5,
     .lo_open = true,
     .hi_open = true,
     .probability = true,
     .default_json = "0.05",
     .description = "Miss probability at the limit.",
     .source = kAssumption},
    {.path = "/sprt/good_ratio",
     .type = Type::Number,
     .hi = 1,
     .lo_open = true,
     .hi_open = true,
     .default_json = "0.5",
     .description = "The good rate, as a share of the limit.",
     .source = kAssumption},
    {.path = "/on_breach",
     .type = Type::Choice,
     .default_json = "\"abort\"",
     .choices = "continue|pause|abort|rollback",
     .description =
         "What a breach does. continue: logged once (event breach_ignored), the stage then counts as passed. "
         "pause: no further stage opens (devices already offered go on); /rollout/on_pause may decide later. abort: "
         "devices offered but not yet started lose the offer (report: withdrawn); those under way finish. rollback: "
         "abort, and every device confirmed on the new release is offered the previous one; the agent's verifier "
         "refuses it where to_security_counter > from_security_counter (report: revert_refused), otherwise it "
         "reinstalls it (reverted).",
     .source = kAssumption},
};

// A stage's gate: the gate's fields, each absent one taken from /rollout/gate.
std::vector<Field> stage_gate() {
  std::vector<Field> out = under("/rollout/stages/*/gate", kGate);
  for (Field& f : out) {
    if (f.path == "/rollout/stages/*/gate") {
      f.description =
          "This stage's gate: the keys given override /rollout/gate's, the others are taken from it; null: no gate "
          "for this stage.";
    } else if (!f.is_container()) {
      f.default_json = {};
      f.default_note = "the same key of /rollout/gate (given there, or its default)";
      f.source = {};
    }
  }
  return out;
}

const Field kRolloutHead[] = {
    {.path = "/rollout/start_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .unit = "hours",
     .default_json = "0",
     .description = "When the first stage opens, hours; before horizon_h.",
     .source = kAssumption},
    {.path = "/rollout/stages",
     .type = Type::Array,
     .default_json = "[{\"percent\": 100}]",
     .min_items = 1,
     .expect = "an array of stages",
     .description =
         "Stages in order. percent is the cumulative share of the fleet offered the release, strictly increasing "
         "over the percent stages, the last stage exactly 100. The reference text's rollout: 1 % / 5 % / 25 % / "
         "100 %. A stage opens the next when its soak is over and its gate passes; the last stage's pass completes "
         "the rollout. Not together with ramp. Default: one stage offering the release to the whole fleet at "
         "start_h, with /rollout/gate. The offer order is fixed at set-up: named-group stages' devices first, then "
         "the rest by selection; a stage at p % offers the first round(p x devices) devices of that order.",
     .source = kAssumption},
    {.path = "/rollout/stages/*",
     .type = Type::Object,
     .expect = "an object: a stage",
     .description = "One stage: a cumulative percent of the fleet, or named groups. Not allowed: both percent and "
                    "groups; groups on the last stage."},
    {.path = "/rollout/stages/*/percent",
     .type = Type::Number,
     .hi = 100,
     .lo_open = true,
     .unit = "percent of the fleet, cumulative",
     .default_note = "none: the stage names groups instead (required without groups)",
     .description = "Cumulative percent of the fleet, in (0, 100]; greater than every earlier stage's percent; the "
                    "last stage's is 100. It counts every device of the offer order, named-group stages' devices "
                    "included. Required unless groups is given."},
    {.path = "/rollout/stages/*/soak_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .unit = "hours",
     .default_json = "0",
     .description = "Time at this stage before its gate decides, hours (for the last stage: monitoring time before "
                    "the rollout completes).",
     .source = kAssumption},
    {.path = "/rollout/stages/*/groups",
     .type = Type::Array,
     .min_items = 1,
     .expect = "an array of group names",
     .description = "Named-group stage: offer the release to the devices of these groups (\"group\" labels of "
                    "/fleet/classes) in addition to those already offered. Not with percent; not on the last "
                    "stage."},
    {.path = "/rollout/stages/*/groups/*",
     .type = Type::Name,
     .expect = "a \"group\" of a /fleet/classes entry",
     .description = "The \"group\" label of one or more /fleet/classes entries."},
};

const Field kRolloutTail[] = {
    {.path = "/rollout/selection",
     .type = Type::Choice,
     .default_json = "\"random\"",
     .choices = "random|stratified",
     .description = "Which devices a percent stage (or the ramp) offers first. random: a uniformly random order of "
                    "the fleet. stratified: every (hardware, region) stratum receives each stage's share of its own "
                    "devices, rounded, so canaries cover every hardware revision and region.",
     .source = kAssumption},
    {.path = "/rollout/ramp",
     .type = Type::Object,
     .description = "An exponential rate ramp (AWS IoT Jobs style) instead of stages: new offers at "
                    "base_per_minute, multiplied by increment_factor after every increase_every_successes "
                    "successful devices, up to max_per_minute. /rollout/gate is evaluated every evaluate_every_min; "
                    "the rollout completes when the whole fleet has been offered. Not together with stages."},
    {.path = "/rollout/ramp/base_per_minute",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e9,
     .unit = "devices per minute",
     .required = true,
     .description = "Initial rate of new offers, devices per minute."},
    {.path = "/rollout/ramp/increment_factor",
     .type = Type::Number,
     .lo = 1,
     .hi = 100,
     .default_json = "2",
     .description = "Factor applied to the rate at each increase.",
     .source = kAssumption},
    {.path = "/rollout/ramp/increase_every_successes",
     .type = Type::Integer,
     .lo = 1,
     .hi = kMaxFleet,
     .unit = "successful devices",
     .required = true,
     .description = "Raise the rate after this many more successful devices (health reports)."},
    {.path = "/rollout/ramp/max_per_minute",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "devices per minute; 0 = no cap",
     .default_json = "0",
     .description = "Cap on the rate, devices per minute; 0 = no cap; otherwise at least base_per_minute.",
     .source = kAssumption},
    {.path = "/rollout/evaluate_every_min",
     .type = Type::Number,
     .lo = 1,
     .hi = kMaxMinutes,
     .unit = "minutes",
     .default_json = "10",
     .description = "How often the current stage's gate is evaluated (and device timeouts, crash exposure and the "
                    "ramp are brought up to date), minutes. A breach acts at the first evaluation that sees it; a "
                    "pass opens the next stage only at or after the soak's end.",
     .source = kAssumption},
    {.path = "/rollout/device_timeout_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .unit = "hours; 0 = never",
     .default_json = "0",
     .description = "A device with no report this long after its update started (the server admitted its first "
                    "update check-in) is counted failed by the gates and in the report's timed_out; hours; 0 = "
                    "never. Without it a device that bricks never reports and a gate waiting for reports waits for "
                    "ever.",
     .source = kAssumption},
    {.path = "/rollout/max_attempts",
     .type = Type::Integer,
     .hi = 255,
     .unit = "attempts; 0 = retry for ever",
     .default_json = "0",
     .description = "Consecutive failed attempts (refused requests, dropped, corrupted or tampered transfers) after "
                    "which a device gives up: a failure report, counted in failed and gave_up (AWS IoT Jobs' retry "
                    "limit). 0 = retry for ever.",
     .source = kAssumption},
    {.path = "/rollout/maintenance_windows",
     .type = Type::Map,
     .description = "Per region (a \"region\" of /fleet/classes): the local hours in which the server offers the "
                    "update. Outside its window a device's poll finds nothing (devices in recovery are exempt). "
                    "Regions without a window: always open."},
    {.path = "/rollout/maintenance_windows/*",
     .type = Type::Object,
     .expect = "an object: a maintenance window",
     .description = "Local hours [from_h, to_h) in which the update is offered; from_h > to_h wraps past midnight "
                    "(22 to 4)."},
    {.path = "/rollout/maintenance_windows/*/utc_offset_h",
     .type = Type::Number,
     .lo = -12,
     .hi = 14,
     .unit = "hours",
     .default_json = "0",
     .description = "The region's local time = UTC + this, hours (simulated time 0 is 00:00 UTC).",
     .source = kAssumption},
    {.path = "/rollout/maintenance_windows/*/from_h",
     .type = Type::Number,
     .hi = 24,
     .hi_open = true,
     .unit = "local hours",
     .required = true,
     .description = "Window opens, local hour in [0, 24)."},
    {.path = "/rollout/maintenance_windows/*/to_h",
     .type = Type::Number,
     .hi = 24,
     .unit = "local hours",
     .required = true,
     .description = "Window closes, local hour in [0, 24]; not equal to from_h."},
    {.path = "/rollout/on_pause",
     .type = Type::Object,
     .description = "A scripted operator decision after a gate paused the rollout. Without it a paused rollout "
                    "stays paused."},
    {.path = "/rollout/on_pause/decide_after_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .unit = "hours",
     .required = true,
     .description = "Hours after the pause."},
    {.path = "/rollout/on_pause/action",
     .type = Type::Choice,
     .required = true,
     .choices = "resume|abort|rollback",
     .description = "resume: the paused stage counts as passed (the next stage opens once its soak is over); abort "
                    "or rollback: as the gate actions of those names."},
};

const Field kCheck[] = {
    {.path = "/check/replications",
     .type = Type::Integer,
     .lo = 1,
     .hi = 100000,
     .unit = "replications",
     .default_json = "20",
     .description = "Replications `otasim check` runs for this file (replication 0 with the scenario's seed, the "
                    "others with seeds derived from it); `otasim check --replications` overrides.",
     .source = kAssumption},
    {.path = "/check/expect",
     .type = Type::Array,
     .required = true,
     .min_items = 1,
     .expect = "an array of expectations",
     .description = "Expectations, at least one."},
    {.path = "/check/expect/*",
     .type = Type::Object,
     .expect = "an object: an expectation",
     .description = "metric op value, in at least share of the replications."},
    {.path = "/check/expect/*/metric",
     .type = Type::Name,
     .required = true,
     .description = "A metric name (`otasim check --list-metrics`); `otasim check` refuses an unknown name (exit "
                    "status 2, nothing run)."},
    {.path = "/check/expect/*/op",
     .type = Type::Choice,
     .required = true,
     .choices = "<|<=|>|>=|==",
     .description = "Comparison: metric op value."},
    {.path = "/check/expect/*/value",
     .type = Type::Number,
     .lo = -1e300,
     .hi = 1e300,
     .required = true,
     .description = "The value compared with."},
    {.path = "/check/expect/*/share",
     .type = Type::Number,
     .hi = 1,
     .lo_open = true,
     .probability = true,
     .default_json = "1",
     .description = "Share of the replications that must satisfy it, in (0, 1].",
     .source = kAssumption},
    {.path = "/check/expect/*/description",
     .type = Type::String,
     .description = "Free text, shown by `otasim check`."},
};

std::vector<Field> build() {
  std::vector<Field> out(std::begin(kRolloutHead), std::end(kRolloutHead));
  const auto stage = stage_gate();
  out.insert(out.end(), stage.begin(), stage.end());
  const auto gate = under("/rollout/gate", kGate);
  out.insert(out.end(), gate.begin(), gate.end());
  out.insert(out.end(), std::begin(kRolloutTail), std::end(kRolloutTail));
  out.insert(out.end(), std::begin(kCheck), std::end(kCheck));
  return out;
}

}  // namespace

std::span<const Field> rollout_fields() {
  static const std::vector<Field> table = build();
  return table;
}

}  // namespace ota::models::fields
