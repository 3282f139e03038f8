// agent_status.hpp — the one result type of the agent's effectful operations
// (boot store, slot writer, update agent).
//
// No agent call throws. Every operation returns an AgentStatus that starts as
// a refusal; only a complete, successful operation turns it to Ok. Exactly one
// of the detail fields is meaningful, as named by `error`.
//
// Retrying: Rejected, WrongState, TooLarge, Overflow and Incomplete describe the
// request; repeating the same request gives the same answer. FlashFailed with
// PowerLost or IoError means the device's memory of what is on flash may be out
// of date: rebuild the agent over the same flash ("reboot") and retry — every
// operation resumes or restarts from what the flash holds.
#pragma once

#include <cstdint>
#include <string_view>

#include "ota/agent/flash_area.hpp"
#include "ota/agent/verdict.hpp"

namespace ota::agent {

enum class AgentError : std::uint8_t {
  Ok,
  Rejected,        // the artifact failed a check: see `verdict`
  WrongState,      // the boot record does not allow this now (no transition-table row)
  FlashFailed,     // a flash operation failed: see `flash`; reboot and retry
  NotProvisioned,  // the boot area holds no valid record (a blank or foreign device)
  BadLayout,       // the flash areas do not fit the scheme (missing slot, too few sectors, alignment)
  SchemeMismatch,  // the stored record was written for another partition scheme
  TooLarge,        // the image does not fit the slot
  Overflow,        // more bytes written than the offered image holds (chunk refused, nothing written)
  Incomplete,      // finish() before every byte of the image was written
  Unsupported,     // e.g. a delta on a single-partition device, or a version that cannot be recorded
  NeedsReboot,     // an earlier flash failure: rebuild the agent (reboot) first
};

constexpr std::string_view to_string(AgentError e) {
  switch (e) {
    case AgentError::Ok: return "ok";
    case AgentError::Rejected: return "rejected";
    case AgentError::WrongState: return "not allowed in the current boot state";
    case AgentError::FlashFailed: return "flash operation failed";
    case AgentError::NotProvisioned: return "no valid boot record (device not provisioned)";
    case AgentError::BadLayout: return "flash layout does not fit";
    case AgentError::SchemeMismatch: return "boot record written for another partition scheme";
    case AgentError::TooLarge: return "image larger than the slot";
    case AgentError::Overflow: return "more bytes than the image size";
    case AgentError::Incomplete: return "image incomplete";
    case AgentError::Unsupported: return "unsupported";
    case AgentError::NeedsReboot: return "a flash failure happened earlier: reboot first";
  }
  return "unknown agent error";
}

struct AgentStatus {
  AgentError error = AgentError::WrongState;
  Verdict verdict = Verdict::BadFormat;  // meaningful when error == Rejected (Accepted when Ok after a check)
  FlashStatus flash = FlashStatus::Ok;   // meaningful when error == FlashFailed

  bool ok() const { return error == AgentError::Ok; }

  static constexpr AgentStatus success() { return AgentStatus{AgentError::Ok, Verdict::Accepted, FlashStatus::Ok}; }
  static constexpr AgentStatus failure(AgentError e) { return AgentStatus{e, Verdict::BadFormat, FlashStatus::Ok}; }
  static constexpr AgentStatus rejected(Verdict v) { return AgentStatus{AgentError::Rejected, v, FlashStatus::Ok}; }
  static constexpr AgentStatus flash_failed(FlashStatus f) {
    return AgentStatus{AgentError::FlashFailed, Verdict::BadFormat, f};
  }
};

}  // namespace ota::agent
