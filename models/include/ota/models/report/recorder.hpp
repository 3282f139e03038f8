// recorder.hpp — the run recorder: what a run found, as it goes.
//
// Owns: the totals, the time series (levels snapshotted at each bin end,
// events counted in their bin), the devices per phase and per running
// version, the time marks (time to 50/90/95/99 % updated), data and cost per
// link profile, the busiest second of requests, and the report built from
// them: partial (for the GUI's live plots) or final, and a sharded run's
// time marks across shards.
// Decides: nothing. It observes what the lifecycle, the delivery network and
// the rollout controller tell it.
// Never: feeds back into the model; nothing the model decides reads it.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "ota/models/delivery/update_server.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/device.hpp"
#include "ota/models/fleet/device_class.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/models/shard.hpp"

namespace ota::models {

class RunRecorder {
 public:
  // `devices`: the devices this model simulates (a shard's, or the fleet);
  // `aggregate`: idle polls are accounted in aggregate (IdlePollCalendar);
  // `shard`: this model's shard, or nullptr.
  RunRecorder(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, std::uint32_t devices, bool aggregate,
              const Shard* shard);

  Totals& totals() { return totals_; }
  std::size_t bin_of(double t) const {
    const auto i = static_cast<std::size_t>(std::max(0.0, t) / s_.bin_s);
    return std::min(i, series_.t_s.empty() ? 0 : series_.t_s.size() - 1);
  }

  // Levels: devices per phase and per running version.
  void add_device(Phase p, RunningVersion v) {
    ++phase_count_[static_cast<std::size_t>(p)];
    ++version_count_[static_cast<std::size_t>(v)];
  }
  void phase_changed(Phase from, Phase to) {
    --phase_count_[static_cast<std::size_t>(from)];
    ++phase_count_[static_cast<std::size_t>(to)];
  }
  void version_changed(RunningVersion from, RunningVersion to) {
    --version_count_[static_cast<std::size_t>(from)];
    ++version_count_[static_cast<std::size_t>(to)];
  }
  std::uint64_t count(Phase p) const { return phase_count_[static_cast<std::size_t>(p)]; }

  // Events counted in their time bin.
  void failure(double t) { series_.failures[bin_of(t)]++; }
  void rollback(double t) { series_.rollbacks[bin_of(t)]++; }
  void brick(double t) { series_.bricks[bin_of(t)]++; }
  void battery_deferral(double t) { series_.battery_deferrals[bin_of(t)]++; }
  void trial_crash(double t) {
    series_.crashes[bin_of(t)] += 1;
    totals_.crashes += 1;
  }

  // A request that is an event (a device's poll). `idle_rate()` gives the
  // aggregate idle polls' rate now (asked once per second of requests).
  template <class IdleRate>
  void request(double t, IdleRate&& idle_rate) {
    ++event_requests_;
    series_.requests_per_s[bin_of(t)] += 1.0 / s_.bin_s;
    // Peak requests per second: requests that are events, counted per whole
    // second, plus the aggregate idle polls' rate at that time.
    const double second = std::floor(t);
    if (!request_second_ || second != *request_second_) {
      request_second_ = second;
      requests_this_second_ = aggregate_ ? idle_rate() : 0.0;
    }
    requests_this_second_ += 1;
    totals_.peak_requests_per_s = std::max(totals_.peak_requests_per_s, requests_this_second_);
  }
  void idle_polls(double when, double polls) {
    if (when >= s_.horizon_s) return;
    series_.requests_per_s[bin_of(when)] += polls / s_.bin_s;
    idle_requests_ += polls;
  }
  void idle_rate(double rate) { peak_idle_rate_ = std::max(peak_idle_rate_, rate); }

