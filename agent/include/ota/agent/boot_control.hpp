// boot_control.hpp — the boot-control record and the pure decisions made on it.
//
// This is the part of the agent the simulator calls for every simulated
// device: the decisions (which slot to boot, when a trial has failed, when to
// roll back, when the anti-rollback minimum rises) are pure functions of a
// small record plus a BootConfig, with no flash and no I/O. The effects —
// persisting the record power-safely, writing slots — live elsewhere
// (boot_store.hpp, slot_writer.hpp, update_agent.hpp) and call these functions,
// so a device and a simulated device take the same decisions.
//
// Lifecycle of an update (A/B; slot names are examples):
//
//   A Confirmed (active)  B Empty
//     BeginInstall  -> B Writing        (download in progress, resumable)
//     WriteVerified -> B Pending        (complete, digest matches; not yet selected)
//     SetPending    -> B Pending, active = B, trial_boots_left = limit
//     Boot          -> B Trial, trial_boots_left - 1   (bootloader: trial boot)
//     ReportHealthy -> B Confirmed, min_security_counter raised
//   or, when the trial fails:
//     Boot (no trial boots left) / ReportUnhealthy on the last trial boot
//                   -> B Invalid, active = A   (rollback)
//
// Trial counting: every trial boot consumes one of `trial_boots_left` at the
// moment the bootloader starts it, so a crash loop that never reports anything
// still ends in a rollback. With the default limit 3 the new image gets three
// boots; if none of them confirms, the fourth boot rolls back — or the third
// boot's ReportUnhealthy rolls back at once.
//
// Single partition (+ recovery): there is only the main slot (slot A; slot B
// stays Empty). An install overwrites the running image, so from BeginInstall
// until WriteVerified the device has no bootable firmware: a reboot then boots
// the small recovery image, which must download again (BootRecovery), or, when
// the device has no recovery image, the device is bricked. A trial that fails
// in a single partition cannot roll back (there is no old image): the main slot
// becomes Invalid and the device boots recovery / is bricked.
//
// Anti-rollback: a slot whose security counter is below the device's
// `min_security_counter` is never booted (it is invalidated by the next Boot).
// The minimum is raised only when an image is confirmed, to that image's
// counter, and never decreases.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "ota/agent/manifest.hpp"

