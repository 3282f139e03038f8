// gen_target_vectors — makes the signed test vectors the Cortex-M test runner
// (tests/target/test_main.cpp) checks, with the project's own host code: the
// release signing and the delta encoder of ota_agent_encoder, the same
// functions otasign calls. Runs at build time; writes one file per vector
// into <out-dir> and an assembler file that embeds them (.incbin) with
// <name>_begin / <name>_end symbols, plus the header that declares them.
//
//   gen_target_vectors <out-dir> <firmware-dir> [--broken-signature]
//
// --broken-signature flips one bit of the signature of every envelope the
// runner expects to be accepted: the target run must then fail.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/signing.hpp"

using namespace ota::agent;
using Bytes = std::vector<std::uint8_t>;

namespace {

std::string g_out;
bool g_broken = false;
std::vector<std::string> g_names;
void write_assembly(const std::string& base, std::size_t from, std::size_t to, const std::string& extra = "");

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "gen_target_vectors: %s\n", what.c_str());
  std::exit(1);
}

void emit(const std::string& name, const Bytes& bytes) {
  std::ofstream f(g_out + "/" + name + ".bin", std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) die("cannot write " + name);
  g_names.push_back(name);
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

SigningKey key(std::uint64_t seed) {
  auto k = SigningKey::generate_from_seed(seed);
  if (!k.ok()) die("key generation failed");
  return k.value();
}

Bytes sign(const Manifest& m, const SigningKey& k, bool expected_valid) {
  auto env = sign_manifest(m, k);
  if (!env.ok()) die("signing failed");
  Bytes e = env.value();
  if (g_broken && expected_valid) e[e.size() - 7] ^= 0x10;
  return e;
}

// Same shapes as tests/agent/test_verifier.cpp and test_power_loss.cpp.
Bytes make_image(std::size_t size, std::uint8_t salt) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>((i * 131 + salt) ^ (i >> 7));
  return b;
}
Bytes random_image(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes v(size);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}
Bytes evolve(const Bytes& old, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes v(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(std::min(size, old.size())));
  for (int i = 0; i < 400; ++i) v[rng() % v.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
  for (std::size_t i = 1000; i < 3000 && i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(rng());
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(v.size() / 3), 64, 0x5A);
  v.resize(size, 0x11);
  return v;
}
Bytes base_for(const Bytes& image) {
  Bytes b(image.begin() + 16, image.end());
  for (std::size_t i = 0; i < b.size(); i += 101) b[i] ^= 0x33;
  return b;
}
Bytes delta(const Bytes& from, const Bytes& to, std::uint8_t dict_log2, bool exhaustive) {
  DeltaOptions o;
  o.exhaustive = exhaustive;
  o.dict_log2 = dict_log2;
  return encode_delta(from, to, o);
}

Manifest manifest(const Bytes& image, FirmwareVersion v, std::uint32_t counter,
                  std::initializer_list<std::uint32_t> hw) {
  Manifest m;
  m.version = v;
  m.security_counter = counter;
  for (std::uint32_t h : hw) m.hardware_ids[m.hardware_id_count++] = h;
  m.image_size = static_cast<std::uint32_t>(image.size());
  m.image_sha256 = Sha256::of(image);
  m.build_time = 1700000000;
  return m;
}
Manifest with_delta(Manifest m, const Bytes& base, const Bytes& patch) {
  m.delta = DeltaInfo{Sha256::of(base), static_cast<std::uint32_t>(patch.size()), Sha256::of(patch)};
  return m;
}

// The high-S twin (r, n - s) of an envelope's signature.
Bytes high_s_twin(Bytes env) {
  mbedtls_ecp_group g;
  mbedtls_ecp_group_init(&g);
  mbedtls_mpi s, twin;
  mbedtls_mpi_init(&s);
  mbedtls_mpi_init(&twin);
  std::uint8_t* sp = env.data() + env.size() - 32;
  if (mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1) != 0 || mbedtls_mpi_read_binary(&s, sp, 32) != 0 ||
      mbedtls_mpi_sub_mpi(&twin, &g.N, &s) != 0 || mbedtls_mpi_write_binary(&twin, sp, 32) != 0)
    die("high-S twin failed");
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&twin);
  mbedtls_ecp_group_free(&g);
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) die("usage: gen_target_vectors <out-dir> <firmware-dir> [--broken-signature]");
  g_out = argv[1];
  const std::string fw = argv[2];
  g_broken = argc > 3 && std::string(argv[3]) == "--broken-signature";

  // Verifier vectors (tests/agent/test_verifier.cpp "each verdict reason").
  constexpr std::uint32_t kHardware = 0x00C3A001;
  const SigningKey release = key(20), stranger = key(21);
  const Bytes image = make_image(10000, 1);
  const Manifest m = manifest(image, {2, 0, 1}, 5, {kHardware, kHardware + 1});
  emit("release_pub", Bytes(release.public_key().begin(), release.public_key().end()));
  emit("image_small", image);
  const Bytes env_ok = sign(m, release, true);
  emit("env_ok", env_ok);
  emit("env_stranger", sign(m, stranger, false));
  {
    Manifest claimed = m;
    claimed.key_id = release.key_id();
    const EncodedManifest e = encode_manifest(claimed);
    if (!e.ok()) die("encode failed");
    auto sig = stranger.sign(e.bytes());
    if (!sig.ok()) die("sign failed");
    Bytes forged(e.bytes().begin(), e.bytes().end());
    forged.insert(forged.end(), sig.value().begin(), sig.value().end());
    emit("env_forged", forged);
  }
  emit("env_high_s", high_s_twin(sign(m, release, false)));
  const Bytes base = base_for(image);
  const Bytes small_patch = delta(base, image, 12, false);
  emit("small_base", base);
  emit("small_patch", small_patch);
  emit("env_small_delta", sign(with_delta(m, base, small_patch), release, true));

  // Install and power-loss vectors (tests/agent/test_power_loss.cpp's shapes),
  // 32 KiB images: every cut point of a sweep re-runs the update, ECDSA
  // included, and QEMU must finish both CPUs within the CI's few minutes.
  constexpr std::uint32_t kDevice = 0xC3C3;
  const SigningKey device_key = key(0x0DA5EED);
  emit("device_pub", Bytes(device_key.public_key().begin(), device_key.public_key().end()));
  const Bytes v1 = random_image(32 * 1024, 1);
  const Bytes v2 = evolve(v1, 32 * 1024, 2);
  const Bytes v2_patch = delta(v1, v2, 12, false);
  emit("v1", v1);
  emit("v2", v2);
  emit("v2_patch", v2_patch);
  const Manifest m1 = manifest(v1, {1, 0, 0}, 1, {kDevice});
  const Manifest m2 = manifest(v2, {1, 1, 0}, 2, {kDevice});
  emit("env_v1", sign(m1, device_key, true));
  emit("env_v2", sign(m2, device_key, true));
  emit("env_v2_delta", sign(with_delta(m2, v1, v2_patch), device_key, true));

  // A real firmware pair (../shared/firmware): the smallest step of "random".
  const Bytes fw_old = read_file(fw + "/esp32c3-random-abccd39.bin");
  const Bytes fw_new = read_file(fw + "/esp32c3-random-cd5c5f4.bin");
  const Bytes fw_patch = delta(fw_old, fw_new, 14, true);  // 16 KiB dictionary: fits every device build
  emit("fw_old", fw_old);
  emit("fw_patch", fw_patch);
  emit("env_fw_delta", sign(with_delta(manifest(fw_new, {3, 1, 0}, 3, {kDevice}), fw_old, fw_patch), device_key, true));
  std::fprintf(stderr, "gen_target_vectors: firmware patch %zu bytes for a %zu-byte image%s\n", fw_patch.size(),
               fw_new.size(), g_broken ? " (signatures broken on purpose)" : "");

  // Footprint images (tests/target/footprint_main.cpp): only small vectors, so
  // that the images measure code; the images themselves are made on the
  // target from the same pattern (make_image).
  const std::size_t first_footprint = g_names.size();
  {
    const Bytes fp_v1 = make_image(64 * 1024, 1), fp_v2 = make_image(64 * 1024, 2);
    const Bytes fp_mib = make_image(1024 * 1024, 3);
    const Bytes fp_patch = delta(fp_v1, fp_v2, 12, false);
    emit("fp_env_full", sign(manifest(fp_v2, {1, 1, 0}, 2, {kDevice}), device_key, true));
    emit("fp_patch", fp_patch);
    emit("fp_env_delta", sign(with_delta(manifest(fp_v2, {1, 1, 0}, 2, {kDevice}), fp_v1, fp_patch), device_key, true));
    emit("fp_env_mib", sign(manifest(fp_mib, {1, 2, 0}, 3, {kDevice}), device_key, true));
  }
  write_assembly("target_vectors", 0, g_names.size());
  write_assembly("footprint_vectors", first_footprint, g_names.size(), "device_pub");
  return 0;
}

