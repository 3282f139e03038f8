// gates.hpp — a rollout gate's decision on what the devices reported.
//
// Three modes (scenario.hpp, Gate): a fixed threshold on the observed rate; a
// Bayesian gate that breaches when the posterior probability that the true
// rate exceeds the limit is above a confidence (Beta-binomial for failure,
// rollback and deferral rates; Gamma-Poisson for crashes per device-day); and
// Wald's sequential probability ratio test of "rate = limit x good_ratio"
// against "rate = limit", which stops as soon as the evidence is strong either
// way. Absolute limits (max_failures, max_rollbacks) fire regardless of mode.
#pragma once

#include <cstdint>
#include <string>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// What the gates see: device reports since the rollout started.
struct GateInputs {
  std::uint64_t reports = 0;     // successes + failures + rollbacks + neutral (battery-blocked)
  std::uint64_t successes = 0, failures = 0, rollbacks = 0;
  double crashes = 0;            // crashes of the new image (trial crashes plus sampled in-service crashes)
  double exposure_days = 0;      // device-days of the new image in service
  std::uint64_t checkins = 0, deferrals = 0;  // update check-ins, battery deferrals among them
};

enum class Judgement : std::uint8_t {
  Pass,       // every limit holds (and SPRT accepted the good rate)
  Undecided,  // not enough reports yet (or SPRT between its bounds)
  Breach,     // a limit is exceeded: the gate's on_breach action applies
};

struct GateResult {
  Judgement judgement = Judgement::Pass;
  std::string reason;  // for a breach: the limit and the evidence
};

// The gate's decision. Rate limits are judged only once `reports` reaches
// min(min_reports, offered).
GateResult judge(const Gate& gate, const GateInputs& inputs, std::uint64_t offered);

// The posterior probabilities the Bayesian gate uses (exposed for tests and
// `otasim analyze`): P(p > limit) for k of n under a Beta(a, b) prior, and
// P(lambda > limit) for k events in `exposure` under a Gamma(a, b) prior.
double beta_exceedance(double a, double b, std::uint64_t k, std::uint64_t n, double limit);
double gamma_exceedance(double a, double b, double k, double exposure, double limit);

}  // namespace ota::models
