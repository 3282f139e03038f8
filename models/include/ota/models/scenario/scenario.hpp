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
  double idle_watts = 0;               // average draw outside updates (sleep + duty cycle)
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
};

// What the new release does on each hardware variant.
struct ReleaseBehaviour {
  double boot_failure_probability = 0; // each trial boot of the new image fails
  double crash_per_day = 0;            // crash rate after a successful boot (health reports)
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
};

struct Server {
  double max_requests_per_s = 0;       // 0: unlimited
  std::uint32_t max_concurrent_downloads = 0;  // 0: unlimited
  double bandwidth_bps = 0;            // 0: unlimited
  std::uint32_t queue_limit = 0;       // downloads waiting for a slot; beyond it, refused
  double usd_per_gb = 0.09;            // origin egress (AWS S3/EC2 first 10 TB)
};

struct Stage {
  double fraction = 0;                 // cumulative share of the fleet offered the release
  double soak_s = 0;                   // time at this stage before the next opens
};

struct Rollout {
  std::vector<Stage> stages;           // fractions strictly increasing, last = 1
  double start_s = 0;
};

struct Prices {
  double service_call_usd = 200;       // reference text; field figures $150–$500
  double bytes_per_mb = 1e6;           // reference convention: 1 MB = 1000 KB = 10^6 B
};

struct Health {
  double report_after_s = 600;         // a trial image reports healthy after running this long
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
  std::vector<DeviceClass> classes;
  Release release;
  Polling polling;
  Server server;
  Rollout rollout;
  Prices prices;
  Health health;
};

}  // namespace ota::models
