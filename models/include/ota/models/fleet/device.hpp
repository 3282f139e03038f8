// device.hpp — the per-device state of the fleet model: the device's phase
// (a table, like the agent's boot control), the version it runs, and the hot
// record the model keeps for every device.
//
// Owns: the layout of one device's state. Decides: nothing (the lifecycle,
// fleet/lifecycle.hpp, changes these records; the agent's BootRecord beside
// each one is changed only through agent calls).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ota/agent/boot_control.hpp"

namespace ota::models {

// Where a device is in its campaign.
enum class Phase : std::uint8_t {
  Idle,            // between polls (or not yet offered the release)
  Waiting,         // in a server's download queue, for a CDN fill or for a peer
  Downloading,
  Installing,      // single partition: overwriting the main slot
  Rebooting,
  TrialRunning,    // the new image runs on trial until its health report
  Updated,         // confirmed on the new version
  RolledBack,
  Bricked,
  Refused,         // the verifier refused the genuine release for this device (or it gave up)
  BatteryBlocked,  // can never gather the energy for the update
  Dead,            // battery below brown-out, no recharge
  Reverted,        // reinstalled the previous release after a gate's rollback
};

// What the report and the lifecycle need to know of each phase.
struct PhaseInfo {
  Phase phase;
  std::string_view name;
  bool terminal;         // the campaign is over for the device
  bool polls_when_done;  // still checks in with the server afterwards
  bool in_progress;      // counted in the report's in_progress
};

// clang-format off
inline constexpr std::array kPhases = {
  //        phase                  name               terminal polls  in progress
  PhaseInfo{Phase::Idle,           "idle",            false,   true,  false},
  PhaseInfo{Phase::Waiting,        "waiting",         false,   true,  true},
  PhaseInfo{Phase::Downloading,    "downloading",     false,   true,  true},
  PhaseInfo{Phase::Installing,     "installing",      false,   true,  true},
  PhaseInfo{Phase::Rebooting,      "rebooting",       false,   true,  true},
  PhaseInfo{Phase::TrialRunning,   "trial_running",   false,   true,  true},
  PhaseInfo{Phase::Updated,        "updated",         true,    true,  false},
  PhaseInfo{Phase::RolledBack,     "rolled_back",     true,    true,  false},
  PhaseInfo{Phase::Bricked,        "bricked",         true,    false, false},
  PhaseInfo{Phase::Refused,        "refused",         true,    true,  false},
  PhaseInfo{Phase::BatteryBlocked, "battery_blocked", true,    true,  false},
  PhaseInfo{Phase::Dead,           "dead",            true,    false, false},
  PhaseInfo{Phase::Reverted,       "reverted",        true,    true,  false},
};
// clang-format on
inline constexpr std::size_t kPhaseCount = kPhases.size();

constexpr const PhaseInfo& info(Phase p) { return kPhases[static_cast<std::size_t>(p)]; }
constexpr std::string_view to_string(Phase p) { return info(p).name; }
constexpr bool is_terminal(Phase p) { return info(p).terminal; }
constexpr bool polls_when_done(Phase p) { return info(p).polls_when_done; }

namespace detail {
constexpr bool phase_table_in_order() {
  for (std::size_t i = 0; i < kPhases.size(); ++i)
    if (static_cast<std::size_t>(kPhases[i].phase) != i) return false;
  return true;
}
}  // namespace detail
static_assert(detail::phase_table_in_order(), "kPhases lists every Phase once, in declaration order");
static_assert(static_cast<std::size_t>(Phase::Reverted) + 1 == kPhaseCount, "a Phase is missing from kPhases");

// Which image a device runs.
enum class RunningVersion : std::uint8_t { Old, New, None };
inline constexpr std::size_t kRunningVersionCount = 3;

// The revert of a gate's rollback, for one device.
enum class Revert : std::uint8_t {
  None,        // not reverting (or never needed)
  Installing,  // installing the previous release
  Done,        // over for this device: done, refused or given up
};

// The per-device hot record: 34 bytes, packed to a 2-byte alignment so that
// together with the agent's 24-byte BootRecord, the kernel's 2-byte target
// epoch and a 4-byte place in the offer order a device costs 64 bytes
// (bytes_per_device()). Every field has one meaning; small ones are bit-fields.
#pragma pack(push, 2)
struct Device {
  std::uint32_t draws = 0;          // random draws used from the device's stream
  std::uint32_t progress = 0;       // payload bytes persisted (resume point)
  std::uint32_t pending_bytes = 0;  // bytes received by the time the pending transfer event fires
  std::uint32_t offered_s = 0;      // when the release was offered (whole seconds)
  float soc = 1.0f;                 // battery state of charge
  float battery_t = 0.0f;           // time (s) the charge was last brought up to date
  float pending_j = 0.0f;           // energy the pending activity uses
  std::uint16_t cls = 0;            // device class (index into Scenario::classes)
  std::uint8_t attempts = 0;        // consecutive failures (backoff exponent)
  Phase phase : 4 = Phase::Idle;
  agent::BootActionKind boot_action : 3 = agent::BootActionKind::BootNormal;  // of the pending boot
  // What the device runs and what it has been through.
  RunningVersion version : 2 = RunningVersion::Old;
  Revert revert : 2 = Revert::None;
  bool offered : 1 = false;      // the device's stage has opened (and the offer was not withdrawn)
  bool active : 1 = false;       // aggregate idle polls: this device's polls are events
  bool recovery : 1 = false;     // running the recovery image
  bool started : 1 = false;      // admitted for the update: the device timeout runs
  bool reported : 1 = false;     // its outcome reached the gates (or it timed out)
  bool exposed : 1 = false;      // booted the new image at least once
  bool learned : 1 = false;      // checked in for the offered release at least once
  bool from_server : 1 = false;  // P2P class fetching from the origin (a seed, or after fallback)
  bool pushed : 1 = false;       // the broker's notification reached it
  bool seeder : 1 = false;       // holds the verified image and serves its neighbours
};
#pragma pack(pop)
static_assert(sizeof(Device) == 34, "keep the per-device record at 34 bytes");

// The rest of a device's state lives in other units; bytes_per_device()
// (fleet_model.hpp) adds their sizes from the real types: the agent's
// BootRecord, the kernel's per-target epoch (sim::Simulator::Epoch) and the
// device's place in the offer order (RolloutController::order()).

}  // namespace ota::models
