// Tests of the manifest encoding (agent/include/ota/agent/manifest.hpp): the
// byte layout against a hand-written golden copy of the diagram, round trips,
// and rejection of every kind of malformed input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/agent/manifest.hpp"

using namespace ota::agent;

namespace {

using Bytes = std::vector<std::uint8_t>;

template <std::size_t N>
std::array<std::uint8_t, N> counting_bytes(std::uint8_t first) {
  std::array<std::uint8_t, N> a{};
  std::iota(a.begin(), a.end(), first);
  return a;
}

// The manifest that the golden bytes below describe.
Manifest golden_manifest(bool with_delta) {
  Manifest m;
  m.version = {1, 2, 3};
  m.security_counter = 7;
  m.hardware_ids[0] = 0x00C3A001;
  m.hardware_ids[1] = 0x00C3A002;
  m.hardware_id_count = 2;
  m.image_size = 0x00112233;
  m.image_sha256 = counting_bytes<32>(0xC0);
  m.source_commit = counting_bytes<20>(0xA0);
  m.build_time = 1700000000;  // 0x6553F100
  m.key_id = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  if (with_delta) {
    DeltaInfo d;
    d.base_sha256 = counting_bytes<32>(0xE0);
    d.patch_size = 0x4000;
    d.patch_sha256 = counting_bytes<32>(0x20);
    m.delta = d;
  }
  return m;
}

void append(Bytes& b, std::initializer_list<int> v) {
  for (int x : v) b.push_back(static_cast<std::uint8_t>(x));
}
void append_counting(Bytes& b, int first, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(first + i));
}

// Written by hand from the diagram in manifest.hpp, not by the encoder.
Bytes golden_bytes(bool with_delta) {
  Bytes b;
  append(b, {0x4F, 0x54, 0x41, 0x4D});                          // 0  magic "OTAM"
  append(b, {0x01, with_delta ? 0x01 : 0x00, 0x02, 0x00});      // 4  format 1, flags, n = 2, reserved
  append(b, {with_delta ? 0xB0 : 0x68, 0x00});                  // 8  manifest_size 176 / 104
  append(b, {0x01, 0x00, 0x02, 0x00, 0x03, 0x00});              // 10 version 1.2.3
  append(b, {0x07, 0x00, 0x00, 0x00});                          // 16 security_counter 7
  append(b, {0x33, 0x22, 0x11, 0x00});                          // 20 image_size 0x112233
  append(b, {0x00, 0xF1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00});  // 24 build_time
  append(b, {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88});  // 32 key_id
  append_counting(b, 0xA0, 20);                                 // 40 source_commit
  append(b, {0x00, 0x00, 0x00, 0x00});                          // 60 reserved
  append_counting(b, 0xC0, 32);                                 // 64 image_sha256
  append(b, {0x01, 0xA0, 0xC3, 0x00, 0x02, 0xA0, 0xC3, 0x00});  // 96 hardware ids
  if (with_delta) {
    append_counting(b, 0xE0, 32);                               // 104 base_sha256
    append(b, {0x00, 0x40, 0x00, 0x00});                        // 136 patch_size 0x4000
    append(b, {0x00, 0x00, 0x00, 0x00});                        // 140 reserved
    append_counting(b, 0x20, 32);                               // 144 patch_sha256
  }
  return b;
}

Bytes encode(const Manifest& m) {
  const EncodedManifest e = encode_manifest(m);
  REQUIRE(e.ok());
  return Bytes(e.bytes().begin(), e.bytes().end());
}

ManifestError parse_error(const Bytes& b) { return parse_manifest(b).error; }

Manifest max_manifest() {
  Manifest m = golden_manifest(true);
  m.hardware_id_count = kMaxHardwareIds;
  for (std::size_t i = 0; i < kMaxHardwareIds; ++i) m.hardware_ids[i] = static_cast<std::uint32_t>(10 * i + 3);
  m.security_counter = UINT32_MAX;
  m.image_size = UINT32_MAX;
  m.build_time = UINT64_MAX;
  m.version = kMaxFirmwareVersion;  // 255.255.65535
  return m;
}

}  // namespace