namespace ota::agent {

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

enum class SlotId : std::uint8_t { A, B };
inline constexpr std::size_t kSlotCount = 2;

constexpr std::size_t slot_index(SlotId s) { return static_cast<std::size_t>(s); }
constexpr SlotId other_slot(SlotId s) { return s == SlotId::A ? SlotId::B : SlotId::A; }

enum class SlotState : std::uint8_t {
  Empty,      // never written (or erased); holds no image
  Writing,    // an image is being written; incomplete, never bootable
  Pending,    // complete and verified, not booted yet
  Trial,      // booted at least once on trial, not confirmed yet
  Confirmed,  // reported healthy; a known-good image
  Invalid,    // failed verification, failed its trial, or below the anti-rollback minimum
};
inline constexpr std::size_t kSlotStateCount = 6;

enum class PartitionScheme : std::uint8_t {
  DualSlot,            // A/B: two full slots, rollback to the other slot
  SingleWithRecovery,  // one main slot (A) plus a small recovery image
  SingleNoRecovery,    // one main slot (A) and nothing else
};
inline constexpr std::size_t kPartitionSchemeCount = 3;

// Something that happens to a device and may change its boot record.
enum class BootEvent : std::uint8_t {
  BeginInstall,     // a verified offer starts writing the install target
  WriteVerified,    // the whole image is written and its digest matches
  WriteFailed,      // the written image's digest does not match (or the delta failed)
  PowerLoss,        // power lost while writing: progress is kept, the download resumes
  SetPending,       // select the verified image for trial at the next boot
  Boot,             // the bootloader runs (see decide_boot)
  ReportHealthy,    // the running image reports healthy (confirms a trial)
  ReportUnhealthy,  // the running trial image reports that it failed
};
inline constexpr std::size_t kBootEventCount = 8;

// The bootloader's decision.
enum class BootActionKind : std::uint8_t {
  BootNormal,    // boot `slot`, a confirmed image
  BootTrial,     // boot `slot` on trial (consumes one trial boot)
  RollBack,      // the selected image failed or cannot run: boot the confirmed image in `slot`
  BootRecovery,  // single partition: the main slot cannot run; boot the recovery image
  Bricked,       // nothing bootable: the device needs a service visit
};
inline constexpr std::size_t kBootActionKindCount = 5;

struct BootAction {
  BootActionKind kind = BootActionKind::Bricked;
  SlotId slot = SlotId::A;  // meaningful for BootNormal, BootTrial, RollBack only
  friend constexpr bool operator==(const BootAction&, const BootAction&) = default;
};

constexpr bool runs_firmware_slot(const BootAction& a) {
  return a.kind == BootActionKind::BootNormal || a.kind == BootActionKind::BootTrial ||
         a.kind == BootActionKind::RollBack;
}

// ---------------------------------------------------------------------------
// The record and the configuration
// ---------------------------------------------------------------------------

// Firmware version MAJOR.MINOR.PATCH packed into 32 bits for the record:
//   bits 31..24 major, 23..16 minor, 15..0 patch.
// Versions outside 255.255.65535 cannot be packed (pack_version returns
// nullopt and the agent refuses to record them rather than store a wrong one).
using PackedVersion = std::uint32_t;

constexpr std::optional<PackedVersion> pack_version(const FirmwareVersion& v) {
  if (!version_in_range(v)) return std::nullopt;
  return static_cast<PackedVersion>((static_cast<std::uint32_t>(v.major) << 24) |
                                    (static_cast<std::uint32_t>(v.minor) << 16) | v.patch);
}
constexpr FirmwareVersion unpack_version(PackedVersion p) {
  return FirmwareVersion{static_cast<std::uint16_t>(p >> 24), static_cast<std::uint16_t>((p >> 16) & 0xFFu),
                         static_cast<std::uint16_t>(p & 0xFFFFu)};
}

// The persistent boot-control state of one device. Plain data, 24 bytes, so
// the simulator can keep one per device; the agent persists it with a
// sequence number and CRC (boot_store.hpp). Index the arrays with slot_index().
//
// In the single-partition schemes slot A is the main slot, `active` is always
// A and slot B stays Empty.
struct BootRecord {
  std::array<PackedVersion, kSlotCount> version{};           // firmware version per slot
  std::array<std::uint32_t, kSlotCount> security_counter{};  // anti-rollback counter per slot
  std::uint32_t min_security_counter = 0;                    // device minimum; only rises
  std::array<SlotState, kSlotCount> state{SlotState::Empty, SlotState::Empty};
  SlotId active = SlotId::A;          // the slot the bootloader boots (normally or on trial)
  std::uint8_t trial_boots_left = 0;  // trial boots still allowed for the active slot; 0 when no trial

