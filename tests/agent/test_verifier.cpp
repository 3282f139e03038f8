// Tests of the verifier (verifier.hpp) and host signing (signing.hpp): every
// Verdict reason with real P-256 key pairs made here, the order of the checks,
// key rotation and revocation, streaming digests, and the key files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bytes_area.hpp"
#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verifier.hpp"

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

using namespace ota::agent;
using ota::agent::test::BytesArea;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kHardware = 0x00C3A001;
constexpr std::uint32_t kSlotSize = 64 * 1024;

SigningKey key_from_seed(std::uint64_t seed) {
  auto k = SigningKey::generate_from_seed(seed);
  REQUIRE(k.ok());
  return k.value();
}

Bytes make_image(std::size_t size, std::uint8_t salt) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>((i * 131 + salt) ^ (i >> 7));
  return b;
}

Manifest manifest_for(const Bytes& image) {
  Manifest m;
  m.version = {2, 0, 1};
  m.security_counter = 5;
  m.hardware_ids[0] = kHardware;
  m.hardware_ids[1] = kHardware + 1;
  m.hardware_id_count = 2;
  m.image_size = static_cast<std::uint32_t>(image.size());
  m.image_sha256 = Sha256::of(image);
  m.build_time = 1700000000;
  return m;
}

Bytes sign(const Manifest& m, const SigningKey& key) {
  auto env = sign_manifest(m, key);
  REQUIRE(env.ok());
  return env.value();
}

DeviceFacts device() { return DeviceFacts{kHardware, 5, kSlotSize}; }

KeyStore store_with(std::initializer_list<const SigningKey*> keys) {
  KeyStore s;
  for (const SigningKey* k : keys) REQUIRE(s.trust(k->public_key()) == KeyStoreStatus::Ok);
  return s;
}

// `image` shifted by a few bytes and with some bytes changed: a base that a
// delta patch turns into `image`.
Bytes base_for(const Bytes& image) {
  Bytes b(image.begin() + 16, image.end());
  for (std::size_t i = 0; i < b.size(); i += 101) b[i] ^= 0x33;
  return b;
}

Bytes quick_delta(const Bytes& from, const Bytes& to) {
  DeltaOptions o;
  o.exhaustive = false;
  return encode_delta(from, to, o);
}

Manifest delta_manifest(const Bytes& image, const Bytes& base, const Bytes& patch) {
  Manifest m = manifest_for(image);
  m.delta = DeltaInfo{Sha256::of(base), static_cast<std::uint32_t>(patch.size()), Sha256::of(patch)};
  return m;
}


}  // namespace

TEST_CASE("key id is the first 8 bytes of SHA-256 of the public point", "[verifier]") {
  const SigningKey k = key_from_seed(1);
  const Digest d = Sha256::of(k.public_key());
  const KeyId id = key_id_of(k.public_key());
  CHECK(std::equal(id.begin(), id.end(), d.begin()));
  CHECK(k.key_id() == id);
  CHECK(k.public_key()[0] == 0x04);
}

TEST_CASE("seeded key generation is deterministic, system keygen is not", "[verifier][signing]") {
  CHECK(key_from_seed(7).public_key() == key_from_seed(7).public_key());
  CHECK(key_from_seed(7).public_key() != key_from_seed(8).public_key());
  auto a = SigningKey::generate();
  auto b = SigningKey::generate();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value().public_key() != b.value().public_key());
  CHECK_FALSE(SigningKey::generate_from_seed(std::span<const std::uint8_t>{}).ok());
}

TEST_CASE("signatures are deterministic and verify only for their message and key", "[verifier][signing]") {
  const SigningKey k = key_from_seed(2);
  const SigningKey other = key_from_seed(3);
  const Bytes msg = make_image(100, 1);
  auto s1 = k.sign(msg);
  auto s2 = k.sign(msg);
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(s1.value() == s2.value());

  Verifier v(store_with({&k, &other}));
  CHECK(v.signature_valid(msg, s1.value(), 0));
  CHECK_FALSE(v.signature_valid(msg, s1.value(), 1));  // other key
  Bytes changed = msg;
  changed[50] ^= 1;
  CHECK_FALSE(v.signature_valid(changed, s1.value(), 0));
  CHECK_FALSE(v.signature_valid(msg, std::span(s1.value()).first(63), 0));
  CHECK_FALSE(v.signature_valid(msg, s1.value(), 2));  // no such key
}

