// verifier.hpp — decides whether a signed release may be installed on this device.
//
// The device holds a KeyStore: the public keys it trusts (addressed by key id)
// and the key ids it has revoked. A Verifier turns a signed manifest envelope
// (manifest || signature, see manifest.hpp) and the device's own facts into
// exactly one Verdict. The checks run in the order of the Verdict enumerators
// and the first failure is the answer:
//
//   verify_manifest: format -> key known -> key not revoked -> signature
//                    -> hardware match -> security counter >= device minimum
//                    -> image fits the slot
//   end of download: ImageDigestCheck (image, or the patch of a delta)
//                    -> check_delta_base (the delta's base is the running image)
//   whole artifact:  verify_artifact_streaming / verify_artifact (host only,
//                    artifact_verifier.hpp) run all of the above and, for a
//                    delta, apply the patch to the running image and check that
//                    it builds the manifest's image
//
// Everything fails closed: a result starts as a refusal and only a complete,
// successful check yields Accepted. No call throws or allocates on the heap in
// our code; mbedTLS allocates its own big-number limbs inside the ECDSA check.
//
// Key rotation: trust the new key (a release signed by it is accepted from then
// on), later revoke the old one. A revoked key id is refused even while its key
// is still in the trusted list: revocation always wins.
//
// Cost (`otasim-bench verify`; x86-64 EPYC, mbedTLS 2.28 software crypto, idle
// machine): verify_manifest is one SHA-256 over <= 200 bytes plus one ECDSA
// P-256 verification, about 1.1 ms, nearly all of it the ECDSA. The image digest
// is mbedTLS's portable SHA-256, about 3.4 ms per MiB (~300 MB/s). The Verifier
// keeps the curve loaded, so mbedTLS's table for the generator is built on the
// first verification (about 10% extra, once) and reused after. For the
// simulator, which verifies each distinct artifact variant once and reuses the
// verdict, a full check of a 1 MiB release costs about 4.5 ms; check_device()
// alone, for another device of the same release, costs nanoseconds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <mbedtls/ecp.h>

#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/verdict.hpp"

namespace ota::agent {

// An uncompressed SEC1 P-256 public point: 0x04 || X (32 B) || Y (32 B).
using PublicKey = std::array<std::uint8_t, 65>;
// An ECDSA P-256 signature as r || s, each 32 bytes big-endian (IEEE P1363).
using Signature = std::array<std::uint8_t, kSignatureSize>;

// The key id of `key`: the first 8 bytes of SHA-256 over its 65 bytes.
KeyId key_id_of(const PublicKey& key);

// What the verifier must know about the device it runs on.
struct DeviceFacts {
  std::uint32_t hardware_id = 0;
  // Lowest security counter the device still accepts (raised when an image
  // with a higher counter is confirmed; see boot control).
  std::uint32_t min_security_counter = 0;
  // Bytes available for an image in the slot it will be written to.
  std::uint32_t slot_size = 0;
};

enum class KeyStoreStatus : std::uint8_t {
  Ok,
  InvalidKey,      // not a point on P-256 (or not in uncompressed form)
  AlreadyPresent,  // the key (or revoked id) is already in the store
  Full,            // no room: kMaxTrustedKeys / kMaxRevokedKeys reached
};

constexpr std::string_view to_string(KeyStoreStatus s) {
  switch (s) {
    case KeyStoreStatus::Ok: return "ok";
    case KeyStoreStatus::InvalidKey: return "invalid public key (not an uncompressed P-256 point)";
    case KeyStoreStatus::AlreadyPresent: return "already present";
    case KeyStoreStatus::Full: return "key store full";
  }
  return "unknown key store status";
}

// The trusted public keys and revoked key ids. A fixed-capacity value (no heap),
// copyable, suitable to persist as it is.
class KeyStore {
 public:
  static constexpr std::size_t kMaxTrustedKeys = 8;
  static constexpr std::size_t kMaxRevokedKeys = 16;

  // Adds `key` to the trusted set after checking that it is a valid P-256 point.
  KeyStoreStatus trust(const PublicKey& key);
  // Adds `id` to the revoked set. The id need not be trusted (a key may be
  // revoked before it is ever seen).
  KeyStoreStatus revoke(const KeyId& id);

  // Index of the trusted key with id `id`, or nullopt.
  std::optional<std::size_t> find_trusted(const KeyId& id) const;
  bool is_revoked(const KeyId& id) const;

  std::size_t trusted_count() const { return trusted_count_; }
  std::size_t revoked_count() const { return revoked_count_; }
  // Requires i < trusted_count().
  const PublicKey& trusted_key(std::size_t i) const { return trusted_[i]; }
  const KeyId& trusted_id(std::size_t i) const { return trusted_ids_[i]; }
  std::span<const KeyId> revoked_ids() const { return {revoked_.data(), revoked_count_}; }

