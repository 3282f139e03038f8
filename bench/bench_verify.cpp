// otasim-bench verify — what one device-side verification of a release costs:
// the manifest check (SHA-256 of <= 200 bytes + ECDSA P-256 verification,
// mbedTLS 2.28) plus the image digest streamed in 4 KiB chunks, as the slot
// writer sees them. The image defaults to 1 MiB.
//
// Reported per verification (mean over --verifications runs after one warm-up):
//   us_sha256  the streamed image digest alone
//   us_ecdsa   Verifier::verify_manifest alone (one ECDSA verification)
//   us_per_verification  both, as a device runs them for one release
// The first verify_manifest on a new Verifier also builds mbedTLS's table for
// the curve generator; it is timed separately (text output only).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <span>
#include <vector>

#include <boost/program_options.hpp>

#include "bench_registry.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verifier.hpp"

namespace {

using namespace ota::agent;
namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunk = 4096;
constexpr std::uint32_t kHardware = 0xC3;

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

Verdict digest_streamed(const Manifest& m, std::span<const std::uint8_t> image) {
  ImageDigestCheck check = ImageDigestCheck::for_image(m);
  for (std::size_t off = 0; off < image.size(); off += kChunk)
    check.update(image.subspan(off, std::min(kChunk, image.size() - off)));
  return check.finish();
}

int run_verify(int argc, char** argv) {
  po::options_description opts("otasim-bench verify [options]");
  std::uint64_t verifications = 0;
  std::uint32_t image_bytes = 0;
  opts.add_options()("help,h", "show options")("json", "one JSON line")(
      "verifications", po::value(&verifications)->default_value(200), "timed verifications")(
      "image-bytes", po::value(&image_bytes)->default_value(1u << 20), "image size in bytes");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "otasim-bench verify: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (verifications == 0 || image_bytes == 0) {
    std::cerr << "otasim-bench verify: --verifications and --image-bytes must be positive\n";
    return 2;
  }
  const bool json = vm.count("json") != 0;

  // A deterministic image and a release signed by a seeded key.
  std::vector<std::uint8_t> image(image_bytes);
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (auto& b : image) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x);
  }
  auto key = SigningKey::generate_from_seed(std::uint64_t{1});
  if (!key) {
    std::cerr << "otasim-bench verify: " << key.error() << "\n";
    return 1;
  }
  Manifest m;
  m.version = {1, 0, 0};
  m.security_counter = 1;
  m.hardware_ids[0] = kHardware;
  m.hardware_id_count = 1;
  m.image_size = image_bytes;
  m.image_sha256 = Sha256::of(image);
  auto envelope = sign_manifest(m, key.value());
  if (!envelope) {
    std::cerr << "otasim-bench verify: " << envelope.error() << "\n";
    return 1;
  }
  const std::vector<std::uint8_t>& env = envelope.value();
  const DeviceFacts device{kHardware, 1, image_bytes};

  KeyStore keys;
  if (keys.trust(key.value().public_key()) != KeyStoreStatus::Ok) return 1;
  Verifier verifier(keys);

  // Cold: the first manifest verification on a fresh Verifier.
  auto t0 = Clock::now();
  if (verifier.verify_manifest(env, device).verdict != Verdict::Accepted) {
    std::cerr << "otasim-bench verify: the benchmark release was not accepted\n";
    return 1;
  }
  const double us_first = micros_since(t0);
  if (digest_streamed(m, image) != Verdict::Accepted) return 1;  // warm the caches

  bool all_ok = true;
  t0 = Clock::now();
  for (std::uint64_t i = 0; i < verifications; ++i) all_ok &= digest_streamed(m, image) == Verdict::Accepted;
  const double us_sha = micros_since(t0) / static_cast<double>(verifications);

  t0 = Clock::now();
  for (std::uint64_t i = 0; i < verifications; ++i)
    all_ok &= verifier.verify_manifest(env, device).verdict == Verdict::Accepted;
  const double us_ecdsa = micros_since(t0) / static_cast<double>(verifications);

  t0 = Clock::now();
  for (std::uint64_t i = 0; i < verifications; ++i) {
    const ManifestVerification mv = verifier.verify_manifest(env, device);
    all_ok &= mv.accepted() && digest_streamed(mv.parse.manifest, image) == Verdict::Accepted;
  }
  const double us_total = micros_since(t0) / static_cast<double>(verifications);
  if (!all_ok) {
    std::cerr << "otasim-bench verify: a timed verification was not accepted\n";
    return 1;
  }

  if (json) {
    std::printf(
        "{\"bench\":\"verify\",\"image_bytes\":%u,\"verifications\":%llu,\"us_per_verification\":%.1f,"
        "\"us_sha256\":%.1f,\"us_ecdsa\":%.1f}\n",
        image_bytes, static_cast<unsigned long long>(verifications), us_total, us_sha, us_ecdsa);
  } else {
    std::printf("verify  image=%u B  verifications=%llu\n", image_bytes,
                static_cast<unsigned long long>(verifications));
    std::printf("  per verification (manifest + streamed digest): %9.1f us\n", us_total);
    std::printf("  streamed SHA-256 of the image (4 KiB chunks):   %9.1f us  (%.0f MB/s)\n", us_sha,
                static_cast<double>(image_bytes) / us_sha);
    std::printf("  verify_manifest (ECDSA P-256, warm):            %9.1f us\n", us_ecdsa);
    std::printf("  first verify_manifest on a new Verifier:        %9.1f us\n", us_first);
  }
  return 0;
}

}  // namespace

OTA_BENCH("verify", "verify a signed 1 MiB image: streamed SHA-256 + ECDSA P-256", run_verify);
