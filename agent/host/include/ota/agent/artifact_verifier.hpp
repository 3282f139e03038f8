// artifact_verifier.hpp — every check a device makes on a release, as one
// call over whole inputs: for host tools (otasign verify) and the simulator.
//
// Host-only (library ota_agent_artifact, never built for a device): for a
// delta it applies the patch through a DeltaApplier of about 105 KiB on the
// stack, which a device cannot afford and does not need — a device makes the
// same checks one by one as bytes arrive, through UpdateAgent (verifier.hpp's
// verify_manifest, ImageDigestCheck, check_delta_base, and the applier it
// holds).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ota/agent/delta.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/agent/verifier.hpp"

namespace ota::agent {

// The inputs verify_artifact_streaming reads besides the signed manifest. Each
// is read through FlashArea::read in bounded chunks, so it may be a file, a
// flash slot or memory; an area's size() is the input's length. Not owned.
struct ArtifactSources {
  // What a device downloads: the image, or for a delta release the patch.
  // Missing: DigestMismatch.
  const FlashArea* payload = nullptr;
  // Delta release: the image the device runs, exactly its bytes (the patch's
  // base). Missing: DeltaBaseMismatch. Ignored for a full image.
  const FlashArea* running_image = nullptr;
  // Delta release, optional: the full new image; when given it must have the
  // manifest's image size and SHA-256 too. Ignored for a full image.
  const FlashArea* new_image = nullptr;
};

// The input a verdict is about.
enum class ArtifactPart : std::uint8_t {
  Manifest,      // the signed manifest, against the device's facts
  Payload,       // the image, or the patch of a delta
  NewImage,      // delta: the full new image given beside the patch
  RunningImage,  // delta: the running image, the patch's base
  AppliedImage,  // delta: what the patch builds from the running image
};
std::string_view to_string(ArtifactPart p);

struct ArtifactVerification {
  Verdict verdict = Verdict::BadFormat;
  // As ManifestVerification::parse (authentic only once past BadSignature).
  ManifestParse parse{};
  ArtifactPart part = ArtifactPart::Manifest;
  // How applying the patch failed (Ok when it was not applied, or it applied).
  DeltaStatus delta_status = DeltaStatus::Ok;
  // Not Ok when `part` could not be read: the verdict is then a refusal for
  // want of input, not a finding about the artifact (a tool reports the read
  // error instead).
  FlashStatus read_status = FlashStatus::Ok;
  bool accepted() const { return verdict == Verdict::Accepted; }
};

// Every check a device makes on a release, as one call, in Verdict order; the
// first that fails is the answer:
//   1. verify_manifest: BadFormat .. TooLarge;
//   2. the payload has exactly the manifest's size and SHA-256 — the image's,
//      or for a delta the patch's (DigestMismatch);
//   3. delta, new image given: its size and SHA-256 (DigestMismatch);
//   4. delta: the running image's SHA-256 is the manifest's base
//      (DeltaBaseMismatch);
//   5. delta: the patch, applied to the running image as the device applies
//      it (DeltaApplier, base check included), builds exactly image_size bytes
//      with SHA-256 image_sha256 (DigestMismatch; DeltaBaseMismatch when the
//      patch's own header names another base).
// Fails closed: the verdict is Accepted only when every step ran and passed.
// Cost: one pass over each input, a second over the patch and the running
// image for a delta. RAM: a DeltaApplier (about 105 KiB, delta.hpp) and a
// 4 KiB read buffer, on the stack; no heap in our code. Meant for host tools
// and the simulator; a device checks the same things through UpdateAgent.
ArtifactVerification verify_artifact_streaming(Verifier& verifier, std::span<const std::uint8_t> signed_manifest,
                                               const ArtifactSources& sources, const DeviceFacts& device);

// verify_artifact_streaming for inputs in memory: `payload` is the image or
// the patch, `running_image` the device's running image (empty: none, so a
// delta is a DeltaBaseMismatch). Returns the verdict only.
Verdict verify_artifact(Verifier& verifier, std::span<const std::uint8_t> signed_manifest,
                        std::span<const std::uint8_t> payload, const DeviceFacts& device,
                        std::span<const std::uint8_t> running_image = {});

}  // namespace ota::agent