// ECDSA signatures are malleable: (r, s) and (r, n - s) both verify. Signing
// writes the low-S one (s <= n/2) and the verifier refuses the other, so a
// signature has one accepted encoding.
TEST_CASE("signatures are low-S; the high-S twin is mathematically valid but refused", "[verifier][signing]") {
  mbedtls_ecp_group group;
  mbedtls_ecp_group_init(&group);
  REQUIRE(mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) == 0);
  mbedtls_mpi half, r, s, twin;
  for (mbedtls_mpi* m : {&half, &r, &s, &twin}) mbedtls_mpi_init(m);
  REQUIRE(mbedtls_mpi_copy(&half, &group.N) == 0);
  REQUIRE(mbedtls_mpi_shift_r(&half, 1) == 0);
  int twins_checked = 0;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    const SigningKey k = key_from_seed(seed);
    Verifier v(store_with({&k}));
    const Bytes msg = make_image(64 + seed, static_cast<std::uint8_t>(seed));
    auto sig = k.sign(msg);
    REQUIRE(sig.ok());
    const Signature low = sig.value();
    REQUIRE(mbedtls_mpi_read_binary(&r, low.data(), 32) == 0);
    REQUIRE(mbedtls_mpi_read_binary(&s, low.data() + 32, 32) == 0);
    CHECK(mbedtls_mpi_cmp_mpi(&s, &half) <= 0);  // what signing writes
    CHECK(v.signature_valid(msg, low, 0));
    // The twin (r, n - s).
    REQUIRE(mbedtls_mpi_sub_mpi(&twin, &group.N, &s) == 0);
    Signature high = low;
    REQUIRE(mbedtls_mpi_write_binary(&twin, high.data() + 32, 32) == 0);
    CHECK_FALSE(v.signature_valid(msg, high, 0));
    // ...although it is a valid ECDSA signature of the message by that key.
    mbedtls_ecp_point q;
    mbedtls_ecp_point_init(&q);
    const PublicKey pub = k.public_key();
    REQUIRE(mbedtls_ecp_point_read_binary(&group, &q, pub.data(), pub.size()) == 0);
    const Digest hash = Sha256::of(msg);
    CHECK(mbedtls_ecdsa_verify(&group, hash.data(), hash.size(), &q, &r, &twin) == 0);
    mbedtls_ecp_point_free(&q);
    ++twins_checked;
  }
  CHECK(twins_checked == 24);
  for (mbedtls_mpi* m : {&half, &r, &s, &twin}) mbedtls_mpi_free(m);
  mbedtls_ecp_group_free(&group);
}

TEST_CASE("a key from system entropy signs releases the verifier accepts", "[verifier][signing]") {
  auto k = SigningKey::generate();
  REQUIRE(k.ok());
  const Bytes image = make_image(5000, 9);
  const Bytes env = sign(manifest_for(image), k.value());
  KeyStore keys;
  REQUIRE(keys.trust(k.value().public_key()) == KeyStoreStatus::Ok);
  Verifier v(keys);
  CHECK(verify_artifact(v, env, image, device()) == Verdict::Accepted);
}

