// metrics.cpp — the metric table: one row per name, in the documented order.
#include "ota/models/report/metrics.hpp"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ota::models {

namespace {

using Extract = double (*)(const RunReport&);

struct MetricRow {
  const char* name;
  const char* description;
  Extract value;
};

constexpr double kInf = std::numeric_limits<double>::infinity();

double count(std::uint64_t n) { return static_cast<double>(n); }

// Over the fleet size. The loader guarantees at least one device; a report
// without devices has nothing exposed, so its shares are 0.
double share(std::uint64_t n, const RunReport& r) {
  return r.totals.devices == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(r.totals.devices);
}

double hours_or_inf(const std::optional<double>& s) { return s ? *s / 3600.0 : kInf; }

double flag(bool b) { return b ? 1.0 : 0.0; }

// Captureless lambdas, so the table is plain data.
#define OTA_COUNT(field, text) \
  MetricRow { #field, text, [](const RunReport& r) { return count(r.totals.field); } }
#define OTA_AMOUNT(field, text) \
  MetricRow { #field, text, [](const RunReport& r) { return r.totals.field; } }
#define OTA_SHARE(name, field, text) \
  MetricRow { name, text, [](const RunReport& r) { return share(r.totals.field, r); } }
#define OTA_TIME(name, field, text) \
  MetricRow { name, text, [](const RunReport& r) { return hours_or_inf(r.totals.field); } }

#define OTA_DOWNLOADS(from, text) \
  MetricRow { #from "_downloads", text, [](const RunReport& r) { return count(r.totals.from##_times.downloads); } }
#define OTA_DELIVERY(from, what, stat, text) \
  MetricRow { #from "_" #what "_" #stat "_s", text, [](const RunReport& r) { return r.totals.from##_times.what.stat##_s; } }

const std::vector<MetricRow>& table() {
  static const std::vector<MetricRow> rows = {
      OTA_COUNT(devices, "fleet size"),
      OTA_COUNT(offered, "devices whose stage opened"),
      OTA_COUNT(exposed, "devices that booted the new image at least once"),
      OTA_COUNT(withdrawn, "offered devices not yet started when the rollout stopped"),
      OTA_COUNT(updated, "devices confirmed on the new version at the end"),
      OTA_COUNT(failed, "devices refused by the verifier or that gave up after max_attempts"),
      OTA_COUNT(gave_up, "of failed: gave up after max_attempts failed attempts"),
      OTA_COUNT(timed_out, "devices with no report within the device timeout"),
      OTA_COUNT(rolled_back, "devices whose agent rolled back to the old image"),
      OTA_COUNT(bricked, "devices with nothing bootable"),
      OTA_COUNT(in_progress, "devices still mid-update at the horizon"),
      OTA_COUNT(deferred_battery, "update starts deferred for battery (events)"),
      OTA_COUNT(battery_blocked, "devices that could never gather the energy to update"),
      OTA_COUNT(recovery_boots, "boots into recovery"),
      OTA_COUNT(power_losses, "power losses during update activity"),
      OTA_COUNT(transfer_drops, "dropped transfers"),
      OTA_COUNT(digest_rejections, "corrupted transfers caught by the agent"),
      OTA_COUNT(signature_rejections, "tampered transfers caught by the agent"),
      OTA_COUNT(trial_boot_failures, "failed trial boots of the new image"),
      OTA_AMOUNT(crashes, "crashes of the new image (trial crashes plus expected crashes on confirmed devices)"),
      OTA_COUNT(server_requests, "server requests, idle polls included"),
      OTA_COUNT(refused_requests, "requests refused over the rate limit or the download queue"),
      OTA_COUNT(data_bytes, "bytes downloaded by devices, all attempts"),
      OTA_COUNT(metered_bytes, "of data_bytes: over metered (cellular) links"),
      OTA_AMOUNT(data_cost_usd, "cost of metered data, USD"),
      OTA_AMOUNT(server_egress_cost_usd, "server egress cost, USD"),
      OTA_AMOUNT(cdn_cost_usd, "CDN edge egress cost, USD"),
      OTA_AMOUNT(peak_requests_per_s, "requests in the busiest second (aggregate idle polls at their rate)"),
      OTA_COUNT(origin_bytes, "bytes served by the origin (device downloads and CDN cache fills)"),
      OTA_COUNT(edge_bytes, "bytes served by CDN edges"),
      OTA_COUNT(peer_bytes, "bytes served by peers (P2P)"),
      OTA_COUNT(cdn_fills, "artifacts fetched by a CDN edge from the origin"),
      OTA_COUNT(learned_by_push, "devices whose first check-in for the release followed a push notification"),
      OTA_COUNT(learned_by_poll, "devices whose first check-in for the release was their own poll"),
      MetricRow{"push_delay_mean_s", "mean seconds from offer to first check-in, devices reached by push; +inf if none",
                [](const RunReport& r) { return r.totals.push_delay_mean_s.value_or(kInf); }},
      MetricRow{"poll_delay_mean_s", "mean seconds from offer to first check-in, devices that learned by poll; +inf if none",
                [](const RunReport& r) { return r.totals.poll_delay_mean_s.value_or(kInf); }},
      OTA_COUNT(p2p_seeds, "P2P neighbourhoods' first downloads from the origin"),
      OTA_COUNT(p2p_fallbacks, "P2P devices that gave up waiting for a peer and used the origin"),
      OTA_COUNT(p2p_malicious_peers, "hostile peers in the fleet"),
      OTA_COUNT(p2p_rejected_transfers, "tampered images from hostile peers rejected by the agent"),
      OTA_COUNT(p2p_wasted_bytes, "bytes of those rejected transfers"),
      OTA_AMOUNT(p2p_wasted_energy_j, "energy of those rejected transfers, J"),
      OTA_DOWNLOADS(origin, "downloads started from the origin"),
      OTA_DELIVERY(origin, wait, mean, "mean queue wait (request to first byte) of downloads from the origin, s"),
      OTA_DELIVERY(origin, wait, p95, "95th percentile of the queue wait (request to first byte) of downloads from the origin, s"),
      OTA_DELIVERY(origin, wait, p99, "99th percentile of the queue wait (request to first byte) of downloads from the origin, s"),
      OTA_DELIVERY(origin, wait, max, "longest queue wait (request to first byte) of downloads from the origin, s"),
      OTA_DELIVERY(origin, transfer, mean, "mean transfer time (first byte to last) of completed downloads from the origin, s"),
      OTA_DELIVERY(origin, transfer, p95, "95th percentile of the transfer time (first byte to last) of completed downloads from the origin, s"),
      OTA_DOWNLOADS(edge, "downloads started from CDN edges"),
      OTA_DELIVERY(edge, wait, mean, "mean queue wait (request to first byte) of downloads from CDN edges, s"),
      OTA_DELIVERY(edge, wait, p95, "95th percentile of the queue wait (request to first byte) of downloads from CDN edges, s"),
      OTA_DELIVERY(edge, wait, p99, "99th percentile of the queue wait (request to first byte) of downloads from CDN edges, s"),
      OTA_DELIVERY(edge, wait, max, "longest queue wait (request to first byte) of downloads from CDN edges, s"),
      OTA_DELIVERY(edge, transfer, mean, "mean transfer time (first byte to last) of completed downloads from CDN edges, s"),
      OTA_DELIVERY(edge, transfer, p95, "95th percentile of the transfer time (first byte to last) of completed downloads from CDN edges, s"),
      OTA_DOWNLOADS(peer, "downloads started from peers"),
      OTA_DELIVERY(peer, wait, mean, "mean queue wait (request to first byte) of downloads from peers, s"),
      OTA_DELIVERY(peer, wait, p95, "95th percentile of the queue wait (request to first byte) of downloads from peers, s"),
      OTA_DELIVERY(peer, wait, p99, "99th percentile of the queue wait (request to first byte) of downloads from peers, s"),
      OTA_DELIVERY(peer, wait, max, "longest queue wait (request to first byte) of downloads from peers, s"),
      OTA_DELIVERY(peer, transfer, mean, "mean transfer time (first byte to last) of completed downloads from peers, s"),
      OTA_DELIVERY(peer, transfer, p95, "95th percentile of the transfer time (first byte to last) of completed downloads from peers, s"),
      OTA_COUNT(tampered_installs, "tampered images the agent accepted (must be 0)"),
      OTA_AMOUNT(energy_j, "update-related energy, all devices, J"),
      OTA_AMOUNT(energy_mah, "update-related energy on battery devices, mAh"),
      OTA_COUNT(reverted, "devices that reinstalled the previous release after a gate's rollback"),
      OTA_COUNT(revert_refused, "devices whose agent refused the previous release (anti-rollback counter)"),
      OTA_COUNT(service_calls, "service calls (one per bricked device)"),
      OTA_AMOUNT(service_cost_usd, "cost of service calls, USD"),
      OTA_SHARE("updated_share", updated, "updated / devices"),
      OTA_SHARE("exposed_share", exposed, "exposed / devices"),
      OTA_SHARE("rolled_back_share", rolled_back, "rolled_back / devices"),
      OTA_SHARE("bricked_share", bricked, "bricked / devices"),
      OTA_SHARE("failed_share", failed, "failed / devices"),
      OTA_TIME("time_to_50pct_h", time_to_50pct_s, "hours until 50 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_90pct_h", time_to_90pct_s, "hours until 90 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_95pct_h", time_to_95pct_s, "hours until 95 % of the fleet is updated; +inf if never"),
      OTA_TIME("time_to_99pct_h", time_to_99pct_s, "hours until 99 % of the fleet is updated; +inf if never"),
      MetricRow{"stages_opened", "rollout stages opened",
                [](const RunReport& r) { return static_cast<double>(r.rollout.stages_opened); }},
      MetricRow{"stopped", "1 if the rollout was paused, aborted or rolled back, else 0",
                [](const RunReport& r) { return flag(r.rollout.stopped_at_s.has_value()); }},
      MetricRow{"stopped_at_h", "hours until the rollout first stopped; +inf if it never did",
                [](const RunReport& r) { return hours_or_inf(r.rollout.stopped_at_s); }},
      MetricRow{"aborted", "1 if the rollout ended aborted or rolled back, else 0",
                [](const RunReport& r) {
                  return flag(r.rollout.state == "aborted" || r.rollout.state == "rolled_back");
                }},
      MetricRow{"paused", "1 if the rollout ended paused, else 0",
                [](const RunReport& r) { return flag(r.rollout.state == "paused"); }},
      MetricRow{"completed", "1 if the rollout completed, else 0",
                [](const RunReport& r) { return flag(r.rollout.state == "completed"); }},
      MetricRow{"total_cost_usd", "data_cost_usd + server_egress_cost_usd + cdn_cost_usd + service_cost_usd",
                [](const RunReport& r) {
                  const Totals& t = r.totals;
                  return t.data_cost_usd + t.server_egress_cost_usd + t.cdn_cost_usd + t.service_cost_usd;
                }},
  };
  return rows;
}

#undef OTA_COUNT
#undef OTA_AMOUNT
#undef OTA_SHARE
#undef OTA_TIME

const std::unordered_map<std::string_view, Extract>& index() {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, Extract> m;
    for (const MetricRow& row : table()) m.emplace(row.name, row.value);
    return m;
  }();
  return by_name;
}

}  // namespace

const std::vector<MetricInfo>& metrics() {
  static const std::vector<MetricInfo> infos = [] {
    std::vector<MetricInfo> v;
    v.reserve(table().size());
    for (const MetricRow& row : table()) v.push_back(MetricInfo{row.name, row.description});
    return v;
  }();
  return infos;
}

const std::vector<std::string>& metric_groups() {
  static const std::vector<std::string> groups = {"Outcome", "Time", "Cost", "Delivery", "Rollout"};
  return groups;
}

MetricPresentation metric_presentation(std::string_view name_view) {
  const std::string name(name_view);
  auto in = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (name == n) return true;
    return false;
  };
  auto starts = [&](const char* prefix) { return name.starts_with(prefix); };
  MetricPresentation p;
  // The unit, from the name's suffix; the label is the rest, words spaced.
  std::string stem = name;
  static const std::pair<const char*, const char*> kSuffixes[] = {
      {"_usd", "USD"}, {"_bytes", "bytes"}, {"_share", "share of fleet"}, {"_per_s", "requests/s"},
      {"_mah", "mAh"},  {"_j", "J"},         {"_h", "h"},                  {"_s", "s"}};
  for (const auto& [suffix, unit] : kSuffixes) {
    if (stem.ends_with(suffix)) {
      stem.resize(stem.size() - std::string_view(suffix).size());
      p.unit = unit;
      break;
    }
  }
  if (name == "data_bytes" || name == "metered_bytes") p.unit = "bytes";
  for (char& c : stem)
    if (c == '_') c = ' ';
  if (const auto pct = stem.find("pct"); pct != std::string::npos) stem.replace(pct, 3, " %");
  p.label = stem;

  if (in({"stages_opened", "stopped", "stopped_at_h", "aborted", "paused", "completed", "offered", "withdrawn",
          "reverted", "revert_refused"}))
    p.group = "Rollout";
  else if (starts("time_to_") || name.ends_with("_delay_mean_s"))
    p.group = "Time";
  else if (name.ends_with("_usd") || in({"data_bytes", "metered_bytes", "energy_j", "energy_mah", "service_calls"}))
    p.group = "Cost";
  else if (in({"server_requests", "refused_requests", "peak_requests_per_s", "origin_bytes", "edge_bytes",
               "peer_bytes", "cdn_fills", "learned_by_push", "learned_by_poll", "transfer_drops"}) ||
           starts("origin_") || starts("edge_") || starts("peer_") || starts("p2p_"))
    p.group = "Delivery";
  else
    p.group = "Outcome";

  if (in({"updated", "updated_share", "completed", "edge_bytes", "peer_bytes"}))
    p.better = Better::Higher;
  else if (in({"devices", "offered", "exposed", "exposed_share", "withdrawn", "stages_opened", "stopped",
               "stopped_at_h", "aborted", "paused", "learned_by_push", "learned_by_poll", "cdn_fills", "origin_bytes",
               "digest_rejections", "signature_rejections", "p2p_rejected_transfers", "p2p_seeds",
               "p2p_malicious_peers", "reverted", "origin_downloads", "edge_downloads", "peer_downloads"}))
    // Depends on the question: stopping early is right for a bad build, wrong for a good one.
    p.better = Better::Neither;
  else
    p.better = Better::Lower;
  return p;
}

std::optional<double> metric_value(const RunReport& report, std::string_view name) {
  const auto& m = index();
  const auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second(report);
}

const std::vector<std::string>& headline_metrics() {
  static const std::vector<std::string> names = {
      "updated_share", "exposed_share", "rolled_back_share", "bricked_share", "failed_share", "in_progress",
      "time_to_50pct_h", "time_to_95pct_h", "stopped", "data_bytes", "energy_j", "service_calls", "total_cost_usd"};
  return names;
}

}  // namespace ota::models
