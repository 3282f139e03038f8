// verify.cpp — otasign verify: one call into the agent
// (verify_artifact_streaming), as a device would check a release; exit 0 only
// when the verdict is Accepted.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "common.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/agent/verifier.hpp"

namespace ota::otasign {
namespace {

// A byte count: a number with an optional K (KiB) or M (MiB) suffix.
std::uint32_t require_size(const std::string& flag, std::string text) {
  std::uint64_t unit = 1;
  const std::string original = text;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) unit = 1024;
  if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) unit = 1024 * 1024;
  if (unit != 1) text.pop_back();
  const auto v = parse_uint(text, UINT32_MAX);
  if (!v || *v * unit > UINT32_MAX)
    throw UsageError{"--" + flag + " '" + original +
                     "': expected a byte count (e.g. 1572864, 0x180000, 1536K) below 4 GiB"};
  return static_cast<std::uint32_t>(*v * unit);
}

std::string format_time(std::uint64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (seconds > 253402300799ULL || gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::to_string(seconds) + " (" + buf + ")";
}

void print_manifest(const agent::Manifest& m, const agent::KeyStore& keys) {
  std::cout << "format_version: " << int{m.format_version} << "\n"
            << "firmware_version: " << m.version.major << "." << m.version.minor << "." << m.version.patch << "\n"
            << "security_counter: " << m.security_counter << "\n"
            << "hardware_ids:";
  for (std::uint32_t id : m.compatible_hardware()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, " 0x%08x", id);
    std::cout << buf;
  }
  std::cout << "\n"
            << "image_size: " << m.image_size << "\n"
            << "image_sha256: " << to_hex(m.image_sha256) << "\n";
  if (m.delta) {
    std::cout << "delta: yes\n"
              << "delta_base_sha256: " << to_hex(m.delta->base_sha256) << "\n"
              << "delta_patch_size: " << m.delta->patch_size << "\n"
              << "delta_patch_sha256: " << to_hex(m.delta->patch_sha256) << "\n";
  } else {
    std::cout << "delta: no (full image)\n";
  }
  const bool commit_known = std::any_of(m.source_commit.begin(), m.source_commit.end(), [](auto b) { return b != 0; });
  std::cout << "source_commit: " << (commit_known ? to_hex(m.source_commit) : std::string("unknown")) << "\n"
            << "build_time: " << format_time(m.build_time) << "\n"
            << "key_id: " << to_hex(m.key_id);
  if (keys.is_revoked(m.key_id))
    std::cout << " (revoked)";
  else if (keys.find_trusted(m.key_id))
    std::cout << " (trusted)";
  else
    std::cout << " (not trusted)";
  std::cout << "\n";
}

std::string hex_value(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

int report(agent::Verdict v, const std::string& detail = {}) {
  if (v == agent::Verdict::Accepted) {
    std::cout << "verdict: ACCEPTED\n";
    return kExitOk;
  }
  std::cout << "verdict: REJECTED: " << agent::to_string(v);
  if (!detail.empty()) std::cout << " (" << detail << ")";
  std::cout << "\n";
  return kExitRejected;
}

}  // namespace