TEST_CASE("key files round-trip through PEM", "[verifier][signing]") {
  const SigningKey k = key_from_seed(4);
  auto priv = k.private_pem();
  auto pub = k.public_pem();
  REQUIRE(priv.ok());
  REQUIRE(pub.ok());
  CHECK(priv.value().find("-----BEGIN EC PRIVATE KEY-----") == 0);
  CHECK(pub.value().find("-----BEGIN PUBLIC KEY-----") == 0);

  auto back = SigningKey::from_pem(priv.value());
  REQUIRE(back.ok());
  CHECK(back.value().public_key() == k.public_key());
  const Bytes msg = make_image(64, 3);
  CHECK(back.value().sign(msg).value() == k.sign(msg).value());

  auto pub_back = parse_public_key_pem(pub.value());
  REQUIRE(pub_back.ok());
  CHECK(pub_back.value() == k.public_key());

  SECTION("unreadable key files are refused with a reason") {
    auto garbage = SigningKey::from_pem("not a key");
    CHECK_FALSE(garbage.ok());
    CHECK_FALSE(garbage.error().empty());
    CHECK_FALSE(SigningKey::from_pem(pub.value()).ok());  // a public key is not a private key
    CHECK_FALSE(parse_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
    std::string damaged = priv.value();
    damaged[40] = damaged[40] == 'A' ? 'B' : 'A';  // inside the base64 body
    CHECK_FALSE(SigningKey::from_pem(damaged).ok());
  }
}

TEST_CASE("the key store validates keys and has fixed capacity", "[verifier]") {
  KeyStore s;
  const SigningKey k = key_from_seed(10);
  PublicKey bad = k.public_key();
  bad[64] ^= 0x01;  // Y no longer on the curve
  CHECK(s.trust(bad) == KeyStoreStatus::InvalidKey);
  PublicKey compressed = k.public_key();
  compressed[0] = 0x02;
  CHECK(s.trust(compressed) == KeyStoreStatus::InvalidKey);
  CHECK(s.trust(PublicKey{}) == KeyStoreStatus::InvalidKey);
  CHECK(s.trusted_count() == 0);

  CHECK(s.trust(k.public_key()) == KeyStoreStatus::Ok);
  CHECK(s.trust(k.public_key()) == KeyStoreStatus::AlreadyPresent);
  for (std::uint64_t i = 1; i < KeyStore::kMaxTrustedKeys; ++i)
    CHECK(s.trust(key_from_seed(100 + i).public_key()) == KeyStoreStatus::Ok);
  CHECK(s.trusted_count() == KeyStore::kMaxTrustedKeys);
  CHECK(s.trust(key_from_seed(999).public_key()) == KeyStoreStatus::Full);
  CHECK(s.find_trusted(k.key_id()) == std::optional<std::size_t>(0));

  for (std::size_t i = 0; i < KeyStore::kMaxRevokedKeys; ++i) {
    KeyId id{};
    id[0] = static_cast<std::uint8_t>(i);
    CHECK(s.revoke(id) == KeyStoreStatus::Ok);
    CHECK(s.revoke(id) == KeyStoreStatus::AlreadyPresent);
  }
  CHECK(s.revoke(KeyId{0xFF}) == KeyStoreStatus::Full);
  CHECK(s.revoked_count() == KeyStore::kMaxRevokedKeys);
}

TEST_CASE("each verdict reason, with real key pairs", "[verifier]") {
  const SigningKey release_key = key_from_seed(20);
  const SigningKey stranger = key_from_seed(21);
  const Bytes image = make_image(10000, 1);
  const Manifest m = manifest_for(image);
  const Bytes env = sign(m, release_key);
  Verifier v(store_with({&release_key}));

  SECTION("Accepted") {
    const ManifestVerification mv = v.verify_manifest(env, device());
    CHECK(mv.verdict == Verdict::Accepted);
    CHECK(mv.authentic());
    CHECK(mv.parse.manifest.key_id == release_key.key_id());
    CHECK(verify_artifact(v, env, image, device()) == Verdict::Accepted);
  }
  SECTION("BadFormat") {
    CHECK(v.verify_manifest(Bytes{}, device()).verdict == Verdict::BadFormat);
    CHECK(v.verify_manifest(Bytes(env.begin(), env.end() - 1), device()).verdict == Verdict::BadFormat);
    Bytes longer = env;
    longer.push_back(0);
    CHECK(v.verify_manifest(longer, device()).verdict == Verdict::BadFormat);
    Bytes reserved = env;
    reserved[7] = 1;
    const ManifestVerification mv = v.verify_manifest(reserved, device());
    CHECK(mv.verdict == Verdict::BadFormat);
    CHECK(mv.parse.error == ManifestError::ReservedNotZero);
    CHECK_FALSE(mv.authentic());
  }
  SECTION("UnknownKey") {
    CHECK(v.verify_manifest(sign(m, stranger), device()).verdict == Verdict::UnknownKey);
  }
  SECTION("RevokedKey, even while the key is still trusted") {
    REQUIRE(v.revoke(release_key.key_id()) == KeyStoreStatus::Ok);
    REQUIRE(v.keys().find_trusted(release_key.key_id()).has_value());
    CHECK(v.verify_manifest(env, device()).verdict == Verdict::RevokedKey);
  }
  SECTION("BadSignature: signed by another key under the trusted key's id") {
    Manifest claimed = m;
    claimed.key_id = release_key.key_id();
    const EncodedManifest e = encode_manifest(claimed);
    REQUIRE(e.ok());
    auto sig = stranger.sign(e.bytes());
    REQUIRE(sig.ok());
    Bytes forged(e.bytes().begin(), e.bytes().end());
    forged.insert(forged.end(), sig.value().begin(), sig.value().end());
    CHECK(v.verify_manifest(forged, device()).verdict == Verdict::BadSignature);
  }
  SECTION("BadSignature: a field changed after signing") {
    Bytes tampered = env;
    tampered[16] = 6;  // security counter 5 -> 6
    const ManifestVerification mv = v.verify_manifest(tampered, device());
    CHECK(mv.verdict == Verdict::BadSignature);
    CHECK_FALSE(mv.authentic());
  }
  SECTION("BadSignature: degenerate signatures") {
    Bytes zero = env;
    std::fill(zero.end() - 64, zero.end(), 0);
    CHECK(v.verify_manifest(zero, device()).verdict == Verdict::BadSignature);
    Bytes ones = env;
    std::fill(ones.end() - 64, ones.end(), 0xFF);  // r, s >= n
    CHECK(v.verify_manifest(ones, device()).verdict == Verdict::BadSignature);
  }
  SECTION("WrongHardware") {
    DeviceFacts d = device();
    d.hardware_id = kHardware + 2;
    CHECK(v.verify_manifest(env, d).verdict == Verdict::WrongHardware);
    d.hardware_id = kHardware + 1;  // second id in the list
    CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);
  }
  SECTION("Downgrade: counter below the minimum; equal is fine") {
    DeviceFacts d = device();
    d.min_security_counter = 6;
    CHECK(v.verify_manifest(env, d).verdict == Verdict::Downgrade);
    d.min_security_counter = 5;
    CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);
  }
  SECTION("TooLarge: image bigger than the slot; exactly the slot is fine") {
    DeviceFacts d = device();
    d.slot_size = static_cast<std::uint32_t>(image.size() - 1);
    CHECK(v.verify_manifest(env, d).verdict == Verdict::TooLarge);
    d.slot_size = static_cast<std::uint32_t>(image.size());
    CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);
  }
  SECTION("DigestMismatch: a changed byte, a missing byte, an extra byte") {
    Bytes changed = image;
    changed[1234] ^= 0x40;
    CHECK(verify_artifact(v, env, changed, device()) == Verdict::DigestMismatch);
    CHECK(verify_artifact(v, env, std::span(image).first(image.size() - 1), device()) == Verdict::DigestMismatch);
    Bytes longer = image;
    longer.push_back(0);
    CHECK(verify_artifact(v, env, longer, device()) == Verdict::DigestMismatch);
  }
  SECTION("DeltaBaseMismatch") {
    const Bytes base = base_for(image);
    const Bytes patch = quick_delta(base, image);
    const Bytes denv = sign(delta_manifest(image, base, patch), release_key);
    CHECK(verify_artifact(v, denv, patch, device(), base) == Verdict::Accepted);
    CHECK(verify_artifact(v, denv, patch, device(), image) == Verdict::DeltaBaseMismatch);
    CHECK(verify_artifact(v, denv, patch, device()) == Verdict::DeltaBaseMismatch);  // no running image
    const Manifest parsed = v.verify_manifest(denv, device()).parse.manifest;
    CHECK(check_delta_base(parsed, Sha256::of(base)) == Verdict::Accepted);
    CHECK(check_delta_base(parsed, Sha256::of(patch)) == Verdict::DeltaBaseMismatch);
    // A corrupt patch is reported before the base (Verdict order).
    Bytes bad_patch = patch;
    bad_patch[0] ^= 1;
    CHECK(verify_artifact(v, denv, bad_patch, device(), image) == Verdict::DigestMismatch);
  }
  SECTION("DigestMismatch: a signed patch that does not build the manifest's image") {
    const Bytes base = base_for(image);
    // Random bytes that the manifest signs as the patch: they build nothing.
    const Bytes junk = make_image(700, 3);
    CHECK(verify_artifact(v, sign(delta_manifest(image, base, junk), release_key), junk, device(), base) ==
          Verdict::DigestMismatch);
    // A valid patch from the right base to another image, of the same size,
    // shorter, or longer.
    for (const Bytes& other : {make_image(image.size(), 4), make_image(image.size() - 1, 5),
                               make_image(image.size() + 4096, 6)}) {
      CAPTURE(other.size());
      const Bytes patch = quick_delta(base, other);
      const Bytes denv = sign(delta_manifest(image, base, patch), release_key);
      CHECK(verify_artifact(v, denv, patch, DeviceFacts{kHardware, 5, kSlotSize}, base) == Verdict::DigestMismatch);
    }
    // A valid patch whose own header names another base than the manifest.
    const Bytes other_base = make_image(base.size(), 7);
    const Bytes other_patch = quick_delta(other_base, image);
    CHECK(verify_artifact(v, sign(delta_manifest(image, base, other_patch), release_key), other_patch, device(),
                          base) == Verdict::DeltaBaseMismatch);
  }
}

