// slot_writer.hpp — writes an image into a slot, chunk by chunk, so that an
// interrupted download resumes instead of restarting.
//
// Writing (SlotWriter):
//   - Chunks may have any size. Bytes are buffered only up to the slot's write
//     alignment; everything else goes straight to flash. RAM: one alignment
//     buffer (kMaxWriteAlignment bytes); finish() adds one SHA-256 context.
//   - Sectors are erased lazily, just before the first byte of each is
//     written, so the slot is never erased further than it is written.
//   - finish() reads the whole image back from the slot, through the same
//     alignment buffer, and checks its size and SHA-256 against what the
//     manifest promised: the verdict is about what the flash holds, not about
//     the bytes handed to write() (a write that landed wrong, or a sector that
//     lost bits, fails the check).
//   - After each completed checkpoint (every `checkpoint_sectors()` sectors,
//     and at the end of the image) the writer appends the byte offset to the
//     ProgressLog. After a power loss, resume() continues from the last
//     checkpoint: the partly written sector after it is erased again and
//     rewritten, and the bytes before it are trusted to the final read-back.
//     The caller must send the image again from offset().
//   - Delta installs are not resumable (the patch stream cannot restart in the
//     middle): they record no checkpoints and resume() restarts them at 0.
//     The old image they read is in the other slot and is never modified.
//
// Download progress log (ProgressLog), one sector of the boot area
// (boot_store.hpp: sector kProgressLogSector). Erased and given a header at
// the start of each install; entries are appended in erased space and never
// rewritten, so appending a checkpoint is a single flash write, and a torn
// entry only costs its own slot. All integers little-endian; `A` is the write
// alignment and every field group below is padded to a multiple of A with the
// erased value:
//
//   header, at offset 0 of the sector (20 bytes, padded to H = roundup(20, A)):
//      0  magic "OTPL"
//      4  install_id (u32)     the BootStore install it belongs to
//      8  image_size (u32)
//     12  kind (u8: 0 full image, 1 delta)   13..15 reserved = 0
//     16  crc32 of bytes 0..15
//
//   entry k, at offset H + k * E (12 bytes, padded to E = roundup(12, A)):
//      0  marker (u8) = erased value XOR 0xA5: never reads as erased, so an
//         entry with any byte landed is never taken for free space
//      1  reserved = 0 (3 bytes)
//      4  offset (u32): bytes of the image known to be on flash
//      8  crc32 of (install_id as u32 LE, then entry bytes 0..7)
//
// The current progress is the largest offset among valid entries; entries
// that do not check (torn writes) are skipped; the next entry goes after the
// last one that is not all erased. A header that does not check, or belongs to
// another install, size or kind, means "no progress".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "ota/agent/agent_status.hpp"
#include "ota/agent/boot_store.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/sha256.hpp"

namespace ota::agent {

enum class InstallKind : std::uint8_t { FullImage, Delta };

class ProgressLog {
 public:
  // `area` is the boot area; the log occupies the sector at `sector_offset`.
  ProgressLog(FlashArea& area, std::uint32_t sector_offset) : area_(area), sector_offset_(sector_offset) {}
  ProgressLog(const ProgressLog&) = delete;
  ProgressLog& operator=(const ProgressLog&) = delete;

  // Entries that fit after the header.
  std::uint32_t capacity() const;

  // Erases the log and writes a header for this install (two flash operations).
  AgentStatus start(std::uint32_t install_id, std::uint32_t image_size, InstallKind kind);

  // Reads the log into `progress`: the bytes recorded as written for this
  // install (0 when the log holds no entry yet), or nullopt when the header
  // is missing, torn, or for another install/size/kind — append() then needs
  // start() first.
  AgentStatus scan(std::uint32_t install_id, std::uint32_t image_size, InstallKind kind,
                   std::optional<std::uint32_t>& progress);

  // Records that `offset` bytes are on flash. Requires a bound log (start() or
  // a bound scan()). When the log is full the checkpoint is skipped (Ok): the
  // download still completes, a resume just goes back further.
  AgentStatus append(std::uint32_t offset);

 private:
  std::uint32_t header_span() const;
  std::uint32_t entry_span() const;

  FlashArea& area_;
  std::uint32_t sector_offset_;
  bool bound_ = false;
  std::uint32_t install_id_ = 0;
  std::uint32_t next_entry_ = 0;  // index of the next free entry
};

class SlotWriter {
 public:
  explicit SlotWriter(ProgressLog& log) : log_(log) {}
  SlotWriter(const SlotWriter&) = delete;
  SlotWriter& operator=(const SlotWriter&) = delete;

  // Starts a fresh write into `slot` of an image of `image_size` bytes at
  // offset 0 and restarts the progress log. TooLarge when it does not fit the
  // slot, BadLayout when the slot's geometry is unusable. `slot` must outlive
  // the write.
  AgentStatus begin(FlashArea& slot, std::uint32_t install_id, std::uint32_t image_size, InstallKind kind);

  // Continues install `install_id` into `slot` after a reboot from its last
  // checkpoint, or from 0 when there is none (the log is then restarted).
  // Deltas always restart from 0.
  AgentStatus resume(FlashArea& slot, std::uint32_t install_id, std::uint32_t image_size, InstallKind kind);

  // Bytes accepted so far: where the caller continues sending the image.
  std::uint32_t offset() const { return accepted_; }
  std::uint32_t image_size() const { return image_size_; }
  bool active() const { return active_; }
  // Sectors between two checkpoints (1 unless the log is too small).
  std::uint32_t checkpoint_sectors() const { return checkpoint_sectors_; }

  // Appends `bytes` to the image. Overflow (nothing written) when they would
  // go past image_size; WrongState when no write is in progress; NeedsReboot
  // after an earlier flash failure.
  AgentStatus write(std::span<const std::uint8_t> bytes);

  // Writes the buffered tail (padded with the erased value), records the final
  // checkpoint, then reads the image_size bytes back from the slot and
  // compares their SHA-256 with `expected`. Ok: the slot holds exactly the
  // expected image. Rejected(DigestMismatch): it does not (the writer is
  // idle; the caller marks the slot Invalid). Incomplete: fewer than
  // image_size bytes were written (nothing changes; keep writing).
  // FlashFailed: a write or the read-back failed (reboot).
  AgentStatus finish(const Digest& expected);

  // Forgets the write in progress (no flash access).
  void abandon() { active_ = false; }

 private:
  AgentStatus setup(FlashArea& slot, std::uint32_t image_size, InstallKind kind);
  AgentStatus program(std::span<const std::uint8_t> bytes);
  AgentStatus fail(AgentStatus s) {
    faulted_ = true;
    return s;
  }

  ProgressLog& log_;
  FlashArea* slot_ = nullptr;
  std::array<std::uint8_t, kMaxWriteAlignment> tail_{};
  std::uint32_t tail_size_ = 0;
  std::uint32_t image_size_ = 0;
  std::uint32_t accepted_ = 0;         // bytes given to write()
  std::uint32_t written_ = 0;          // bytes on flash (a multiple of the alignment until finish)
  std::uint32_t erased_until_ = 0;     // end of the last sector erased in this session
  std::uint32_t last_checkpoint_ = 0;  // offset of the last checkpoint appended to the log
  std::uint32_t checkpoint_sectors_ = 1;
  InstallKind kind_ = InstallKind::FullImage;
  bool active_ = false;
  bool faulted_ = false;
};

}  // namespace ota::agent
