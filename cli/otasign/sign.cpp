// sign.cpp — otasign sign: a release's manifest, signed; a delta release's
// patch checked against its images and applied once, as a device would,
// before anything is written.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "common.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/agent/verifier.hpp"

namespace ota::otasign {
namespace {

// The agent's own version rule (the one the scenario loader uses too).
agent::FirmwareVersion require_version(const std::string& text) {
  const auto v = agent::parse_firmware_version(text);
  if (!v) throw UsageError{"--version '" + text + "': expected " + std::string(agent::kFirmwareVersionForm)};
  return *v;
}

std::uint32_t require_nonempty(const InputFile& file) {
  if (file.size() == 0) throw UsageError{file.what() + " '" + file.path() + "' is empty"};
  return file.size();
}

// The patch's own header must name the base and the image it is signed for:
// a device refuses a patch whose header names another base, and a patch made
// for other images cannot build this one.
void check_patch_header(const InputFile& patch, const InputFile& base, const agent::Digest& base_sha256,
                        const InputFile& image, const agent::Digest& image_sha256) {
  std::array<std::uint8_t, agent::kDeltaHeaderBytes> bytes{};
  if (patch.size() < bytes.size())
    throw UsageError{"patch '" + patch.path() + "' is " + std::to_string(patch.size()) +
                     " bytes, shorter than a patch header (" + std::to_string(bytes.size()) +
                     "): not a patch from 'otasign delta'"};
  if (const agent::FlashStatus s = patch.read(0, bytes); s != agent::FlashStatus::Ok) patch.read_failed(s);
  const agent::DeltaHeaderResult parsed = agent::parse_delta_header(bytes);
  if (parsed.status != agent::DeltaStatus::Ok)
    throw UsageError{"patch '" + patch.path() + "': " + std::string(agent::to_string(parsed.status)) +
                     ": not a patch from 'otasign delta'"};
  const agent::DeltaHeader& h = parsed.header;
  auto refuse = [&](const char* field, const std::string& got, const char* flag, const InputFile& file,
                    const std::string& expected) {
    throw UsageError{"patch '" + patch.path() + "' header " + field + " is " + got + ", but " + flag + " '" +
                     file.path() + "' has " + expected + ": the patch was made for other images"};
  };
  if (h.old_size != base.size())
    refuse("old_size", std::to_string(h.old_size), "--delta-base", base, std::to_string(base.size()) + " bytes");
  if (h.old_sha256 != base_sha256)
    refuse("old SHA-256", to_hex(h.old_sha256), "--delta-base", base, "SHA-256 " + to_hex(base_sha256));
  if (h.new_size != image.size())
    refuse("new_size", std::to_string(h.new_size), "--image", image, std::to_string(image.size()) + " bytes");
  if (h.new_sha256 != image_sha256)
    refuse("new SHA-256", to_hex(h.new_sha256), "--image", image, "SHA-256 " + to_hex(image_sha256));
}

// Applies the patch once, exactly as a device would (the agent's own check,
// with a verifier that trusts the signing key), and refuses to write a
// release whose patch does not turn --delta-base into --image.
void confirm_delta(const std::vector<std::uint8_t>& envelope, const agent::SigningKey& key, const agent::Manifest& m,
                   const InputFile& patch, const InputFile& base, const InputFile& image) {
  agent::KeyStore keys;
  if (keys.trust(key.public_key()) != agent::KeyStoreStatus::Ok)
    throw UsageError{"the signing key's public half is not a valid P-256 point"};
  agent::Verifier verifier(keys);
  const agent::DeviceFacts any_device{m.hardware_ids[0], 0, UINT32_MAX};
  const agent::ArtifactSources sources{&patch, &base, &image};
  const agent::ArtifactVerification v = agent::verify_artifact_streaming(verifier, envelope, sources, any_device);
  if (v.read_status != agent::FlashStatus::Ok) {
    if (const InputFile* f = file_of(v.part, &patch, &base, &image)) f->read_failed(v.read_status);
  }
  if (!v.accepted())
    throw UsageError{"patch '" + patch.path() + "' applied to --delta-base '" + base.path() +
                     "' does not build --image '" + image.path() + "': " + std::string(agent::to_string(v.verdict)) +
                     " (" + rejection_detail(v) + "); nothing written"};
}

}  // namespace

int run_sign(int argc, char** argv) {
  po::options_description options("otasign sign");
  options.add_options()("help,h", "show this help")("image", po::value<std::string>()->required(),
                                                    "the full new firmware image")(
      "key", po::value<std::string>()->required(), "private key file (PEM)")(
      "version", po::value<std::string>()->required(), "firmware version MAJOR.MINOR.PATCH")(
      "security-counter", po::value<std::string>()->required(),
      "anti-rollback counter (devices refuse releases below their minimum)")(
      "hardware-id", po::value<std::vector<std::string>>()->required(),
      "compatible hardware id (decimal or 0x hex); repeat for up to 8")(
      "delta-base", po::value<std::string>(), "for a delta release: the base image the patch applies to")(
      "patch", po::value<std::string>(), "for a delta release: the patch file (see 'otasign delta')")(
      "commit", po::value<std::string>(), "source commit id, 40 hex digits")(
      "build-time", po::value<std::string>(),
      "build time in Unix seconds (default: $SOURCE_DATE_EPOCH, else now)")(
      "out", po::value<std::string>()->required(), "signed manifest file to write (not replaced without --force)")(
      "force", "replace an existing --out file")(
      "allow-open-key", "use a private key file that group or others may read (refused otherwise, as ssh does)");
  constexpr const char* kSynopsis =
      "otasign sign --image IMG --key KEY --version X.Y.Z --security-counter N --hardware-id ID...\n"
      "                    [--delta-base OLD --patch PATCH] [--commit HEX40] [--build-time SECS] --out FILE\n"
      "                    [--force] [--allow-open-key]";
  const std::optional<po::variables_map> parsed = parse_options("sign", kSynopsis, argc, argv, options);
  if (!parsed) return kExitOk;
  const po::variables_map& vm = *parsed;

  agent::Manifest m;
  m.version = require_version(vm["version"].as<std::string>());
  m.security_counter = require_u32("security-counter", vm["security-counter"].as<std::string>());

  std::vector<std::uint32_t> ids;
  for (const std::string& text : vm["hardware-id"].as<std::vector<std::string>>())
    ids.push_back(require_u32("hardware-id", text));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > agent::kMaxHardwareIds)
    throw UsageError{"--hardware-id given " + std::to_string(ids.size()) + " distinct ids; at most " +
                     std::to_string(agent::kMaxHardwareIds) + " fit in a manifest"};
  std::copy(ids.begin(), ids.end(), m.hardware_ids.begin());
  m.hardware_id_count = static_cast<std::uint8_t>(ids.size());

