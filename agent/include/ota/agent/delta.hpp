// delta.hpp — binary delta patches: made on the host, applied streaming on the device.
//
// Usage: device `DeltaApplier a(active_slot, sink); a.feed(chunk)...; a.finish();` (ota_agent).
//        host `auto patch = ota::agent::encode_delta(old_image, new_image);` — the
//        encoder is host-only: delta_encoder.hpp, in the ota_agent_encoder library.
//
// Method. The encoder follows Percival's "Naive differences of executable code"
// (2003): a suffix array of the old image (libdivsufsort) finds long matches, each
// match is grown into an approximate alignment of old and new bytes, and the patch
// says, for each region of the new image, "add these differences to these old
// bytes" (the diff part) or "take these bytes as they are" (the extra part). Two
// changes from plain bsdiff make patches smaller:
//   - differences are taken per little-endian 16-bit halfword (aligned on the new
//     image's even offsets) rather than per byte, so that an address or
//     instruction immediate that grew by 8 reads as one repeated value instead of
//     a byte change plus a carry byte that appears only sometimes (RISC-V and
//     Thumb code are halfword-aligned; on other data it is just another
//     reversible transform);
//   - the records are compressed with LZMA2 (liblzma, raw, small dictionary)
//     instead of bzip2. On the firmware pairs zstd (level 22, same records) came
//     out 15-25% larger than LZMA2 and larger than bsdiff's bzip2 on four of
//     the six pairs, so it cannot meet the "no larger than bsdiff" target;
//     `otasim-bench delta` prints both for every pair.
//
// Patch format, version 1. All integers little-endian.
//
//   offset size
//        0    4  magic "OTAD"
//        4    1  format version (kDeltaFormatVersion)
//        5    1  dict_log2: LZMA2 dictionary of 2^dict_log2 bytes, kMinDictLog2..kMaxDictLog2
//        6    2  reserved, must be 0
//        8    4  old_size: bytes of the old image (the base) the patch reads
//       12    4  new_size: bytes of the new image the patch makes
//       16   32  SHA-256 of the old image
//       48   32  SHA-256 of the new image
//       80    -  raw LZMA2 stream
//
//   +-------+---+---+-----+----------+----------+-------------+-------------+--------------
//   |O T A D| v | d | 0 0 | old_size | new_size | old SHA-256 | new SHA-256 | LZMA2 ... 00
//   +-------+---+---+-----+----------+----------+-------------+-------------+--------------
//   0       4   5   6     8          12         16            48            80
//
// After the 80-byte header comes one raw LZMA2 stream (no .xz container, ends with
// LZMA2's end-of-stream byte 0x00) and nothing else. The encoder compresses
// each 4 MiB of records on its own, on several threads (delta_encoder.cpp), so
// a larger stream resets the dictionary and restates lc/lp/pb at every 4 MiB
// of records, which LZMA2 allows anywhere: the decoder reads one ordinary
// stream. A firmware patch is a single block. Decompressed, the stream is a
// sequence of records that together produce exactly new_size bytes:
//
//   record := varint zigzag(seek)   move the old position by seek (signed) first
//             varint diff_len       then diff_len "diff" bytes follow
//             varint extra_len      then extra_len "extra" bytes follow
//             diff bytes[diff_len]
//             extra bytes[extra_len]
//
// varint: LEB128, low 7 bits first, at most 5 bytes. zigzag(s) = 2s for s >= 0,
// -2s-1 for s < 0. The old position starts at 0. A record must not be empty
// (diff_len + extra_len > 0), the old position after the seek must lie within
// [0, old_size] and the diff must read old bytes [pos, pos + diff_len) within the
// old image. For the diff bytes, let o = new-image offset of the byte being made:
//   o even, and o+1 also in this record's diff: the halfword at o is
//       new16 = old16 + (d[o] | d[o+1] << 8)  (mod 2^16)
//   otherwise (a lone byte at a region edge): new[o] = old[o'] + d[o]  (mod 2^8)
// then the old position advances by diff_len. Extra bytes are copied to the new
// image as they are. Records end when new_size bytes have been produced; the
// LZMA2 stream must end right there and the patch right after it.
//
// Why the digests: the manifest signs the patch and names its base, but the patch
// is also used on its own (`otasign delta`, tests); with both digests the applier
// refuses a wrong base before writing anything (WrongBase) and catches any damage
// the stream format cannot see (DigestMismatch), for 64 bytes.
//
// Device RAM. DeltaApplier holds all its memory inline: no heap, no growth with
// the input. sizeof(DeltaApplier) is kDecoderArenaBytes (98 KiB) + 6 KiB and a
// little (about 104.5 KiB on x86-64; a test pins it):
//   - LZMA2 decoder: the dictionary (2^dict_log2 <= 64 KiB) plus about 33 KiB of
//     probability tables and state, served by a fixed arena of kDecoderArenaBytes;
//   - kChunkBytes (4 KiB) of output, kScratchBytes (1 KiB) each of decoded
//     records and of old-image reads;
//   - the header and one SHA-256 context (a second one lives on the stack while
//     the old image is hashed).
// The dictionary size is the encoder's choice (DeltaOptions::dict_log2 in
// delta_encoder.hpp); a patch asking for more than kMaxDictLog2 is refused
// (BadHeader), so a device can never be made to allocate more. Stack use is
// small (no recursion, no large locals). Measured (valgrind massif and
// heaptrack on `otasim-bench delta --apply-only`): the apply makes no heap
// allocation of its own — liblzma's allocations all land in the arena — and
// the whole bench process peaks under 3.6 KiB of stack. What the dictionary
// costs in patch size on the firmware pairs, against the default 64 KiB:
// 32 KiB -0.0..+0.6%, 16 KiB +0.7..1.3%, 4 KiB +3.0..3.6% (still below bsdiff
// on every pair); the applier's RAM would shrink by the same number of bytes
// as the dictionary if kMaxDictLog2 is lowered (build option
// OTA_AGENT_MAX_DICT_LOG2). On Cortex-M the same liblzma decoder, built from
// Debian's xz-utils source (tests/target), takes 32,736 bytes besides the
// dictionary, 24 KiB of it LZMA's literal probability tables sized for
// lc + lp = 4 (xz-embedded reserves the same); the agent's tests run it under
// QEMU (scripts/target-test).
//
// Restart after power loss. The applier keeps nothing on flash and never writes
// to the old image. After a power loss or any failure the caller builds a new
// DeltaApplier (or calls reset()) and feeds the patch again from its first byte;
// the output is produced again from offset 0, identical to the first attempt.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ota/agent/flash_area.hpp"
#include "ota/agent/sha256.hpp"