 private:
  std::array<PublicKey, kMaxTrustedKeys> trusted_{};
  std::array<KeyId, kMaxTrustedKeys> trusted_ids_{};
  std::size_t trusted_count_ = 0;
  std::array<KeyId, kMaxRevokedKeys> revoked_{};
  std::size_t revoked_count_ = 0;
};

// Outcome of Verifier::verify_manifest. `parse` holds the decoded manifest
// whenever the bytes parsed (so a tool can print it), but its contents are
// authentic only when the signature checked out, i.e. when `verdict` is
// Accepted, WrongHardware, Downgrade or TooLarge (see `authentic()`).
struct ManifestVerification {
  Verdict verdict = Verdict::BadFormat;
  ManifestParse parse{};
  bool accepted() const { return verdict == Verdict::Accepted; }
  bool authentic() const {
    return verdict == Verdict::Accepted || verdict == Verdict::WrongHardware || verdict == Verdict::Downgrade ||
           verdict == Verdict::TooLarge;
  }
};

// Checks signed manifests against a KeyStore. Holds mbedTLS state (the loaded
// curve and the parsed trusted points), so it is neither copyable nor movable:
// build it in place once and keep it. Not safe for concurrent use from several
// threads (mbedTLS caches its generator table inside the curve on first use);
// give each thread its own Verifier.
class Verifier {
 public:
  explicit Verifier(const KeyStore& keys = KeyStore{});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Same contract as KeyStore::trust / revoke; takes effect for the next call.
  KeyStoreStatus trust(const PublicKey& key);
  KeyStoreStatus revoke(const KeyId& id);
  const KeyStore& keys() const { return keys_; }

  // Runs every pre-download check on a signed envelope (manifest || signature):
  // BadFormat, UnknownKey, RevokedKey, BadSignature, then check_device().
  ManifestVerification verify_manifest(std::span<const std::uint8_t> signed_manifest, const DeviceFacts& device);

  // True when `signature` is a valid ECDSA P-256 signature over SHA-256 of
  // `message` by the trusted key with index `key_index` (see KeyStore).
  bool signature_valid(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature,
                       std::size_t key_index);

 private:
  KeyStore keys_;
  mbedtls_ecp_group group_;
  std::array<mbedtls_ecp_point, KeyStore::kMaxTrustedKeys> points_;
  std::array<bool, KeyStore::kMaxTrustedKeys> point_loaded_{};
  bool group_loaded_ = false;

  void load_point(std::size_t i);
};

// The checks of an authentic manifest against one device, in Verdict order:
// WrongHardware, Downgrade, TooLarge, else Accepted. Pure and cheap; the
// simulator may reuse one signature check across many devices with this.
Verdict check_device(const Manifest& manifest, const DeviceFacts& device);

// For a delta manifest: Accepted when `running_image_sha256` is the delta's
// base image, DeltaBaseMismatch otherwise. A manifest without a delta has no
// base to match and yields Accepted.
Verdict check_delta_base(const Manifest& manifest, const Digest& running_image_sha256);

// Streams received bytes through SHA-256 and checks them against what the
// manifest promises: exactly `expected_size` bytes with digest `expected`.
// Copyable, so a partial state can be kept beside a resumable download.
class ImageDigestCheck {
 public:
  ImageDigestCheck(std::uint64_t expected_size, const Digest& expected_sha256);
  // The full image the manifest describes (after a delta is applied, the result).
  static ImageDigestCheck for_image(const Manifest& manifest);
  // The patch of a delta manifest as downloaded. For a manifest without a
  // delta the check can never pass (finish() returns DigestMismatch).
  static ImageDigestCheck for_patch(const Manifest& manifest);

  void update(std::span<const std::uint8_t> bytes);
  std::uint64_t bytes_seen() const { return bytes_seen_; }
  // Accepted when the byte count and digest both match, DigestMismatch
  // otherwise. Call once: a second finish(), or an update() after it, can
  // only give DigestMismatch (the hash latches the misuse, sha256.hpp).
  Verdict finish();

 private:
  Sha256 hash_;
  Digest expected_sha256_;
  std::uint64_t expected_size_;
  std::uint64_t bytes_seen_ = 0;
  bool possible_ = true;
};

// ---- Reading an image from flash ---------------------------------------------

// The whole-artifact check of host tools and the simulator
// (verify_artifact_streaming, verify_artifact) is host-only:
// agent/host/include/ota/agent/artifact_verifier.hpp.

// Feeds all of `area`, in order and in bounded chunks (4 KiB, on the stack),
// to `hash`. Returns the first failed read's status (the hash then holds a
// prefix only and must not be used), else Ok.
FlashStatus hash_area(const FlashArea& area, Sha256& hash);

}  // namespace ota::agent