  SlotState state_of(SlotId s) const { return state[slot_index(s)]; }
  friend constexpr bool operator==(const BootRecord&, const BootRecord&) = default;
};
static_assert(sizeof(BootRecord) == 24, "the simulator keeps one BootRecord per device");
static_assert(std::is_trivially_copyable_v<BootRecord>);

// Per-device-model settings (one per hardware variant in the simulator).
struct BootConfig {
  PartitionScheme scheme = PartitionScheme::DualSlot;
  // Trial boots a new image gets before the bootloader gives up on it.
  // 0 is treated as 1: an image that may never boot could never be confirmed.
  std::uint8_t trial_boot_limit = 3;
  friend constexpr bool operator==(const BootConfig&, const BootConfig&) = default;
};

constexpr bool is_single_partition(PartitionScheme s) { return s != PartitionScheme::DualSlot; }
constexpr std::uint8_t effective_trial_limit(const BootConfig& c) {
  return c.trial_boot_limit == 0 ? std::uint8_t{1} : c.trial_boot_limit;
}

// The record of a device fresh from the factory: slot A holds a confirmed
// image with this version and counter, which is also the device minimum.
constexpr BootRecord factory_record(PackedVersion version, std::uint32_t security_counter) {
  BootRecord r{};
  r.version[0] = version;
  r.security_counter[0] = security_counter;
  r.min_security_counter = security_counter;
  r.state = {SlotState::Confirmed, SlotState::Empty};
  r.active = SlotId::A;
  r.trial_boots_left = 0;
  return r;
}

// ---------------------------------------------------------------------------
// The transition table (data): (slot state, event, guard) -> next slot state
// plus side effects on the rest of the record.
// ---------------------------------------------------------------------------

// A condition on `trial_boots_left` that selects between two rows.
enum class TrialGuard : std::uint8_t { Any, BootsLeft, NoBootsLeft };

// Side effects of a transition on the record, applied after the slot state
// changes; the "subject" is the slot the event acts on (see event_subject).
enum class Effect : std::uint8_t {
  None = 0,
  Select = 1,        // active := subject; trial_boots_left := limit
  ConsumeTrial = 2,  // trial_boots_left -= 1 (after Select when both are set)
  Confirm = 4,       // min_security_counter := max(min, subject's counter); trial_boots_left := 0
  FallBack = 8,      // A/B: active := the other slot; trial_boots_left := 0
};
constexpr Effect operator|(Effect a, Effect b) {
  return static_cast<Effect>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has_effect(Effect set, Effect e) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(e)) != 0;
}

struct Transition {
  SlotState from;
  BootEvent event;
  TrialGuard guard;
  SlotState to;
  Effect effects;
};

namespace detail {
constexpr auto make_transition_table() {
  using enum SlotState;
  using enum BootEvent;
  using enum TrialGuard;
  using enum Effect;
  // clang-format off
  return std::array{
    //         from       event            guard        to         effects
    // Installing into the install target (never the confirmed image the device falls back to).
    Transition{Empty,     BeginInstall,    Any,         Writing,   FallBack},
    Transition{Writing,   BeginInstall,    Any,         Writing,   FallBack},      // restart a download
    Transition{Pending,   BeginInstall,    Any,         Writing,   FallBack},      // replace an untried image
    Transition{Confirmed, BeginInstall,    Any,         Writing,   FallBack},      // A/B: old backup; single: the only image
    Transition{Invalid,   BeginInstall,    Any,         Writing,   FallBack},
    Transition{Writing,   WriteVerified,   Any,         Pending,   None},
    Transition{Writing,   WriteFailed,     Any,         Invalid,   None},
    Transition{Writing,   PowerLoss,       Any,         Writing,   None},          // progress kept: resumes
    Transition{Pending,   SetPending,      Any,         Pending,   Select},
    // The bootloader, acting on the active slot.
    Transition{Confirmed, Boot,            Any,         Confirmed, None},
    Transition{Pending,   Boot,            BootsLeft,   Trial,     ConsumeTrial},
    Transition{Pending,   Boot,            NoBootsLeft, Trial,     Select | ConsumeTrial},  // single: never selected
    Transition{Trial,     Boot,            BootsLeft,   Trial,     ConsumeTrial},  // previous trial boot did not confirm
    Transition{Trial,     Boot,            NoBootsLeft, Invalid,   FallBack},      // trial exhausted: roll back
    Transition{Empty,     Boot,            Any,         Empty,     FallBack},      // unbootable: fall back / recovery
    Transition{Writing,   Boot,            Any,         Writing,   FallBack},      // single: recovery resumes it
    Transition{Invalid,   Boot,            Any,         Invalid,   FallBack},
    // The running image.
    Transition{Trial,     ReportHealthy,   Any,         Confirmed, Confirm},
    Transition{Confirmed, ReportHealthy,   Any,         Confirmed, None},          // idempotent
    Transition{Trial,     ReportUnhealthy, BootsLeft,   Trial,     None},          // the next boot counts down
    Transition{Trial,     ReportUnhealthy, NoBootsLeft, Invalid,   FallBack},      // last trial failed: roll back now
  };
  // clang-format on
}
}  // namespace detail

