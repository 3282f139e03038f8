// sha256.hpp — streaming SHA-256 (mbedTLS), for digests computed as bytes arrive.
//
// The agent never holds a whole image in RAM: feed it chunk by chunk with
// update(), then finish() once. Cheap to copy (the mbedTLS context is a POD),
// so a partial digest can be saved and resumed.
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
  // Returns the digest; the object must not be updated afterwards.
  Digest finish();

  // One-shot convenience for bytes already in memory.
  static Digest of(std::span<const std::uint8_t> bytes);

 private:
  mbedtls_sha256_context ctx_;
};

// Constant-time comparison (digests of attacker-supplied data).
bool digest_equal(const Digest& a, const Digest& b);

}  // namespace ota::agent
