// Host-only: key generation, PEM import/export and signing (see signing.hpp).
#include "ota/agent/signing.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "detail/mbedtls_mpi.hpp"

namespace ota::agent {

namespace detail {
namespace {

constexpr std::size_t kScalarSize = 32;

std::string mbedtls_message(std::string_view what, int rc) {
  std::array<char, 160> text{};
  mbedtls_strerror(rc, text.data(), text.size());
  std::string out(what);
  out += ": ";
  out += text.data();
  return out;
}

// RAII wrappers: each owns one mbedTLS context for the length of a scope.
struct Group {
  mbedtls_ecp_group v;
  Group() { mbedtls_ecp_group_init(&v); }
  ~Group() { mbedtls_ecp_group_free(&v); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
};
struct Point {
  mbedtls_ecp_point v;
  Point() { mbedtls_ecp_point_init(&v); }
  ~Point() { mbedtls_ecp_point_free(&v); }
  Point(const Point&) = delete;
  Point& operator=(const Point&) = delete;
};
struct Keypair {
  mbedtls_ecp_keypair v;
  Keypair() { mbedtls_ecp_keypair_init(&v); }
  ~Keypair() { mbedtls_ecp_keypair_free(&v); }
  Keypair(const Keypair&) = delete;
  Keypair& operator=(const Keypair&) = delete;
};
struct Pk {
  mbedtls_pk_context v;
  Pk() { mbedtls_pk_init(&v); }
  ~Pk() { mbedtls_pk_free(&v); }
  Pk(const Pk&) = delete;
  Pk& operator=(const Pk&) = delete;
};
struct HmacDrbg {
  mbedtls_hmac_drbg_context v;
  HmacDrbg() { mbedtls_hmac_drbg_init(&v); }
  ~HmacDrbg() { mbedtls_hmac_drbg_free(&v); }
  HmacDrbg(const HmacDrbg&) = delete;
  HmacDrbg& operator=(const HmacDrbg&) = delete;
  // Seeds from `seed` alone: deterministic output.
  int seed(std::span<const std::uint8_t> seed_bytes) {
    return mbedtls_hmac_drbg_seed_buf(&v, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), seed_bytes.data(),
                                      seed_bytes.size());
  }
};
struct SystemDrbg {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  SystemDrbg() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~SystemDrbg() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  SystemDrbg(const SystemDrbg&) = delete;
  SystemDrbg& operator=(const SystemDrbg&) = delete;
  int seed(std::string_view personalization) {
    return mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                 reinterpret_cast<const unsigned char*>(personalization.data()),
                                 personalization.size());
  }
};

// Computes d*G on P-256 into `out`. Blinding randomness comes from an
// HMAC_DRBG keyed by d, so no system entropy is needed.
int public_point_of(const mbedtls_ecp_group& group_in, const mbedtls_mpi& d, mbedtls_ecp_point& out) {
  Group group;
  int rc = mbedtls_ecp_group_copy(&group.v, &group_in);
  if (rc != 0) return rc;
  std::array<std::uint8_t, kScalarSize + 8> seed{};
  rc = mbedtls_mpi_write_binary(&d, seed.data(), kScalarSize);
  if (rc != 0) return rc;
  std::memcpy(seed.data() + kScalarSize, "pubpoint", 8);
  HmacDrbg blind;
  rc = blind.seed(seed);
  mbedtls_platform_zeroize(seed.data(), seed.size());
  if (rc != 0) return rc;
  return mbedtls_ecp_mul(&group.v, &out, &d, &group.v.G, mbedtls_hmac_drbg_random, &blind.v);
}

}  // namespace
}  // namespace detail

// Builds a SigningKey from an mbedTLS key pair (checked P-256, d valid).
class SigningKeyAccess {
 public:
  static SigningResult<SigningKey> from_keypair(const mbedtls_ecp_keypair& kp) {
    if (kp.grp.id != MBEDTLS_ECP_DP_SECP256R1)
      return SigningResult<SigningKey>::failure("key is not on curve P-256 (secp256r1)");
    int rc = mbedtls_ecp_check_privkey(&kp.grp, &kp.d);
    if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("invalid private scalar", rc));
    SigningKey key;
    rc = mbedtls_mpi_write_binary(&kp.d, key.private_scalar_.data(), key.private_scalar_.size());
    if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("private scalar", rc));
    std::size_t written = 0;
    rc = mbedtls_ecp_point_write_binary(&kp.grp, &kp.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &written,
                                        key.public_key_.data(), key.public_key_.size());
    if (rc != 0 || written != key.public_key_.size())
      return SigningResult<SigningKey>::failure(detail::mbedtls_message("public point", rc));
    return key;
  }
  // Loads `key` into an mbedTLS key pair (group, d and Q).
  static int to_keypair(const SigningKey& key, mbedtls_ecp_keypair& kp) {
    int rc = mbedtls_ecp_group_load(&kp.grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0) rc = mbedtls_mpi_read_binary(&kp.d, key.private_scalar_.data(), key.private_scalar_.size());
    if (rc == 0) rc = mbedtls_ecp_point_read_binary(&kp.grp, &kp.Q, key.public_key_.data(), key.public_key_.size());
    return rc;
  }
};

