// signing.hpp — HOST ONLY: release signing keys and signed-manifest envelopes.
//
// Lives in the host-only `ota_agent_encoder` library (agent/encoder/signing.cpp),
// whose include directory device code does not see: a device never holds a
// private key. Used by
// `otasign`, by the simulator to sign a scenario's artifacts at set-up, and by
// the tests.
//
// Keys are ECDSA P-256 (mbedTLS 2.28). Files are PEM: the private key as SEC1
// "EC PRIVATE KEY" (what mbedtls_pk_write_key_pem writes; PKCS#8 "PRIVATE KEY"
// is also read), the public key as SubjectPublicKeyInfo "PUBLIC KEY". Both are
// what `openssl ec` reads and writes, so keys can be checked with other tools.
//
// Signatures are deterministic (RFC 6979): the same key and manifest always
// give the same envelope bytes, so a seeded simulation reproduces exactly.
// They are in canonical low-S form (s <= n/2; RFC 6979's s is replaced by
// n - s when larger), the only form the agent's verifier accepts.
//
// No function throws; failures come back as a SigningResult whose `error`
// says what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/agent/manifest.hpp"
#include "ota/agent/verifier.hpp"

namespace ota::agent {

class SigningKeyAccess;

// A value or the reason there is none.
template <class T>
class SigningResult {
 public:
  SigningResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  static SigningResult failure(std::string error) {
    SigningResult r;
    r.error_ = std::move(error);
    return r;
  }
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Require ok().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  // Empty when ok().
  const std::string& error() const { return error_; }

 private:
  SigningResult() = default;
  std::optional<T> value_;
  std::string error_;
};

// A P-256 private key with its public half. A plain value (copyable); the
// private scalar is wiped from memory when the object is destroyed.
class SigningKey {
 public:
  // A fresh key from the system's entropy (mbedTLS entropy -> CTR_DRBG).
  static SigningResult<SigningKey> generate();
  // A key derived only from `seed` (HMAC_DRBG-SHA256 seeded with it): the same
  // seed always gives the same key. For tests and simulation set-up, never for
  // real releases. `seed` must not be empty.
  static SigningResult<SigningKey> generate_from_seed(std::span<const std::uint8_t> seed);
  static SigningResult<SigningKey> generate_from_seed(std::uint64_t seed);
  // Reads a PEM (or DER) private key; it must be a P-256 EC key. When the file
  // also carries the public point, it must match the private scalar.
  static SigningResult<SigningKey> from_pem(std::string_view pem);

  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  KeyId key_id() const { return key_id_of(public_key_); }

  // "-----BEGIN EC PRIVATE KEY-----" ... (SEC1).
  SigningResult<std::string> private_pem() const;
  // "-----BEGIN PUBLIC KEY-----" ... (SubjectPublicKeyInfo).
  SigningResult<std::string> public_pem() const;

  // ECDSA P-256 over SHA-256(message), deterministic (RFC 6979), as r || s.
  SigningResult<Signature> sign(std::span<const std::uint8_t> message) const;

 private:
  friend class SigningKeyAccess;
  SigningKey() = default;
  std::array<std::uint8_t, 32> private_scalar_{};  // big-endian d
  PublicKey public_key_{};
};

// Reads a PEM (or DER) public key; it must be a P-256 EC key.
SigningResult<PublicKey> parse_public_key_pem(std::string_view pem);
// The SubjectPublicKeyInfo PEM of `key` (fails only for an invalid point).
SigningResult<std::string> public_key_pem(const PublicKey& key);

// Encodes `manifest` with its key_id set to `key`'s id, signs it, and returns
// the envelope `manifest bytes || r || s` (see manifest.hpp). Fails when the
// manifest does not validate (the error names the rule).
SigningResult<std::vector<std::uint8_t>> sign_manifest(Manifest manifest, const SigningKey& key);

}  // namespace ota::agent
