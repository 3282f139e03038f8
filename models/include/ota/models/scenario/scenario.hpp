// scenario.hpp — a rollout scenario as typed, validated data.
//
// A Scenario is what `scenarios/*.json` says, after validation
// (scenario_loader.hpp): every reference resolved to an index, every default
// filled in, every unit converted to SI (seconds, bytes, joules, US dollars).
// Nothing here is optional by accident: a field that may be absent is a
// std::optional and says what absence means.
//
// Units: durations in seconds (double) unless the name says otherwise; sizes in
// bytes; rates in bits per second (`_bps`); energy in joules; money in USD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ota/agent/boot_control.hpp"

namespace ota::models {

enum class PowerSource : std::uint8_t { Mains, Battery };
enum class Partitioning : std::uint8_t { AB, SingleWithRecovery, SingleNoRecovery };
enum class Payload : std::uint8_t { Full, Delta };
enum class IdlePollMode : std::uint8_t { Aggregate, Events };
// How a device learns of an update: by its own poll, or by a broker's push
// (connected devices only; the rest fall back to their polls).
enum class Notify : std::uint8_t { Poll, Push };
// Where it downloads from: the origin update server, its region's CDN edge,
// or peers in its neighbourhood (seeds from the origin).
enum class Source : std::uint8_t { Origin, Cdn, P2p };

struct Version {
  std::uint16_t major = 0, minor = 0, patch = 0;
  friend bool operator==(const Version&, const Version&) = default;
};

// A radio link's behaviour (links.cpp documents the built-in profiles' sources).
struct LinkProfile {
  std::string name;
  // Application throughput: lognormal with this median and geometric spread
  // (sigma of the underlying normal), clamped to [min_bps, max_bps]. Drawn once
  // per device: coverage differs between devices more than between transfers.
  double median_bps = 0;
  double sigma = 0;
  double min_bps = 0;
  double max_bps = 0;
  double latency_s = 0;            // per request round trip
  double drop_per_mb = 0;          // expected transfer drops per MB transferred
  double usd_per_mb = 0;           // metered data price (0 for Wi-Fi/Ethernet)
  double rx_watts = 0;             // radio power while receiving (energy = watts x transfer time)
  double poll_joules = 0;          // energy of one wake + check-in
  // Duty cycle: a device on this link is reachable (and can poll) only when it
  // wakes. Used by push delivery; polling already happens on wake.
  double wake_interval_s = 0;      // 0: always reachable
  bool metered = false;
};

struct FlashTiming {
  std::uint32_t sector_bytes = 4096;
  double erase_s_per_sector = 0.045;   // Winbond W25Q 4 KB typical
  double program_s_per_kb = 0.0016;    // 256 B page in 0.4 ms
  double write_watts = 0.0;            // extra power while erasing/programming
  std::uint32_t slot_bytes = 0;        // capacity of one firmware slot
  friend bool operator==(const FlashTiming&, const FlashTiming&) = default;
};

struct Hardware {
  std::string name;
  std::uint32_t hardware_id = 0;
  FlashTiming flash;
  // The agent's own default unless the scenario says otherwise.
  std::uint8_t trial_boot_limit = agent::BootConfig{}.trial_boot_limit;
  double boot_s = 5;                   // one boot, to the point of running the app
};

struct Battery {
  double capacity_j = 0;               // usable energy at full charge
  double voltage_v = 3.0;              // nominal voltage (reports energy in mAh at this voltage)
  double soc_mean = 0.7;               // initial state of charge across devices
  double soc_stddev = 0.15;
  double idle_watts = 0.05 / 1e3;      // average draw outside updates (sleep + duty cycle): 0.05 mW
  double recharge_watts = 0;           // 0: primary cell, never recharges
  double update_margin = 1.5;          // start an update only with margin x the energy it needs
  double min_soc = 0.2;                // and never below this state of charge
  double brownout_soc = 0.02;          // below this the device loses power
};

struct DeviceClass {
  std::string name;
  std::uint64_t devices = 0;           // resolved from share x fleet size
  std::size_t hardware = 0;            // index into Scenario::hardware
  std::size_t link = 0;                // index into Scenario::links
  std::size_t region = 0;              // index into Scenario::regions
  PowerSource power = PowerSource::Mains;
  std::optional<Battery> battery;      // present iff power == Battery
  Partitioning partitioning = Partitioning::AB;
  double power_loss_per_hour = 0;      // mains outages / unplugging hazard
  std::optional<std::size_t> group;    // index into Scenario::groups (named canary group)
  Notify notify = Notify::Poll;
  Source source = Source::Origin;
};

// What the new release does on each hardware variant.
struct ReleaseBehaviour {
  double boot_failure_probability = 0; // each trial boot of the new image fails
  double crash_per_day = 0;            // crash rate after a successful boot (health reports)
  // Share of this hardware's devices on which the new image never boots (a
  // persistent fault, e.g. one flash or sensor variant): every trial boot of
  // such a device fails, so the agent rolls it back after its trial limit.
  double failing_device_share = 0;
};

struct Release {
  Version from_version, to_version;
  std::uint32_t from_security_counter = 1, to_security_counter = 2;
  Payload payload = Payload::Full;
  std::uint64_t full_bytes = 0;        // the signed image
  std::uint64_t delta_bytes = 0;       // patch from from_version (0 when not delta)
  std::optional<std::string> old_image_file, new_image_file;  // real images (delta measured by the agent)
  double corruption_per_transfer = 0;  // chance a completed transfer arrives corrupted
  double tamper_per_transfer = 0;      // chance it arrives tampered (forged signature)
  std::vector<ReleaseBehaviour> behaviour;  // per hardware index
};

struct Polling {
  double interval_s = 3600;
  double jitter = 0.1;                 // each interval is interval_s x U(1 - jitter, 1 + jitter)
  double backoff_initial_s = 60;
  double backoff_factor = 2;
  double backoff_max_s = 3600;
  IdlePollMode idle_polls = IdlePollMode::Aggregate;
  bool synchronized_start = false;     // every device's first poll at t = 0 (thundering herd)
  friend bool operator==(const Polling&, const Polling&) = default;
};

struct Server {
  double max_requests_per_s = 0;       // 0: unlimited
  std::uint32_t max_concurrent_downloads = 0;  // 0: unlimited
  double bandwidth_bps = 0;            // 0: unlimited
  std::uint32_t queue_limit = 0;       // downloads waiting for a slot; beyond it, refused
  double usd_per_gb = 0.09;            // origin egress (AWS S3/EC2 first 10 TB)
  friend bool operator==(const Server&, const Server&) = default;
};

// How a gate decides that a rate is too high.
enum class GateMode : std::uint8_t {
  Threshold,  // observed rate above the limit (after min_reports)
  Bayes,      // posterior P(true rate > limit) above `confidence` (Beta-binomial; Gamma-Poisson for crashes)
  Sprt,       // Wald's sequential probability ratio test of limit x sprt_good_ratio against limit
};
enum class GateAction : std::uint8_t { Continue, Pause, Abort, Rollback };

// A stage's gate. Every limit is optional; a gate with none passes always.
// Rates are over the devices that reported (success, rollback, failure or
// timeout) since the rollout started; crash rate is crashes per device-day of
// the new image in service; deferral rate is battery deferrals per update
// check-in.
struct Gate {
  std::optional<double> max_failure_rate, max_rollback_rate, max_crash_rate_per_day, max_deferral_rate;
  std::optional<std::uint64_t> max_failures, max_rollbacks;  // absolute counts
  std::uint64_t min_reports = 0;       // judge rates only with at least this many reports
  double min_exposure_days = 0;        // judge the crash rate only after this many device-days in service
  GateMode mode = GateMode::Threshold;
  double confidence = 0.95;            // Bayes: breach when P(rate > limit) exceeds this
  double prior_a = 1, prior_b = 1;     // Bayes: Beta prior (Gamma shape/rate in device-days for crashes)
  double sprt_alpha = 0.05;            // SPRT: false-alarm probability at the good rate
  double sprt_beta = 0.05;             // SPRT: miss probability at the limit
  double sprt_good_ratio = 0.5;        // SPRT: the good rate, as a share of the limit
  GateAction on_breach = GateAction::Abort;
  friend bool operator==(const Gate&, const Gate&) = default;
  bool empty() const {
    return !max_failure_rate && !max_rollback_rate && !max_crash_rate_per_day && !max_deferral_rate &&
           !max_failures && !max_rollbacks;
  }
};

// An MQTT-like broker that notifies devices when the release is offered.
struct PushBroker {
  double fanout_per_s = 1000;          // notifications sent per second (one queue)
  std::uint64_t max_connections = 0;   // devices connected at once (0: unlimited)
  double connected_share = 0.7;        // of push devices, connected when notified
  double latency_s = 1;                // notification to the device's check-in
  friend bool operator==(const PushBroker&, const PushBroker&) = default;
};

struct CdnEdge {
  double bandwidth_bps = 0;            // 0: unlimited
  std::uint32_t max_concurrent_downloads = 0;  // 0: unlimited
  double usd_per_gb = 0.085;           // edge egress
};

struct Cdn {
  std::vector<std::optional<CdnEdge>> edges;  // per region index
  double origin_fill_bps = 1e9;        // origin -> edge transfer rate of one cache fill
  double cache_ttl_s = 0;              // 0: an artifact stays cached for the whole run
};

// Devices in neighbourhoods (a BLE/Zigbee mesh or a LAN) share the image.
struct P2p {
  std::uint32_t neighbourhood_size = 20;
  double link_bps = 250e3;             // per peer link: median of a lognormal
  double sigma = 0.3;                  // its spread between devices
  std::uint32_t uploads_per_peer = 1;  // transfers one peer serves at once
  double upload_bps = 0;               // a peer's uplink, shared max-min fairly by its uploads; 0: its own link_bps draw
  double malicious_share = 0;          // peers that serve tampered images
  double fallback_s = 3600;            // waiting longer than this, fetch from the origin
  double rx_watts = 0.015, tx_watts = 0.015;  // radio power while receiving / sending
  friend bool operator==(const P2p&, const P2p&) = default;
};

struct Delivery {
  PushBroker push;
  std::optional<Cdn> cdn;
  std::optional<P2p> p2p;
};

struct Stage {
  double fraction = 0;                 // cumulative share of the fleet offered the release
  double soak_s = 0;                   // time at this stage before the gate decides
  std::vector<std::size_t> groups;     // named-group stage: offer these groups (fraction then unused)
  Gate gate;
};

enum class CanarySelection : std::uint8_t {
  Random,      // a uniformly random order of the fleet
  Stratified,  // every (hardware, region) stratum gets the stage's share, rounded
};

// AWS IoT Jobs style exponential rate ramp, an alternative to stages.
struct RateRamp {
  double base_per_minute = 0;
  double increment_factor = 2;
  std::uint64_t increase_every_successes = 0;  // raise the rate after this many more successes
  double max_per_minute = 0;                   // 0: no cap
  friend bool operator==(const RateRamp&, const RateRamp&) = default;
};

struct MaintenanceWindow {
  double utc_offset_h = 0;             // region's local time = UTC + offset
  double from_h = 0, to_h = 24;        // local hours [from, to); from > to wraps past midnight
};

struct PauseDecision {
  double after_s = 0;                  // a scripted operator decision this long after a pause
  GateAction action = GateAction::Continue;  // Continue = resume
};

struct Rollout {
  std::vector<Stage> stages;           // fractions strictly increasing, last = 1
  double start_s = 0;
  CanarySelection selection = CanarySelection::Random;
  std::optional<RateRamp> ramp;        // instead of stages (then one stage at 100 % carries the gate)
  double evaluate_every_s = 600;       // how often gates are evaluated between soak ends
  double device_timeout_s = 0;         // no report this long after starting: counted failed (0: never)
  std::uint32_t max_attempts = 0;      // consecutive failed attempts before a device gives up (0: never)
  std::vector<std::optional<MaintenanceWindow>> windows;  // per region index
  std::optional<PauseDecision> on_pause;
};

// A policy expectation checked by `otasim check`.
enum class Comparison : std::uint8_t { Less, LessEqual, Greater, GreaterEqual, Equal };
struct Expectation {
  std::string metric;                  // a name from models/report/metrics.hpp
  Comparison op = Comparison::LessEqual;
  double value = 0;
  double share = 1;                    // of replications that must satisfy it
  std::string description;
};

struct Check {
  std::uint32_t replications = 20;     // default for `otasim check`
  std::vector<Expectation> expect;
};

struct Prices {
  double service_call_usd = 200;       // reference text; field figures $150–$500
  double bytes_per_mb = 1e6;           // reference convention: 1 MB = 1000 KB = 10^6 B
  friend bool operator==(const Prices&, const Prices&) = default;
};

struct Health {
  double report_after_s = 600;         // a trial image reports healthy after running this long
  friend bool operator==(const Health&, const Health&) = default;
};

struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  double horizon_s = 14 * 86400.0;
  double bin_s = 3600;                 // time-series bin width
  std::uint64_t devices = 0;
  std::vector<Hardware> hardware;
  std::vector<LinkProfile> links;
  std::vector<std::string> regions;
  std::vector<std::string> groups;     // named canary groups (DeviceClass::group)
  std::vector<DeviceClass> classes;
  Release release;
  Polling polling;
  Server server;
  Delivery delivery;
  Rollout rollout;
  Prices prices;
  Health health;
  Check check;
};

}  // namespace ota::models