TEST_CASE("verify_artifact_streaming names the part and never accepts what it could not read", "[verifier]") {
  const SigningKey k = key_from_seed(25);
  Verifier v(store_with({&k}));
  const Bytes image = make_image(30000, 9);
  const Bytes base = base_for(image);
  const Bytes patch = quick_delta(base, image);
  const Bytes full_env = sign(manifest_for(image), k);
  const Bytes delta_env = sign(delta_manifest(image, base, patch), k);
  const Bytes wrong = make_image(30000, 10);
  BytesArea image_area(image), base_area(base), patch_area(patch), wrong_area(wrong);

  auto run = [&](const Bytes& env, ArtifactSources sources) {
    return verify_artifact_streaming(v, env, sources, device());
  };
  ArtifactVerification r = run(delta_env, {&patch_area, &base_area, &image_area});
  CHECK(r.accepted());
  CHECK(r.delta_status == DeltaStatus::Ok);
  CHECK(r.read_status == FlashStatus::Ok);
  CHECK(r.parse.manifest.delta.has_value());
  CHECK(run(full_env, {&image_area, nullptr, nullptr}).accepted());

  r = run(full_env, {nullptr, nullptr, nullptr});
  CHECK(r.verdict == Verdict::DigestMismatch);
  CHECK(r.part == ArtifactPart::Payload);
  r = run(delta_env, {&patch_area, &base_area, &wrong_area});
  CHECK(r.verdict == Verdict::DigestMismatch);
  CHECK(r.part == ArtifactPart::NewImage);
  r = run(delta_env, {&patch_area, &wrong_area, nullptr});
  CHECK(r.verdict == Verdict::DeltaBaseMismatch);
  CHECK(r.part == ArtifactPart::RunningImage);
  r = run(delta_env, {&patch_area, nullptr, nullptr});
  CHECK(r.verdict == Verdict::DeltaBaseMismatch);
  CHECK(r.part == ArtifactPart::RunningImage);

  SECTION("a read failure of any input refuses, and says which") {
    for (BytesArea* failing : {&patch_area, &base_area, &image_area}) {
      failing->fail_reads_from(failing->size() / 2);
      r = run(delta_env, {&patch_area, &base_area, &image_area});
      CHECK_FALSE(r.accepted());
      CHECK(r.read_status == FlashStatus::IoError);
      CHECK(r.part == (failing == &patch_area   ? ArtifactPart::Payload
                       : failing == &base_area ? ArtifactPart::RunningImage
                                               : ArtifactPart::NewImage));
      failing->heal();
    }
  }
}