inline constexpr auto kTransitions = detail::make_transition_table();

// The row for (state, event) under `trial_boots_left`, or nullopt when the
// event does not apply to a slot in that state.
std::optional<Transition> find_transition(SlotState from, BootEvent event, std::uint8_t trial_boots_left);

// ---------------------------------------------------------------------------
// Pure operations
// ---------------------------------------------------------------------------

// The slot an install writes: single partition, always A; A/B, the slot that
// is not the confirmed active one — or the active slot itself while it only
// holds a Pending (untried) image, which the install replaces. nullopt while a
// trial is running (confirm or roll back first).
std::optional<SlotId> install_target(const BootRecord& r, const BootConfig& c);

// The slot `event` acts on: the install target for BeginInstall, WriteVerified,
// WriteFailed, PowerLoss and SetPending; the active slot for Boot,
// ReportHealthy and ReportUnhealthy.
std::optional<SlotId> event_subject(const BootRecord& r, const BootConfig& c, BootEvent event);

// Whether the bootloader may run `s` now: its counter is not below the minimum
// and it is Confirmed, Pending, or on Trial with boots left.
bool is_bootable(const BootRecord& r, SlotId s);

// The bootloader's decision (pure; no state changes — see boot()).
//   active slot bootable  -> BootNormal (Confirmed) or BootTrial (Pending/Trial)
//   else, A/B             -> RollBack to the other slot if it is Confirmed and
//                            not below the minimum, else Bricked
//   else, single          -> BootRecovery, or Bricked without a recovery image
BootAction decide_boot(const BootRecord& r, const BootConfig& c);

struct BootStep {
  BootAction action;
  BootRecord record;  // the record to persist before jumping to the image
};

// decide_boot plus the Boot transition of the active slot: the record the
// bootloader must persist BEFORE starting the chosen image (so a crash during
// a trial boot still counts). A slot below the anti-rollback minimum is
// treated as Invalid (and becomes Invalid).
BootStep boot(const BootRecord& r, const BootConfig& c);

// BeginInstall with the new image's identity. nullopt (record unchanged) when
// no install may start (see install_target) or when `security_counter` is
// below the device minimum (anti-rollback; the verifier refuses this earlier
// as Downgrade, this is the second lock).
std::optional<BootRecord> begin_install(const BootRecord& r, const BootConfig& c, PackedVersion version,
                                        std::uint32_t security_counter);

// Applies any event except BeginInstall (use begin_install, which carries the
// image identity) — Boot is the same as boot(r, c).record. nullopt, record
// unchanged, when the event does not apply to the record (no row).
std::optional<BootRecord> apply(const BootRecord& r, const BootConfig& c, BootEvent event);

// The invariants every record reachable from factory_record() satisfies (the
// exhaustive tests check this on each one): enum values in range;
// trial_boots_left <= limit, and 0 unless a trial is selected; single schemes:
// active A, slot B Empty; A/B: the active slot holds an image (Confirmed,
// Pending or Trial) not below the minimum, the other slot is never on Trial,
// and while the active slot is Pending/Trial the other is the Confirmed
// fallback, not below the minimum.
bool is_consistent(const BootRecord& r, const BootConfig& c);

std::string_view to_string(SlotId s);
std::string_view to_string(SlotState s);
std::string_view to_string(PartitionScheme s);
std::string_view to_string(BootEvent e);
std::string_view to_string(BootActionKind k);
std::string_view to_string(TrialGuard g);

}  // namespace ota::agent
