// libFuzzer target for the streaming delta applier (agent/src/delta_apply.cpp).
// Built by scripts/fuzz together with agent/src/*.cpp:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iagent/include \
//     tests/fuzz/fuzz_delta_apply.cpp agent/src/*.cpp -lmbedcrypto -llzma -o fuzz_delta_apply
// Seeds: tests/fuzz/corpus/delta_apply/ holds a genuine patch from
// delta_fuzz_old_image() to delta_fuzz_new_image() (see delta_fuzz_image.hpp)
// behind each of a few option bytes.
//
// Input: one option byte, then the patch.
//   bit 0     DeltaApplyOptions::verify_old_image (the WrongBase path: the old
//             image is hashed against the header before anything is made);
//   bit 1     the old image fails every read reaching past byte
//   bits 2-7  x 64 (the OldReadFailed path, during the hash or the records).
// The patch is applied to the fixed old image, fed in chunks whose size
// depends on the input length (so the streaming code sees many splits).
// Invariants, each a trap when broken:
//   - the sink never receives more than the header's new_size bytes, and never
//     a write larger than DeltaApplier::kChunkBytes;
//   - after an error, every later call returns that same error;
//   - finish() says Ok only if exactly new_size bytes were written and they hash
//     to the header's new digest; calling it again gives the same answer;
//   - a second, fresh applier over the same bytes gives the same result and the
//     same output (the apply is restartable and deterministic);
//   - the old image is only read, and only inside the area.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "delta_fuzz_image.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/sha256.hpp"

namespace {

using namespace ota::agent;

constexpr std::uint32_t kOldAreaBytes = 4096;

class OldImage final : public FlashArea {
 public:
  OldImage() : bytes_(fuzz::delta_fuzz_old_image()) { bytes_.resize(kOldAreaBytes, 0xff); }
  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return 4096; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xff; }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset) __builtin_trap();  // applier read out of bounds
    if (fail_from_ && offset + out.size() > *fail_from_) return FlashStatus::IoError;
    std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return FlashStatus::Ok;
  }
  void fail_reads_from(std::optional<std::uint32_t> offset) { fail_from_ = offset; }
  FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override { __builtin_trap(); }
  FlashStatus erase_sector(std::uint32_t) override { __builtin_trap(); }

 private:
  std::vector<std::uint8_t> bytes_;
  std::optional<std::uint32_t> fail_from_;
};

class CheckingSink final : public ByteSink {
 public:
  bool write(std::span<const std::uint8_t> bytes) override {
    if (bytes.empty() || bytes.size() > DeltaApplier::kChunkBytes) __builtin_trap();
    total_ += bytes.size();
    // Keep a bounded copy for the restart comparison; hash everything.
    if (kept_.size() < kKeep) kept_.insert(kept_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), kKeep - kept_.size())));
    hash_.update(bytes);
    return true;
  }
  std::uint64_t total() const { return total_; }
  const std::vector<std::uint8_t>& kept() const { return kept_; }
  Digest digest() const { return Sha256(hash_).finish(); }

 private:
  static constexpr std::size_t kKeep = 1 << 16;
  std::uint64_t total_ = 0;
  std::vector<std::uint8_t> kept_;
  Sha256 hash_;
};

struct Outcome {
  DeltaStatus fed = DeltaStatus::Ok;
  DeltaStatus finished = DeltaStatus::Ok;
};

Outcome run(DeltaApplier& applier, CheckingSink& sink, std::span<const std::uint8_t> patch, bool verify_old_image,
            bool reads_fail) {
  const std::size_t chunk = patch.size() % 61 + 1;
  Outcome o;
  for (std::size_t at = 0; at < patch.size(); at += chunk) {
    const DeltaStatus s = applier.feed(patch.subspan(at, std::min(chunk, patch.size() - at)));
    if (applier.header() && sink.total() > applier.header()->new_size) __builtin_trap();
    if (o.fed != DeltaStatus::Ok && s != o.fed) __builtin_trap();  // errors must be sticky
    if (s != DeltaStatus::Ok) o.fed = s;
  }
  o.finished = applier.finish();
  if (o.fed != DeltaStatus::Ok && o.finished != o.fed) __builtin_trap();
  if (applier.finish() != o.finished) __builtin_trap();
  // Each failure comes only from the option that makes it possible.
  if (o.finished == DeltaStatus::WrongBase && !verify_old_image) {
    // Without the hash, only a base larger than the area is refused.
    const DeltaHeaderResult h = parse_delta_header(patch);
    if (h.status != DeltaStatus::Ok || h.header.old_size <= kOldAreaBytes) __builtin_trap();
  }
  if (o.finished == DeltaStatus::OldReadFailed && !reads_fail) __builtin_trap();
  // A base check that passed, or a refused base: nothing was written before it.
  if (o.finished == DeltaStatus::WrongBase && sink.total() != 0) __builtin_trap();
  if (o.finished == DeltaStatus::Ok) {
    if (!applier.header() || sink.total() != applier.header()->new_size) __builtin_trap();
    if (!digest_equal(sink.digest(), applier.header()->new_sha256)) __builtin_trap();
  }
  if (applier.bytes_written() != sink.total()) __builtin_trap();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static OldImage old_image;
  if (size == 0) return 0;
  const std::uint8_t choice = data[0];
  const std::span<const std::uint8_t> patch(data + 1, size - 1);
  DeltaApplyOptions options;
  // Off lets mutated headers reach the record parser; on fuzzes the base check.
  options.verify_old_image = (choice & 0x01) != 0;
  const bool reads_fail = (choice & 0x02) != 0;
  old_image.fail_reads_from(reads_fail ? std::optional<std::uint32_t>((choice >> 2) * 64u) : std::nullopt);

  CheckingSink first_sink;
  auto applier = std::make_unique<DeltaApplier>(old_image, first_sink, options);
  const Outcome first = run(*applier, first_sink, patch, options.verify_old_image, reads_fail);

  // Restart: a fresh applier over the same bytes must do exactly the same.
  CheckingSink second_sink;
  auto again = std::make_unique<DeltaApplier>(old_image, second_sink, options);
  const Outcome second = run(*again, second_sink, patch, options.verify_old_image, reads_fail);
  if (first.fed != second.fed || first.finished != second.finished) __builtin_trap();
  if (first_sink.total() != second_sink.total() || first_sink.kept() != second_sink.kept()) __builtin_trap();
  return 0;
}
