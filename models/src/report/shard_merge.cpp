// shard_merge.cpp — the whole-fleet report from the shards' reports.
#include <algorithm>

#include "ota/models/report/report.hpp"

namespace ota::models {

RunReport merge_shard_reports(const std::vector<RunReport>& parts) {
  if (parts.empty()) return {};
  RunReport r = parts.front();
  Totals& t = r.totals;
  double push_delay = t.push_delay_mean_s.value_or(0) * static_cast<double>(t.learned_by_push);
  double poll_delay = t.poll_delay_mean_s.value_or(0) * static_cast<double>(t.learned_by_poll);
  const auto add = [](auto& into, const auto& from) {
    for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) into[i] += from[i];
  };
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const Totals& o = parts[k].totals;
    for (auto f : {&Totals::devices, &Totals::offered, &Totals::exposed, &Totals::withdrawn, &Totals::updated,
                   &Totals::failed, &Totals::gave_up, &Totals::timed_out, &Totals::rolled_back, &Totals::bricked,
                   &Totals::in_progress, &Totals::deferred_battery, &Totals::battery_blocked, &Totals::recovery_boots,
                   &Totals::power_losses, &Totals::transfer_drops, &Totals::digest_rejections,
                   &Totals::signature_rejections, &Totals::trial_boot_failures, &Totals::server_requests,
                   &Totals::refused_requests, &Totals::data_bytes, &Totals::metered_bytes, &Totals::origin_bytes,
                   &Totals::edge_bytes, &Totals::peer_bytes, &Totals::cdn_fills, &Totals::learned_by_push,
                   &Totals::learned_by_poll, &Totals::p2p_seeds, &Totals::p2p_fallbacks, &Totals::p2p_malicious_peers,
                   &Totals::p2p_rejected_transfers, &Totals::p2p_wasted_bytes, &Totals::tampered_installs,
                   &Totals::reverted, &Totals::revert_refused, &Totals::service_calls})
      t.*f += o.*f;
    for (auto f : {&Totals::crashes, &Totals::peak_requests_per_s, &Totals::data_cost_usd,
                   &Totals::server_egress_cost_usd, &Totals::cdn_cost_usd, &Totals::p2p_wasted_energy_j,
                   &Totals::energy_j, &Totals::energy_mah, &Totals::service_cost_usd})
      t.*f += o.*f;
    for (const LinkTotals& l : o.by_link) {
      auto it = std::find_if(t.by_link.begin(), t.by_link.end(), [&](const LinkTotals& x) { return x.link == l.link; });
      if (it == t.by_link.end()) {
        t.by_link.push_back(l);
      } else {
        it->bytes += l.bytes;
        it->cost_usd += l.cost_usd;
      }
    }
    push_delay += o.push_delay_mean_s.value_or(0) * static_cast<double>(o.learned_by_push);
    poll_delay += o.poll_delay_mean_s.value_or(0) * static_cast<double>(o.learned_by_poll);
    Series& S = r.series;
    const Series& O = parts[k].series;
    for (auto f : {&Series::offered, &Series::on_old, &Series::on_new, &Series::on_none, &Series::idle,
                   &Series::waiting, &Series::downloading, &Series::installing, &Series::rebooting, &Series::updated,
                   &Series::rolled_back, &Series::bricked, &Series::refused, &Series::battery_blocked,
                   &Series::failures, &Series::rollbacks, &Series::bricks, &Series::battery_deferrals, &Series::transfers_active,
                   &Series::updates})
      add(S.*f, O.*f);
    for (auto f : {&Series::downloads_in_flight_peak, &Series::queue_length_peak, &Series::requests_per_s,
                   &Series::bytes_per_s, &Series::crashes})
      add(S.*f, O.*f);
    r.run.events += parts[k].run.events;
    r.run.wall_s = std::max(r.run.wall_s, parts[k].run.wall_s);
    r.run.peak_rss_bytes += parts[k].run.peak_rss_bytes;
  }
  t.push_delay_mean_s.reset();
  t.poll_delay_mean_s.reset();
  if (t.learned_by_push > 0) t.push_delay_mean_s = push_delay / static_cast<double>(t.learned_by_push);
  if (t.learned_by_poll > 0) t.poll_delay_mean_s = poll_delay / static_cast<double>(t.learned_by_poll);
  return r;
}

}  // namespace ota::models
