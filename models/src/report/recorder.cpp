// recorder.cpp — totals, series, time marks and reports of a run.
#include "ota/models/report/recorder.hpp"

#include <sys/resource.h>

#include <limits>

#include "ota/models/fleet/fleet_model.hpp"
#include <string>

namespace ota::models {

namespace {

std::uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux: kilobytes
}

}  // namespace

RunRecorder::RunRecorder(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, std::uint32_t devices,
                         bool aggregate, const Shard* shard)
    : s_(s), art_(a), seed_(seed), n_(devices), aggregate_(aggregate), shard_(shard) {
  by_link_.resize(s.links.size());
  for (std::size_t l = 0; l < s.links.size(); ++l) by_link_[l].link = s.links[l].name;
  const auto bins = static_cast<std::size_t>(std::ceil(s_.horizon_s / s_.bin_s));
  Series& S = series_;
  S.bin_s = s_.bin_s;
  for (std::size_t i = 0; i < bins; ++i) S.t_s.push_back(static_cast<double>(i) * s_.bin_s);
  for (auto* v : {&S.offered, &S.on_old, &S.on_new, &S.on_none, &S.idle, &S.waiting, &S.downloading, &S.installing,
                  &S.rebooting, &S.updated, &S.rolled_back, &S.bricked, &S.refused, &S.battery_blocked, &S.failures,
                  &S.rollbacks, &S.bricks, &S.battery_deferrals, &S.updates})
    v->assign(bins, 0);
  for (auto* v : {&S.downloads_in_flight_peak, &S.queue_length_peak, &S.requests_per_s, &S.bytes_per_s, &S.crashes,
                  &S.wait_mean_s})
    v->assign(bins, 0.0);
  S.transfers_active.assign(bins, 0);
  wait_sum_.assign(bins, 0.0);
  wait_count_.assign(bins, 0.0);
}

void RunRecorder::advance_slow(double t, double crash_rate) {
  // Crashes of confirmed images, in expectation: the health signal that
  // rollout gates read.
  if (t > health_t_ && crash_rate > 0) {
    double from = health_t_;
    while (from < t) {
      const std::size_t b = bin_of(from);
      const double to = b + 1 >= series_.t_s.size() ? t : std::min(t, static_cast<double>(b + 1) * s_.bin_s);
      const double n = crash_rate * (to - from);
      series_.crashes[b] += n;
      totals_.crashes += n;
      from = to;
    }
  }
  health_t_ = std::max(health_t_, t);
  while (next_snapshot_ < series_.t_s.size() && static_cast<double>(next_snapshot_ + 1) * s_.bin_s <= t)
    snapshot(next_snapshot_++);
}

void RunRecorder::close_bins() {
  while (next_snapshot_ < series_.t_s.size()) snapshot(next_snapshot_++);
}

void RunRecorder::snapshot(std::size_t b) {
  Series& S = series_;
  S.offered[b] = totals_.offered;
  S.on_old[b] = version_count_[0];
  S.on_new[b] = version_count_[1];
  S.on_none[b] = version_count_[2];
  S.idle[b] = count(Phase::Idle);
  S.waiting[b] = count(Phase::Waiting);
  S.downloading[b] = count(Phase::Downloading);
  S.installing[b] = count(Phase::Installing);
  S.rebooting[b] = count(Phase::Rebooting) + count(Phase::TrialRunning);
  S.updated[b] = count(Phase::Updated);
  S.rolled_back[b] = count(Phase::RolledBack);
  S.bricked[b] = count(Phase::Bricked);
  S.refused[b] = count(Phase::Refused);
  S.battery_blocked[b] = count(Phase::BatteryBlocked) + count(Phase::Dead);
  S.transfers_active[b] = active_;
}

