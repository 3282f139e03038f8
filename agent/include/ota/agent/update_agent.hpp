// update_agent.hpp — the device agent's top-level facade: what a device main
// loop (or the host port, or a test) calls to boot, install and confirm.
//
//   UpdateAgent agent(areas, config, verifier, hardware_id);
//   BootOutcome b = agent.boot();            // bootloader step at power-on
//   ... if b.action is a trial boot and the image works: agent.report_healthy();
//   agent.offer(signed_manifest);            // verify, start (or resume) an install
//   agent.write(image bytes from agent.resume_offset() on ...);   // full image
//   agent.write_patch(patch bytes from 0 ...);                    // or a delta
//   agent.finish();                          // digest check -> Pending (or Invalid)
//   agent.set_pending();                     // select it for the next boot
//   <reboot>                                 // boot() -> trial boot of the new image
//
// Decisions are made by the pure functions of boot_control.hpp (the same ones
// the simulator calls); this class performs their effects on flash: every
// change of the boot record is persisted with BootStore (two copies, sequence
// number, CRC) before the operation reports success, and image bytes go through
// SlotWriter (lazy erase, resumable progress log).
//
// Power loss. Constructing an agent over flash in ANY state — including every
// state a power cut at any flash operation can leave — is a reboot: boot()
// picks the newest valid record, and the install in progress, if any, can be
// resumed by offering the same manifest again (full images continue from
// resume_offset(); deltas restart from the first patch byte) or replaced by
// offering another. The confirmed image the device falls back to is never
// written while another image is unconfirmed.
//
// Errors: see agent_status.hpp. After FlashFailed (PowerLost, IoError) every
// call but boot() answers NeedsReboot; boot() reloads everything from flash.
//
// RAM: sizeof(UpdateAgent) is about 105 KiB on x86-64, of which the in-place
// DeltaApplier (delta.hpp: LZMA2 dictionary and decoder state) is 104.6 KiB;
// the rest (record, slot writer with its alignment buffer, the patch's SHA-256 state)
// is under 1 KiB. On Cortex-M (arm-none-eabi-gcc -Os, measured by
// scripts/target-footprint): 468 bytes full-image-only, 58,504 with delta at a
// 16 KiB dictionary, 107,656 at 64 KiB. On a device it is meant to be a static object. No heap, no
// exceptions; the stack use of every call is small (largest local: one
// 372-byte record copy buffer).
//
// Build options (CMake, agent/CMakeLists.txt; they change this class, so
// they are compile definitions of every user of ota_agent):
//   OTA_AGENT_DELTA=0          a full-image-only agent: no applier, no patch
//                              check; a delta offer is Unsupported. Under
//                              1 KiB (a static_assert in update_agent.cpp).
//   OTA_AGENT_MAX_DICT_LOG2=N  the largest LZMA2 dictionary a patch may ask
//                              for (12..16, delta.hpp): the applier's RAM.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "ota/agent/agent_status.hpp"
#include "ota/agent/boot_control.hpp"
#include "ota/agent/boot_store.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/slot_writer.hpp"
#include "ota/agent/verifier.hpp"

#ifndef OTA_AGENT_DELTA
#define OTA_AGENT_DELTA 1
#endif
#if OTA_AGENT_DELTA
#include "ota/agent/delta.hpp"
#endif

namespace ota::agent {

// The flash areas of one device. Not owned; they must outlive the agent and
// must not overlap.
struct AgentAreas {
  FlashArea& boot;                // boot area: >= kBootAreaMinSectors sectors (boot_store.hpp)
  FlashArea& slot_a;              // slot A; the main slot in the single-partition schemes
  FlashArea* slot_b = nullptr;    // slot B; required for DualSlot (BadLayout without), unused otherwise
};

struct BootOutcome {
  AgentStatus status;
  BootAction action;  // meaningful when status.ok()
};

class UpdateAgent {
 public:
  UpdateAgent(const AgentAreas& areas, const BootConfig& config, Verifier& verifier, std::uint32_t hardware_id);
  UpdateAgent(const UpdateAgent&) = delete;
  UpdateAgent& operator=(const UpdateAgent&) = delete;

  // Factory provisioning: records that slot A holds `image` (already written
  // there) with this version and security counter, Confirmed; the device
  // minimum is that counter. Outranks any previous record (BootStore::
  // provision). Unsupported when the version cannot be packed
  // (boot_control.hpp). Power loss leaves the previous record or the new one:
  // provision again.
  static AgentStatus provision(FlashArea& boot_area, const BootConfig& config, const FirmwareVersion& version,
                               std::uint32_t security_counter, const SlotImage& image);