int run_verify(int argc, char** argv) {
  po::options_description options("otasign verify");
  options.add_options()("help,h", "show this help")("manifest", po::value<std::string>()->required(),
                                                    "signed manifest file (from 'otasign sign')")(
      "trusted-key", po::value<std::vector<std::string>>()->required(),
      "trusted public key file (PEM); repeat for key rotation")(
      "revoked-key-id", po::value<std::vector<std::string>>(), "revoked key id, 16 hex digits; repeatable")(
      "hardware-id", po::value<std::string>()->required(), "the device's hardware id")(
      "min-security-counter", po::value<std::string>()->required(), "the device's minimum security counter")(
      "slot-size", po::value<std::string>()->required(), "bytes available in the target slot (K/M suffix allowed)")(
      "image", po::value<std::string>(),
      "the full image (required unless the manifest is a delta; for a delta, checked too when given)")(
      "patch", po::value<std::string>(), "for a delta manifest: the patch file")(
      "running-image", po::value<std::string>(), "for a delta manifest: the device's running image");
  constexpr const char* kSynopsis =
      "otasign verify --manifest FILE --trusted-key PUB... [--revoked-key-id HEX16...] --hardware-id ID\n"
      "                      --min-security-counter N --slot-size BYTES [--image IMG]\n"
      "                      [--patch PATCH --running-image IMG]";
  const std::optional<po::variables_map> parsed = parse_options("verify", kSynopsis, argc, argv, options);
  if (!parsed) return kExitOk;
  const po::variables_map& vm = *parsed;

  agent::DeviceFacts device;
  device.hardware_id = require_u32("hardware-id", vm["hardware-id"].as<std::string>());
  device.min_security_counter = require_u32("min-security-counter", vm["min-security-counter"].as<std::string>());
  device.slot_size = require_size("slot-size", vm["slot-size"].as<std::string>());

  agent::KeyStore keys;
  for (const std::string& path : vm["trusted-key"].as<std::vector<std::string>>()) {
    const auto key = agent::parse_public_key_pem(read_text_file("trusted key", path, kMaxKeyFileBytes));
    if (!key) throw UsageError{"cannot use trusted key '" + path + "': " + key.error()};
    const agent::KeyStoreStatus s = keys.trust(key.value());
    if (s != agent::KeyStoreStatus::Ok && s != agent::KeyStoreStatus::AlreadyPresent)
      throw UsageError{"cannot trust key '" + path + "': " + std::string(agent::to_string(s))};
  }
  if (vm.count("revoked-key-id")) {
    for (const std::string& text : vm["revoked-key-id"].as<std::vector<std::string>>()) {
      const auto bytes = from_hex(text);
      agent::KeyId id{};
      if (!bytes || bytes->size() != id.size())
        throw UsageError{"--revoked-key-id '" + text + "': expected a key id, 16 hex digits"};
      std::copy(bytes->begin(), bytes->end(), id.begin());
      const agent::KeyStoreStatus s = keys.revoke(id);
      if (s == agent::KeyStoreStatus::Full)
        throw UsageError{"--revoked-key-id: more than " + std::to_string(agent::KeyStore::kMaxRevokedKeys) +
                         " revoked ids"};
    }
  }

  const std::string manifest_path = vm["manifest"].as<std::string>();
  const std::vector<std::uint8_t> envelope = read_file("signed manifest", manifest_path, kMaxManifestFileBytes);

  // Which payload files are needed depends on the manifest; ask for them
  // before any verdict so that a missing flag is never mistaken for a result.
  // (A manifest that does not parse needs none: it is refused as BadFormat.)
  const agent::SignedManifestView peek = agent::split_signed_manifest(envelope);
  const agent::ManifestParse peeked = peek.ok() ? agent::parse_manifest(peek.manifest) : agent::ManifestParse{};
  if (peeked.ok()) {
    if (peeked.manifest.delta) {
      if (!vm.count("patch") || !vm.count("running-image"))
        throw UsageError{"the manifest describes a delta: --patch and --running-image are required"};
    } else if (!vm.count("image")) {
      throw UsageError{"the manifest describes a full image: --image is required"};
    }
  }
  std::optional<InputFile> image;
  std::optional<InputFile> patch;
  std::optional<InputFile> running;
  if (vm.count("image")) image.emplace("image", vm["image"].as<std::string>());
  if (vm.count("patch")) patch.emplace("patch", vm["patch"].as<std::string>());
  if (vm.count("running-image")) running.emplace("running image", vm["running-image"].as<std::string>());
  const bool delta = peeked.ok() && peeked.manifest.delta.has_value();
  const InputFile* payload = delta ? (patch ? &*patch : nullptr) : (image ? &*image : nullptr);
  const InputFile* running_image = running ? &*running : nullptr;
  const InputFile* new_image = delta && image ? &*image : nullptr;

  // One call into the agent: the same function the tests run over every
  // single-byte change of manifest, signature and inputs.
  agent::Verifier verifier(keys);
  const agent::ArtifactVerification v = agent::verify_artifact_streaming(
      verifier, envelope, agent::ArtifactSources{payload, running_image, new_image}, device);

  std::cout << "signed_manifest: " << manifest_path << " (" << envelope.size() << " bytes)\n";
  if (!v.parse.ok()) {
    return report(agent::Verdict::BadFormat, std::string(agent::to_string(v.parse.error)) + ": " +
                                                 std::string(v.parse.field) + " at byte " +
                                                 std::to_string(v.parse.offset) + " is " +
                                                 std::to_string(v.parse.value) + " (" + hex_value(v.parse.value) +
                                                 ")");
  }
  const agent::Manifest& m = v.parse.manifest;
  print_manifest(m, keys);
  const agent::SignedManifestView parts = agent::split_signed_manifest(envelope);
  std::cout << "signature: " << to_hex(parts.signature) << "\n";
  std::cout << "device: hardware_id=0x" << std::hex << device.hardware_id << std::dec
            << " min_security_counter=" << device.min_security_counter << " slot_size=" << device.slot_size << "\n";

  if (v.read_status != agent::FlashStatus::Ok) {
    if (const InputFile* f = file_of(v.part, payload, running_image, new_image)) f->read_failed(v.read_status);
    throw UsageError{"cannot read the " + std::string(agent::to_string(v.part)) + ": " +
                     std::string(agent::to_string(v.read_status))};
  }
  std::string detail;
  switch (v.verdict) {
    case agent::Verdict::Downgrade:
      detail = "manifest " + std::to_string(m.security_counter) + " < device minimum " +
               std::to_string(device.min_security_counter);
      break;
    case agent::Verdict::TooLarge:
      detail = "image " + std::to_string(m.image_size) + " B > slot " + std::to_string(device.slot_size) + " B";
      break;
    case agent::Verdict::DigestMismatch:
    case agent::Verdict::DeltaBaseMismatch: detail = rejection_detail(v); break;
    default: break;
  }
  return report(v.verdict, detail);
}

}  // namespace ota::otasign
