#include "ota/models/rollout/gates.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace ota::models {

namespace {

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g%%", 100 * x);
  return b;
}
std::string num(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}

}  // namespace

// A gate's decision on the inputs. Absolute limits fire at once; rate limits
// need min_reports (capped by the devices offered) and follow the gate's mode.
GateResult judge(const Gate& g, const GateInputs& in, std::uint64_t offered) {
  GateResult out;
  const auto breach = [&](std::string why) {
    if (out.judgement != Judgement::Breach) out = {Judgement::Breach, std::move(why)};
  };
  const auto undecided = [&] {
    if (out.judgement == Judgement::Pass) out.judgement = Judgement::Undecided;
  };
  if (g.max_failures && in.failures > *g.max_failures)
    breach("failures " + std::to_string(in.failures) + " > max_failures " + std::to_string(*g.max_failures));
  if (g.max_rollbacks && in.rollbacks > *g.max_rollbacks)
    breach("rollbacks " + std::to_string(in.rollbacks) + " > max_rollbacks " + std::to_string(*g.max_rollbacks));
  const bool enough = in.reports >= std::min(g.min_reports, offered);
  const double lnA = std::log((1 - g.sprt_beta) / g.sprt_alpha);
  const double lnB = std::log(g.sprt_beta / (1 - g.sprt_alpha));
  // k events in n trials against the limit on their rate.
  const auto binomial = [&](const char* what, const std::optional<double>& limit, std::uint64_t k, std::uint64_t n) {
    if (!limit) return;
    const double L = *limit;
    if (!enough || n == 0) return undecided();
    const double kd = static_cast<double>(k), nd = static_cast<double>(n);
    const std::string observed = std::string(what) + " " + std::to_string(k) + "/" + std::to_string(n) + " = " +
                                 pct(kd / nd) + " (limit " + pct(L) + ")";
    if (L >= 1) return;
    if (L <= 0) {
      if (k > 0) breach(observed);
      return;
    }
    switch (g.mode) {
      case GateMode::Threshold:
        if (kd / nd > L) breach(observed);
        return;
      case GateMode::Bayes: {
        const double p = beta_exceedance(g.prior_a, g.prior_b, k, n, L);
        if (p > g.confidence) breach(observed + ": posterior P(rate > limit) = " + num(p) + " > " + num(g.confidence));
        return;
      }
      case GateMode::Sprt: {
        const double p1 = L, p0 = L * g.sprt_good_ratio;
        const double llr = kd * std::log(p1 / p0) + (nd - kd) * std::log((1 - p1) / (1 - p0));
        if (llr >= lnA) breach(observed + ": SPRT log-likelihood ratio " + num(llr) + " >= " + num(lnA));
        else if (llr > lnB) undecided();
        return;
      }
    }
  };
  binomial("failure rate", g.max_failure_rate, in.failures, in.reports);
  binomial("rollback rate", g.max_rollback_rate, in.rollbacks, in.reports);
  binomial("battery deferral rate", g.max_deferral_rate, in.deferrals, in.checkins);
  if (g.max_crash_rate_per_day) {
    const double L = *g.max_crash_rate_per_day, k = in.crashes, E = in.exposure_days;
    if (!enough || E <= 0 || E < g.min_exposure_days) {
      undecided();
    } else {
      const std::string observed = "crash rate " + num(k) + " crashes / " + num(E) + " device-days = " + num(k / E) +
                                   " per device-day (limit " + num(L) + ")";
      switch (g.mode) {
        case GateMode::Threshold:
          if (k / E > L) breach(observed);
          break;
        case GateMode::Bayes: {
          const double p = gamma_exceedance(g.prior_a, g.prior_b, k, E, L);
          if (p > g.confidence) breach(observed + ": posterior P(rate > limit) = " + num(p) + " > " + num(g.confidence));
          break;
        }
        case GateMode::Sprt: {
          const double l1 = L, l0 = L * g.sprt_good_ratio;
          const double llr = k * std::log(l1 / l0) - (l1 - l0) * E;
          if (llr >= lnA) breach(observed + ": SPRT log-likelihood ratio " + num(llr) + " >= " + num(lnA));
          else if (llr > lnB) undecided();
          break;
        }
      }
    }
  }
  return out;
}


double beta_exceedance(double a, double b, std::uint64_t k, std::uint64_t n, double limit) {
  if (limit <= 0) return 1;
  if (limit >= 1) return 0;
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  return boost::math::ibetac(a + kd, b + nd - kd, limit);
}

double gamma_exceedance(double a, double b, double k, double exposure, double limit) {
  if (limit <= 0) return 1;
  return boost::math::gamma_q(a + k, (b + exposure) * limit);
}

}  // namespace ota::models
