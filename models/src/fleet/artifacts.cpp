#include "ota/models/fleet/artifacts.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>

#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/byte_area.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verifier.hpp"
#include "ota/sim/random.hpp"

namespace ota::models {

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ArtifactError("cannot read image file '" + path + "'");
  Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (b.empty()) throw ArtifactError("image file '" + path + "' is empty");
  return b;
}

// Deterministic filler bytes for a synthetic image of the scenario's size.
Bytes synthetic_bytes(std::uint64_t seed, std::uint64_t stream, std::uint64_t size) {
  Bytes b(size);
  sim::RandomStream rng(seed, stream);
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t w = rng.next_u64();
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(8, size - i));
    std::memcpy(b.data() + i, &w, n);
  }
  return b;
}


class CollectSink final : public agent::ByteSink {
 public:
  bool write(std::span<const std::uint8_t> bytes) override {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return true;
  }
  Bytes out;
};

agent::SigningKey key_from_seed(std::uint64_t seed) {
  auto key = agent::SigningKey::generate_from_seed(seed);
  if (!key) throw ArtifactError("cannot derive the release signing key: " + key.error());
  return std::move(key).value();
}

Bytes sign(const agent::Manifest& m, const agent::SigningKey& key) {
  auto env = agent::sign_manifest(m, key);
  if (!env) throw ArtifactError("cannot sign the release manifest: " + env.error());
  return std::move(env).value();
}

// One variant through the agent's whole-artifact check. A synthetic patch (no
// images given) is placeholder bytes of the scenario's size that rebuild
// nothing, so the agent's last step (apply it to the running image and compare
// with the manifest's image) cannot pass on it; its verdict stops at the steps
// before: the manifest, the patch digest, the base.
agent::Verdict verify_variant(agent::Verifier& verifier, const Bytes& envelope, const Bytes& payload,
                              const agent::DeviceFacts& facts, std::span<const std::uint8_t> running,
                              bool synthetic_patch) {
  if (!synthetic_patch) return agent::verify_artifact(verifier, envelope, payload, facts, running);
  const agent::ManifestVerification mv = verifier.verify_manifest(envelope, facts);
  if (!mv.accepted()) return mv.verdict;
  agent::ImageDigestCheck patch_check = agent::ImageDigestCheck::for_patch(mv.parse.manifest);
  patch_check.update(payload);
  if (patch_check.finish() != agent::Verdict::Accepted) return agent::Verdict::DigestMismatch;
  return agent::check_delta_base(mv.parse.manifest, agent::Sha256::of(running));
}

// Each byte variant a device can receive, verified once per hardware variant
// by the agent: the release as signed, a copy with one byte changed in
// transit, and an attacker's image signed with the attacker's key. `running`
// is the image a delta applies to (empty for a full image).
std::vector<std::array<agent::Verdict, kVariantCount>> verify_variants(
    const Scenario& s, agent::Verifier& verifier, const agent::Manifest& m, const Bytes& envelope,
    const Bytes& payload, std::span<const std::uint8_t> running, bool synthetic_patch,
    const agent::SigningKey& attacker_key, std::uint32_t min_security_counter) {
  Bytes corrupted = payload;
  corrupted[corrupted.size() / 2] ^= 0x01;
  Bytes tampered_payload = payload;
  tampered_payload[0] ^= 0xff;
  agent::Manifest tm = m;
  if (tm.delta) tm.delta->patch_sha256 = agent::Sha256::of(tampered_payload);
  else tm.image_sha256 = agent::Sha256::of(tampered_payload);
  const Bytes tampered_envelope = sign(tm, attacker_key);

  std::vector<std::array<agent::Verdict, kVariantCount>> verdicts(s.hardware.size());
  for (std::size_t h = 0; h < s.hardware.size(); ++h) {
    agent::DeviceFacts facts;
    facts.hardware_id = s.hardware[h].hardware_id;
    facts.min_security_counter = min_security_counter;
    facts.slot_size = s.hardware[h].flash.slot_bytes;
    verdicts[h][static_cast<std::size_t>(Variant::Intact)] =
        verify_variant(verifier, envelope, payload, facts, running, synthetic_patch);
    verdicts[h][static_cast<std::size_t>(Variant::Corrupted)] =
        verify_variant(verifier, envelope, corrupted, facts, running, synthetic_patch);
    verdicts[h][static_cast<std::size_t>(Variant::Tampered)] =
        verify_variant(verifier, tampered_envelope, tampered_payload, facts, running, synthetic_patch);
  }
  return verdicts;
}

}  // namespace