SigningKey::~SigningKey() { mbedtls_platform_zeroize(private_scalar_.data(), private_scalar_.size()); }

SigningResult<SigningKey> SigningKey::generate() {
  detail::SystemDrbg rng;
  int rc = rng.seed("otasign keygen");
  if (rc != 0)
    return SigningResult<SigningKey>::failure(detail::mbedtls_message("seeding CTR_DRBG from system entropy", rc));
  detail::Keypair kp;
  rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp.v, mbedtls_ctr_drbg_random, &rng.drbg);
  if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("generating P-256 key", rc));
  return SigningKeyAccess::from_keypair(kp.v);
}

SigningResult<SigningKey> SigningKey::generate_from_seed(std::span<const std::uint8_t> seed) {
  if (seed.empty()) return SigningResult<SigningKey>::failure("key seed is empty");
  detail::HmacDrbg rng;
  int rc = rng.seed(seed);
  if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("seeding HMAC_DRBG", rc));
  detail::Keypair kp;
  rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp.v, mbedtls_hmac_drbg_random, &rng.v);
  if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("generating P-256 key", rc));
  return SigningKeyAccess::from_keypair(kp.v);
}

SigningResult<SigningKey> SigningKey::generate_from_seed(std::uint64_t seed) {
  // Domain-separated so that the same number used as a seed elsewhere does not
  // give away this key.
  constexpr std::string_view kDomain = "otasim signing key v1:";
  std::array<std::uint8_t, kDomain.size() + 8> bytes{};
  std::copy(kDomain.begin(), kDomain.end(), bytes.begin());
  for (std::size_t i = 0; i < 8; ++i) bytes[kDomain.size() + i] = static_cast<std::uint8_t>(seed >> (8 * i));
  return generate_from_seed(std::span<const std::uint8_t>(bytes));
}

SigningResult<SigningKey> SigningKey::from_pem(std::string_view pem) {
  // mbedTLS wants PEM NUL-terminated with the NUL counted in the length.
  std::string buf(pem);
  const bool is_pem = pem.find("-----BEGIN") != std::string_view::npos;
  detail::Pk pk;
  int rc = mbedtls_pk_parse_key(&pk.v, reinterpret_cast<const unsigned char*>(buf.c_str()),
                                buf.size() + (is_pem ? 1 : 0), nullptr, 0);
  mbedtls_platform_zeroize(buf.data(), buf.size());
  if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("not a readable private key", rc));
  if (mbedtls_pk_get_type(&pk.v) != MBEDTLS_PK_ECKEY)
    return SigningResult<SigningKey>::failure("private key is not an EC key (expected ECDSA P-256)");
  const mbedtls_ecp_keypair& kp = *mbedtls_pk_ec(pk.v);
  if (kp.grp.id != MBEDTLS_ECP_DP_SECP256R1)
    return SigningResult<SigningKey>::failure("private key is not on curve P-256 (secp256r1)");
  // The file's public point (if any) must be the one the scalar gives.
  detail::Point derived;
  rc = detail::public_point_of(kp.grp, kp.d, derived.v);
  if (rc != 0) return SigningResult<SigningKey>::failure(detail::mbedtls_message("deriving the public key", rc));
  if (mbedtls_ecp_point_cmp(&derived.v, &kp.Q) != 0)
    return SigningResult<SigningKey>::failure("public key in the file does not match its private key");
  return SigningKeyAccess::from_keypair(kp);
}

SigningResult<std::string> SigningKey::private_pem() const {
  detail::Pk pk;
  int rc = mbedtls_pk_setup(&pk.v, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0) rc = SigningKeyAccess::to_keypair(*this, *mbedtls_pk_ec(pk.v));
  std::array<unsigned char, 1024> buf{};
  if (rc == 0) rc = mbedtls_pk_write_key_pem(&pk.v, buf.data(), buf.size());
  if (rc != 0) return SigningResult<std::string>::failure(detail::mbedtls_message("writing private key PEM", rc));
  std::string out(reinterpret_cast<const char*>(buf.data()));
  mbedtls_platform_zeroize(buf.data(), buf.size());
  return out;
}

SigningResult<std::string> SigningKey::public_pem() const { return public_key_pem(public_key_); }

