// The whole-artifact check (artifact_verifier.hpp): host tools and the simulator only.
#include "ota/agent/artifact_verifier.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "detail/read_through.hpp"
#include "ota/agent/byte_area.hpp"

namespace ota::agent {

std::string_view to_string(ArtifactPart p) {
  switch (p) {
    case ArtifactPart::Manifest: return "manifest";
    case ArtifactPart::Payload: return "payload";
    case ArtifactPart::NewImage: return "new image";
    case ArtifactPart::RunningImage: return "running image";
    case ArtifactPart::AppliedImage: return "image built by the patch";
  }
  return "unknown artifact part";
}

namespace detail {
namespace {

// The applier's output, checked against the manifest's image as it streams;
// refuses (stopping the apply) as soon as it would exceed the image size.
class ImageCheckSink final : public ByteSink {
 public:
  explicit ImageCheckSink(const Manifest& m) : check_(ImageDigestCheck::for_image(m)), limit_(m.image_size) {}
  bool write(std::span<const std::uint8_t> bytes) override {
    if (bytes.size() > limit_ - check_.bytes_seen()) return false;
    check_.update(bytes);
    return true;
  }
  Verdict finish() { return check_.finish(); }

 private:
  ImageDigestCheck check_;
  std::uint64_t limit_;
};

// Step 5 of verify_artifact_streaming: apply `patch` to `running` and check the result.
void check_applied_image(const Manifest& m, const FlashArea& patch, const FlashArea& running,
                         ArtifactVerification& out) {
  out.part = ArtifactPart::AppliedImage;
  out.verdict = Verdict::DigestMismatch;
  ImageCheckSink sink(m);
  DeltaApplier applier(running, sink);  // verify_old_image: the base check the device makes
  DeltaStatus status = DeltaStatus::Ok;
  const FlashStatus fs = read_through(patch, [&](std::span<const std::uint8_t> chunk) {
    status = applier.feed(chunk);
    return status == DeltaStatus::Ok;
  });
  if (fs != FlashStatus::Ok) {
    out.part = ArtifactPart::Payload;
    out.read_status = fs;
    return;
  }
  if (status == DeltaStatus::Ok) status = applier.finish();
  out.delta_status = status;
  switch (status) {
    case DeltaStatus::Ok: out.verdict = sink.finish(); return;
    case DeltaStatus::WrongBase:
      out.part = ArtifactPart::RunningImage;
      out.verdict = Verdict::DeltaBaseMismatch;
      return;
    case DeltaStatus::OldReadFailed:
      out.part = ArtifactPart::RunningImage;
      out.read_status = applier.old_read_status();
      return;
    default: return;  // the patch does not build the manifest's image
  }
}

}  // namespace
}  // namespace detail

ArtifactVerification verify_artifact_streaming(Verifier& verifier, std::span<const std::uint8_t> signed_manifest,
                                               const ArtifactSources& sources, const DeviceFacts& device) {
  ArtifactVerification out;  // BadFormat until every step has passed
  const ManifestVerification mv = verifier.verify_manifest(signed_manifest, device);
  out.parse = mv.parse;
  if (!mv.accepted()) {
    out.verdict = mv.verdict;
    return out;
  }
  const Manifest& m = out.parse.manifest;

  // 2. The payload: the image, or the patch.
  out.part = ArtifactPart::Payload;
  out.verdict = Verdict::DigestMismatch;
  if (sources.payload == nullptr) return out;
  ImageDigestCheck payload = m.delta ? ImageDigestCheck::for_patch(m) : ImageDigestCheck::for_image(m);
  out.read_status = detail::read_through(*sources.payload, [&](std::span<const std::uint8_t> chunk) {
    payload.update(chunk);
    return true;
  });
  if (out.read_status != FlashStatus::Ok || payload.finish() != Verdict::Accepted) return out;
  if (!m.delta) {
    out.verdict = Verdict::Accepted;
    return out;
  }

  // 3. The new image, when given beside the patch.
  if (sources.new_image != nullptr) {
    out.part = ArtifactPart::NewImage;
    ImageDigestCheck image = ImageDigestCheck::for_image(m);
    out.read_status = detail::read_through(*sources.new_image, [&](std::span<const std::uint8_t> chunk) {
      image.update(chunk);
      return true;
    });
    if (out.read_status != FlashStatus::Ok || image.finish() != Verdict::Accepted) return out;
  }

  // 4. The running image is the patch's base.
  out.part = ArtifactPart::RunningImage;
  out.verdict = Verdict::DeltaBaseMismatch;
  if (sources.running_image == nullptr) return out;
  Sha256 running;
  out.read_status = hash_area(*sources.running_image, running);
  if (out.read_status != FlashStatus::Ok || !running.finish_equals(m.delta->base_sha256)) return out;

  // 5. The patch builds the manifest's image from it.
  detail::check_applied_image(m, *sources.payload, *sources.running_image, out);
  return out;
}

Verdict verify_artifact(Verifier& verifier, std::span<const std::uint8_t> signed_manifest,
                        std::span<const std::uint8_t> payload, const DeviceFacts& device,
                        std::span<const std::uint8_t> running_image) {
  // An input longer than an area can be (4 GiB - 1) is longer than any
  // manifest describes: pass it as missing, which refuses it at its step.
  constexpr std::size_t kMaxArea = std::numeric_limits<std::uint32_t>::max();
  const ByteArea payload_area(payload);
  const ByteArea running_area(running_image);
  ArtifactSources sources;
  sources.payload = payload.size() <= kMaxArea ? &payload_area : nullptr;
  sources.running_image = !running_image.empty() && running_image.size() <= kMaxArea ? &running_area : nullptr;
  return verify_artifact_streaming(verifier, signed_manifest, sources, device).verdict;
}

}  // namespace ota::agent
