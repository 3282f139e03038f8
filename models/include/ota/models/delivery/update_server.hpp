// update_server.hpp — the update server that polling devices talk to.
//
// Three limits, each optional (0 = unlimited):
//  - requests per second, counted in tumbling one-second windows; idle polls
//    accounted in aggregate use the same capacity (their expected rate);
//  - concurrent downloads;
//  - total bandwidth. A download starting now gets min(its link rate, the
//    bandwidth not yet granted) and keeps it to the end, so the granted total
//    never exceeds the limit. (Not work-conserving: a download does not speed
//    up when others finish. Exact processor sharing would re-time every
//    transfer at every start and end.) A download starts only if it can get
//    its link rate or at least 1 % of the server's bandwidth.
// A device that cannot start waits in a FIFO queue of at most queue_limit
// devices (0 = no limit); beyond it the request is refused and the device
// backs off.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

class UpdateServer {
 public:
  static constexpr double kMinShare = 0.01;

  explicit UpdateServer(const Server& limits) : limits_(limits) {}

  // A request at time t (seconds). `fluid_rate` is the rate of idle polls
  // accounted in aggregate; how many of them fell in this window so far is
  // Poisson with mean fluid_rate x (time into the window), and `u` (uniform in
  // (0,1), from the caller's random stream) decides whether they left room.
  // True when accepted.
  bool admit_request(double t, double fluid_rate = 0, double u = 0.5);

  enum class Slot : std::uint8_t { Start, Queued, Refused };
  struct Grant {
    Slot slot = Slot::Refused;
    double rate_bps = 0;  // for Start: the rate this download runs at
  };
  struct Started {
    std::uint32_t device;
    double rate_bps;
    double since;  // when the device asked (request_download's `since`)
  };

  // Asks for a download for `device`, whose link can take `link_bps`;
  // `since`: when the device asked for it (kept with it in the queue).
  Grant request_download(std::uint32_t device, double link_bps, double since = 0) {
    if (queue_.empty()) {
      if (auto rate = try_start(device, link_bps)) return {Slot::Start, *rate};
    }
    if (limits_.queue_limit == 0 || queue_.size() < limits_.queue_limit) {
      queue_.push_back({device, link_bps, since});
      return {Slot::Queued, 0};
    }
    return {Slot::Refused, 0};
  }

  // `device`'s download ended (any way). Returns the queued devices that start
  // now, in queue order, with their rates.
  std::vector<Started> finish_download(std::uint32_t device) {
    if (active_ > 0) --active_;
    if (limits_.bandwidth_bps > 0) {
      auto it = granted_.find(device);
      if (it != granted_.end()) {
        granted_total_ -= it->second;
        granted_.erase(it);
      }
      if (granted_.empty()) granted_total_ = 0;  // no drift from rounding
    }
    std::vector<Started> started;
    while (!queue_.empty()) {
      const auto [next, link, since] = queue_.front();
      const auto rate = try_start(next, link);
      if (!rate) break;
      queue_.pop_front();
      started.push_back({next, *rate, since});
    }
    return started;
  }

  std::uint32_t active_downloads() const { return active_; }
  std::size_t queue_length() const { return queue_.size(); }
  double granted_bps() const { return granted_total_; }

 private:
  std::optional<double> try_start(std::uint32_t device, double link_bps) {
    if (limits_.max_concurrent_downloads != 0 && active_ >= limits_.max_concurrent_downloads) return std::nullopt;
    double rate = link_bps;
    if (limits_.bandwidth_bps > 0) {
      const double free_bps = limits_.bandwidth_bps - granted_total_;
      if (free_bps < std::min(link_bps, kMinShare * limits_.bandwidth_bps)) return std::nullopt;
      rate = std::min(link_bps, free_bps);
      granted_total_ += rate;
      granted_[device] = rate;  // looked up by key only: iteration order never matters
    }
    ++active_;
    return rate;
  }

  struct Waiting {
    std::uint32_t device;
    double link_bps;
    double since;
  };
  Server limits_;
  double window_start_ = -1e300;
  std::uint64_t window_count_ = 0;
  std::uint32_t active_ = 0;
  double granted_total_ = 0;
  std::unordered_map<std::uint32_t, double> granted_;
  std::deque<Waiting> queue_;
};

}  // namespace ota::models