TEST_CASE("a failed or misused hash can never compare equal", "[verifier]") {
  const Bytes data = make_image(1000, 11);
  const Digest right = Sha256::of(data);

  Sha256 h;
  h.update(data);
  CHECK(h.ok());
  Sha256 copy = h;
  CHECK(copy.finish_equals(right));
  CHECK(copy.ok());
  CHECK_FALSE(copy.finish_equals(right));  // finished twice
  CHECK_FALSE(copy.ok());
  Sha256 copy_of_failed = copy;
  CHECK_FALSE(copy_of_failed.ok());  // the failure travels with copies

  CHECK(h.finish() == right);
  h.update(data);  // update after finish
  CHECK_FALSE(h.ok());
  CHECK(h.finish() == Digest{});

  // The checks built on it fail closed the same way.
  ImageDigestCheck check(data.size(), right);
  check.update(data);
  CHECK(check.finish() == Verdict::Accepted);
  CHECK(check.finish() == Verdict::DigestMismatch);  // a check is consumed by finish()
}

TEST_CASE("the first failing check in Verdict order is the one reported", "[verifier]") {
  const SigningKey k = key_from_seed(30);
  const SigningKey unknown = key_from_seed(31);
  const Bytes image = make_image(4000, 4);
  Manifest m = manifest_for(image);
  m.security_counter = 1;
  m.image_size = kSlotSize + 1;
  const Bytes env = sign(m, k);  // wrong hardware for the device below, downgrade and too large
  DeviceFacts d{0xDEAD, 5, kSlotSize};

  Verifier v(store_with({&k}));
  CHECK(v.verify_manifest(env, d).verdict == Verdict::WrongHardware);
  d.hardware_id = kHardware;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::Downgrade);
  d.min_security_counter = 0;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::TooLarge);

  Bytes bad_sig = env;
  bad_sig.back() ^= 1;
  CHECK(v.verify_manifest(bad_sig, d).verdict == Verdict::BadSignature);
  REQUIRE(v.revoke(k.key_id()) == KeyStoreStatus::Ok);
  CHECK(v.verify_manifest(bad_sig, d).verdict == Verdict::RevokedKey);
  // Revoked but never trusted: the key is unknown first.
  REQUIRE(v.revoke(unknown.key_id()) == KeyStoreStatus::Ok);
  CHECK(v.verify_manifest(sign(m, unknown), d).verdict == Verdict::UnknownKey);

  CHECK(check_device(m, DeviceFacts{0xDEAD, 5, 0}) == Verdict::WrongHardware);
  CHECK(check_device(m, DeviceFacts{kHardware, 5, 0}) == Verdict::Downgrade);
  CHECK(check_device(m, DeviceFacts{kHardware, 1, kSlotSize}) == Verdict::TooLarge);
  CHECK(check_device(m, DeviceFacts{kHardware, 1, kSlotSize + 1}) == Verdict::Accepted);
}