  // Up to time t: crashes of confirmed images in expectation (the sum of their
  // rates, per second), and the levels at every bin end passed.
  void advance(double t, double crash_rate_per_s) {
    if ((t > health_t_ && crash_rate_per_s > 0) ||
        (next_snapshot_ < series_.t_s.size() && static_cast<double>(next_snapshot_ + 1) * s_.bin_s <= t))
      advance_slow(t, crash_rate_per_s);
    else
      health_t_ = std::max(health_t_, t);
  }
  // Snapshots every remaining bin (the run ended).
  void close_bins();
  // Downloads in flight and queue length at the origin, peaks per bin.
  void observe_server(double t, const UpdateServer& origin) {
    const std::size_t b = bin_of(t);
    series_.downloads_in_flight_peak[b] =
        std::max(series_.downloads_in_flight_peak[b], static_cast<double>(origin.active_downloads()));
    series_.queue_length_peak[b] = std::max(series_.queue_length_peak[b], static_cast<double>(origin.queue_length()));
  }

  // Bytes a device of class `c` received at t: from a neighbour (no metered
  // link, no egress), its region's CDN edge or the origin.
  void transfer(const ClassInfo& c, std::uint64_t bytes, double t, bool from_peer);
  // An edge fetched `bytes` from the origin.
  void cdn_fill(std::uint64_t bytes);
  // Energy an update activity used; battery devices also in mAh.
  void energy(double joules, const Battery* battery) {
    totals_.energy_j += joules;
    if (battery) totals_.energy_mah += joules / (3.6 * battery->voltage_v);
  }
  // Where a download comes from, for its delivery times.
  enum class From : std::uint8_t { Origin, Edge, Peer };
  // A download's first byte at t, `wait_s` after the device asked for it;
  // `transfer_s` when it will complete (not cut by a drop or power loss).
  void download_started(From from, double t, double wait_s, std::optional<double> transfer_s) {
    Timing& k = timing_[static_cast<std::size_t>(from)];
    k.wait.add(wait_s);
    if (transfer_s) k.transfer.add(*transfer_s);
    const std::size_t b = bin_of(t);
    wait_sum_[b] += wait_s;
    wait_count_[b] += 1;
    ++active_;
  }
  // A download on a shared link completed after `transfer_s`.
  void transfer_time(From from, double transfer_s) { timing_[static_cast<std::size_t>(from)].transfer.add(transfer_s); }
  // A download ended (completed or cut).
  void download_ended() { --active_; }

  // A device's first check-in for the release, `delay` after its offer.
  void learned(bool by_push, double delay);
  // A device confirmed the new image at t: the time marks.
  void confirmed(double t);

  // The report as it stands: totals now, the series up to the last closed
  // bin (the rest zero).
  RunReport report(const RolloutSummary& rollout) const;
  // The final report (after close_bins): with the series, the kernel's
  // figures and, for a shard, the fleet-wide time marks and idle polls.
  RunReport finish(const RolloutSummary& rollout, std::uint64_t events, const char* status, double wall_s);

 private:
  struct Timing {
    DurationHistogram wait, transfer;
  };
  void advance_slow(double t, double crash_rate_per_s);
  void shard_delivery_times(const Shard& shard);
  void snapshot(std::size_t bin);
  void shard_time_marks(const Shard& shard);

  const Scenario& s_;
  const ReleaseArtifacts& art_;
  std::uint64_t seed_;
  std::uint32_t n_;  // devices this model simulates
  bool aggregate_;
  const Shard* shard_;
  Totals totals_;
  Series series_;
  std::vector<LinkTotals> by_link_;  // per link profile index
  std::array<std::uint64_t, kPhaseCount> phase_count_{};
  std::array<std::uint64_t, kRunningVersionCount> version_count_{};
  std::size_t next_snapshot_ = 0;
  double health_t_ = 0;                // crashes in expectation are counted up to here
  std::optional<double> request_second_;  // peak request rate: the current second
  double requests_this_second_ = 0;
  double peak_idle_rate_ = 0;
  double idle_requests_ = 0;
  std::uint64_t event_requests_ = 0;
  double push_delay_s_ = 0, poll_delay_s_ = 0;  // sums, offer to first check-in
  std::vector<double> update_times_;   // sharded runs: this shard's confirmations, for the time marks
  std::array<Timing, 3> timing_;       // per From
  std::vector<double> wait_sum_, wait_count_;  // per bin
  std::uint64_t active_ = 0;           // downloads in flight
};

}  // namespace ota::models
