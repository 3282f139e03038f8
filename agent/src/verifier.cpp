#include "ota/agent/verifier.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>

#include "detail/mbedtls_mpi.hpp"
#include "detail/read_through.hpp"

namespace ota::agent {

namespace detail {
namespace {

bool is_valid_p256_point(const PublicKey& key) {
  if (key[0] != 0x04) return false;  // only the uncompressed form is accepted
  mbedtls_ecp_group group;
  mbedtls_ecp_point point;
  mbedtls_ecp_group_init(&group);
  mbedtls_ecp_point_init(&point);
  const bool ok = mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
                  mbedtls_ecp_point_read_binary(&group, &point, key.data(), key.size()) == 0 &&
                  mbedtls_ecp_check_pubkey(&group, &point) == 0;
  mbedtls_ecp_point_free(&point);
  mbedtls_ecp_group_free(&group);
  return ok;
}

}  // namespace
}  // namespace detail

KeyId key_id_of(const PublicKey& key) {
  const Digest d = Sha256::of(key);
  KeyId id{};
  std::copy_n(d.begin(), id.size(), id.begin());
  return id;
}

// ---- KeyStore ---------------------------------------------------------------

KeyStoreStatus KeyStore::trust(const PublicKey& key) {
  if (!detail::is_valid_p256_point(key)) return KeyStoreStatus::InvalidKey;
  const KeyId id = key_id_of(key);
  if (find_trusted(id)) return KeyStoreStatus::AlreadyPresent;
  if (trusted_count_ == kMaxTrustedKeys) return KeyStoreStatus::Full;
  trusted_[trusted_count_] = key;
  trusted_ids_[trusted_count_] = id;
  ++trusted_count_;
  return KeyStoreStatus::Ok;
}

KeyStoreStatus KeyStore::revoke(const KeyId& id) {
  if (is_revoked(id)) return KeyStoreStatus::AlreadyPresent;
  if (revoked_count_ == kMaxRevokedKeys) return KeyStoreStatus::Full;
  revoked_[revoked_count_++] = id;
  return KeyStoreStatus::Ok;
}

std::optional<std::size_t> KeyStore::find_trusted(const KeyId& id) const {
  for (std::size_t i = 0; i < trusted_count_; ++i)
    if (trusted_ids_[i] == id) return i;
  return std::nullopt;
}

bool KeyStore::is_revoked(const KeyId& id) const {
  for (std::size_t i = 0; i < revoked_count_; ++i)
    if (revoked_[i] == id) return true;
  return false;
}

// ---- Verifier ---------------------------------------------------------------

Verifier::Verifier(const KeyStore& keys) : keys_(keys) {
  mbedtls_ecp_group_init(&group_);
  for (auto& p : points_) mbedtls_ecp_point_init(&p);
  group_loaded_ = mbedtls_ecp_group_load(&group_, MBEDTLS_ECP_DP_SECP256R1) == 0;
  for (std::size_t i = 0; i < keys_.trusted_count(); ++i) load_point(i);
}

Verifier::~Verifier() {
  for (auto& p : points_) mbedtls_ecp_point_free(&p);
  mbedtls_ecp_group_free(&group_);
}

void Verifier::load_point(std::size_t i) {
  // A point that fails to load (only possible if mbedTLS runs out of memory)
  // stays unloaded, and every signature by that key is refused.
  const PublicKey& key = keys_.trusted_key(i);
  point_loaded_[i] = group_loaded_ && mbedtls_ecp_point_read_binary(&group_, &points_[i], key.data(), key.size()) == 0;
}

KeyStoreStatus Verifier::trust(const PublicKey& key) {
  const KeyStoreStatus s = keys_.trust(key);
  if (s == KeyStoreStatus::Ok) load_point(keys_.trusted_count() - 1);
  return s;
}

KeyStoreStatus Verifier::revoke(const KeyId& id) { return keys_.revoke(id); }

bool Verifier::signature_valid(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature,
                               std::size_t key_index) {
  if (signature.size() != kSignatureSize || key_index >= keys_.trusted_count() || !point_loaded_[key_index])
    return false;
  Sha256 hasher;
  hasher.update(message);
  const Digest hash = hasher.finish();
  if (!hasher.ok()) return false;
  detail::Mpi r;
  detail::Mpi s;
  constexpr std::size_t kHalf = kSignatureSize / 2;
  if (mbedtls_mpi_read_binary(r.get(), signature.data(), kHalf) != 0) return false;
  if (mbedtls_mpi_read_binary(s.get(), signature.data() + kHalf, kHalf) != 0) return false;
  // Only the canonical low-S encoding (s <= n/2; what otasign writes): the
  // other one, (r, n - s), verifies mathematically but is refused, so a
  // signature has exactly one accepted encoding (not malleable).
  detail::Mpi half;
  if (mbedtls_mpi_copy(half.get(), &group_.N) != 0 || mbedtls_mpi_shift_r(half.get(), 1) != 0) return false;
  if (mbedtls_mpi_cmp_mpi(s.get(), half.get()) > 0) return false;
  // mbedtls_ecdsa_verify rejects r or s outside [1, n-1] itself.
  return mbedtls_ecdsa_verify(&group_, hash.data(), hash.size(), &points_[key_index], r.get(), s.get()) == 0;
}

ManifestVerification Verifier::verify_manifest(std::span<const std::uint8_t> signed_manifest,
                                               const DeviceFacts& device) {
  ManifestVerification out;  // verdict starts as BadFormat
  const SignedManifestView envelope = split_signed_manifest(signed_manifest);
  if (!envelope.ok()) {
    out.parse.error = envelope.error;
    out.parse.field = envelope.field;
    out.parse.offset = envelope.offset;
    out.parse.value = envelope.value;
    return out;
  }
  out.parse = parse_manifest(envelope.manifest);
  if (!out.parse.ok()) return out;
  const Manifest& m = out.parse.manifest;

  const std::optional<std::size_t> key_index = keys_.find_trusted(m.key_id);
  if (!key_index) {
    out.verdict = Verdict::UnknownKey;
    return out;
  }
  if (keys_.is_revoked(m.key_id)) {
    out.verdict = Verdict::RevokedKey;
    return out;
  }
  if (!signature_valid(envelope.manifest, envelope.signature, *key_index)) {
    out.verdict = Verdict::BadSignature;
    return out;
  }
  out.verdict = check_device(m, device);
  return out;
}

// ---- Checks after the signature --------------------------------------------

Verdict check_device(const Manifest& manifest, const DeviceFacts& device) {
  if (!manifest.is_compatible_with(device.hardware_id)) return Verdict::WrongHardware;
  if (manifest.security_counter < device.min_security_counter) return Verdict::Downgrade;
  if (manifest.image_size > device.slot_size) return Verdict::TooLarge;
  return Verdict::Accepted;
}

Verdict check_delta_base(const Manifest& manifest, const Digest& running_image_sha256) {
  if (!manifest.delta) return Verdict::Accepted;
  return digest_equal(manifest.delta->base_sha256, running_image_sha256) ? Verdict::Accepted
                                                                         : Verdict::DeltaBaseMismatch;
}

ImageDigestCheck::ImageDigestCheck(std::uint64_t expected_size, const Digest& expected_sha256)
    : expected_sha256_(expected_sha256), expected_size_(expected_size) {}

ImageDigestCheck ImageDigestCheck::for_image(const Manifest& manifest) {
  return ImageDigestCheck(manifest.image_size, manifest.image_sha256);
}

ImageDigestCheck ImageDigestCheck::for_patch(const Manifest& manifest) {
  if (manifest.delta) return ImageDigestCheck(manifest.delta->patch_size, manifest.delta->patch_sha256);
  ImageDigestCheck never(0, Digest{});
  never.possible_ = false;
  return never;
}

void ImageDigestCheck::update(std::span<const std::uint8_t> bytes) {
  // Bytes past the expected size are still counted (and make finish() fail)
  // but no longer hashed: nothing they could do would make the check pass.
  if (bytes_seen_ < expected_size_) {
    const std::uint64_t room = expected_size_ - bytes_seen_;
    hash_.update(bytes.first(static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()))));
  }
  bytes_seen_ += bytes.size();
}

Verdict ImageDigestCheck::finish() {
  Verdict v = Verdict::DigestMismatch;
  const bool digest_ok = hash_.finish_equals(expected_sha256_);
  if (possible_ && bytes_seen_ == expected_size_ && digest_ok) v = Verdict::Accepted;
  return v;
}

// ---- Reading an image from flash ---------------------------------------------

FlashStatus hash_area(const FlashArea& area, Sha256& hash) {
  return detail::read_through(area, [&](std::span<const std::uint8_t> chunk) {
    hash.update(chunk);
    return true;
  });
}

}  // namespace ota::agent
