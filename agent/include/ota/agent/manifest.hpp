// manifest.hpp — the signed release manifest: what an update claims to be.
//
// A manifest names one firmware image (its size and SHA-256), the hardware it
// is built for, its version and its anti-rollback security counter, optionally
// the delta patch that produces it from a base image, and the key that signed
// it. The device parses it with `parse_manifest` — no heap, no exceptions, every
// byte checked — and only then checks the signature over the exact bytes (see
// verifier.hpp). The encoding is canonical: one manifest has exactly one byte
// string, so `encode_manifest(parse_manifest(b).manifest) == b` for every `b`
// that parses.
//
// On-wire layout, format version 1. All integers little-endian; every field at
// a fixed offset; the only variable parts are the hardware id list (n entries)
// and the delta section (present only when flags.HasDelta is set). Reserved
// bits and bytes must be zero. Nothing may follow the last field.
//
//      0               1               2               3
//      +---------------+---------------+---------------+---------------+
//    0 |  'O'  0x4F    |  'T'  0x54    |  'A'  0x41    |  'M'  0x4D    |  magic
//      +---------------+---------------+---------------+---------------+
//    4 | format_ver = 1| flags         | hw_id_count n | reserved = 0  |
//      +---------------+---------------+---------------+---------------+
//    8 | manifest_size (u16)           | version.major (u16)           |
//      +-------------------------------+-------------------------------+
//   12 | version.minor (u16)           | version.patch (u16)           |
//      +-------------------------------+-------------------------------+
//   16 | security_counter (u32)                                        |
//      +---------------------------------------------------------------+
//   20 | image_size (u32, bytes, > 0)                                  |
//      +---------------------------------------------------------------+
//   24 | build_time (u64, seconds since 1970-01-01 UTC)                |
//      +                                                               +
//   28 |                                                               |
//      +---------------------------------------------------------------+
//   32 | key_id (8 bytes: first 8 bytes of SHA-256 of the signing      |
//      +   key's uncompressed public point 04||X||Y, see verifier.hpp) +
//   36 |                                                               |
//      +---------------------------------------------------------------+
//   40 | source_commit (20 bytes: git object id; all zero = unknown)   |
//      ~                                                               ~
//   56 |                                                               |
//      +---------------------------------------------------------------+
//   60 | reserved = 0 (u32)                                            |
//      +---------------------------------------------------------------+
//   64 | image_sha256 (32 bytes: SHA-256 of the full new image)        |
//      ~                                                               ~
//   92 |                                                               |
//      +---------------------------------------------------------------+
//   96 | hardware_ids[0] (u32)                                         |
//      ~ ... n entries, 1 <= n <= 8, strictly increasing               ~
// 92+4n| hardware_ids[n-1] (u32)                                       |
//      +---------------------------------------------------------------+
//      | delta section, 72 bytes, only when flags bit 0 (HasDelta):    |
//   D+0| base_sha256 (32 bytes: SHA-256 of the image the patch applies |
//      ~   to, i.e. the device's running image)                        ~
//  D+32| patch_size (u32, bytes, > 0)                                  |
//  D+36| reserved = 0 (u32)                                            |
//  D+40| patch_sha256 (32 bytes: SHA-256 of the patch as downloaded)   |
//      ~                                                               ~
//  D+68|                                                               |
//      +---------------------------------------------------------------+
//      where D = 96 + 4n.
//
//   flags: bit 0 = HasDelta; bits 1..7 reserved (0).
//   manifest_size = 96 + 4n + (HasDelta ? 72 : 0): 100..200 bytes. It repeats
//   what n and the flags imply so that a reader of an envelope knows where the
//   manifest ends; a mismatch is a format error.
//
// The signed envelope (what is shipped beside the image, and what `otasign sign`
// writes) is the manifest bytes followed by a 64-byte ECDSA P-256 signature
// r||s (each 32 bytes big-endian) over SHA-256 of exactly those manifest bytes:
//
//      +-----------------------------+----------------------------------+
//      | manifest (manifest_size B)  | signature r || s (64 B)          |
//      +-----------------------------+----------------------------------+
//
// The security counter is separate from the version on purpose: the version
// is for people, the counter only rises when an old image must never run
// again (ESP-IDF's secure_version). Versions are not compared by the agent.
// The version's fields are u16 on the wire but MAJOR and MINOR must be at most
// 255 (the boot record packs a version into 8.8.16 bits): one range for the
// agent, otasign and the scenario loader (parse_firmware_version).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ota/agent/sha256.hpp"

