// libFuzzer target for the manifest parser and the verifier's parse + check
// path. Built by scripts/fuzz together with agent/src/*.cpp:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iagent/include \
//     tests/fuzz/fuzz_manifest.cpp agent/src/*.cpp -lmbedcrypto -llzma -o fuzz_manifest
//
// Two ways the input is used, both on every run:
//  1. as raw bytes: parse_manifest, split_signed_manifest and
//     Verifier::verify_manifest must not crash, and whatever parses must
//     re-encode to exactly the same bytes (the encoding is canonical);
//  2. as an edit script over a genuine signed envelope (embedded below, made by
//     `otasign`-equivalent code with a seeded key): byte 0 picks the device's
//     facts, then (offset, xor) pairs change the envelope. Unchanged bytes must
//     give the same verdict as check_device on the genuine manifest; ANY change
//     must be refused before the device checks (BadFormat, UnknownKey or
//     BadSignature) — an Accepted verdict for changed bytes would be a forgery.
// An invariant broken traps, which libFuzzer reports as a crash.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/agent/verifier.hpp"

namespace {

// Seeded test key (SigningKey::generate_from_seed(0xF022)) and a delta
// manifest signed by it: version 1.2.3, security counter 10, hardware ids
// 0x10 0x20 0x30, image 4096 bytes, patch 300 bytes.
// The signature is in low-S form, the only one the verifier accepts.
constexpr std::uint8_t kFuzzPublicKey[65] = {
    0x04, 0x7d, 0x6e, 0x8e, 0x22, 0xee, 0x8a, 0xe2, 0xb0, 0xcc, 0x94, 0x7e,
    0x3c, 0xdf, 0x89, 0x8d, 0x65, 0xe1, 0xbd, 0xe2, 0xab, 0xf7, 0xdc, 0x8e,
    0xe6, 0xbb, 0x21, 0xa1, 0x2f, 0x4c, 0xfa, 0x30, 0xc2, 0xa8, 0x31, 0x7d,
    0xd3, 0xbb, 0x3e, 0xde, 0xf5, 0x13, 0xda, 0xbb, 0x6a, 0xfc, 0xfb, 0x34,
    0x5f, 0x44, 0x20, 0x02, 0xca, 0x08, 0xd1, 0x42, 0xd9, 0x29, 0x3b, 0xcf,
    0x9b, 0x11, 0x31, 0xbc, 0xee,
};
constexpr std::uint8_t kFuzzEnvelope[244] = {
    0x4f, 0x54, 0x41, 0x4d, 0x01, 0x01, 0x03, 0x00, 0xb4, 0x00, 0x01, 0x00,
    0x02, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
    0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x4c, 0x21, 0x4b,
    0x41, 0xfe, 0x27, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xd0, 0x10, 0xf6, 0xd7, 0x6d, 0x0e, 0xb4, 0xdc,
    0xe5, 0xd5, 0xb5, 0xb3, 0x40, 0x14, 0xa8, 0xa1, 0x57, 0xec, 0x43, 0x80,
    0xa6, 0x6c, 0x24, 0xd7, 0xd4, 0x55, 0xa9, 0xbf, 0x65, 0x2d, 0xb1, 0x4a,
    0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
    0x5e, 0xa7, 0x95, 0x86, 0x0d, 0xb5, 0x53, 0x12, 0x06, 0x4f, 0x4e, 0xf7,
    0xee, 0x74, 0x3c, 0x73, 0xa8, 0x2a, 0x04, 0xcd, 0xa9, 0x71, 0x2f, 0x6e,
    0x70, 0x1f, 0xfc, 0x9c, 0x78, 0x76, 0xd8, 0xa2, 0x2c, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xb3, 0x9b, 0x3e, 0x48, 0xfd, 0xf8, 0x17, 0x79,
    0x53, 0xa9, 0x70, 0x2c, 0x0e, 0xb0, 0xd7, 0xee, 0x11, 0x25, 0x28, 0x18,
    0xbd, 0x59, 0x03, 0x4c, 0xe5, 0x6d, 0x9e, 0x4e, 0x3a, 0xc2, 0x8c, 0x06,
    0x5c, 0xf7, 0x34, 0xc7, 0x91, 0x96, 0x01, 0xf6, 0x47, 0x22, 0xe8, 0xe4,
    0x29, 0x0a, 0x55, 0x19, 0x42, 0x5f, 0x05, 0xff, 0x61, 0x83, 0xd2, 0xdd,
    0xd6, 0x64, 0x35, 0xf4, 0x82, 0x00, 0xa8, 0xeb, 0x31, 0x97, 0x66, 0x32,
    0xf8, 0xa3, 0x5c, 0xf7, 0xc9, 0x8a, 0xbc, 0x2a, 0xb9, 0xbc, 0x5e, 0xbc,
    0xfe, 0x59, 0xd7, 0xb7, 0x22, 0x47, 0x49, 0x58, 0xf6, 0xdb, 0x07, 0xc8,
    0xc5, 0xf2, 0xcb, 0x99,
};
constexpr std::uint8_t kFuzzBaseSha256[32] = {
    0x5e, 0xa7, 0x95, 0x86, 0x0d, 0xb5, 0x53, 0x12, 0x06, 0x4f, 0x4e, 0xf7,
    0xee, 0x74, 0x3c, 0x73, 0xa8, 0x2a, 0x04, 0xcd, 0xa9, 0x71, 0x2f, 0x6e,
    0x70, 0x1f, 0xfc, 0x9c, 0x78, 0x76, 0xd8, 0xa2,
};

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) __builtin_trap(); \
  } while (0)

