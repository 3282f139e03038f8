// report.hpp — what a run found: totals, time series, and how the run went.
//
// The report is deterministic: the same scenario and seed give the same bytes,
// except the `run` block's wall_s and peak_rss_bytes, which measure the machine.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ota/models/report/durations.hpp"

namespace ota::models {

// Downloads from one source (origin, CDN edge or peer): how many started,
// their queue wait (request to first byte: in a server's queue, for a CDN
// fill, for a peer) and the transfer time of those that completed (first
// byte to last), in seconds.
struct DeliveryTimes {
  std::uint64_t downloads = 0;
  DurationSummary wait;
  DurationSummary transfer;
};

// Data over one link profile.
struct LinkTotals {
  std::string link;
  std::uint64_t bytes = 0;
  double cost_usd = 0;
};

struct Totals {
  std::uint64_t devices = 0;
  std::uint64_t offered = 0;           // devices whose stage opened
  std::uint64_t exposed = 0;           // devices that booted the new image at least once
  std::uint64_t withdrawn = 0;         // offered, not yet started when the rollout stopped
  std::uint64_t updated = 0;           // confirmed on the new version at the end
  std::uint64_t failed = 0;            // refused by the verifier (wrong hardware, downgrade, too large)
                                       // or gave up after the rollout's max_attempts
  std::uint64_t gave_up = 0;           // of which gave up after max_attempts failed attempts
  std::uint64_t timed_out = 0;         // no report within the device timeout (counted failed by gates)
  std::uint64_t rolled_back = 0;       // the agent rolled back to the old image
  std::uint64_t bricked = 0;           // nothing bootable: a service call each
  std::uint64_t in_progress = 0;       // still mid-update at the horizon
  std::uint64_t deferred_battery = 0;  // update starts deferred for battery (events)
  std::uint64_t battery_blocked = 0;   // devices that could never gather the energy
  std::uint64_t recovery_boots = 0;
  std::uint64_t power_losses = 0;      // during update activity
  std::uint64_t transfer_drops = 0;
  std::uint64_t digest_rejections = 0; // corrupted transfers caught by the agent
  std::uint64_t signature_rejections = 0;  // tampered transfers caught by the agent
  std::uint64_t trial_boot_failures = 0;
  double crashes = 0;                  // crashes of the new image: trial crashes plus the expected
                                       // count on confirmed devices (crash rate x time)
  std::uint64_t server_requests = 0;   // all requests, idle polls included
  double peak_requests_per_s = 0;      // busiest second (aggregate idle polls at their rate)
  std::uint64_t refused_requests = 0;  // over the rate limit or the download queue
  std::uint64_t data_bytes = 0;        // bytes devices downloaded (all attempts)
  std::uint64_t metered_bytes = 0;     // of which over metered (cellular) links
  double data_cost_usd = 0;
  std::vector<LinkTotals> by_link;     // data and its cost per link profile used by the fleet
  double server_egress_cost_usd = 0;  // origin egress: device downloads from the origin and CDN fills
  double cdn_cost_usd = 0;            // CDN edge egress
  // Delivery
  std::uint64_t origin_bytes = 0;      // served by the origin (devices and CDN cache fills)
  std::uint64_t edge_bytes = 0;        // served by CDN edges
  std::uint64_t peer_bytes = 0;        // served by peers (P2P)
  std::uint64_t cdn_fills = 0;         // artifacts fetched by an edge from the origin
  std::uint64_t learned_by_push = 0;   // first check-in for the release prompted by the broker
  std::uint64_t learned_by_poll = 0;   // ... by the device's own poll
  std::optional<double> push_delay_mean_s, poll_delay_mean_s;  // offer to first check-in
  std::uint64_t p2p_seeds = 0;         // neighbourhoods' first downloads from the origin
  std::uint64_t p2p_fallbacks = 0;     // devices that gave up waiting for a peer
  std::uint64_t p2p_malicious_peers = 0;
  std::uint64_t p2p_rejected_transfers = 0;  // tampered images from hostile peers, rejected by the agent
  std::uint64_t p2p_wasted_bytes = 0;
  double p2p_wasted_energy_j = 0;
  DeliveryTimes origin_times, edge_times, peer_times;
  std::uint64_t tampered_installs = 0; // tampered images the agent accepted (must stay 0)
  double energy_j = 0;                 // update-related energy, all devices
  double energy_mah = 0;               // of which battery devices, in mAh at their voltage
  std::uint64_t reverted = 0;          // reinstalled the previous release after a gate's rollback
  std::uint64_t revert_refused = 0;    // the agent refused the previous release (anti-rollback counter)
  std::uint64_t service_calls = 0;
  double service_cost_usd = 0;
  std::optional<double> time_to_50pct_s, time_to_90pct_s, time_to_95pct_s, time_to_99pct_s;
};

// One row per time bin; levels (devices by version and state, queue length,
// downloads in flight) are the value at the bin's end or its peak as named.
struct Series {
  double bin_s = 0;
  std::vector<double> t_s;  // bin start
  std::vector<std::uint64_t> offered;  // devices offered the release at bin end
  std::vector<std::uint64_t> on_old, on_new, on_none;  // running version at bin end (none: bricked/recovery)
  std::vector<std::uint64_t> idle, waiting, downloading, installing, rebooting, updated, rolled_back, bricked,
      refused, battery_blocked;  // state at bin end
  std::vector<double> downloads_in_flight_peak, queue_length_peak;
  std::vector<double> requests_per_s, bytes_per_s;
  std::vector<std::uint64_t> failures, rollbacks, bricks, battery_deferrals, updates;  // events in the bin
  std::vector<double> crashes;  // crashes of the new image in the bin (see Totals::crashes)
  std::vector<double> wait_mean_s;  // mean queue wait of the downloads that started in the bin (0 if none)
  std::vector<std::uint64_t> transfers_active;  // downloads in flight at bin end (all sources)
};

// One decision of the rollout controller.
struct RolloutEvent {
  double t_s = 0;
  std::size_t stage = 0;               // index of the stage concerned
  std::string kind;                    // stage_open, gate_pass, pause, resume, abort, rollback, ramp
  std::string reason;                  // for a stop: the limit that fired and the evidence
  std::uint64_t offered = 0;           // devices offered at that moment
  std::uint64_t reports = 0;           // gate inputs at that moment
  std::uint64_t failures = 0, rollbacks = 0;
  double crashes = 0, exposure_days = 0;
};

struct RolloutSummary {
  std::string state = "in_progress";   // completed, paused, aborted, rolled_back, in_progress
  std::size_t stages_opened = 0;
  std::optional<double> stopped_at_s;  // first pause, abort or rollback
  std::vector<RolloutEvent> events;
};

struct RunInfo {
  std::uint64_t seed = 0;
  std::uint64_t events = 0;
  double wall_s = 0;
  double bytes_per_device = 0;  // per-device state, excluding pending events
  std::uint64_t peak_rss_bytes = 0;
  std::string status;           // how the kernel's run ended
};

// The release as the agent saw it at set-up.
struct ReleaseInfo {
  std::uint64_t image_bytes = 0;
  std::uint64_t patch_bytes = 0;    // 0 without a delta
  std::uint64_t payload_bytes = 0;  // what each device downloads
  bool delta_from_images = false;   // patch made by the agent's encoder from real images
};

struct RunReport {
  std::string scenario;
  ReleaseInfo release;
  Totals totals;
  RolloutSummary rollout;
  Series series;
  RunInfo run;
};

// The whole-fleet report from the shards' reports of a sharded run (in shard
// order): counts and amounts summed, the time series summed bin by bin, the
// rollout and the time marks taken from shard 0 (every shard has the same).
// Peaks (busiest second, downloads in flight, queue) are summed: an upper
// bound. (report/shard_merge.cpp)
RunReport merge_shard_reports(const std::vector<RunReport>& shards);

// The report as JSON text (2-space indent, keys in a fixed order).
// `with_timing` false leaves out wall_s and peak_rss_bytes (for byte comparisons).
std::string report_json(const RunReport& report, bool with_timing = true);
// The time series as CSV: a header row, then one row per bin.
std::string series_csv(const Series& series);

// Process-wide: when false, write_file_atomically and write_report_files write
// nothing and report success. otasim-mpi's ranks other than 0 compute what
// rank 0 writes; only rank 0 writes it.
void set_file_output_enabled(bool enabled);

// How write_file_atomically writes; the defaults suit a report.
struct AtomicWriteOptions {
  // The file's permission bits, exactly (e.g. 0600 for a private key, never
  // more open while it is written); by default 0666 less the umask.
  std::optional<unsigned> mode;
  // False: an existing file is never replaced, not even one made since the
  // caller last looked; the error is then exactly "'PATH' already exists".
  bool replace = true;
  // Flushes the data to the disk before the file goes into place.
  bool sync = false;
};

// Writes `text` to `path` through a temporary file of its own beside it and a
// rename, so a reader never sees a partial file and no temporary file is left.
// Returns an error message naming the file, or an empty string.
std::string write_file_atomically(const std::string& path, std::string_view text,
                                  const AtomicWriteOptions& options = {});

// One file of a result set: its name in the output directory and its text.
struct OutputFile {
  std::string name;
  std::string text;
};

// The manifest of a result set, DIR/results.json: the run's identity and,
// per file, its name, size and SHA-256. It goes into place last and is
// removed first, so a directory holds a whole result set exactly when its
// manifest is there and every file it names matches (verify_result_files).
inline constexpr const char* kResultManifest = "results.json";

// Who wrote a result set (kept in its manifest).
struct ResultIdentity {
  std::string scenario;
  std::uint64_t seed = 0;
  std::uint64_t replications = 1;
};

// Writes a result set into `dir` (created if needed):
//  1. every file, and the manifest, to a temporary name beside its place; a
//     failure here leaves `dir` exactly as it was (the previous result set is
//     never lost) and removes the temporaries;
//  2. the previous manifest is removed: from now until step 4 the directory
//     says it holds no whole result set;
//  3. the files are renamed into place, and the previous set's files that the
//     new one does not have are removed (only plain file names its manifest
//     lists: never anything else in `dir`);
//  4. the manifest is renamed into place.
// A run killed between two renames leaves files of two runs side by side, but
// no manifest: a reader can tell. Returns an error message naming the file,
// or an empty string.
std::string write_result_files(const std::string& dir, const std::vector<OutputFile>& files,
                               const ResultIdentity& identity);

// Whether `dir` holds a whole result set: an empty string when its manifest is
// there and every file it names has the size and SHA-256 it records; else a
// message naming the directory and the first file that does not match.
std::string verify_result_files(const std::string& dir);

// Tests only: called with each file's name just after it is renamed into
// place (step 3; the manifest last). An exception it throws leaves the
// directory as a run killed at that point would.
void set_result_rename_hook(std::function<void(const std::string&)> hook);

// The output directory of a run, checked and locked before the run starts:
// it is a directory (created if missing) and no other run writes there (an
// exclusive lock on DIR/.otasim.lock, held until this object is destroyed,
// which removes the file).
// A run that cannot write its results finds out before it simulates.
class OutputDirLock {
 public:
  // An error message naming the directory, or an empty string when locked.
  std::string acquire(const std::string& dir);
  // The lock file (empty before acquire, or when file output is off).
  const std::string& path() const { return lock_; }
  ~OutputDirLock();
  OutputDirLock() = default;
  OutputDirLock(const OutputDirLock&) = delete;
  OutputDirLock& operator=(const OutputDirLock&) = delete;

 private:
  int fd_ = -1;
  std::string lock_;
};

// The report's files: series.csv, then report.json (renamed into place last).
std::vector<OutputFile> report_files(const RunReport& report);

// Writes DIR/report.json and DIR/series.csv as one result set
// (write_result_files), with the report's scenario and seed as its identity.
std::string write_report_files(const RunReport& report, const std::string& dir);

}  // namespace ota::models