ReleaseArtifacts prepare_artifacts(const Scenario& s) {
  const Release& rel = s.release;
  ReleaseArtifacts out;

  Bytes old_image, new_image, patch;
  if (rel.new_image_file) {
    // A full release needs only the new image; the running one (the base of
    // a delta, required then) is synthetic when not given.
    new_image = read_file(*rel.new_image_file);
    old_image = rel.old_image_file ? read_file(*rel.old_image_file)
                                   : synthetic_bytes(s.seed, 0x01d1ea5e, new_image.size());
  } else {
    if (rel.full_bytes == 0) throw ArtifactError("/release/full_kb: the release image size must be positive");
    new_image = synthetic_bytes(s.seed, 0x1e1ea5e, rel.full_bytes);
    old_image = synthetic_bytes(s.seed, 0x01d1ea5e, rel.full_bytes);
  }
  if (new_image.size() >= 0xffffffffull) throw ArtifactError("release image of 4 GiB or more");
  out.image_bytes = new_image.size();

  const agent::Digest old_digest = agent::Sha256::of(old_image);
  agent::Manifest m;
  m.version = {rel.to_version.major, rel.to_version.minor, rel.to_version.patch};
  m.security_counter = rel.to_security_counter;
  std::vector<std::uint32_t> ids;
  for (const Hardware& h : s.hardware) ids.push_back(h.hardware_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > agent::kMaxHardwareIds)
    throw ArtifactError("/hardware: a manifest names at most 8 hardware ids; the scenario has " +
                        std::to_string(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) m.hardware_ids[i] = ids[i];
  m.hardware_id_count = static_cast<std::uint8_t>(ids.size());
  m.image_size = static_cast<std::uint32_t>(new_image.size());
  m.image_sha256 = agent::Sha256::of(new_image);
  m.build_time = 0;

  if (rel.payload == Payload::Delta) {
    if (rel.old_image_file) {
      try {
        patch = agent::encode_delta(old_image, new_image);
      } catch (const std::exception& e) {
        throw ArtifactError(std::string("the agent's delta encoder failed: ") + e.what());
      }
      out.delta_from_files = true;
      // The device side: apply the patch from the "running" image and check the
      // result is the new image, as a device would before trusting the delta.
      agent::ByteArea running(old_image);  // the running image the applier reads
      CollectSink sink;
      auto applier = std::make_unique<agent::DeltaApplier>(running, sink);
      agent::DeltaStatus st = applier->feed(patch);
      if (st == agent::DeltaStatus::Ok) st = applier->finish();
      if (st != agent::DeltaStatus::Ok || sink.out != new_image)
        throw ArtifactError(std::string("the agent's delta apply did not rebuild the new image: ") +
                            std::string(agent::to_string(st)));
      out.delta_apply_checked = true;
    } else {
      if (rel.delta_bytes == 0) throw ArtifactError("/release/delta_kb: a delta release needs a patch size");
      patch = synthetic_bytes(s.seed, 0xde17a, rel.delta_bytes);
    }
    agent::DeltaInfo d;
    d.base_sha256 = old_digest;
    d.patch_size = static_cast<std::uint32_t>(patch.size());
    d.patch_sha256 = agent::Sha256::of(patch);
    m.delta = d;
    out.patch_bytes = patch.size();
  }
  out.payload_bytes = rel.payload == Payload::Delta ? out.patch_bytes : out.image_bytes;

  const agent::SigningKey release_key = key_from_seed(s.seed ^ 0x5eed0f0a0000ull);
  const agent::SigningKey attacker_key = key_from_seed(s.seed ^ 0xa77ac0e50000ull);
  const Bytes envelope = sign(m, release_key);

  agent::KeyStore keys;
  if (keys.trust(release_key.public_key()) != agent::KeyStoreStatus::Ok)
    throw ArtifactError("the agent refused the release public key");
  agent::Verifier verifier(keys);

  const bool delta = rel.payload == Payload::Delta;
  const std::span<const std::uint8_t> running =
      delta ? std::span<const std::uint8_t>(old_image) : std::span<const std::uint8_t>();
  const Bytes& payload = delta ? patch : new_image;
  const bool synthetic_patch = delta && !out.delta_from_files;
  out.verdicts = verify_variants(s, verifier, m, envelope, payload, running, synthetic_patch, attacker_key,
                                 rel.from_security_counter);
  if (rel.payload == Payload::Delta) {
    agent::Manifest full = m;
    full.delta.reset();
    out.full_verdicts = verify_variants(s, verifier, full, sign(full, release_key), new_image, {}, false, attacker_key,
                                        rel.from_security_counter);
  } else {
    out.full_verdicts = out.verdicts;
  }

  // The previous release, re-offered by a gate's rollback: the old image as a
  // full image with its own version and security counter, checked against a
  // device that confirmed the new release (its minimum counter raised to the
  // new release's). The agent refuses it where anti-rollback forbids it.
  agent::Manifest prev;
  prev.version = {rel.from_version.major, rel.from_version.minor, rel.from_version.patch};
  prev.security_counter = rel.from_security_counter;
  prev.hardware_ids = m.hardware_ids;
  prev.hardware_id_count = m.hardware_id_count;
  prev.image_size = static_cast<std::uint32_t>(old_image.size());
  prev.image_sha256 = old_digest;
  prev.build_time = 0;
  out.revert_bytes = old_image.size();
  out.revert_verdicts = verify_variants(s, verifier, prev, sign(prev, release_key), old_image, {}, false, attacker_key,
                                        std::max(rel.from_security_counter, rel.to_security_counter));
  return out;
}

}  // namespace ota::models