using namespace ota::agent;

Verifier& verifier() {
  static Verifier* v = [] {
    KeyStore keys;
    PublicKey key{};
    std::copy(std::begin(kFuzzPublicKey), std::end(kFuzzPublicKey), key.begin());
    FUZZ_CHECK(keys.trust(key) == KeyStoreStatus::Ok);
    return new Verifier(keys);
  }();
  return *v;
}

// Whatever parses must re-encode to exactly the same bytes.
void check_canonical(std::span<const std::uint8_t> bytes) {
  const ManifestParse p = parse_manifest(bytes);
  if (p.ok()) {
    FUZZ_CHECK(validate_manifest(p.manifest) == ManifestError::Ok);
    const EncodedManifest e = encode_manifest(p.manifest);
    FUZZ_CHECK(e.ok());
    FUZZ_CHECK(std::equal(e.bytes().begin(), e.bytes().end(), bytes.begin(), bytes.end()));
    FUZZ_CHECK(p.manifest.encoded_size() == bytes.size());
  } else {
    FUZZ_CHECK(p.error != ManifestError::Ok);
  }
}

// Splits an envelope; checks the framing and the manifest part.
void check_envelope(std::span<const std::uint8_t> envelope) {
  const SignedManifestView split = split_signed_manifest(envelope);
  if (split.ok()) {
    FUZZ_CHECK(split.signature.size() == kSignatureSize);
    FUZZ_CHECK(split.manifest.size() + kSignatureSize == envelope.size());
    check_canonical(split.manifest);
  }
}

void check_raw(std::span<const std::uint8_t> in) {
  check_canonical(in);
  check_envelope(in);
  const SignedManifestView split = split_signed_manifest(in);

  const DeviceFacts facts{0x20, 10, 4096};
  const ManifestVerification mv = verifier().verify_manifest(in, facts);
  if (mv.verdict != Verdict::BadFormat) FUZZ_CHECK(split.ok() && mv.parse.ok());
  if (mv.authentic())
    FUZZ_CHECK(std::equal(in.begin(), in.end(), std::begin(kFuzzEnvelope), std::end(kFuzzEnvelope)));
}

void check_edits(std::span<const std::uint8_t> in) {
  if (in.empty()) return;
  const std::uint8_t pick = in[0];
  const std::array<std::uint32_t, 4> hardware{0x10, 0x20, 0x30, 0x40};
  const DeviceFacts facts{hardware[pick & 3], 9u + ((pick >> 2) & 3), 4095u + ((pick >> 4) & 1)};

  std::array<std::uint8_t, sizeof kFuzzEnvelope> env{};
  std::copy(std::begin(kFuzzEnvelope), std::end(kFuzzEnvelope), env.begin());
  std::size_t length = env.size();
  if (pick & 0x80) length = in.size() > 1 ? in[1] % (env.size() + 1) : env.size();  // truncation
  for (std::size_t i = 2; i + 1 < in.size(); i += 2) env[in[i] % env.size()] ^= in[i + 1];

  const std::span<const std::uint8_t> edited(env.data(), length);
  check_envelope(edited);
  const bool unchanged = std::equal(edited.begin(), edited.end(), std::begin(kFuzzEnvelope), std::end(kFuzzEnvelope));
  const ManifestVerification mv = verifier().verify_manifest(edited, facts);
  if (unchanged) {
    FUZZ_CHECK(mv.parse.ok());
    FUZZ_CHECK(mv.verdict == check_device(mv.parse.manifest, facts));
    const Manifest& m = mv.parse.manifest;
    FUZZ_CHECK(m.delta.has_value());
    Digest base{};
    std::copy(std::begin(kFuzzBaseSha256), std::end(kFuzzBaseSha256), base.begin());
    FUZZ_CHECK(check_delta_base(m, base) == Verdict::Accepted);
    base[pick & 31] ^= 1;
    FUZZ_CHECK(check_delta_base(m, base) == Verdict::DeltaBaseMismatch);
    // The fuzz input is (almost surely) not the patch: streaming it must fail.
    ImageDigestCheck patch = ImageDigestCheck::for_patch(m);
    patch.update(in);
    FUZZ_CHECK(patch.finish() == Verdict::DigestMismatch);
  } else {
    FUZZ_CHECK(mv.verdict == Verdict::BadFormat || mv.verdict == Verdict::UnknownKey ||
               mv.verdict == Verdict::BadSignature);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  check_raw(in);
  check_edits(in);
  return 0;
}