namespace ota::agent {

// Identifies a signing key: first 8 bytes of SHA-256 over the uncompressed
// public point (65 bytes, 0x04 || X || Y).
using KeyId = std::array<std::uint8_t, 8>;
// A git commit object id (SHA-1), binary. All zero bytes mean "unknown".
using CommitId = std::array<std::uint8_t, 20>;

inline constexpr std::uint8_t kManifestFormatVersion = 1;
inline constexpr std::size_t kMaxHardwareIds = 8;
inline constexpr std::size_t kManifestFixedSize = 96;
inline constexpr std::size_t kManifestDeltaSize = 72;
inline constexpr std::size_t kManifestMinSize = kManifestFixedSize + 4;
inline constexpr std::size_t kManifestMaxSize =
    kManifestFixedSize + 4 * kMaxHardwareIds + kManifestDeltaSize;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kSignedManifestMaxSize = kManifestMaxSize + kSignatureSize;
inline constexpr std::uint8_t kManifestFlagHasDelta = 0x01;

struct FirmwareVersion {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::uint16_t patch = 0;
  friend constexpr auto operator<=>(const FirmwareVersion&, const FirmwareVersion&) = default;
};

// The largest version in every field: what the boot record can hold.
inline constexpr FirmwareVersion kMaxFirmwareVersion{255, 255, 65535};
constexpr bool version_in_range(const FirmwareVersion& v) {
  return v.major <= kMaxFirmwareVersion.major && v.minor <= kMaxFirmwareVersion.minor;
}
// What a version looks like, for messages.
inline constexpr std::string_view kFirmwareVersionForm =
    "MAJOR.MINOR.PATCH like 2.5.0, MAJOR and MINOR in 0..255, PATCH in 0..65535, no leading zeros";

// "MAJOR.MINOR.PATCH": decimal, no sign, no leading zeros, within
// kMaxFirmwareVersion; nullopt otherwise.
constexpr std::optional<FirmwareVersion> parse_firmware_version(std::string_view s) {
  std::uint32_t parts[3] = {0, 0, 0};
  std::size_t part = 0, digits = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (digits == 0 || part >= 3) return std::nullopt;
      ++part;
      digits = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || part >= 3) return std::nullopt;
    if (digits == 1 && parts[part] == 0) return std::nullopt;  // leading zero
    if (++digits > 5) return std::nullopt;
    parts[part] = parts[part] * 10 + static_cast<std::uint32_t>(s[i] - '0');
  }
  if (part != 3 || parts[0] > kMaxFirmwareVersion.major || parts[1] > kMaxFirmwareVersion.minor ||
      parts[2] > kMaxFirmwareVersion.patch)
    return std::nullopt;
  return FirmwareVersion{static_cast<std::uint16_t>(parts[0]), static_cast<std::uint16_t>(parts[1]),
                         static_cast<std::uint16_t>(parts[2])};
}

// The patch that turns the device's running image (`base_sha256`) into the new
// image described by the enclosing manifest.
struct DeltaInfo {
  Digest base_sha256{};
  std::uint32_t patch_size = 0;
  Digest patch_sha256{};
  friend bool operator==(const DeltaInfo&, const DeltaInfo&) = default;
};

// The decoded manifest. Plain data; `hardware_ids[i]` for i >= hardware_id_count
// carry no meaning (the parser leaves them zero, the encoder ignores them).
struct Manifest {
  std::uint8_t format_version = kManifestFormatVersion;
  FirmwareVersion version{};
  std::uint32_t security_counter = 0;
  std::array<std::uint32_t, kMaxHardwareIds> hardware_ids{};
  std::uint8_t hardware_id_count = 0;
  std::uint32_t image_size = 0;
  Digest image_sha256{};
  std::optional<DeltaInfo> delta;
  CommitId source_commit{};
  std::uint64_t build_time = 0;
  KeyId key_id{};

  std::span<const std::uint32_t> compatible_hardware() const {
    return {hardware_ids.data(), hardware_id_count <= kMaxHardwareIds ? hardware_id_count : 0u};
  }
  bool is_compatible_with(std::uint32_t hardware_id) const;
  // Bytes this manifest occupies when encoded (meaningful once validated).
  std::size_t encoded_size() const;

  // Compares the meaning, not the unused hardware id slots.
  friend bool operator==(const Manifest& a, const Manifest& b);
};

