#include "ota/agent/sha256.hpp"

namespace ota::agent {

Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  // is224 = 0: SHA-256.
  if (mbedtls_sha256_starts_ret(&ctx_, 0) != 0) failed_ = true;
}

Sha256::~Sha256() { mbedtls_sha256_free(&ctx_); }

Sha256::Sha256(const Sha256& other) : failed_(other.failed_), finished_(other.finished_) {
  mbedtls_sha256_init(&ctx_);
  mbedtls_sha256_clone(&ctx_, &other.ctx_);
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) {
    mbedtls_sha256_clone(&ctx_, &other.ctx_);
    failed_ = other.failed_;
    finished_ = other.finished_;
  }
  return *this;
}

void Sha256::update(std::span<const std::uint8_t> bytes) {
  if (finished_) failed_ = true;
  if (failed_) return;
  if (mbedtls_sha256_update_ret(&ctx_, bytes.data(), bytes.size()) != 0) failed_ = true;
}

Digest Sha256::finish() {
  Digest d{};
  if (finished_) failed_ = true;
  finished_ = true;
  if (failed_) return d;
  if (mbedtls_sha256_finish_ret(&ctx_, d.data()) != 0) {
    failed_ = true;
    return Digest{};
  }
  return d;
}

bool Sha256::finish_equals(const Digest& expected) {
  const Digest got = finish();
  // Compare even after a failure, so the time taken does not depend on it.
  const bool same = digest_equal(got, expected);
  return same && !failed_;
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
