// report_fields.hpp — the one list of a report's fields: every total (the
// delivery times' statistics, the links and the time marks included) and every
// series column, in the order report.json writes them, with what each field is
// and how the shards' values of a sharded run combine.
//
// Everything that handles report fields walks this list rather than naming
// them: report.json and series.csv (report.cpp), the metric table
// (metrics.cpp: every total with a description is a metric of its name), the
// shard merge (shard_merge.cpp), otasim-mpi's serialization
// (cli/mpi/report_serialization.hpp) and the cost report's links. A field
// added here is in all of them; tests/models/test_report_fields.cpp checks it.
//
//   visit_totals(totals, [](std::string_view name, auto& field, const FieldInfo& info) {...});
//   visit_series(series, ...);   // bin_s, then every column
//   visit_link(link, ...);       // link, bytes, cost_usd of one by_link entry
//
// The _zip forms walk several objects side by side (a merge, a comparison):
//
//   visit_totals_zip([](std::string_view name, const FieldInfo& info, auto& a, auto& b) {...}, ta, tb);
//
// Field types: std::uint64_t, double, std::optional<double> (null when not
// reached or with nothing to average), std::vector<LinkTotals> (by_link),
// std::string (a link's name); series columns std::vector<std::uint64_t> or
// std::vector<double>, and bin_s a double.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ota/models/report/report.hpp"

