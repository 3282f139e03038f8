#include "ota/agent/manifest.hpp"

#include <algorithm>

#include "detail/bytes.hpp"

namespace ota::agent {

namespace detail {
namespace {

// Field offsets of format version 1 (see the diagram in manifest.hpp).
constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffFormatVersion = 4;
constexpr std::size_t kOffFlags = 5;
constexpr std::size_t kOffHardwareIdCount = 6;
constexpr std::size_t kOffReserved7 = 7;
constexpr std::size_t kOffManifestSize = 8;
constexpr std::size_t kOffVersionMajor = 10;
constexpr std::size_t kOffVersionMinor = 12;
constexpr std::size_t kOffVersionPatch = 14;
constexpr std::size_t kOffSecurityCounter = 16;
constexpr std::size_t kOffImageSize = 20;
constexpr std::size_t kOffBuildTime = 24;
constexpr std::size_t kOffKeyId = 32;
constexpr std::size_t kOffSourceCommit = 40;
constexpr std::size_t kOffReserved60 = 60;
constexpr std::size_t kOffImageSha256 = 64;
constexpr std::size_t kOffHardwareIds = 96;
// Within the delta section.
constexpr std::size_t kDeltaOffBase = 0;
constexpr std::size_t kDeltaOffPatchSize = 32;
constexpr std::size_t kDeltaOffReserved = 36;
constexpr std::size_t kDeltaOffPatchSha256 = 40;
// Bytes needed before manifest_size can be read.
constexpr std::size_t kHeaderSize = 10;

constexpr std::array<std::uint8_t, 4> kMagic{0x4F, 0x54, 0x41, 0x4D};  // "OTAM"

constexpr std::size_t size_for(std::size_t hardware_id_count, bool has_delta) {
  return kManifestFixedSize + 4 * hardware_id_count + (has_delta ? kManifestDeltaSize : 0);
}

ManifestParse fail(ManifestError e, std::string_view field, std::size_t offset, std::uint64_t value) {
  ManifestParse r;
  r.error = e;
  r.field = field;
  r.offset = offset;
  r.value = value;
  return r;
}

}  // namespace
}  // namespace detail

bool Manifest::is_compatible_with(std::uint32_t hardware_id) const {
  for (std::uint32_t id : compatible_hardware())
    if (id == hardware_id) return true;
  return false;
}

std::size_t Manifest::encoded_size() const {
  return detail::size_for(hardware_id_count, delta.has_value());
}

bool operator==(const Manifest& a, const Manifest& b) {
  if (a.hardware_id_count != b.hardware_id_count) return false;
  const auto ha = a.compatible_hardware();
  const auto hb = b.compatible_hardware();
  return a.format_version == b.format_version && a.version == b.version &&
         a.security_counter == b.security_counter && std::equal(ha.begin(), ha.end(), hb.begin(), hb.end()) &&
         a.image_size == b.image_size && a.image_sha256 == b.image_sha256 && a.delta == b.delta &&
         a.source_commit == b.source_commit && a.build_time == b.build_time && a.key_id == b.key_id;
}

ManifestParse parse_manifest(std::span<const std::uint8_t> bytes) {
  using namespace detail;
  // Every prefix of a valid manifest must report Truncated, so the header
  // checks run only once the header is complete.
  if (bytes.size() < kHeaderSize) return fail(ManifestError::Truncated, "header", kHeaderSize, bytes.size());
  const std::uint8_t* p = bytes.data();

  if (!std::equal(kMagic.begin(), kMagic.end(), p + kOffMagic))
    return fail(ManifestError::BadMagic, "magic", kOffMagic, load_u32(p + kOffMagic));
  if (p[kOffFormatVersion] != kManifestFormatVersion)
    return fail(ManifestError::UnsupportedVersion, "format_version", kOffFormatVersion, p[kOffFormatVersion]);
  const std::uint8_t flags = p[kOffFlags];
  if ((flags & ~kManifestFlagHasDelta) != 0) return fail(ManifestError::ReservedBitsSet, "flags", kOffFlags, flags);
  const std::uint8_t count = p[kOffHardwareIdCount];
  if (count == 0 || count > kMaxHardwareIds)
    return fail(ManifestError::BadHardwareIdCount, "hardware_id_count", kOffHardwareIdCount, count);
  if (p[kOffReserved7] != 0) return fail(ManifestError::ReservedNotZero, "reserved", kOffReserved7, p[kOffReserved7]);
  const bool has_delta = (flags & kManifestFlagHasDelta) != 0;
  const std::size_t expected_size = size_for(count, has_delta);
  const std::uint16_t declared_size = load_u16(p + kOffManifestSize);
  if (declared_size != expected_size)
    return fail(ManifestError::SizeMismatch, "manifest_size", kOffManifestSize, declared_size);
  if (bytes.size() < expected_size) return fail(ManifestError::Truncated, "manifest", expected_size, bytes.size());
  if (bytes.size() > expected_size)
    return fail(ManifestError::TrailingBytes, "manifest", expected_size, bytes.size());

  ManifestParse r;
  Manifest& m = r.manifest;
  m.format_version = p[kOffFormatVersion];
  m.hardware_id_count = count;
  m.version.major = load_u16(p + kOffVersionMajor);
  m.version.minor = load_u16(p + kOffVersionMinor);
  m.version.patch = load_u16(p + kOffVersionPatch);
  if (m.version.major > kMaxFirmwareVersion.major)
    return fail(ManifestError::VersionOutOfRange, "version.major", kOffVersionMajor, m.version.major);
  if (m.version.minor > kMaxFirmwareVersion.minor)
    return fail(ManifestError::VersionOutOfRange, "version.minor", kOffVersionMinor, m.version.minor);
  m.security_counter = load_u32(p + kOffSecurityCounter);
  m.image_size = load_u32(p + kOffImageSize);
  if (m.image_size == 0) return fail(ManifestError::ZeroImageSize, "image_size", kOffImageSize, 0);
  m.build_time = load_u64(p + kOffBuildTime);
  load_bytes(p + kOffKeyId, m.key_id);
  load_bytes(p + kOffSourceCommit, m.source_commit);
  if (const std::uint32_t reserved = load_u32(p + kOffReserved60); reserved != 0)
    return fail(ManifestError::ReservedNotZero, "reserved", kOffReserved60, reserved);
  load_bytes(p + kOffImageSha256, m.image_sha256);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t off = kOffHardwareIds + 4 * i;
    m.hardware_ids[i] = load_u32(p + off);
    if (i > 0 && m.hardware_ids[i] <= m.hardware_ids[i - 1])
      return fail(ManifestError::HardwareIdsNotSorted, "hardware_ids", off, m.hardware_ids[i]);
  }
  if (has_delta) {
    const std::size_t d = kOffHardwareIds + 4 * std::size_t{count};
    DeltaInfo delta;
    load_bytes(p + d + kDeltaOffBase, delta.base_sha256);
    delta.patch_size = load_u32(p + d + kDeltaOffPatchSize);
    if (delta.patch_size == 0) return fail(ManifestError::ZeroPatchSize, "delta.patch_size", d + kDeltaOffPatchSize, 0);
    if (const std::uint32_t reserved = load_u32(p + d + kDeltaOffReserved); reserved != 0)
      return fail(ManifestError::ReservedNotZero, "delta.reserved", d + kDeltaOffReserved, reserved);
    load_bytes(p + d + kDeltaOffPatchSha256, delta.patch_sha256);
    m.delta = delta;
  }
  r.error = ManifestError::Ok;
  r.field = {};
  r.offset = 0;
  return r;
}