TEST_CASE("key rotation: trust the new key, then revoke the old one", "[verifier]") {
  const SigningKey old_key = key_from_seed(40);
  const SigningKey new_key = key_from_seed(41);
  const Bytes image = make_image(3000, 5);
  const Bytes old_release = sign(manifest_for(image), old_key);
  const Bytes new_release = sign(manifest_for(image), new_key);

  KeyStore keys;
  REQUIRE(keys.trust(old_key.public_key()) == KeyStoreStatus::Ok);
  Verifier v(keys);
  CHECK(v.verify_manifest(old_release, device()).verdict == Verdict::Accepted);
  CHECK(v.verify_manifest(new_release, device()).verdict == Verdict::UnknownKey);

  REQUIRE(v.trust(new_key.public_key()) == KeyStoreStatus::Ok);
  CHECK(v.verify_manifest(new_release, device()).verdict == Verdict::Accepted);
  CHECK(v.verify_manifest(old_release, device()).verdict == Verdict::Accepted);

  REQUIRE(v.revoke(old_key.key_id()) == KeyStoreStatus::Ok);
  CHECK(v.verify_manifest(old_release, device()).verdict == Verdict::RevokedKey);
  CHECK(v.verify_manifest(new_release, device()).verdict == Verdict::Accepted);

  // A verifier built from the persisted store behaves the same.
  Verifier rebuilt(v.keys());
  CHECK(rebuilt.verify_manifest(old_release, device()).verdict == Verdict::RevokedKey);
  CHECK(rebuilt.verify_manifest(new_release, device()).verdict == Verdict::Accepted);
}

