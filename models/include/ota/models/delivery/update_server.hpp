// update_server.hpp — the update server that polling devices talk to.
//
// Three limits, each optional (0 = unlimited): requests per second (a sliding
// one-second window), concurrent downloads (with a FIFO queue of at most
// queue_limit waiting devices; beyond it requests are refused), and total
// bandwidth, shared equally among the downloads running when one starts (a
// download keeps the rate it started with: cheaper than re-timing every
// transfer at each start and end, and exact when downloads start together).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

class UpdateServer {
 public:
  explicit UpdateServer(const Server& limits) : limits_(limits) {}

  // A request at time t (seconds). `fluid_rate` is the rate (per second) of
  // requests accounted in aggregate, which use the same capacity. True when the
  // request is accepted.
  bool admit_request(double t, double fluid_rate) {
    if (limits_.max_requests_per_s <= 0) return true;
    if (t - window_start_ >= 1.0) {
      window_start_ = t;
      window_count_ = 0;
    }
    const double fluid = fluid_rate * (t - window_start_);
    if (static_cast<double>(window_count_) + fluid + 1.0 > limits_.max_requests_per_s) return false;
    ++window_count_;
    return true;
  }

  enum class Slot : std::uint8_t { Start, Queued, Refused };
  // Asks for a download slot for `device`. Queued devices are handed back by
  // finish_download() in FIFO order.
  Slot request_download(std::uint32_t device) {
    if (limits_.max_concurrent_downloads == 0 || active_ < limits_.max_concurrent_downloads) {
      ++active_;
      return Slot::Start;
    }
    if (queue_.size() < limits_.queue_limit) {
      queue_.push_back(device);
      return Slot::Queued;
    }
    return Slot::Refused;
  }

  // A download ended (any way). Returns the next queued device, which now holds
  // the freed slot, if any.
  std::optional<std::uint32_t> finish_download() {
    if (!queue_.empty()) {
      const std::uint32_t next = queue_.front();
      queue_.pop_front();
      return next;  // the slot passes on: active_ unchanged
    }
    if (active_ > 0) --active_;
    return std::nullopt;
  }

  // The bandwidth share (bit/s) of a download starting now; 0 when unlimited.
  double share_bps() const {
    if (limits_.bandwidth_bps <= 0) return 0;
    return limits_.bandwidth_bps / static_cast<double>(active_ == 0 ? 1 : active_);
  }

  std::uint32_t active_downloads() const { return active_; }
  std::size_t queue_length() const { return queue_.size(); }

 private:
  Server limits_;
  double window_start_ = -1e300;
  std::uint64_t window_count_ = 0;
  std::uint32_t active_ = 0;
  std::deque<std::uint32_t> queue_;
};

}  // namespace ota::models