ManifestError validate_manifest(const Manifest& m) {
  if (m.format_version != kManifestFormatVersion) return ManifestError::UnsupportedVersion;
  if (m.hardware_id_count == 0 || m.hardware_id_count > kMaxHardwareIds) return ManifestError::BadHardwareIdCount;
  const auto ids = m.compatible_hardware();
  for (std::size_t i = 1; i < ids.size(); ++i)
    if (ids[i] <= ids[i - 1]) return ManifestError::HardwareIdsNotSorted;
  if (m.image_size == 0) return ManifestError::ZeroImageSize;
  if (m.delta && m.delta->patch_size == 0) return ManifestError::ZeroPatchSize;
  if (!version_in_range(m.version)) return ManifestError::VersionOutOfRange;
  return ManifestError::Ok;
}

EncodedManifest encode_manifest(const Manifest& m) {
  using namespace detail;
  EncodedManifest out;
  out.error = validate_manifest(m);
  if (out.error != ManifestError::Ok) return out;

  const std::size_t size = m.encoded_size();
  std::uint8_t* p = out.buffer.data();
  std::copy(kMagic.begin(), kMagic.end(), p + kOffMagic);
  p[kOffFormatVersion] = m.format_version;
  p[kOffFlags] = m.delta ? kManifestFlagHasDelta : 0;
  p[kOffHardwareIdCount] = m.hardware_id_count;
  p[kOffReserved7] = 0;
  store_u16(p + kOffManifestSize, static_cast<std::uint16_t>(size));
  store_u16(p + kOffVersionMajor, m.version.major);
  store_u16(p + kOffVersionMinor, m.version.minor);
  store_u16(p + kOffVersionPatch, m.version.patch);
  store_u32(p + kOffSecurityCounter, m.security_counter);
  store_u32(p + kOffImageSize, m.image_size);
  store_u64(p + kOffBuildTime, m.build_time);
  store_bytes(p + kOffKeyId, m.key_id);
  store_bytes(p + kOffSourceCommit, m.source_commit);
  store_u32(p + kOffReserved60, 0);
  store_bytes(p + kOffImageSha256, m.image_sha256);
  for (std::size_t i = 0; i < m.hardware_id_count; ++i) store_u32(p + kOffHardwareIds + 4 * i, m.hardware_ids[i]);
  if (m.delta) {
    const std::size_t d = kOffHardwareIds + 4 * std::size_t{m.hardware_id_count};
    store_bytes(p + d + kDeltaOffBase, m.delta->base_sha256);
    store_u32(p + d + kDeltaOffPatchSize, m.delta->patch_size);
    store_u32(p + d + kDeltaOffReserved, 0);
    store_bytes(p + d + kDeltaOffPatchSha256, m.delta->patch_sha256);
  }
  out.size = size;
  return out;
}