void RunRecorder::transfer(const ClassInfo& c, std::uint64_t bytes, double t, bool from_peer) {
  totals_.data_bytes += bytes;
  const double gb = static_cast<double>(bytes) / 1e9;
  if (from_peer) {
    // Neighbour to neighbour over the mesh or LAN: no metered link, no egress.
    totals_.peer_bytes += bytes;
    series_.bytes_per_s[bin_of(t)] += static_cast<double>(bytes) / s_.bin_s;
    return;
  }
  if (c.link->metered) totals_.metered_bytes += bytes;
  const double cost = static_cast<double>(bytes) * c.usd_per_byte;
  totals_.data_cost_usd += cost;
  by_link_[c.link_index].bytes += bytes;
  by_link_[c.link_index].cost_usd += cost;
  if (c.source == Source::Cdn) {
    totals_.edge_bytes += bytes;
    totals_.cdn_cost_usd += gb * s_.delivery.cdn->edges[c.region]->usd_per_gb;
  } else {
    totals_.origin_bytes += bytes;
    totals_.server_egress_cost_usd += gb * s_.server.usd_per_gb;
  }
  series_.bytes_per_s[bin_of(t)] += static_cast<double>(bytes) / s_.bin_s;
}

void RunRecorder::cdn_fill(std::uint64_t bytes) {
  ++totals_.cdn_fills;
  totals_.origin_bytes += bytes;
  totals_.server_egress_cost_usd += static_cast<double>(bytes) * s_.server.usd_per_gb / 1e9;
}

void RunRecorder::learned(bool by_push, double delay) {
  if (by_push) {
    ++totals_.learned_by_push;
    push_delay_s_ += delay;
  } else {
    ++totals_.learned_by_poll;
    poll_delay_s_ += delay;
  }
}

void RunRecorder::confirmed(double t) {
  if (shard_) update_times_.push_back(t);
  series_.updates[bin_of(t)]++;
  const std::uint64_t updated = count(Phase::Updated);
  const double n = static_cast<double>(n_);
  auto mark = [&](std::optional<double>& slot, double share) {
    if (!slot && static_cast<double>(updated) >= std::ceil(share * n)) slot = t;
  };
  mark(totals_.time_to_50pct_s, 0.50);
  mark(totals_.time_to_90pct_s, 0.90);
  mark(totals_.time_to_95pct_s, 0.95);
  mark(totals_.time_to_99pct_s, 0.99);
}

RunReport RunRecorder::report(const RolloutSummary& rollout) const {
  RunReport r;
  r.scenario = s_.name;
  r.release.image_bytes = art_.image_bytes;
  r.release.patch_bytes = art_.patch_bytes;
  r.release.payload_bytes = art_.payload_bytes;
  r.release.delta_from_images = art_.delta_from_files;
  Totals& t = r.totals;
  t = totals_;
  t.devices = n_;
  t.updated = count(Phase::Updated);
  t.rolled_back = count(Phase::RolledBack);
  t.bricked = count(Phase::Bricked);
  t.failed = count(Phase::Refused);
  t.reverted = count(Phase::Reverted);
  t.battery_blocked = count(Phase::BatteryBlocked) + count(Phase::Dead);
  t.in_progress = 0;
  for (const PhaseInfo& p : kPhases)
    if (p.in_progress) t.in_progress += count(p.phase);
  t.service_calls = t.bricked;
  std::vector<bool> used(s_.links.size(), false);
  for (const DeviceClass& c : s_.classes)
    if (c.devices > 0) used[c.link] = true;
  for (std::size_t l = 0; l < s_.links.size(); ++l)
    if (used[l]) t.by_link.push_back(by_link_[l]);
  t.service_cost_usd = static_cast<double>(t.bricked) * s_.prices.service_call_usd;
  t.server_requests = event_requests_ + static_cast<std::uint64_t>(std::llround(idle_requests_));
  if (aggregate_) t.peak_requests_per_s = std::max(t.peak_requests_per_s, peak_idle_rate_);
  if (t.learned_by_push > 0) t.push_delay_mean_s = push_delay_s_ / static_cast<double>(t.learned_by_push);
  if (t.learned_by_poll > 0) t.poll_delay_mean_s = poll_delay_s_ / static_cast<double>(t.learned_by_poll);
  DeliveryTimes* times[] = {&t.origin_times, &t.edge_times, &t.peer_times};
  for (std::size_t k = 0; k < timing_.size(); ++k) {
    times[k]->downloads = timing_[k].wait.count();
    times[k]->wait = timing_[k].wait.summary();
    times[k]->transfer = timing_[k].transfer.summary();
  }
  r.rollout = rollout;
  r.series = series_;
  for (std::size_t b = 0; b < wait_sum_.size(); ++b)
    r.series.wait_mean_s[b] = wait_count_[b] > 0 ? wait_sum_[b] / wait_count_[b] : 0.0;
  r.run.seed = seed_;
  r.run.bytes_per_device = static_cast<double>(bytes_per_device());
  return r;
}