TEST_CASE("manifest encoding matches the documented byte layout", "[manifest]") {
  for (bool with_delta : {false, true}) {
    CAPTURE(with_delta);
    const Bytes expected = golden_bytes(with_delta);
    CHECK(encode(golden_manifest(with_delta)) == expected);
    CHECK(golden_manifest(with_delta).encoded_size() == expected.size());

    const ManifestParse p = parse_manifest(expected);
    REQUIRE(p.ok());
    CHECK(p.manifest == golden_manifest(with_delta));
    CHECK(p.manifest.version == FirmwareVersion{1, 2, 3});
    CHECK(p.manifest.image_size == 0x00112233u);
    CHECK(p.manifest.build_time == 1700000000u);
    CHECK(p.manifest.delta.has_value() == with_delta);
  }
}

TEST_CASE("manifest sizes span 100 to 200 bytes", "[manifest]") {
  Manifest m = golden_manifest(false);
  m.hardware_id_count = 1;
  CHECK(encode(m).size() == kManifestMinSize);
  CHECK(kManifestMinSize == 100);
  CHECK(encode(max_manifest()).size() == kManifestMaxSize);
  CHECK(kManifestMaxSize == 200);
}

TEST_CASE("manifest round trip keeps every field, extreme values included", "[manifest]") {
  for (const Manifest& m : {golden_manifest(false), golden_manifest(true), max_manifest()}) {
    const Bytes bytes = encode(m);
    const ManifestParse p = parse_manifest(bytes);
    REQUIRE(p.ok());
    CHECK(p.manifest == m);
    CHECK(encode(p.manifest) == bytes);  // canonical
  }
}

TEST_CASE("manifest equality ignores unused hardware id slots but not used ones", "[manifest]") {
  Manifest a = golden_manifest(false);
  Manifest b = a;
  b.hardware_ids[5] = 99;  // beyond hardware_id_count
  CHECK(a == b);
  CHECK(encode(a) == encode(b));
  b.hardware_ids[1] = 0x00C3A003;
  CHECK_FALSE(a == b);
}

TEST_CASE("manifest compatibility lists exactly the encoded hardware ids", "[manifest]") {
  const Manifest m = parse_manifest(golden_bytes(false)).manifest;
  CHECK(m.is_compatible_with(0x00C3A001));
  CHECK(m.is_compatible_with(0x00C3A002));
  CHECK_FALSE(m.is_compatible_with(0x00C3A003));
  CHECK_FALSE(m.is_compatible_with(0));
  CHECK(m.compatible_hardware().size() == 2);
}

TEST_CASE("every truncation of a manifest is reported as truncated", "[manifest]") {
  for (const Bytes& full : {golden_bytes(false), golden_bytes(true), encode(max_manifest())}) {
    for (std::size_t len = 0; len < full.size(); ++len) {
      CAPTURE(len, full.size());
      const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
      const ManifestParse p = parse_manifest(prefix);
      CHECK(p.error == ManifestError::Truncated);
      CHECK(p.value == len);
      CHECK(p.offset == (len < 10 ? 10 : full.size()));  // what the fields need
    }
  }
}

TEST_CASE("bytes after the manifest are rejected", "[manifest]") {
  for (bool with_delta : {false, true}) {
    Bytes b = golden_bytes(with_delta);
    b.push_back(0);
    const ManifestParse p = parse_manifest(b);
    CHECK(p.error == ManifestError::TrailingBytes);
    CHECK(p.value == b.size());
    CHECK(p.offset == b.size() - 1);
    // Even 72 extra bytes that look like a delta section.
    b = golden_bytes(false);
    b.resize(b.size() + kManifestDeltaSize, 0x11);
    CHECK(parse_error(b) == ManifestError::TrailingBytes);
  }
}

