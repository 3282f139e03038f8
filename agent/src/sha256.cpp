#include "ota/agent/sha256.hpp"

namespace ota::agent {

Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  // is224 = 0: SHA-256. The _ret variants report errors; with a software
  // implementation they cannot fail on valid arguments.
  (void)mbedtls_sha256_starts_ret(&ctx_, 0);
}

Sha256::~Sha256() { mbedtls_sha256_free(&ctx_); }

Sha256::Sha256(const Sha256& other) {
  mbedtls_sha256_init(&ctx_);
  mbedtls_sha256_clone(&ctx_, &other.ctx_);
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) mbedtls_sha256_clone(&ctx_, &other.ctx_);
  return *this;
}

void Sha256::update(std::span<const std::uint8_t> bytes) {
  (void)mbedtls_sha256_update_ret(&ctx_, bytes.data(), bytes.size());
}

Digest Sha256::finish() {
  Digest d{};
  (void)mbedtls_sha256_finish_ret(&ctx_, d.data());
  return d;
}

Digest Sha256::of(std::span<const std::uint8_t> bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

bool digest_equal(const Digest& a, const Digest& b) {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace ota::agent