namespace ota::agent {

inline constexpr std::uint8_t kDeltaFormatVersion = 1;
inline constexpr std::array<std::uint8_t, 4> kDeltaMagic = {'O', 'T', 'A', 'D'};
inline constexpr std::size_t kDeltaHeaderBytes = 80;
inline constexpr std::uint8_t kMinDictLog2 = 12;  // 4 KiB
// The most a patch may make a device hold: 64 KiB unless the build says less
// (CMake option OTA_AGENT_MAX_DICT_LOG2, 12..16; the device's RAM for the
// decoder shrinks by as many bytes, and patches for it must be encoded with
// DeltaOptions::dict_log2 at most this).
#ifndef OTA_AGENT_MAX_DICT_LOG2
#define OTA_AGENT_MAX_DICT_LOG2 16
#endif
inline constexpr std::uint8_t kMaxDictLog2 = OTA_AGENT_MAX_DICT_LOG2;
static_assert(kMaxDictLog2 >= kMinDictLog2 && kMaxDictLog2 <= 16, "OTA_AGENT_MAX_DICT_LOG2 must be 12..16");

// The fixed header of a patch (see the diagram above).
struct DeltaHeader {
  std::uint8_t version = 0;
  std::uint8_t dict_log2 = 0;
  std::uint32_t old_size = 0;
  std::uint32_t new_size = 0;
  Digest old_sha256{};
  Digest new_sha256{};
};

enum class DeltaStatus : std::uint8_t {
  Ok,                  // so far so good (feed) / the new image is complete and verified (finish)
  BadHeader,           // wrong magic, reserved bytes not zero, dictionary outside the limits
  UnsupportedVersion,  // a format version this applier does not know
  WrongBase,           // the old image is not the patch's base: too large for the area, or its SHA-256 differs
  CorruptPatch,        // the compressed stream or a record is invalid, or bytes follow the end of the stream
  Truncated,           // finish() before the patch's stream ended
  OutputSizeMismatch,  // the records make more or fewer bytes than the header's new_size
  OldReadFailed,       // FlashArea::read of the old image failed; see old_read_status()
  SinkFailed,          // ByteSink::write returned false
  DigestMismatch,      // the produced image's SHA-256 differs from the header's
  DecoderFailed,       // the decompressor could not start (arena too small): a build defect, not the patch
};

constexpr std::string_view to_string(DeltaStatus s) {
  switch (s) {
    case DeltaStatus::Ok: return "ok";
    case DeltaStatus::BadHeader: return "bad patch header";
    case DeltaStatus::UnsupportedVersion: return "unsupported patch format version";
    case DeltaStatus::WrongBase: return "old image is not the patch's base";
    case DeltaStatus::CorruptPatch: return "corrupt patch";
    case DeltaStatus::Truncated: return "patch truncated";
    case DeltaStatus::OutputSizeMismatch: return "patch output size differs from the header";
    case DeltaStatus::OldReadFailed: return "reading the old image failed";
    case DeltaStatus::SinkFailed: return "writing the new image failed";
    case DeltaStatus::DigestMismatch: return "new image digest mismatch";
    case DeltaStatus::DecoderFailed: return "decompressor could not start";
  }
  return "unknown delta status";
}

// Parses the first kDeltaHeaderBytes of a patch. Checks magic, version, reserved
// bytes and the dictionary limits; nothing else. On failure `status` says why.
struct DeltaHeaderResult {
  DeltaStatus status = DeltaStatus::BadHeader;
  DeltaHeader header;
};
DeltaHeaderResult parse_delta_header(std::span<const std::uint8_t> bytes);

// Where the applier puts the new image, in order, from offset 0. Every call but
// the last carries exactly DeltaApplier::kChunkBytes bytes (friendly to a flash
// writer); the last carries the rest. Return false to stop the apply (SinkFailed).
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual bool write(std::span<const std::uint8_t> bytes) = 0;
};