SigningResult<Signature> SigningKey::sign(std::span<const std::uint8_t> message) const {
  const Digest hash = Sha256::of(message);
  detail::Keypair kp;
  int rc = SigningKeyAccess::to_keypair(*this, kp.v);
  if (rc != 0) return SigningResult<Signature>::failure(detail::mbedtls_message("loading signing key", rc));
  // Blinding randomness keyed by the private scalar and the message; the
  // signature itself is RFC 6979 and does not depend on it.
  std::array<std::uint8_t, detail::kScalarSize + 32> blind_seed{};
  std::copy(private_scalar_.begin(), private_scalar_.end(), blind_seed.begin());
  std::copy(hash.begin(), hash.end(), blind_seed.begin() + detail::kScalarSize);
  detail::HmacDrbg blind;
  rc = blind.seed(blind_seed);
  mbedtls_platform_zeroize(blind_seed.data(), blind_seed.size());
  if (rc != 0) return SigningResult<Signature>::failure(detail::mbedtls_message("seeding blinding DRBG", rc));
  detail::Mpi r;
  detail::Mpi s;
  rc = mbedtls_ecdsa_sign_det_ext(&kp.v.grp, r.get(), s.get(), &kp.v.d, hash.data(), hash.size(), MBEDTLS_MD_SHA256,
                                  mbedtls_hmac_drbg_random, &blind.v);
  if (rc != 0) return SigningResult<Signature>::failure(detail::mbedtls_message("ECDSA signing", rc));
  // Canonical low-S form: of the two valid encodings (r, s) and (r, n - s)
  // the one with s <= n/2, the only one the agent's verifier accepts.
  detail::Mpi half;
  rc = mbedtls_mpi_copy(half.get(), &kp.v.grp.N);
  if (rc == 0) rc = mbedtls_mpi_shift_r(half.get(), 1);
  if (rc == 0 && mbedtls_mpi_cmp_mpi(s.get(), half.get()) > 0) rc = mbedtls_mpi_sub_mpi(s.get(), &kp.v.grp.N, s.get());
  if (rc != 0) return SigningResult<Signature>::failure(detail::mbedtls_message("low-S form", rc));
  Signature sig{};
  constexpr std::size_t kHalf = kSignatureSize / 2;
  rc = mbedtls_mpi_write_binary(r.get(), sig.data(), kHalf);
  if (rc == 0) rc = mbedtls_mpi_write_binary(s.get(), sig.data() + kHalf, kHalf);
  if (rc != 0) return SigningResult<Signature>::failure(detail::mbedtls_message("writing signature", rc));
  return sig;
}

SigningResult<PublicKey> parse_public_key_pem(std::string_view pem) {
  std::string buf(pem);
  const bool is_pem = pem.find("-----BEGIN") != std::string_view::npos;
  detail::Pk pk;
  int rc = mbedtls_pk_parse_public_key(&pk.v, reinterpret_cast<const unsigned char*>(buf.c_str()),
                                       buf.size() + (is_pem ? 1 : 0));
  if (rc != 0) return SigningResult<PublicKey>::failure(detail::mbedtls_message("not a readable public key", rc));
  if (mbedtls_pk_get_type(&pk.v) != MBEDTLS_PK_ECKEY)
    return SigningResult<PublicKey>::failure("public key is not an EC key (expected ECDSA P-256)");
  const mbedtls_ecp_keypair& kp = *mbedtls_pk_ec(pk.v);
  if (kp.grp.id != MBEDTLS_ECP_DP_SECP256R1)
    return SigningResult<PublicKey>::failure("public key is not on curve P-256 (secp256r1)");
  PublicKey key{};
  std::size_t written = 0;
  rc = mbedtls_ecp_point_write_binary(&kp.grp, &kp.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &written, key.data(), key.size());
  if (rc != 0 || written != key.size())
    return SigningResult<PublicKey>::failure(detail::mbedtls_message("public point", rc));
  return key;
}

SigningResult<std::string> public_key_pem(const PublicKey& key) {
  detail::Pk pk;
  int rc = mbedtls_pk_setup(&pk.v, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  mbedtls_ecp_keypair* kp = rc == 0 ? mbedtls_pk_ec(pk.v) : nullptr;
  if (rc == 0) rc = mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1);
  if (rc == 0) rc = mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, key.data(), key.size());
  if (rc == 0) rc = mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q);
  std::array<unsigned char, 512> buf{};
  if (rc == 0) rc = mbedtls_pk_write_pubkey_pem(&pk.v, buf.data(), buf.size());
  if (rc != 0) return SigningResult<std::string>::failure(detail::mbedtls_message("writing public key PEM", rc));
  return std::string(reinterpret_cast<const char*>(buf.data()));
}

SigningResult<std::vector<std::uint8_t>> sign_manifest(Manifest manifest, const SigningKey& key) {
  manifest.key_id = key.key_id();
  const EncodedManifest encoded = encode_manifest(manifest);
  if (!encoded.ok())
    return SigningResult<std::vector<std::uint8_t>>::failure("manifest cannot be encoded: " +
                                                             std::string(to_string(encoded.error)));
  const SigningResult<Signature> sig = key.sign(encoded.bytes());
  if (!sig) return SigningResult<std::vector<std::uint8_t>>::failure(sig.error());
  std::vector<std::uint8_t> envelope(encoded.bytes().begin(), encoded.bytes().end());
  envelope.insert(envelope.end(), sig.value().begin(), sig.value().end());
  return envelope;
}

}  // namespace ota::agent