RunReport RunRecorder::finish(const RolloutSummary& rollout, std::uint64_t events, const char* status,
                              double wall_s) {
  if (shard_) {
    shard_time_marks(*shard_);
    shard_delivery_times(*shard_);
  }
  RunReport r = report(rollout);
  if (const Shard* shard = shard_) {
    // Idle requests rounded once for the whole fleet (on shard 0), as one process would.
    std::vector<double> v = {idle_requests_};
    shard->all_sum(v);
    const double idle = shard->first == 0 ? v[0] : 0.0;
    r.totals.server_requests = event_requests_ + static_cast<std::uint64_t>(std::llround(idle));
  }
  std::vector<double> wait_mean = std::move(r.series.wait_mean_s);
  r.series = std::move(series_);
  r.series.wait_mean_s = std::move(wait_mean);
  r.run.events = events;
  r.run.status = status;
  r.run.wall_s = wall_s;
  r.run.peak_rss_bytes = peak_rss_bytes();
  return r;
}

// A sharded run's time marks: the k-th confirmation of the whole fleet, found
// by bisection on time with one collective count per step, then the exact
// time by a collective minimum. Confirmations later undone by a rollback
// still count (unlike the single-process marks, which follow the updated
// count down).
void RunRecorder::shard_time_marks(const Shard& shard) {
  std::sort(update_times_.begin(), update_times_.end());
  const auto fleet = static_cast<double>(s_.devices);
  const auto count_upto = [&](double x) {
    std::vector<double> v = {static_cast<double>(
        std::upper_bound(update_times_.begin(), update_times_.end(), x) - update_times_.begin())};
    shard.all_sum(v);
    return static_cast<std::uint64_t>(std::llround(v[0]));
  };
  const double total = static_cast<double>(count_upto(std::numeric_limits<double>::infinity()));
  const auto mark = [&](std::optional<double>& slot, double share) {
    slot.reset();
    const auto k = static_cast<std::uint64_t>(std::ceil(share * fleet));
    if (total < static_cast<double>(k)) return;
    double lo = 0, hi = s_.horizon_s;  // count(lo) < k <= count(hi)
    if (count_upto(lo) >= k) {
      slot = lo;
      return;
    }
    for (int i = 0; i < 200 && hi - lo > 0; ++i) {
      const double mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      (count_upto(mid) >= k ? hi : lo) = mid;
    }
    // The k-th time is the smallest confirmation in (lo, hi].
    const auto it = std::upper_bound(update_times_.begin(), update_times_.end(), lo);
    std::vector<double> v = {it != update_times_.end() ? -*it : -std::numeric_limits<double>::infinity()};
    shard.all_max(v);
    slot = -v[0];
  };
  mark(totals_.time_to_50pct_s, 0.50);
  mark(totals_.time_to_90pct_s, 0.90);
  mark(totals_.time_to_95pct_s, 0.95);
  mark(totals_.time_to_99pct_s, 0.99);
}

// A sharded run's delivery times and per-bin waits for the whole fleet: every
// shard's histograms and sums added (and maxima taken), so every shard reports
// the fleet's distributions (merge_shard_reports keeps shard 0's).
void RunRecorder::shard_delivery_times(const Shard& shard) {
  for (Timing& k : timing_) {
    for (DurationHistogram* h : {&k.wait, &k.transfer}) {
      std::vector<double> v = h->to_vector();
      shard.all_sum(v);
      h->from_vector(v);
      std::vector<double> m = {h->max()};
      shard.all_max(m);
      h->set_max(m[0]);
    }
  }
  shard.all_sum(wait_sum_);
  shard.all_sum(wait_count_);
}

}  // namespace ota::models
