#include "ota/models/delivery/update_server.hpp"

#include <cmath>

#include <boost/math/special_functions/gamma.hpp>

namespace ota::models {

bool UpdateServer::admit_request(double t, double fluid_rate, double u) {
  if (limits_.max_requests_per_s <= 0) return true;
  if (t - window_start_ >= 1.0) {
    window_start_ = std::floor(t);
    window_count_ = 0;
  }
  const double capacity = std::floor(limits_.max_requests_per_s);
  const double room = capacity - static_cast<double>(window_count_) - 1.0;  // other requests that still fit
  if (room < 0) return false;
  const double mean = fluid_rate * (t - window_start_);
  if (mean > 0) {
    // P(Poisson(mean) <= room) = Q(room + 1, mean), the regularized upper
    // gamma. Overflow in Boost's intermediate terms (large room and mean) is
    // not an error here: the policy returns the limit instead of throwing.
    // Far from the boundary the answer is 1 or 0 to double precision (more
    // than 12 standard deviations plus a margin), and the incomplete gamma
    // (costly for a large room) is skipped.
    const double spread = 12.0 * std::sqrt(mean) + 12.0;
    if (room >= mean + spread) {
      // fits: P(Poisson(mean) > room) < 1e-30
    } else if (room <= mean - spread) {
      return false;
    } else {
      using namespace boost::math::policies;
      using Quiet = policy<overflow_error<ignore_error>, underflow_error<ignore_error>>;
      const double p_fits = boost::math::gamma_q(room + 1.0, mean, Quiet());
      if (u > p_fits) return false;
    }
  }
  ++window_count_;
  return true;
}

}  // namespace ota::models
