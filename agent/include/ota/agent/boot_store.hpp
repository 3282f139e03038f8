// boot_store.hpp — the boot record on flash, written so that power may fail at
// any moment.
//
// The boot area (one FlashArea of at least three sectors) holds:
//
//   sector 0   boot record copy    } two copies, each with a sequence number
//   sector 1   boot record copy    } and a CRC; the newest valid one is current
//   sector 2   download progress log (slot_writer.hpp, ProgressLog)
//   sector 3.. unused
//
// Storing a record writes the next sequence number into the sector that does
// NOT hold the current copy: erase that sector, write the copy, read it back.
// Power lost at any point leaves the current copy untouched, and a torn copy
// (half-erased sector, half-written bytes) fails its CRC and is ignored, so a
// reboot sees either the old record or the new one, never a mix. (The same
// idea as ESP-IDF's two otadata sectors.) Cost: two flash operations per
// store; a full update with confirm stores five records, so each record
// sector is erased two or three times per update.
//
// One record copy, format version 1, all integers little-endian, 116 bytes,
// written as one flash write padded with the erased value to the write
// alignment:
//
//      0               1               2               3
//      +---------------+---------------+---------------+---------------+
//    0 |  'O'  0x4F    |  'T'  0x54    |  'B'  0x42    |  'R'  0x52    |  magic
//      +---------------+---------------+---------------+---------------+
//    4 | format = 1    | scheme        | reserved = 0 (u16)            |
//      +---------------+---------------+-------------------------------+
//    8 | sequence (u32): larger is newer; the first record is 1        |
//      +---------------------------------------------------------------+
//   12 | install_id (u32): incremented by each BeginInstall            |
//      +---------------------------------------------------------------+
//   16 | version[A] (u32, PackedVersion)                               |
//      +---------------------------------------------------------------+
//   20 | version[B] (u32, PackedVersion)                               |
//      +---------------------------------------------------------------+
//   24 | security_counter[A] (u32)                                     |
//      +---------------------------------------------------------------+
//   28 | security_counter[B] (u32)                                     |
//      +---------------------------------------------------------------+
//   32 | min_security_counter (u32)                                    |
//      +---------------+---------------+---------------+---------------+
//   36 | state[A]      | state[B]      | active slot   | trial_boots_  |
//      | (SlotState)   | (SlotState)   | (0 = A, 1 = B)| left          |
//      +---------------+---------------+---------------+---------------+
//   40 | image_size[A] (u32, bytes)                                    |
//      +---------------------------------------------------------------+
//   44 | image_sha256[A] (32 bytes)                                    |
//      ~                                                               ~
//      +---------------------------------------------------------------+
//   76 | image_size[B] (u32, bytes)                                    |
//      +---------------------------------------------------------------+
//   80 | image_sha256[B] (32 bytes)                                    |
//      ~                                                               ~
//      +---------------------------------------------------------------+
//  112 | crc32 (IEEE 802.3, reflected, of bytes 0..111)                |
//      +---------------------------------------------------------------+
//  116   end (padding up to the write alignment: erased value)
//
// A copy is valid when the magic, format and CRC match and every enum byte is
// in range. image_size/image_sha256 describe the image a slot holds — or, while
// it is Writing, the image being written into it (what finish() must match).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "ota/agent/agent_status.hpp"
#include "ota/agent/boot_control.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/sha256.hpp"

namespace ota::agent {

// The image a slot holds (or is being written with).
struct SlotImage {
  std::uint32_t size = 0;
  Digest sha256{};
  friend bool operator==(const SlotImage&, const SlotImage&) = default;
};

// Everything one record copy carries besides its framing.
struct StoredRecord {
  BootRecord record{};
  std::array<SlotImage, kSlotCount> image{};
  std::uint32_t install_id = 0;
  friend bool operator==(const StoredRecord&, const StoredRecord&) = default;
};

inline constexpr std::uint32_t kBootCopySize = 116;
inline constexpr std::uint8_t kBootCopyFormat = 1;
// Largest write alignment the agent supports (its write buffers are this big).
inline constexpr std::uint32_t kMaxWriteAlignment = 256;
// Boot area sectors: two record copies, then the progress log.
inline constexpr std::uint32_t kBootAreaMinSectors = 3;
inline constexpr std::uint32_t kProgressLogSector = 2;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320). Continue a running CRC
// by passing the previous result as `crc`.
std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

// Encodes one copy as laid out above.
std::array<std::uint8_t, kBootCopySize> encode_boot_copy(const StoredRecord& rec, std::uint32_t sequence,
                                                         PartitionScheme scheme);

struct DecodedBootCopy {
  StoredRecord stored{};
  std::uint32_t sequence = 0;
  PartitionScheme scheme = PartitionScheme::DualSlot;
};
// Decodes one copy; nullopt when it is not valid (bad magic/format/CRC, enum out of range).
std::optional<DecodedBootCopy> decode_boot_copy(std::span<const std::uint8_t> bytes);

// Reads and writes the boot record in a boot area. Holds a reference to the
// area; not copyable.
class BootStore {
 public:
  BootStore(FlashArea& area, PartitionScheme scheme) : area_(area), scheme_(scheme) {}
  BootStore(const BootStore&) = delete;
  BootStore& operator=(const BootStore&) = delete;

  // Ok when the area can hold the layout: at least kBootAreaMinSectors sectors,
  // a sector at least as large as a padded copy, a write alignment that divides
  // the sector and is at most kMaxWriteAlignment. BadLayout otherwise.
  static AgentStatus check_layout(const FlashArea& area);

  // Reads both copies and returns the newest valid one. NotProvisioned when
  // neither is valid; SchemeMismatch when the newest was written for another
  // scheme; FlashFailed when a read fails (retry after reboot). Reading never
  // writes: a torn copy is left alone until the next store() overwrites it.
  AgentStatus load(StoredRecord& out);

  // Makes `rec` the current record: erases the sector that does not hold the
  // current copy, writes the copy with the next sequence number and reads it
  // back. Requires a successful load() or provision() first (WrongState
  // otherwise). On FlashFailed the previous record may still be current: the
  // caller must reboot and load() again before trusting either.
  AgentStatus store(const StoredRecord& rec);

  // Factory (or re-provisioning): makes `rec` the current record whatever the
  // area held, even a record of another scheme. Writes it with a sequence
  // number above every valid copy found, into the sector that does not hold
  // the newest one. Power loss during provisioning leaves either the previous
  // record (NotProvisioned on a blank area) or the new one, never an older
  // copy: provision again. BadLayout for a copy whose sequence cannot be
  // outranked (2^32 - 1: never written by store()).
  AgentStatus provision(const StoredRecord& rec);

  // Sequence number of the current copy (0 before load/provision).
  std::uint32_t sequence() const { return sequence_; }

 private:
  AgentStatus write_copy(std::uint32_t sector, const StoredRecord& rec, std::uint32_t sequence);

  FlashArea& area_;
  PartitionScheme scheme_;
  std::uint32_t sequence_ = 0;
  std::optional<std::uint32_t> current_sector_;
};

}  // namespace ota::agent