  if (vm.count("commit")) {
    const std::string text = vm["commit"].as<std::string>();
    const auto bytes = from_hex(text);
    if (!bytes || bytes->size() != m.source_commit.size())
      throw UsageError{"--commit '" + text + "': expected a full git commit id, 40 hex digits"};
    std::copy(bytes->begin(), bytes->end(), m.source_commit.begin());
  }

  if (vm.count("build-time")) {
    const std::string text = vm["build-time"].as<std::string>();
    const auto v = parse_uint(text, UINT64_MAX);
    if (!v) throw UsageError{"--build-time '" + text + "': expected Unix seconds"};
    m.build_time = *v;
  } else if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    const auto v = parse_uint(epoch, UINT64_MAX);
    if (!v) throw UsageError{std::string("SOURCE_DATE_EPOCH '") + epoch + "': expected Unix seconds"};
    m.build_time = *v;
  } else {
    m.build_time = static_cast<std::uint64_t>(std::time(nullptr));
  }

  const bool has_base = vm.count("delta-base") != 0;
  const bool has_patch = vm.count("patch") != 0;
  if (has_base != has_patch) throw UsageError{"a delta release needs both --delta-base and --patch"};

  const std::string key_path = vm["key"].as<std::string>();
  const auto key = agent::SigningKey::from_pem(
      read_text_file("private key", key_path, kMaxKeyFileBytes, vm.count("allow-open-key") == 0));
  if (!key) throw UsageError{"cannot use private key '" + key_path + "': " + key.error()};

  const InputFile image("image", vm["image"].as<std::string>());
  m.image_size = require_nonempty(image);
  m.image_sha256 = digest_of(image);

  std::optional<InputFile> base;
  std::optional<InputFile> patch;
  if (has_patch) {
    base.emplace("delta base image", vm["delta-base"].as<std::string>());
    patch.emplace("patch", vm["patch"].as<std::string>());
    require_nonempty(*base);
    agent::DeltaInfo delta;
    delta.base_sha256 = digest_of(*base);
    delta.patch_size = require_nonempty(*patch);
    delta.patch_sha256 = digest_of(*patch);
    check_patch_header(*patch, *base, delta.base_sha256, image, m.image_sha256);
    m.delta = delta;
  }

  const auto envelope = agent::sign_manifest(m, key.value());
  if (!envelope) throw UsageError{"signing failed: " + envelope.error()};
  if (has_patch) confirm_delta(envelope.value(), key.value(), m, *patch, *base, image);

  const std::string out = vm["out"].as<std::string>();
  write_output(out, envelope.value(), 0644, vm.count("force") > 0);
  std::cout << "signed manifest: " << out << " (" << envelope.value().size() << " bytes: "
            << m.encoded_size() << "-byte manifest + " << agent::kSignatureSize << "-byte signature)\n"
            << "key id: " << to_hex(key.value().key_id()) << "\n";
  return kExitOk;
}

}  // namespace ota::otasign