TEST_CASE("malformed header fields are rejected with the field named", "[manifest]") {
  const Bytes good = golden_bytes(true);
  auto with = [&](std::size_t offset, std::uint8_t value) {
    Bytes b = good;
    b[offset] = value;
    return parse_manifest(b);
  };

  SECTION("magic") {
    for (std::size_t i = 0; i < 4; ++i) {
      const ManifestParse p = with(i, static_cast<std::uint8_t>(good[i] ^ 0x20));
      CHECK(p.error == ManifestError::BadMagic);
      CHECK(p.field == "magic");
    }
  }
  SECTION("format version") {
    for (int v : {0, 2, 255}) CHECK(with(4, static_cast<std::uint8_t>(v)).error == ManifestError::UnsupportedVersion);
  }
  SECTION("each reserved flag bit") {
    for (int bit = 1; bit < 8; ++bit) {
      const ManifestParse p = with(5, static_cast<std::uint8_t>(0x01 | (1 << bit)));
      CHECK(p.error == ManifestError::ReservedBitsSet);
      CHECK(p.offset == 5);
    }
  }
  SECTION("hardware id count out of range") {
    for (int n : {0, 9, 255}) {
      const ManifestParse p = with(6, static_cast<std::uint8_t>(n));
      CHECK(p.error == ManifestError::BadHardwareIdCount);
      CHECK(p.field == "hardware_id_count");
      CHECK(p.value == static_cast<std::uint64_t>(n));
    }
  }
  SECTION("count inside range but not matching the bytes") {
    // n = 3 claims 4 more bytes than manifest_size says.
    CHECK(with(6, 3).error == ManifestError::SizeMismatch);
    CHECK(with(6, 1).error == ManifestError::SizeMismatch);
  }
  SECTION("reserved header byte") { CHECK(with(7, 1).error == ManifestError::ReservedNotZero); }
  SECTION("manifest_size off by one either way, or in the high byte") {
    const ManifestParse p = with(8, static_cast<std::uint8_t>(good[8] + 1));
    CHECK(p.error == ManifestError::SizeMismatch);
    CHECK(p.field == "manifest_size");
    CHECK(p.value == good.size() + 1);
    CHECK(with(8, static_cast<std::uint8_t>(good[8] - 1)).error == ManifestError::SizeMismatch);
    CHECK(with(9, 1).error == ManifestError::SizeMismatch);
  }
  SECTION("delta flag without a delta section, and the reverse") {
    Bytes full = golden_bytes(false);
    full[5] = 0x01;
    CHECK(parse_error(full) == ManifestError::SizeMismatch);
    full[8] = 0xB0;  // size now consistent with the flag, but the bytes are missing
    CHECK(parse_error(full) == ManifestError::Truncated);
    Bytes delta = golden_bytes(true);
    delta[5] = 0x00;
    CHECK(parse_error(delta) == ManifestError::SizeMismatch);
  }
  SECTION("each reserved byte of the body") {
    for (std::size_t off : {60u, 61u, 62u, 63u, 140u, 141u, 142u, 143u}) {
      CAPTURE(off);
      CHECK(with(off, 0x80).error == ManifestError::ReservedNotZero);
    }
  }
}

TEST_CASE("inconsistent manifest contents are rejected", "[manifest]") {
  SECTION("zero image size") {
    Bytes b = golden_bytes(false);
    for (std::size_t i = 20; i < 24; ++i) b[i] = 0;
    const ManifestParse p = parse_manifest(b);
    CHECK(p.error == ManifestError::ZeroImageSize);
    CHECK(p.offset == 20);
  }
  SECTION("zero patch size") {
    Bytes b = golden_bytes(true);
    for (std::size_t i = 136; i < 140; ++i) b[i] = 0;
    CHECK(parse_error(b) == ManifestError::ZeroPatchSize);
  }
  SECTION("hardware ids out of order or duplicated") {
    Bytes b = golden_bytes(false);
    std::swap_ranges(b.begin() + 96, b.begin() + 100, b.begin() + 100);
    const ManifestParse p = parse_manifest(b);
    CHECK(p.error == ManifestError::HardwareIdsNotSorted);
    CHECK(p.offset == 100);
    Bytes dup = golden_bytes(false);
    std::copy(dup.begin() + 96, dup.begin() + 100, dup.begin() + 100);
    CHECK(parse_error(dup) == ManifestError::HardwareIdsNotSorted);
  }
}

TEST_CASE("the encoder refuses manifests that break the rules", "[manifest]") {
  auto refused = [](const Manifest& m) {
    const EncodedManifest e = encode_manifest(m);
    CHECK(e.error == validate_manifest(m));
    CHECK(e.size == 0);
    return e.error;
  };
  Manifest m = golden_manifest(true);
  REQUIRE(validate_manifest(m) == ManifestError::Ok);

  Manifest c = m;
  c.hardware_id_count = 0;
  CHECK(refused(c) == ManifestError::BadHardwareIdCount);
  c.hardware_id_count = kMaxHardwareIds + 1;
  CHECK(refused(c) == ManifestError::BadHardwareIdCount);
  c = m;
  c.hardware_ids[1] = c.hardware_ids[0];
  CHECK(refused(c) == ManifestError::HardwareIdsNotSorted);
  c = m;
  c.image_size = 0;
  CHECK(refused(c) == ManifestError::ZeroImageSize);
  c = m;
  c.delta->patch_size = 0;
  CHECK(refused(c) == ManifestError::ZeroPatchSize);
  c = m;
  c.format_version = 2;
  CHECK(refused(c) == ManifestError::UnsupportedVersion);
}

