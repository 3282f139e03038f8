// update_server.hpp — the update server that polling devices talk to.
//
// Two limits of its own, each optional (0 = unlimited):
//  - requests per second, counted in tumbling one-second windows; idle polls
//    accounted in aggregate use the same capacity (their expected rate);
//  - concurrent downloads: a FIFO slot limit, what a real server's connection
//    pool is. A device that cannot get a slot waits in a FIFO queue of at most
//    queue_limit devices (0 = no limit); beyond it the request is refused and
//    the device backs off.
// Its bandwidth (Server::bandwidth_bps) is not granted here: the downloads
// holding a slot share it max-min fairly (fair_share.hpp), so a download
// starts whenever it gets a slot, and its rate changes as others start and end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

class UpdateServer {
 public:
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
    double rate_bps = 0;  // for Start: the device's own link rate (its cap)
  };
  struct Started {
    std::uint32_t device;
    double rate_bps;  // the device's own link rate
    double since;     // when the device asked (request_download's `since`)
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
  std::vector<Started> finish_download(std::uint32_t /*device*/) {
    if (active_ > 0) --active_;
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
  const Server& limits() const { return limits_; }

 private:
  std::optional<double> try_start(std::uint32_t /*device*/, double link_bps) {
    if (limits_.max_concurrent_downloads != 0 && active_ >= limits_.max_concurrent_downloads) return std::nullopt;
    ++active_;
    return link_bps;
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
  std::deque<Waiting> queue_;
};

}  // namespace ota::models
