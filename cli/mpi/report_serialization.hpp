// report_serialization.hpp — Boost.Serialization of RunReport, so that
// otasim-mpi can move reports between ranks. Binary archives carry doubles
// bit for bit. `otasim-mpi self-test` checks that a report survives the round
// trip with report_json unchanged, which catches a field left out here.
#pragma once

#include <optional>

#include <boost/serialization/split_free.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "ota/models/report/report.hpp"

namespace boost::serialization {

// std::optional (Boost 1.74 serializes boost::optional only): a flag, then the value.
template <class A, class T>
void save(A& a, const std::optional<T>& o, unsigned) {
  const bool has = o.has_value();
  a << has;
  if (has) a << *o;
}
template <class A, class T>
void load(A& a, std::optional<T>& o, unsigned) {
  bool has = false;
  a >> has;
  if (!has) {
    o.reset();
    return;
  }
  T v{};
  a >> v;
  o = v;
}
template <class A, class T>
void serialize(A& a, std::optional<T>& o, unsigned version) {
  split_free(a, o, version);
}

template <class A>
void serialize(A& a, ota::models::LinkTotals& l, unsigned) {
  a & l.link & l.bytes & l.cost_usd;
}

template <class A>
void serialize(A& a, ota::models::DurationSummary& d, unsigned) {
  a & d.mean_s & d.p50_s & d.p95_s & d.p99_s & d.max_s;
}

template <class A>
void serialize(A& a, ota::models::DeliveryTimes& d, unsigned) {
  a & d.downloads & d.wait & d.transfer;
}

template <class A>
void serialize(A& a, ota::models::Totals& t, unsigned) {
  a & t.devices & t.offered & t.exposed & t.withdrawn & t.updated & t.failed & t.gave_up & t.timed_out;
  a & t.rolled_back & t.bricked & t.in_progress & t.deferred_battery & t.battery_blocked & t.recovery_boots;
  a & t.power_losses & t.transfer_drops & t.digest_rejections & t.signature_rejections & t.trial_boot_failures;
  a & t.crashes & t.server_requests & t.peak_requests_per_s & t.refused_requests & t.data_bytes & t.metered_bytes;
  a & t.data_cost_usd & t.by_link & t.server_egress_cost_usd & t.cdn_cost_usd;
  a & t.origin_bytes & t.edge_bytes & t.peer_bytes & t.cdn_fills & t.learned_by_push & t.learned_by_poll;
  a & t.push_delay_mean_s & t.poll_delay_mean_s & t.p2p_seeds & t.p2p_fallbacks & t.p2p_malicious_peers;
  a & t.p2p_rejected_transfers & t.p2p_wasted_bytes & t.p2p_wasted_energy_j & t.tampered_installs;
  a & t.origin_times & t.edge_times & t.peer_times;
  a & t.energy_j & t.energy_mah & t.reverted & t.revert_refused & t.service_calls & t.service_cost_usd;
  a & t.time_to_50pct_s & t.time_to_90pct_s & t.time_to_95pct_s & t.time_to_99pct_s;
}

template <class A>
void serialize(A& a, ota::models::Series& s, unsigned) {
  a & s.bin_s & s.t_s & s.offered & s.on_old & s.on_new & s.on_none;
  a & s.idle & s.waiting & s.downloading & s.installing & s.rebooting & s.updated & s.rolled_back & s.bricked;
  a & s.refused & s.battery_blocked & s.downloads_in_flight_peak & s.queue_length_peak;
  a & s.requests_per_s & s.bytes_per_s & s.failures & s.rollbacks & s.bricks & s.battery_deferrals & s.updates;
  a & s.crashes & s.wait_mean_s & s.transfers_active;
}

template <class A>
void serialize(A& a, ota::models::RolloutEvent& e, unsigned) {
  a & e.t_s & e.stage & e.kind & e.reason & e.offered & e.reports & e.failures & e.rollbacks & e.crashes;
  a & e.exposure_days;
}

template <class A>
void serialize(A& a, ota::models::RolloutSummary& r, unsigned) {
  a & r.state & r.stages_opened & r.stopped_at_s & r.events;
}

template <class A>
void serialize(A& a, ota::models::RunInfo& r, unsigned) {
  a & r.seed & r.events & r.wall_s & r.bytes_per_device & r.peak_rss_bytes & r.status;
}

template <class A>
void serialize(A& a, ota::models::ReleaseInfo& r, unsigned) {
  a & r.image_bytes & r.patch_bytes & r.payload_bytes & r.delta_from_images;
}

template <class A>
void serialize(A& a, ota::models::RunReport& r, unsigned) {
  a & r.scenario & r.release & r.totals & r.rollout & r.series & r.run;
}

}  // namespace boost::serialization