TEST_CASE("signed envelope framing", "[manifest]") {
  const Bytes manifest = golden_bytes(true);
  Bytes envelope = manifest;
  for (std::size_t i = 0; i < kSignatureSize; ++i) envelope.push_back(static_cast<std::uint8_t>(0x90 + i));

  const SignedManifestView v = split_signed_manifest(envelope);
  REQUIRE(v.ok());
  CHECK(Bytes(v.manifest.begin(), v.manifest.end()) == manifest);
  REQUIRE(v.signature.size() == kSignatureSize);
  CHECK(v.signature[0] == 0x90);
  CHECK(v.signature.data() == envelope.data() + manifest.size());

  for (std::size_t len = 0; len < envelope.size(); ++len) {
    CAPTURE(len);
    const Bytes prefix(envelope.begin(), envelope.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK(split_signed_manifest(prefix).error == ManifestError::Truncated);
  }
  Bytes longer = envelope;
  longer.push_back(0);
  const SignedManifestView trailing = split_signed_manifest(longer);
  CHECK(trailing.error == ManifestError::TrailingBytes);
  CHECK(trailing.value == envelope.size() + 1);
  CHECK(trailing.offset == envelope.size());

  Bytes bad_size = envelope;
  bad_size[8] = 0xFF;  // 255 > kManifestMaxSize
  CHECK(split_signed_manifest(bad_size).error == ManifestError::SizeMismatch);
  bad_size[8] = 10;  // below kManifestMinSize
  CHECK(split_signed_manifest(bad_size).error == ManifestError::SizeMismatch);
  Bytes bad_magic = envelope;
  bad_magic[0] = 'X';
  CHECK(split_signed_manifest(bad_magic).error == ManifestError::BadMagic);
}

TEST_CASE("random corruption never crashes and whatever parses is canonical", "[manifest]") {
  const std::uint64_t seed = 20240531;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const Bytes base = golden_bytes(true);
  std::size_t accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 8), 0);
    const ManifestParse p = parse_manifest(b);
    if (p.ok()) {
      ++accepted;
      CHECK(encode(p.manifest) == b);
      CHECK(validate_manifest(p.manifest) == ManifestError::Ok);
    } else {
      CHECK(p.error != ManifestError::Ok);
    }
  }
  // Most single-byte edits hit a free field (digest, ids, times), so a good
  // share must still parse; none may parse into something non-canonical.
  CHECK(accepted > 1000);
}

TEST_CASE("versions: one range (MAJOR and MINOR at most 255) for parsing text, encoding and parsing manifests",
          "[manifest]") {
  CHECK(parse_firmware_version("2.5.0") == FirmwareVersion{2, 5, 0});
  CHECK(parse_firmware_version("255.255.65535") == kMaxFirmwareVersion);
  for (const char* bad : {"256.0.0", "0.256.0", "0.0.65536", "1.2", "1.2.3.4", "01.2.3", "1..3", "-1.0.0", "+1.0.0",
                          " 1.0.0", "1.0.0 ", "", "1.0.x", "99999999999.0.0"}) {
    INFO(bad);
    CHECK_FALSE(parse_firmware_version(bad));
  }
  // The boot record packs exactly this range.
  CHECK(pack_version(kMaxFirmwareVersion).has_value());
  CHECK_FALSE(pack_version(FirmwareVersion{256, 0, 0}).has_value());

  // A manifest beyond it is not encoded, and its bytes do not parse.
  Manifest m = golden_manifest(false);
  for (const FirmwareVersion v : {FirmwareVersion{256, 0, 0}, FirmwareVersion{0, 256, 0}}) {
    m.version = v;
    CHECK(validate_manifest(m) == ManifestError::VersionOutOfRange);
    CHECK(encode_manifest(m).error == ManifestError::VersionOutOfRange);
  }
  Bytes bytes = golden_bytes(false);
  bytes[10] = 0x00;  // version.major, u16 little-endian at offset 10: 256
  bytes[11] = 0x01;
  const ManifestParse p = parse_manifest(bytes);
  CHECK(p.error == ManifestError::VersionOutOfRange);
  CHECK(p.field == "version.major");
  CHECK(p.value == 256);
}
