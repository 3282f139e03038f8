// sha256.hpp — streaming SHA-256 (mbedTLS), for digests computed as bytes arrive.
//
// The agent never holds a whole image in RAM: feed it chunk by chunk with
// update(), then finish once. Cheap to copy (the mbedTLS context is a POD),
// so a partial digest can be saved and resumed.
//
// Failure is latched: once an mbedTLS call reports an error (possible with a
// hardware accelerator behind mbedTLS's ALT hooks), or the hash is used after
// it was finished, ok() is false for good and finish_equals() can never say
// true. Every check in the agent compares through finish_equals(), so a hash
// that went wrong refuses the artifact instead of comparing a garbage digest.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <mbedtls/sha256.h>

namespace ota::agent {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);

  void update(std::span<const std::uint8_t> bytes);
  // The digest (all zero when !ok()). Call once: any later update() or
  // finish() marks the hash failed.
  Digest finish();
  // Finishes and compares with `expected` in constant time. True only when
  // every mbedTLS call succeeded, the hash was not finished before, and the
  // digests are equal. The verdicts of the agent go through this.
  bool finish_equals(const Digest& expected);
  // False once an mbedTLS call failed or the hash was used after finish().
  bool ok() const { return !failed_; }

  // One-shot convenience for bytes already in memory (digests to publish, key
  // ids). Checks compare with finish_equals() instead.
  static Digest of(std::span<const std::uint8_t> bytes);

 private:
  mbedtls_sha256_context ctx_;
  bool failed_ = false;
  bool finished_ = false;
};

// Constant-time comparison (digests of attacker-supplied data).
bool digest_equal(const Digest& a, const Digest& b);

}  // namespace ota::agent