// Why bytes are not a valid manifest (or a Manifest cannot be encoded).
enum class ManifestError : std::uint8_t {
  Ok,
  Truncated,             // fewer bytes than the fields (or manifest_size) need
  TrailingBytes,         // bytes left after the last field
  BadMagic,              // not "OTAM"
  UnsupportedVersion,    // format_version is not kManifestFormatVersion
  ReservedBitsSet,       // an unknown flag bit is set
  ReservedNotZero,       // a reserved byte is not zero
  BadHardwareIdCount,    // n is 0 or more than kMaxHardwareIds
  HardwareIdsNotSorted,  // ids not strictly increasing (duplicates included)
  SizeMismatch,          // manifest_size differs from what n and the flags imply
  ZeroImageSize,         // image_size is 0
  ZeroPatchSize,         // delta section with patch_size 0
  VersionOutOfRange,     // version.major or version.minor above 255
};

constexpr std::string_view to_string(ManifestError e) {
  switch (e) {
    case ManifestError::Ok: return "ok";
    case ManifestError::Truncated: return "truncated";
    case ManifestError::TrailingBytes: return "trailing bytes after the manifest";
    case ManifestError::BadMagic: return "bad magic (expected \"OTAM\")";
    case ManifestError::UnsupportedVersion: return "unsupported format version (expected 1)";
    case ManifestError::ReservedBitsSet: return "reserved flag bits set";
    case ManifestError::ReservedNotZero: return "reserved field not zero";
    case ManifestError::BadHardwareIdCount: return "hardware id count out of range (expected 1..8)";
    case ManifestError::HardwareIdsNotSorted: return "hardware ids not strictly increasing";
    case ManifestError::SizeMismatch: return "manifest_size does not match the fields";
    case ManifestError::ZeroImageSize: return "image_size is zero";
    case ManifestError::ZeroPatchSize: return "delta patch_size is zero";
    case ManifestError::VersionOutOfRange: return "version out of range (MAJOR and MINOR at most 255)";
  }
  return "unknown manifest error";
}

// Outcome of `parse_manifest`. Starts as a failure; `manifest` is meaningful only
// when `ok()`. On failure `field` names the offending field, `offset` is its
// first byte and `value` what was found there (for Truncated and TrailingBytes:
// the input length, with `offset` the length the fields need), so a message can
// say what was wrong, where, and what it was.
struct ManifestParse {
  ManifestError error = ManifestError::Truncated;
  std::string_view field = "manifest";
  std::size_t offset = 0;
  std::uint64_t value = 0;
  Manifest manifest{};
  bool ok() const { return error == ManifestError::Ok; }
};

// Parses exactly `bytes` as one manifest: the buffer must hold the whole
// manifest and nothing else (TrailingBytes otherwise). No heap, no exceptions;
// safe on any input. A parsed manifest is NOT yet trusted: its signature has not
// been checked (verifier.hpp does that).
ManifestParse parse_manifest(std::span<const std::uint8_t> bytes);

// Checks a Manifest for the rules the encoding enforces (count 1..8, sorted
// hardware ids, non-zero sizes, supported format version). Returns Ok or the
// first rule broken.
ManifestError validate_manifest(const Manifest& m);

// A manifest encoded into a fixed buffer (no heap).
struct EncodedManifest {
  ManifestError error = ManifestError::Truncated;
  std::array<std::uint8_t, kManifestMaxSize> buffer{};
  std::size_t size = 0;
  bool ok() const { return error == ManifestError::Ok; }
  std::span<const std::uint8_t> bytes() const { return {buffer.data(), size}; }
};

// Encodes `m` canonically. Fails (and writes nothing meaningful) when
// `validate_manifest(m)` is not Ok.
EncodedManifest encode_manifest(const Manifest& m);

// A signed envelope split into its two parts (no copy: spans into the input).
struct SignedManifestView {
  ManifestError error = ManifestError::Truncated;
  // On failure, as in ManifestParse: the field, its offset and the value found.
  std::string_view field = "envelope";
  std::size_t offset = 0;
  std::uint64_t value = 0;
  std::span<const std::uint8_t> manifest;
  std::span<const std::uint8_t> signature;
  bool ok() const { return error == ManifestError::Ok; }
};

// Splits `manifest || signature` using the manifest_size field. Checks only the
// framing (magic, size field within bounds, total length exact); the manifest
// itself is checked by `parse_manifest`.
SignedManifestView split_signed_manifest(std::span<const std::uint8_t> envelope);

}  // namespace ota::agent
