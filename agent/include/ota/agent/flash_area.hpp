// flash_area.hpp — the agent's only view of non-volatile storage.
//
// A FlashArea is one contiguous region of NOR-like flash: bytes read back as
// `erased_value()` after `erase_sector`, a write may only change erased bytes,
// and writes must start and end on `write_alignment()` boundaries. Slots,
// the boot record and the recovery image each live in their own FlashArea.
//
// Implementations: `agent/port/host` (a file standing for a device's flash) and
// the strict fake used by the power-loss tests. No call throws; every error is
// returned. A caller may retry a failed operation after the device "reboots";
// `PowerLost` means the operation may have landed partly (a torn write or a
// partly erased sector) and nothing after it ran.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ota::agent {

enum class FlashStatus : std::uint8_t {
  Ok,
  OutOfBounds,  // offset/length outside the area
  Misaligned,   // write not on write_alignment(), or erase not on a sector start
  NotErased,    // write to bytes that are not in the erased state
  PowerLost,    // the device lost power during (or before) this operation
  IoError,      // the backing store failed (host port: file I/O)
};

constexpr std::string_view to_string(FlashStatus s) {
  switch (s) {
    case FlashStatus::Ok: return "ok";
    case FlashStatus::OutOfBounds: return "out of bounds";
    case FlashStatus::Misaligned: return "misaligned";
    case FlashStatus::NotErased: return "not erased";
    case FlashStatus::PowerLost: return "power lost";
    case FlashStatus::IoError: return "I/O error";
  }
  return "unknown";
}

class FlashArea {
 public:
  virtual ~FlashArea() = default;

  // Total bytes; a whole number of sectors.
  virtual std::uint32_t size() const = 0;
  virtual std::uint32_t sector_size() const = 0;
  // Writes must start at a multiple of this and have a length that is a multiple of it.
  virtual std::uint32_t write_alignment() const = 0;
  virtual std::uint8_t erased_value() const = 0;

  virtual FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const = 0;
  virtual FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) = 0;
  // Erases the sector that starts at `offset` (must be sector-aligned).
  virtual FlashStatus erase_sector(std::uint32_t offset) = 0;
};

}  // namespace ota::agent