  // The bootloader step at power-on: reloads the record from flash (dropping
  // any install session held in memory), decides (decide_boot), and persists
  // the resulting record (trial boot counted, rollback recorded) BEFORE
  // returning the action to run. On failure nothing was decided: reboot and
  // call again. NotProvisioned on a blank boot area.
  BootOutcome boot();

  // Verifies a signed manifest (manifest || signature) for this device and
  // prepares its install into install_target(): verifier checks (signature,
  // key, hardware, anti-rollback, size), then for a delta the base (the
  // confirmed image the patch applies to). Returns Ok (verdict Accepted) or
  // Rejected with the verdict; WrongState while a trial is running;
  // Unsupported for a delta on a single-partition device or a version that
  // does not pack.
  // Offering the manifest of the install already in progress (same image,
  // version and counter) resumes it: a full image continues at
  // resume_offset(), a delta restarts. Any other manifest restarts the
  // install target from scratch.
  AgentStatus offer(std::span<const std::uint8_t> signed_manifest);

  // Where the image bytes must continue (0 for a fresh install or a delta).
  std::uint32_t resume_offset() const { return writer_.active() ? writer_.offset() : 0; }

  // Full image: the next bytes, in order, from resume_offset(). Any chunk size.
  // WrongState unless a full-image offer is in progress; Overflow past the
  // image size (nothing written).
  AgentStatus write(std::span<const std::uint8_t> chunk);

  // Delta: the next bytes of the patch, in order, from its first byte. Patch
  // failures (corrupt, wrong base, result digest) mark the slot Invalid and
  // return Rejected: fall back to the full image. Unsupported in a build
  // without delta support.
  AgentStatus write_patch(std::span<const std::uint8_t> patch_chunk);

  // Ends the install: checks the patch of a delta against the manifest, then
  // reads the slot back and checks what the flash holds against the
  // manifest's image size and SHA-256. Ok -> the slot is Pending. Rejected ->
  // the slot is Invalid and the session is over: DigestMismatch (the image on
  // flash, or the patch, or what the patch built, is not the manifest's) or
  // DeltaBaseMismatch (the patch does not fit the running image). Incomplete
  // (full image only) when bytes are missing: nothing changes, keep writing;
  // a delta that built too few bytes is a DigestMismatch.
  AgentStatus finish();

  // Selects the Pending image for trial at the next boot (SetPending).
  AgentStatus set_pending();

  // The running image is healthy: confirms a trial (raises the anti-rollback
  // minimum); on an already confirmed image a no-op.
  AgentStatus report_healthy();

  // The running trial image failed: on its last trial boot the agent rolls
  // back at once, otherwise the next boot counts down (reboot now).
  AgentStatus report_unhealthy();

  // The current record (after a successful boot() or other operation).
  const StoredRecord& stored() const { return stored_; }
  const BootRecord& record() const { return stored_.record; }
  const BootConfig& config() const { return config_; }
  // The slot the current install writes, or nullopt when none is in progress.
  std::optional<SlotId> installing() const;

 private:
#if OTA_AGENT_DELTA
  // Feeds the delta applier's output into the slot writer.
  class Sink final : public ByteSink {
   public:
    explicit Sink(SlotWriter& writer) : writer_(writer) {}
    bool write(std::span<const std::uint8_t> bytes) override;
    AgentStatus status = AgentStatus::success();  // the writer's answer to the last write

   private:
    SlotWriter& writer_;
  };
#endif

  AgentStatus ensure_loaded();
  AgentStatus commit(const StoredRecord& next);
  AgentStatus apply_event(BootEvent event);
  AgentStatus fail_install(Verdict verdict);
  AgentStatus flash_failure(AgentStatus s);
#if OTA_AGENT_DELTA
  AgentStatus delta_failure(DeltaStatus status);
#endif
  void end_session();
  FlashArea* slot_area(SlotId s) const;

  AgentAreas areas_;
  BootConfig config_;
  Verifier& verifier_;
  std::uint32_t hardware_id_;
  BootStore store_;
  ProgressLog log_;
  SlotWriter writer_;
#if OTA_AGENT_DELTA
  Sink sink_;
#endif
  StoredRecord stored_{};
  bool loaded_ = false;
  bool needs_reboot_ = false;

  // The install session (memory only; the flash holds what survives a reboot).
  std::optional<SlotId> session_slot_;
  InstallKind session_kind_ = InstallKind::FullImage;
#if OTA_AGENT_DELTA
  std::optional<ImageDigestCheck> patch_check_;  // delta: the patch as downloaded
  std::optional<DeltaApplier> applier_;          // delta: built in place by offer()
#endif
};

}  // namespace ota::agent