struct DeltaApplyOptions {
  // Hash the whole old image (old_size bytes of the area) when the header
  // arrives and refuse a wrong base before producing anything. Turn off only
  // when the caller has just checked the running image's digest itself.
  bool verify_old_image = true;
};

// Applies one patch, streaming: feed() the patch bytes in chunks of any size as
// they arrive, then finish(). Reads the old image from `old_image` (random
// access, never writes it) and writes the new image through `sink`.
//
// After the first error every call returns that same error; reset() (or a new
// applier) starts over from the patch's first byte. Not copyable or movable (the
// decoder points into the applier's own arena). Not thread-safe.
class DeltaApplier {
 public:
  static constexpr std::size_t kChunkBytes = 4096;   // output handed to the sink per write
  static constexpr std::size_t kScratchBytes = 1024; // decoded records / old-image reads per step
  static constexpr std::size_t kMaxDictBytes = std::size_t{1} << kMaxDictLog2;
  // liblzma 5.4's LZMA2 decoder takes 32,928 bytes besides the dictionary; the
  // margin absorbs allocator alignment. A test checks the largest dictionary fits.
  static constexpr std::size_t kDecoderStateBytes = 34 * 1024;
  static constexpr std::size_t kDecoderArenaBytes = kMaxDictBytes + kDecoderStateBytes;

  DeltaApplier(const FlashArea& old_image, ByteSink& sink, DeltaApplyOptions options = {});
  ~DeltaApplier();
  DeltaApplier(const DeltaApplier&) = delete;
  DeltaApplier& operator=(const DeltaApplier&) = delete;

