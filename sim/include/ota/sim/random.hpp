// random.hpp — counter-based random streams.
//
// A draw is a pure function of (seed, stream id, draw counter): Philox4x32-10
// (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11) with the
// seed as key and (counter, stream) as the 128-bit counter block. Give each
// device its own stream id and keep its draw counter with its state, and the
// device's randomness no longer depends on the order in which events run, on
// thread count or on process count. One draw consumes one counter value.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace ota::sim {

// Philox4x32-10 block function. Checked against the Random123 known answers.
// Inline: it runs for every draw of every simulated device.
inline std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> c,
                                                  std::array<std::uint32_t, 2> k) {
  constexpr std::uint32_t kM0 = 0xD2511F53;
  constexpr std::uint32_t kM1 = 0xCD9E8D57;
  constexpr std::uint32_t kW0 = 0x9E3779B9;  // golden ratio
  constexpr std::uint32_t kW1 = 0xBB67AE85;  // sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += kW0;
      k[1] += kW1;
    }
    const std::uint64_t p0 = std::uint64_t{kM0} * c[0];
    const std::uint64_t p1 = std::uint64_t{kM1} * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
  }
  return c;
}

// 128 random bits for (seed, stream, counter), as two 64-bit words.
struct RandomBits {
  std::uint64_t lo;
  std::uint64_t hi;
};
inline RandomBits random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  const auto out = philox4x32_10(
      {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
       static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)},
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  return {out[0] | (std::uint64_t{out[1]} << 32), out[2] | (std::uint64_t{out[3]} << 32)};
}

// Uniform in the open interval (0, 1) from the top 53 bits: never 0 or 1, so
// log() and division are always safe.
inline double to_unit_open(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53;
}

// A cursor over one stream. Cheap to create (a view of three integers): a model
// may rebuild it from a device's stored counter at every event.
class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter = 0)
      : seed_(seed), stream_(stream), counter_(counter) {}

  std::uint64_t counter() const { return counter_; }
  std::uint64_t stream() const { return stream_; }

  std::uint64_t next_u64() { return random_bits(seed_, stream_, counter_++).lo; }
  // U(0,1), open at both ends.
  double uniform() { return to_unit_open(next_u64()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Integer in [0, n) for n >= 1 (multiply-shift; bias below n / 2^64).
  std::uint64_t uniform_int(std::uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<U128>(next_u64()) * n) >> 64);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Exponential with the given mean (not rate).
  double exponential(double mean) { return -mean * std::log(uniform()); }
  // Normal by Box–Muller on the two halves of one block: one counter per draw.
  double normal(double mean, double stddev) {
    const RandomBits b = random_bits(seed_, stream_, counter_++);
    const double u1 = to_unit_open(b.lo);
    const double u2 = to_unit_open(b.hi);
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // exp(N(mu, sigma)): mu and sigma are of the underlying normal.
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  // Weibull with shape k and scale lambda, by inversion.
  double weibull(double shape, double scale) {
    return scale * std::pow(-std::log(uniform()), 1.0 / shape);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t stream_;
  std::uint64_t counter_;
};

}  // namespace ota::sim