namespace ota::models {

enum class FieldKind : unsigned char {
  Count,     // things or events, an integer (bytes are counted)
  Amount,    // a real quantity that adds up: money, energy, expected crashes, a rate over one bin
  Peak,      // the value at the busiest moment
  Mean,      // a mean over some count
  Quantile,  // another statistic of a distribution: percentile, maximum
  Mark,      // a moment of the run in seconds; null when never reached
  Time,      // the time axis: bin width, bin start
  Links,     // by_link: one entry per link profile (visit_link)
  Key,       // a link's name
};

// How a sharded run's field for the whole fleet comes from the shards' values
// (merge_shard_reports, shards in order).
enum class Merge : unsigned char {
  Sum,           // added
  UpperBound,    // added: the shards' peaks need not coincide, so the sum bounds the fleet's
  Shard0,        // shard 0's: every shard already holds the fleet's value (the time marks,
                 // the delivery-time distributions, the time axis)
  WeightedMean,  // the shards' means weighted by the count FieldInfo::weight (null if that is 0)
  ByLink,        // entries for the same link added (visit_link's rules), new links appended
};

struct FieldInfo {
  FieldKind kind = FieldKind::Count;
  Merge merge = Merge::Sum;
  const char* unit = "";  // "bytes", "USD", "J", "mAh", "s", "requests/s", "bytes/s"; "" for counts
  // A total with a description is the metric of the same name (metrics.hpp), its value the
  // field's (a count as a double, a null mean +infinity).
  const char* description = nullptr;
  std::uint64_t Totals::*weight = nullptr;  // Merge::WeightedMean: the count the mean is over
};

namespace report_fields_detail {

inline constexpr FieldInfo count_info(const char* description, const char* unit = "") {
  return {FieldKind::Count, Merge::Sum, unit, description, nullptr};
}
inline constexpr FieldInfo amount_info(const char* unit, const char* description) {
  return {FieldKind::Amount, Merge::Sum, unit, description, nullptr};
}

// The names and metric descriptions of one source's DeliveryTimes: downloads,
// then wait and transfer, each mean, p50, p95, p99, max (report.json order).
struct DeliveryFields {
  std::string downloads, downloads_text;
  std::array<std::array<std::string, 5>, 2> names, texts;  // [wait|transfer][statistic]
};

inline const DeliveryFields& delivery_fields(std::size_t source) {
  static const std::array<DeliveryFields, 3> fields = [] {
    static constexpr const char* kSource[3] = {"origin", "edge", "peer"};
    static constexpr const char* kFrom[3] = {"the origin", "CDN edges", "peers"};
    static constexpr const char* kWhat[2] = {"wait", "transfer"};
    static constexpr const char* kStat[5] = {"mean", "p50", "p95", "p99", "max"};
    // The statistics that are metrics, and how they read.
    static constexpr const char* kText[2][5] = {
        {"mean queue wait (request to first byte)", nullptr, "95th percentile of the queue wait (request to first byte)",
         "99th percentile of the queue wait (request to first byte)", "longest queue wait (request to first byte)"},
        {"mean transfer time (first byte to last)", nullptr,
         "95th percentile of the transfer time (first byte to last)", nullptr, nullptr}};
    std::array<DeliveryFields, 3> out;
    for (std::size_t s = 0; s < 3; ++s) {
      DeliveryFields& d = out[s];
      d.downloads = std::string(kSource[s]) + "_downloads";
      d.downloads_text = std::string("downloads started from ") + kFrom[s];
      for (std::size_t w = 0; w < 2; ++w)
        for (std::size_t k = 0; k < 5; ++k) {
          d.names[w][k] = std::string(kSource[s]) + "_" + kWhat[w] + "_" + kStat[k] + "_s";
          if (kText[w][k])
            d.texts[w][k] = std::string(kText[w][k]) + " of " + (w == 1 ? "completed " : "") + "downloads from " +
                            kFrom[s] + ", s";
        }
    }
    return out;
  }();
  return fields.at(source);
}

template <class V, class... D>
void visit_delivery(V& v, std::size_t source, D&... d) {
  const DeliveryFields& f = delivery_fields(source);
  v(std::string_view(f.downloads),
    FieldInfo{FieldKind::Count, Merge::Shard0, "", f.downloads_text.c_str(), nullptr}, d.downloads...);
  const auto stats = [&](std::size_t w, auto part) {
    const auto stat = [&](std::size_t k, auto member) {
      const std::string& text = f.texts[w][k];
      v(std::string_view(f.names[w][k]),
        FieldInfo{k == 0 ? FieldKind::Mean : FieldKind::Quantile, Merge::Shard0, "s",
                  text.empty() ? nullptr : text.c_str(), nullptr},
        ((d.*part).*member)...);
    };
    stat(0, &DurationSummary::mean_s);
    stat(1, &DurationSummary::p50_s);
    stat(2, &DurationSummary::p95_s);
    stat(3, &DurationSummary::p99_s);
    stat(4, &DurationSummary::max_s);
  };
  stats(0, &DeliveryTimes::wait);
  stats(1, &DeliveryTimes::transfer);
}

}  // namespace report_fields_detail

// Every field of Totals, in report.json order: v(name, info, field of each t...).
template <class V, class... T>
void visit_totals_zip(V&& v, T&... t) {
  using namespace report_fields_detail;
  const auto f = [&](std::string_view name, auto member, const FieldInfo& info) { v(name, info, (t.*member)...); };
  f("devices", &Totals::devices, count_info("fleet size"));
  f("offered", &Totals::offered, count_info("devices whose stage opened"));
  f("exposed", &Totals::exposed, count_info("devices that booted the new image at least once"));
  f("withdrawn", &Totals::withdrawn, count_info("offered devices not yet started when the rollout stopped"));
  f("updated", &Totals::updated, count_info("devices confirmed on the new version at the end"));
  f("failed", &Totals::failed, count_info("devices refused by the verifier or that gave up after max_attempts"));
  f("gave_up", &Totals::gave_up, count_info("of failed: gave up after max_attempts failed attempts"));
  f("timed_out", &Totals::timed_out, count_info("devices with no report within the device timeout"));
  f("rolled_back", &Totals::rolled_back, count_info("devices whose agent rolled back to the old image"));
  f("bricked", &Totals::bricked, count_info("devices with nothing bootable"));
  f("in_progress", &Totals::in_progress, count_info("devices still mid-update at the horizon"));
  f("deferred_battery", &Totals::deferred_battery, count_info("update starts deferred for battery (events)"));
  f("battery_blocked", &Totals::battery_blocked, count_info("devices that could never gather the energy to update"));
  f("recovery_boots", &Totals::recovery_boots, count_info("boots into recovery"));
  f("power_losses", &Totals::power_losses, count_info("power losses during update activity"));
  f("transfer_drops", &Totals::transfer_drops, count_info("dropped transfers"));
  f("digest_rejections", &Totals::digest_rejections, count_info("corrupted transfers caught by the agent"));
  f("signature_rejections", &Totals::signature_rejections, count_info("tampered transfers caught by the agent"));
  f("trial_boot_failures", &Totals::trial_boot_failures, count_info("failed trial boots of the new image"));
  f("crashes", &Totals::crashes,
    amount_info("", "crashes of the new image (trial crashes plus expected crashes on confirmed devices)"));
  f("server_requests", &Totals::server_requests, count_info("server requests, idle polls included"));
  f("peak_requests_per_s", &Totals::peak_requests_per_s,
    FieldInfo{FieldKind::Peak, Merge::UpperBound, "requests/s",
              "requests in the busiest second (aggregate idle polls at their rate)", nullptr});
  f("refused_requests", &Totals::refused_requests,
    count_info("requests refused over the rate limit or the download queue"));
  f("data_bytes", &Totals::data_bytes, count_info("bytes downloaded by devices, all attempts", "bytes"));
  f("metered_bytes", &Totals::metered_bytes, count_info("of data_bytes: over metered (cellular) links", "bytes"));
  f("data_cost_usd", &Totals::data_cost_usd, amount_info("USD", "cost of metered data, USD"));
  f("by_link", &Totals::by_link, FieldInfo{FieldKind::Links, Merge::ByLink, "", nullptr, nullptr});
  f("server_egress_cost_usd", &Totals::server_egress_cost_usd, amount_info("USD", "server egress cost, USD"));
  f("cdn_cost_usd", &Totals::cdn_cost_usd, amount_info("USD", "CDN edge egress cost, USD"));
  f("origin_bytes", &Totals::origin_bytes,
    count_info("bytes served by the origin (device downloads and CDN cache fills)", "bytes"));
  f("edge_bytes", &Totals::edge_bytes, count_info("bytes served by CDN edges", "bytes"));
  f("peer_bytes", &Totals::peer_bytes, count_info("bytes served by peers (P2P)", "bytes"));
  f("cdn_fills", &Totals::cdn_fills, count_info("artifacts fetched by a CDN edge from the origin"));
  f("learned_by_push", &Totals::learned_by_push,
    count_info("devices whose first check-in for the release followed a push notification"));
  f("learned_by_poll", &Totals::learned_by_poll,
    count_info("devices whose first check-in for the release was their own poll"));
  f("push_delay_mean_s", &Totals::push_delay_mean_s,
    FieldInfo{FieldKind::Mean, Merge::WeightedMean, "s",
              "mean seconds from offer to first check-in, devices reached by push; +inf if none",
              &Totals::learned_by_push});
  f("poll_delay_mean_s", &Totals::poll_delay_mean_s,
    FieldInfo{FieldKind::Mean, Merge::WeightedMean, "s",
              "mean seconds from offer to first check-in, devices that learned by poll; +inf if none",
              &Totals::learned_by_poll});
  f("p2p_seeds", &Totals::p2p_seeds, count_info("P2P neighbourhoods' first downloads from the origin"));
  f("p2p_fallbacks", &Totals::p2p_fallbacks, count_info("P2P devices that gave up waiting for a peer and used the origin"));
  f("p2p_malicious_peers", &Totals::p2p_malicious_peers, count_info("hostile peers in the fleet"));
  f("p2p_rejected_transfers", &Totals::p2p_rejected_transfers,
    count_info("tampered images from hostile peers rejected by the agent"));
  f("p2p_wasted_bytes", &Totals::p2p_wasted_bytes, count_info("bytes of those rejected transfers", "bytes"));
  f("p2p_wasted_energy_j", &Totals::p2p_wasted_energy_j, amount_info("J", "energy of those rejected transfers, J"));
  visit_delivery(v, 0, t.origin_times...);
  visit_delivery(v, 1, t.edge_times...);
  visit_delivery(v, 2, t.peer_times...);
  f("tampered_installs", &Totals::tampered_installs, count_info("tampered images the agent accepted (must be 0)"));
  f("energy_j", &Totals::energy_j, amount_info("J", "update-related energy, all devices, J"));
  f("energy_mah", &Totals::energy_mah, amount_info("mAh", "update-related energy on battery devices, mAh"));
  f("reverted", &Totals::reverted,
    count_info("devices that reinstalled the previous release after a gate's rollback"));
  f("revert_refused", &Totals::revert_refused,
    count_info("devices whose agent refused the previous release (anti-rollback counter)"));
  f("service_calls", &Totals::service_calls, count_info("service calls (one per bricked device)"));
  f("service_cost_usd", &Totals::service_cost_usd, amount_info("USD", "cost of service calls, USD"));
  // The time marks' metrics are in hours (metrics.cpp: time_to_50pct_h, ...).
  constexpr FieldInfo mark{FieldKind::Mark, Merge::Shard0, "s", nullptr, nullptr};
  f("time_to_50pct_s", &Totals::time_to_50pct_s, mark);
  f("time_to_90pct_s", &Totals::time_to_90pct_s, mark);
  f("time_to_95pct_s", &Totals::time_to_95pct_s, mark);
  f("time_to_99pct_s", &Totals::time_to_99pct_s, mark);
}

// Every field of one Totals: v(name, field, info).
template <class T, class V>
void visit_totals(T& totals, V&& v) {
  visit_totals_zip([&](std::string_view name, const FieldInfo& info, auto& field) { v(name, field, info); }, totals);
}

// One by_link entry: v(name, info, field of each l...).
template <class V, class... L>
void visit_link_zip(V&& v, L&... l) {
  v(std::string_view("link"), FieldInfo{FieldKind::Key, Merge::Shard0, "", nullptr, nullptr}, l.link...);
  v(std::string_view("bytes"), FieldInfo{FieldKind::Count, Merge::Sum, "bytes", nullptr, nullptr}, l.bytes...);
  v(std::string_view("cost_usd"), FieldInfo{FieldKind::Amount, Merge::Sum, "USD", nullptr, nullptr}, l.cost_usd...);
}

template <class L, class V>
void visit_link(L& link, V&& v) {
  visit_link_zip([&](std::string_view name, const FieldInfo& info, auto& field) { v(name, field, info); }, link);
}

// bin_s, then every column of Series (series.csv's columns, in order):
// v(name, info, field of each s...).
template <class V, class... S>
void visit_series_zip(V&& v, S&... s) {
  const auto f = [&](std::string_view name, auto member, const FieldInfo& info) { v(name, info, (s.*member)...); };
  constexpr FieldInfo level{FieldKind::Count, Merge::Sum, "", nullptr, nullptr};   // devices at bin end
  constexpr FieldInfo events{FieldKind::Count, Merge::Sum, "", nullptr, nullptr};  // events in the bin
  constexpr FieldInfo peak{FieldKind::Peak, Merge::UpperBound, "", nullptr, nullptr};
  f("bin_s", &Series::bin_s, FieldInfo{FieldKind::Time, Merge::Shard0, "s", nullptr, nullptr});
  f("t_s", &Series::t_s, FieldInfo{FieldKind::Time, Merge::Shard0, "s", nullptr, nullptr});
  f("offered", &Series::offered, level);
  f("on_old", &Series::on_old, level);
  f("on_new", &Series::on_new, level);
  f("on_none", &Series::on_none, level);
  f("idle", &Series::idle, level);
  f("waiting", &Series::waiting, level);
  f("downloading", &Series::downloading, level);
  f("installing", &Series::installing, level);
  f("rebooting", &Series::rebooting, level);
  f("updated", &Series::updated, level);
  f("rolled_back", &Series::rolled_back, level);
  f("bricked", &Series::bricked, level);
  f("refused", &Series::refused, level);
  f("battery_blocked", &Series::battery_blocked, level);
  f("downloads_in_flight_peak", &Series::downloads_in_flight_peak, peak);
  f("queue_length_peak", &Series::queue_length_peak, peak);
  f("requests_per_s", &Series::requests_per_s, FieldInfo{FieldKind::Amount, Merge::Sum, "requests/s", nullptr, nullptr});
  f("bytes_per_s", &Series::bytes_per_s, FieldInfo{FieldKind::Amount, Merge::Sum, "bytes/s", nullptr, nullptr});
  f("failures", &Series::failures, events);
  f("rollbacks", &Series::rollbacks, events);
  f("bricks", &Series::bricks, events);
  f("battery_deferrals", &Series::battery_deferrals, events);
  f("updates", &Series::updates, events);
  f("crashes", &Series::crashes, FieldInfo{FieldKind::Amount, Merge::Sum, "", nullptr, nullptr});
  // Every shard's bins hold the fleet's waits (the shards' sums are added during the run).
  f("wait_mean_s", &Series::wait_mean_s, FieldInfo{FieldKind::Mean, Merge::Shard0, "s", nullptr, nullptr});
  f("transfers_active", &Series::transfers_active, level);
}

template <class S, class V>
void visit_series(S& series, V&& v) {
  visit_series_zip([&](std::string_view name, const FieldInfo& info, auto& field) { v(name, field, info); }, series);
}

}  // namespace ota::models
