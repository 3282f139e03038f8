// artifacts.hpp — the release as real bytes, signed and verified by the agent.
//
// At set-up the release image (a file, or synthetic bytes of the scenario's
// size) is signed with a key derived from the scenario seed, and every distinct
// byte variant a device can receive is verified once by the agent's verifier
// for each hardware variant. Devices then reuse those verdicts: the agent's
// decision, made once per (variant, hardware) instead of once per device.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/agent/verdict.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// What a device may receive instead of the release as signed.
enum class Variant : std::uint8_t {
  Intact,     // the signed release
  Corrupted,  // a byte changed in transit: the digest check must catch it
  Tampered,   // an attacker's image with a manifest signed by the attacker's key
};
inline constexpr std::size_t kVariantCount = 3;

struct ReleaseArtifacts {
  std::uint64_t image_bytes = 0;    // the full signed image
  std::uint64_t patch_bytes = 0;    // the delta patch (0 without a delta)
  std::uint64_t payload_bytes = 0;  // what a device downloads: patch for delta, else image
  bool delta_from_files = false;    // patch made by the agent's encoder from real images
  bool delta_apply_checked = false; // the agent's applier rebuilt the new image from the patch
  // verdicts[hardware index][variant] for the release as offered (delta or full)
  std::vector<std::array<agent::Verdict, kVariantCount>> verdicts;
  // The same for the full image signed on its own: what a recovery image,
  // which has no base for a delta, downloads. Equal to `verdicts` for a full release.
  std::vector<std::array<agent::Verdict, kVariantCount>> full_verdicts;

  // The previous release (old image, its version and security counter) as a
  // full image, verified for a device that confirmed the new release: what a
  // gate's rollback offers. Downgrade where the anti-rollback counter forbids it.
  std::uint64_t revert_bytes = 0;
  std::vector<std::array<agent::Verdict, kVariantCount>> revert_verdicts;

  agent::Verdict revert_verdict(std::size_t hardware, Variant v) const {
    return revert_verdicts[hardware][static_cast<std::size_t>(v)];
  }
  agent::Verdict verdict(std::size_t hardware, Variant v) const {
    return verdicts[hardware][static_cast<std::size_t>(v)];
  }
  agent::Verdict full_verdict(std::size_t hardware, Variant v) const {
    return full_verdicts[hardware][static_cast<std::size_t>(v)];
  }
};

// Set-up failure that is the user's to fix (an image file that cannot be read,
// a release the agent cannot encode). The message names the file or field.
class ArtifactError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws ArtifactError.
ReleaseArtifacts prepare_artifacts(const Scenario& scenario);

}  // namespace ota::models