SignedManifestView split_signed_manifest(std::span<const std::uint8_t> envelope) {
  using namespace detail;
  SignedManifestView v;
  auto fail_view = [&v](ManifestError e, std::string_view field, std::size_t offset, std::uint64_t value) {
    v.error = e;
    v.field = field;
    v.offset = offset;
    v.value = value;
    return v;
  };
  if (envelope.size() < kHeaderSize)
    return fail_view(ManifestError::Truncated, "envelope", kHeaderSize, envelope.size());
  if (!std::equal(kMagic.begin(), kMagic.end(), envelope.data() + kOffMagic))
    return fail_view(ManifestError::BadMagic, "magic", kOffMagic, load_u32(envelope.data() + kOffMagic));
  const std::size_t manifest_size = load_u16(envelope.data() + kOffManifestSize);
  if (manifest_size < kManifestMinSize || manifest_size > kManifestMaxSize)
    return fail_view(ManifestError::SizeMismatch, "manifest_size", kOffManifestSize, manifest_size);
  const std::size_t total = manifest_size + kSignatureSize;
  if (envelope.size() < total) return fail_view(ManifestError::Truncated, "envelope", total, envelope.size());
  if (envelope.size() > total) return fail_view(ManifestError::TrailingBytes, "envelope", total, envelope.size());
  v.error = ManifestError::Ok;
  v.field = {};
  v.manifest = envelope.first(manifest_size);
  v.signature = envelope.subspan(manifest_size, kSignatureSize);
  return v;
}

}  // namespace ota::agent