namespace {

// Writes <base>.S (embedding names [from, to) and `extra`) and <base>.hpp.
void write_assembly(const std::string& base, std::size_t from, std::size_t to, const std::string& extra) {
  std::vector<std::string> names(g_names.begin() + static_cast<std::ptrdiff_t>(from),
                                 g_names.begin() + static_cast<std::ptrdiff_t>(to));
  if (!extra.empty()) names.push_back(extra);
  std::ofstream s(g_out + "/" + base + ".S");
  std::ofstream h(g_out + "/" + base + ".hpp");
  h << "// Generated by gen_target_vectors: do not edit.\n#pragma once\n#include <cstdint>\n#include <span>\n"
       "#define OTA_VECTOR(name) extern \"C\" const std::uint8_t name##_begin[], name##_end[];\n";
  s << "/* Generated by gen_target_vectors: do not edit. */\n  .section .rodata.ota_vectors,\"a\"\n";
  for (const std::string& n : names) {
    s << "  .balign 8\n  .global " << n << "_begin\n  .global " << n << "_end\n" << n << "_begin:\n  .incbin \""
      << g_out << "/" << n << ".bin\"\n" << n << "_end:\n";
    h << "OTA_VECTOR(" << n << ")\n";
  }
  h << "#define OTA_BYTES(name) std::span<const std::uint8_t>(name##_begin, name##_end)\n";
  if (!s || !h) die("cannot write the assembler file or header");
}

}  // namespace