TEST_CASE("image digest is computed streaming, in any chunking", "[verifier]") {
  const Bytes image = make_image(100000, 6);
  const Manifest m = manifest_for(image);
  for (std::size_t chunk : {1u, 7u, 4096u, 65536u, 100000u}) {
    CAPTURE(chunk);
    ImageDigestCheck check = ImageDigestCheck::for_image(m);
    for (std::size_t off = 0; off < image.size(); off += chunk)
      check.update(std::span(image).subspan(off, std::min(chunk, image.size() - off)));
    CHECK(check.bytes_seen() == image.size());
    CHECK(check.finish() == Verdict::Accepted);
  }
  SECTION("a saved partial state resumes") {
    ImageDigestCheck check = ImageDigestCheck::for_image(m);
    check.update(std::span(image).first(50000));
    ImageDigestCheck resumed = check;  // e.g. kept beside the download offset
    resumed.update(std::span(image).subspan(50000));
    CHECK(resumed.finish() == Verdict::Accepted);
  }
  SECTION("bytes beyond the expected size fail the check") {
    ImageDigestCheck check = ImageDigestCheck::for_image(m);
    check.update(image);
    check.update(Bytes{0});
    CHECK(check.bytes_seen() == image.size() + 1);
    CHECK(check.finish() == Verdict::DigestMismatch);
  }
  SECTION("a patch check on a manifest without a delta never passes") {
    ImageDigestCheck check = ImageDigestCheck::for_patch(m);
    CHECK(check.finish() == Verdict::DigestMismatch);
  }
  SECTION("an explicit size and digest") {
    ImageDigestCheck ok(image.size(), Sha256::of(image));
    ok.update(image);
    CHECK(ok.finish() == Verdict::Accepted);
    ImageDigestCheck wrong(image.size(), Digest{});
    wrong.update(image);
    CHECK(wrong.finish() == Verdict::DigestMismatch);
  }
}

TEST_CASE("a verifier without keys accepts nothing", "[verifier]") {
  const SigningKey k = key_from_seed(50);
  const Bytes image = make_image(100, 7);
  Verifier v;
  CHECK(v.verify_manifest(sign(manifest_for(image), k), device()).verdict == Verdict::UnknownKey);
  CHECK(verify_artifact(v, sign(manifest_for(image), k), image, device()) == Verdict::UnknownKey);
}

TEST_CASE("sign_manifest sets the key id and refuses invalid manifests", "[verifier][signing]") {
  const SigningKey k = key_from_seed(60);
  Manifest m = manifest_for(make_image(10, 8));
  m.key_id = KeyId{1, 2, 3};  // overwritten by the signer
  const Bytes env = sign(m, k);
  CHECK(parse_manifest(split_signed_manifest(env).manifest).manifest.key_id == k.key_id());
  m.hardware_id_count = 0;
  auto bad = sign_manifest(m, k);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("hardware id count") != std::string::npos);
}