  // Consumes all of `patch_bytes`. Ok means "no error so far", not "done".
  DeltaStatus feed(std::span<const std::uint8_t> patch_bytes);
  // Call once after the last feed(): Ok only when the stream ended, exactly
  // new_size bytes went to the sink and their SHA-256 matches the header.
  DeltaStatus finish();
  // Forget everything and wait for the patch's first byte again.
  void reset();

  // The header, once its 80 bytes have arrived and parsed.
  const std::optional<DeltaHeader>& header() const { return header_; }
  // New-image bytes handed to the sink so far.
  std::uint64_t bytes_written() const { return written_to_sink_; }
  // The failing FlashArea status when the result is OldReadFailed.
  FlashStatus old_read_status() const { return old_read_status_; }
  // Arena bytes the decoder took (at most kDecoderArenaBytes); for tests and benches.
  std::size_t decoder_arena_used() const { return arena_used_; }

 private:
  enum class Phase : std::uint8_t { Header, Records, Done, Failed };
  enum class RecordPart : std::uint8_t { Seek, DiffLen, ExtraLen, Diff, Extra };

  DeltaStatus fail(DeltaStatus s);
  DeltaStatus on_header();
  DeltaStatus decode(std::span<const std::uint8_t> in);
  DeltaStatus consume(std::span<const std::uint8_t> decoded);
  DeltaStatus start_record_body();
  DeltaStatus end_record();
  DeltaStatus finish_records();
  DeltaStatus apply_diff(std::span<const std::uint8_t> diff);
  DeltaStatus emit(std::uint8_t byte);
  DeltaStatus flush_output();
  void end_decoder();

  static void* arena_alloc(void* opaque, std::size_t count, std::size_t size);
  static void arena_free(void* opaque, void* ptr);

  const FlashArea& old_image_;
  ByteSink& sink_;
  DeltaApplyOptions options_;

  Phase phase_ = Phase::Header;
  DeltaStatus error_ = DeltaStatus::Ok;
  FlashStatus old_read_status_ = FlashStatus::Ok;
  std::optional<DeltaHeader> header_;
  std::array<std::uint8_t, kDeltaHeaderBytes> header_bytes_{};
  std::size_t header_fill_ = 0;

  // Decompressor: liblzma raw LZMA2 over a bump allocator on arena_. Its
  // handle (an lzma_stream and an lzma_allocator) is kept as bytes so that no
  // liblzma header reaches the agent's users; delta_apply.cpp checks this size
  // against liblzma's own types at compile time.
 public:
  static constexpr std::size_t kDecoderHandleBytes = (15 * sizeof(void*) + 40 + 7) / 8 * 8;

 private:
  alignas(8) std::array<unsigned char, kDecoderHandleBytes> decoder_handle_{};
  bool stream_live_ = false;
  bool stream_ended_ = false;
  std::size_t arena_used_ = 0;

  // Record parser.
  RecordPart part_ = RecordPart::Seek;
  std::uint64_t varint_value_ = 0;
  std::uint8_t varint_bytes_ = 0;
  std::int64_t pending_seek_ = 0;
  std::uint64_t diff_left_ = 0;
  std::uint64_t extra_left_ = 0;
  std::uint64_t old_pos_ = 0;
  std::uint64_t produced_ = 0;  // new-image bytes made (some may still sit in out_)
  bool carry_pending_ = false;  // the high byte of a halfword follows: add the low byte's carry
  std::uint8_t carry_ = 0;

  // Old-image read window: old_window_[0, old_window_len_) holds old bytes from old_window_pos_.
  std::uint64_t old_window_pos_ = 0;
  std::size_t old_window_len_ = 0;

  std::size_t out_fill_ = 0;
  std::uint64_t written_to_sink_ = 0;
  Sha256 new_hash_;

  std::array<std::uint8_t, kScratchBytes> decoded_{};
  std::array<std::uint8_t, kScratchBytes> old_window_{};
  std::array<std::uint8_t, kChunkBytes> out_{};
  alignas(std::max_align_t) std::array<std::uint8_t, kDecoderArenaBytes> arena_{};
};

}  // namespace ota::agent
