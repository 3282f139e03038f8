#include "ota/models/fleet/run_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "ota/models/fleet/fleet_model.hpp"

namespace ota::models {

namespace {

// Events of one attempt that goes through: the poll that learns of the
// release, the request, the end of the transfer, the boot and the health
// report, with one spare (single-partition installs, a slot wait). Fitted to
// the pinned reports: 4.0 to 5.1 events per updated device.
constexpr double kEventsPerAttempt = 6;
// A dropped transfer costs its drop and its resume.
constexpr double kEventsPerDrop = 2;
// The process before any device: code, allocator arenas, the scenario.
constexpr double kProcessBytes = 24e6;
// One series bin holds about 60 figures of 8 bytes (report/series.hpp).
constexpr double kBytesPerBin = 60 * 8;

// Attempts a device can make within `horizon` when each takes `cycle_s` plus
// the backoff before the next (initial, growing by `factor` up to `max`).
double attempts_within(double horizon, double cycle_s, const Polling& p) {
  cycle_s = std::max(cycle_s, 1e-6);  // the kernel's clock ticks in microseconds
  double t = 0, attempts = 0, backoff = std::max(p.backoff_initial_s, 0.0);
  while (t < horizon) {
    if (backoff >= p.backoff_max_s || p.backoff_factor <= 1) {
      const double step = cycle_s + std::min(backoff, p.backoff_max_s);
      return attempts + std::ceil((horizon - t) / step);
    }
    t += cycle_s + backoff;
    attempts += 1;
    backoff *= p.backoff_factor;
  }
  return attempts;
}

std::string fmt(const char* format, double v) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

RunEstimate estimate_run(const Scenario& s) { return estimate_run(s, s.devices); }

RunEstimate estimate_run(const Scenario& s, std::uint64_t devices) {
  RunEstimate e;
  const double scale = s.devices > 0 ? static_cast<double>(devices) / static_cast<double>(s.devices) : 0.0;
  const double horizon = std::max(s.horizon_s, 0.0);
  const Polling& poll = s.polling;
  const double interval = std::max(poll.interval_s, 1e-6);
  const bool idle_events = poll.idle_polls == IdlePollMode::Events || poll.synchronized_start;
  const std::uint64_t payload =
      s.release.payload == Payload::Delta && s.release.delta_bytes > 0 ? s.release.delta_bytes : s.release.full_bytes;
  const double payload_mb = static_cast<double>(payload) / 1e6;

  double idle_share = 0, retry_share = 0;
  for (const DeviceClass& c : s.classes) {
    const LinkProfile& link = s.links.at(c.link);
    double per_device = 0;
    // Polls that find nothing, one event each when they are not aggregated.
    const double idle = idle_events ? horizon / interval : 0.0;
    per_device += idle;
    // Before a maintenance window opens a device keeps polling: up to a day.
    if (c.region < s.rollout.windows.size() && s.rollout.windows[c.region]) per_device += 86400.0 / interval;
    // Attempts: every failed one (corrupted or tampered transfer, a malicious
    // peer) is retried after the backoff until max_attempts or the horizon.
    double p_fail = std::clamp(s.release.corruption_per_transfer + s.release.tamper_per_transfer, 0.0, 1.0);
    if (c.source == Source::P2p && s.delivery.p2p) p_fail = std::max(p_fail, s.delivery.p2p->malicious_share);
    // An attempt takes at least the transfer at the link's median rate and
    // the flash writes (an A/B download streams into the slot at their pace).
    const double transfer_s = link.median_bps > 0 ? 8.0 * static_cast<double>(payload) / link.median_bps : 0.0;
    const FlashTiming& flash = s.hardware.at(c.hardware).flash;
    const double kb = static_cast<double>(payload) / 1024.0;
    const double flash_s = std::ceil(kb * 1024.0 / std::max<double>(flash.sector_bytes, 1)) * flash.erase_s_per_sector +
                           kb * flash.program_s_per_kb;
    const double cap = attempts_within(horizon, std::max(transfer_s, flash_s) + link.latency_s, poll);
    double attempts = p_fail < 1 ? 1.0 / (1.0 - p_fail) : std::numeric_limits<double>::infinity();
    if (s.rollout.max_attempts > 0) attempts = std::min(attempts, static_cast<double>(s.rollout.max_attempts));
    attempts = std::max(1.0, std::min(attempts, cap));
    const double drops = std::max(link.drop_per_mb, 0.0) * payload_mb;
    const double update = attempts * (kEventsPerAttempt + kEventsPerDrop * drops);
    per_device += update;
    e.events += per_device * static_cast<double>(c.devices) * scale;
    if (per_device > e.events_per_device) e.events_per_device = per_device;
    idle_share = std::max(idle_share, idle / per_device);
    retry_share = std::max(retry_share, (attempts - 1) * kEventsPerAttempt / per_device);
  }
  // The controller's gate evaluations and the series bins.
  const double bins = horizon / std::max(s.bin_s, 1.0);
  e.events += horizon / std::max(s.rollout.evaluate_every_s, 1.0) + bins;

  if (idle_share > 0.5)
    e.driver = "idle polls as events, one every " + fmt("%.3g s", interval) + " per device for " +
               fmt("%.3g days", horizon / 86400.0);
  else if (retry_share > 0.5)
    e.driver = "retried transfers (corruption/tamper " +
               fmt("%.3g", s.release.corruption_per_transfer + s.release.tamper_per_transfer) +
               (s.rollout.max_attempts > 0 ? ", at most " + std::to_string(s.rollout.max_attempts) + " attempts"
                                           : std::string(", no attempt limit")) +
               ", backoff from " + fmt("%.3g s", poll.backoff_initial_s) + ")";

  // Memory: the per-device state and about one pending event per device.
  e.memory_per_device = static_cast<double>(bytes_per_device()) + kQueueBytesPerPendingEvent;
  e.memory_fixed = kProcessBytes + bins * kBytesPerBin;
  e.memory_bytes = e.memory_fixed + e.memory_per_device * static_cast<double>(devices);
  return e;
}

}  // namespace ota::models
