// The agent's tests on a Cortex-M target under QEMU (mps2-an386: Cortex-M4F,
// mps2-an505: Cortex-M33): the vectors of tests/agent/ run by the code that
// ships, over the QEMU port's NOR flash (agent/port/qemu).
//
//   - manifest parse + verify of real signed images, every rejection reason
//     (test_verifier.cpp "each verdict reason");
//   - A/B install, trial boot, confirm, rollback; single-partition install
//     (test_power_loss.cpp's device main loop);
//   - a delta install of a real firmware pair (../shared/firmware);
//   - power loss at every flash operation of a small update, clean and torn,
//     with test_power_loss.cpp's pass criteria.
//
// The signed vectors are made on the host at build time by
// gen_target_vectors (the project's signing and delta encoder) and embedded
// with .incbin. Output goes through semihosting; the run ends with the
// semihosting exit call, status 0 only when every check passed (QEMU's exit
// status). No Catch2 here (no exceptions on the target): CHECK counts and
// prints, REQUIRE also leaves the test.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>

#include "ota/agent/boot_control.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/port/nor_flash.hpp"
#include "ota/agent/slot_writer.hpp"
#include "ota/agent/update_agent.hpp"
#include "ota/agent/verifier.hpp"
#include "ota/agent/port/qemu_board.hpp"
#include "target_vectors.hpp"

using namespace ota::agent;
using ota::agent::port::CutMode;
using ota::agent::port::NorFlash;
using ota::agent::port::PowerCut;
using Bytes = std::span<const std::uint8_t>;
namespace board = ota::agent::port::qemu;

// ---------------------------------------------------------------------------
// A minimal test harness
// ---------------------------------------------------------------------------

namespace {

int g_checks = 0;
int g_failures = 0;
const char* g_test = "";
const char* g_context = "";

bool check(bool ok, const char* expr, int line) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s [%s] line %d: %s\n", g_test, g_context, line, expr);
  }
  return ok;
}

}  // namespace

#define CHECK(c) check(static_cast<bool>(c), #c, __LINE__)
#define REQUIRE(c)                                                   \
  do {                                                               \
    if (!check(static_cast<bool>(c), #c, __LINE__)) return {}; \
  } while (0)

namespace {

// A copy of a vector in RAM, for the tests that damage bytes.
struct Buffer {
  std::array<std::uint8_t, 512> bytes{};
  std::size_t size = 0;
  explicit Buffer(Bytes b) : size(b.size()) { std::copy(b.begin(), b.end(), bytes.begin()); }
  std::span<std::uint8_t> span() { return {bytes.data(), size}; }
};

PublicKey public_key(Bytes b) {
  PublicKey k{};
  std::copy_n(b.begin(), k.size(), k.begin());
  return k;
}

// ---------------------------------------------------------------------------
// The emulated flash (PSRAM): boot area, slot A, slot B, strict bookkeeping
// ---------------------------------------------------------------------------

constexpr std::uint32_t kSector = 4096;
constexpr std::uint32_t kAlignment = 8;
constexpr std::uint32_t kBootBytes = 3 * kSector;
constexpr std::uint32_t kMaxSlot = 1152 * 1024;  // 288 sectors: the firmware images (1.1 MB)

struct Region {
  std::uint8_t* base = reinterpret_cast<std::uint8_t*>(OTA_EMULATED_FLASH_BASE);
  std::span<std::uint8_t> boot() const { return {base, kBootBytes}; }
  std::span<std::uint8_t> slot_a(std::uint32_t n) const { return {base + kBootBytes, n}; }
  std::span<std::uint8_t> slot_b(std::uint32_t n) const { return {base + kBootBytes + kMaxSlot, n}; }
  std::span<std::uint8_t> bits(int area, std::uint32_t n) const {
    return {base + kBootBytes + 2 * kMaxSlot + static_cast<std::uint32_t>(area) * (kMaxSlot / 8), (n + 7) / 8};
  }
  // A second device's flash, 8 MiB further (the PSRAM holds 16 MiB).
  Region second() const { return Region{base + 8 * 1024 * 1024}; }
};

struct Layout {
  PartitionScheme scheme = PartitionScheme::DualSlot;
  std::uint32_t slot_size = 10 * kSector;  // 40 KiB for the 32 KiB images
  std::uint8_t trial_boot_limit = 3;
};

// One simulated device: three strict NOR areas sharing a PowerCut, blank.
struct Device {
  Layout layout;
  Region region;
  PowerCut cut;
  NorFlash boot;
  NorFlash slot_a;
  NorFlash slot_b;

  explicit Device(const Layout& l, Region r = {})
      : layout(l),
        region(r),
        boot(r.boot(), kSector, kAlignment, &cut, r.bits(0, kBootBytes)),
        slot_a(r.slot_a(l.slot_size), kSector, kAlignment, &cut, r.bits(1, l.slot_size)),
        slot_b(r.slot_b(l.slot_size), kSector, kAlignment, &cut, r.bits(2, l.slot_size)) {
    boot.chip_erase();
    slot_a.chip_erase();
    slot_b.chip_erase();
  }
  BootConfig config() const { return BootConfig{layout.scheme, layout.trial_boot_limit}; }
  AgentAreas areas() { return AgentAreas{boot, slot_a, &slot_b}; }
  NorFlash& slot(SlotId s) { return s == SlotId::A ? slot_a : slot_b; }
  std::uint64_t violations() const { return boot.violations() + slot_a.violations() + slot_b.violations(); }
  // The same flash contents and erase state as `other` (same layout); its own power.
  void copy_from(const Device& other) {
    const auto copy = [](std::span<std::uint8_t> to, std::span<const std::uint8_t> from) {
      std::memcpy(to.data(), from.data(), from.size());
    };
    const std::uint32_t n = layout.slot_size;
    copy(region.boot(), other.region.boot());
    copy(region.slot_a(n), other.region.slot_a(n));
    copy(region.slot_b(n), other.region.slot_b(n));
    copy(region.bits(0, kBootBytes), other.region.bits(0, kBootBytes));
    copy(region.bits(1, n), other.region.bits(1, n));
    copy(region.bits(2, n), other.region.bits(2, n));
  }
};

// The agents live in static storage, as on a device (the delta applier is large).
struct AgentSlot {
  alignas(UpdateAgent) std::uint8_t storage[sizeof(UpdateAgent)];
  UpdateAgent* agent = nullptr;
  UpdateAgent& make(Device& d, Verifier& v, std::uint32_t hw) {
    drop();
    agent = new (storage) UpdateAgent(d.areas(), d.config(), v, hw);
    return *agent;
  }
  void drop() {
    if (agent) agent->~UpdateAgent();
    agent = nullptr;
  }
};
AgentSlot g_agent;
Verifier g_verifier;         // release key of the verifier vectors
Verifier g_device_verifier;  // key of the install / power-loss vectors

constexpr std::uint32_t kHardware = 0x00C3A001;
constexpr std::uint32_t kDevice = 0xC3C3;

struct Release {
  Bytes image;
  Bytes envelope;
  Bytes patch;
  Bytes delta_envelope;
  FirmwareVersion version;
  std::uint32_t counter;
  Digest digest{};
  SlotImage slot_image() const { return SlotImage{static_cast<std::uint32_t>(image.size()), digest}; }
};

Release v1_release() {
  Release r{OTA_BYTES(v1), OTA_BYTES(env_v1), {}, {}, {1, 0, 0}, 1};
  r.digest = Sha256::of(r.image);
  return r;
}
Release v2_release() {
  Release r{OTA_BYTES(v2), OTA_BYTES(env_v2), OTA_BYTES(v2_patch), OTA_BYTES(env_v2_delta), {1, 1, 0}, 2};
  r.digest = Sha256::of(r.image);
  return r;
}

bool factory(Device& d, const Release& from) {
  d.slot_a.program(0, from.image);
  return UpdateAgent::provision(d.boot, d.config(), from.version, from.counter, from.slot_image()).ok();
}

// ---------------------------------------------------------------------------
// Verifier: every verdict reason
// ---------------------------------------------------------------------------

DeviceFacts device_facts() { return DeviceFacts{kHardware, 5, 64 * 1024}; }

class DigestSink final : public ByteSink {
 public:
  explicit DigestSink(ImageDigestCheck& c) : check_(c) {}
  bool write(std::span<const std::uint8_t> bytes) override {
    check_.update(bytes);
    return true;
  }

 private:
  ImageDigestCheck& check_;
};

alignas(DeltaApplier) std::uint8_t g_applier_storage[sizeof(DeltaApplier)];

// Applies `patch` to `base` (in emulated flash) and checks the result against the manifest.
Verdict apply_and_check(const Manifest& m, Bytes base, Bytes patch) {
  Region r;
  NorFlash base_area(r.slot_a(kMaxSlot), kSector, kAlignment);
  base_area.chip_erase();
  base_area.program(0, base);
  ImageDigestCheck check = ImageDigestCheck::for_image(m);
  DigestSink sink(check);
  auto* applier = new (g_applier_storage) DeltaApplier(base_area, sink);
  DeltaStatus s = applier->feed(patch);
  if (s == DeltaStatus::Ok) s = applier->finish();
  if (s == DeltaStatus::Ok && applier->header()) {
    std::printf("  delta applier: LZMA2 decoder took %u bytes of its %u-byte arena for a %u-byte dictionary\n",
                static_cast<unsigned>(applier->decoder_arena_used()),
                static_cast<unsigned>(DeltaApplier::kDecoderArenaBytes), 1u << applier->header()->dict_log2);
  }
  applier->~DeltaApplier();
  if (s == DeltaStatus::WrongBase) return Verdict::DeltaBaseMismatch;
  if (s != DeltaStatus::Ok) return Verdict::DigestMismatch;
  return check.finish();
}

void test_verifier() {
  g_test = "verifier: each verdict reason, with real key pairs";
  const Bytes env = OTA_BYTES(env_ok);
  const Bytes image = OTA_BYTES(image_small);
  Verifier& v = g_verifier;
  const PublicKey release = public_key(OTA_BYTES(release_pub));

  g_context = "key store";
  PublicKey bad = release;
  bad[40] ^= 1;  // no longer on the curve
  CHECK(v.trust(bad) == KeyStoreStatus::InvalidKey);
  CHECK(v.trust(release) == KeyStoreStatus::Ok);
  CHECK(v.trust(release) == KeyStoreStatus::AlreadyPresent);

  g_context = "Accepted";
  const ManifestVerification mv = v.verify_manifest(env, device_facts());
  CHECK(mv.verdict == Verdict::Accepted);
  CHECK(mv.authentic());
  CHECK(mv.parse.manifest.key_id == key_id_of(release));
  ImageDigestCheck ok = ImageDigestCheck::for_image(mv.parse.manifest);
  for (std::size_t at = 0; at < image.size(); at += 333) ok.update(image.subspan(at, std::min<std::size_t>(333, image.size() - at)));
  CHECK(ok.finish() == Verdict::Accepted);

  g_context = "BadFormat";
  CHECK(v.verify_manifest(Bytes{}, device_facts()).verdict == Verdict::BadFormat);
  CHECK(v.verify_manifest(env.first(env.size() - 1), device_facts()).verdict == Verdict::BadFormat);
  {
    std::array<std::uint8_t, 512> longer{};
    std::copy(env.begin(), env.end(), longer.begin());
    CHECK(v.verify_manifest(std::span(longer).first(env.size() + 1), device_facts()).verdict == Verdict::BadFormat);
    Buffer reserved(env);
    reserved.bytes[7] = 1;
    const ManifestVerification r = v.verify_manifest(reserved.span(), device_facts());
    CHECK(r.verdict == Verdict::BadFormat);
    CHECK(r.parse.error == ManifestError::ReservedNotZero);
    CHECK(!r.authentic());
  }

  g_context = "UnknownKey";
  CHECK(v.verify_manifest(OTA_BYTES(env_stranger), device_facts()).verdict == Verdict::UnknownKey);

  g_context = "BadSignature";
  CHECK(v.verify_manifest(OTA_BYTES(env_forged), device_facts()).verdict == Verdict::BadSignature);
  {
    Buffer tampered(env);
    tampered.bytes[16] = 6;  // security counter 5 -> 6
    const ManifestVerification r = v.verify_manifest(tampered.span(), device_facts());
    CHECK(r.verdict == Verdict::BadSignature);
    CHECK(!r.authentic());
    Buffer zero(env);
    std::fill(zero.span().end() - 64, zero.span().end(), 0);
    CHECK(v.verify_manifest(zero.span(), device_facts()).verdict == Verdict::BadSignature);
    Buffer ones(env);
    std::fill(ones.span().end() - 64, ones.span().end(), 0xFF);  // r, s >= n
    CHECK(v.verify_manifest(ones.span(), device_facts()).verdict == Verdict::BadSignature);
    // The high-S twin (r, n - s) is a valid ECDSA signature, refused (low-S only).
    CHECK(v.verify_manifest(OTA_BYTES(env_high_s), device_facts()).verdict == Verdict::BadSignature);
  }

  g_context = "WrongHardware";
  DeviceFacts d = device_facts();
  d.hardware_id = kHardware + 2;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::WrongHardware);
  d.hardware_id = kHardware + 1;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);

  g_context = "Downgrade";
  d = device_facts();
  d.min_security_counter = 6;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::Downgrade);
  d.min_security_counter = 5;
  CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);

  g_context = "TooLarge";
  d = device_facts();
  d.slot_size = static_cast<std::uint32_t>(image.size() - 1);
  CHECK(v.verify_manifest(env, d).verdict == Verdict::TooLarge);
  d.slot_size = static_cast<std::uint32_t>(image.size());
  CHECK(v.verify_manifest(env, d).verdict == Verdict::Accepted);

  g_context = "DigestMismatch";
  {
    ImageDigestCheck changed = ImageDigestCheck::for_image(mv.parse.manifest);
    changed.update(image.first(1234));
    const std::uint8_t flipped = image[1234] ^ 0x40;
    changed.update(std::span(&flipped, 1));
    changed.update(image.subspan(1235));
    CHECK(changed.finish() == Verdict::DigestMismatch);
    ImageDigestCheck shorter = ImageDigestCheck::for_image(mv.parse.manifest);
    shorter.update(image.first(image.size() - 1));
    CHECK(shorter.finish() == Verdict::DigestMismatch);
    ImageDigestCheck longer = ImageDigestCheck::for_image(mv.parse.manifest);
    longer.update(image);
    const std::uint8_t zero = 0;
    longer.update(std::span(&zero, 1));
    CHECK(longer.finish() == Verdict::DigestMismatch);
  }

  g_context = "RevokedKey";
  {
    Verifier revoking;
    CHECK(revoking.trust(release) == KeyStoreStatus::Ok);
    CHECK(revoking.revoke(key_id_of(release)) == KeyStoreStatus::Ok);
    CHECK(revoking.keys().find_trusted(key_id_of(release)).has_value());
    CHECK(revoking.verify_manifest(env, device_facts()).verdict == Verdict::RevokedKey);
  }

  g_context = "DeltaBaseMismatch and a patch that builds the image";
  const ManifestVerification dv = v.verify_manifest(OTA_BYTES(env_small_delta), device_facts());
  CHECK(dv.verdict == Verdict::Accepted);
  const Manifest& dm = dv.parse.manifest;
  CHECK(check_delta_base(dm, Sha256::of(OTA_BYTES(small_base))) == Verdict::Accepted);
  CHECK(check_delta_base(dm, Sha256::of(OTA_BYTES(small_patch))) == Verdict::DeltaBaseMismatch);
  CHECK(apply_and_check(dm, OTA_BYTES(small_base), OTA_BYTES(small_patch)) == Verdict::Accepted);
  CHECK(apply_and_check(dm, image, OTA_BYTES(small_patch)) == Verdict::DeltaBaseMismatch);
  {
    Buffer bad_patch(OTA_BYTES(small_patch));
    bad_patch.bytes[100] ^= 1;
    CHECK(apply_and_check(dm, OTA_BYTES(small_base), bad_patch.span()) == Verdict::DigestMismatch);
  }
}

// ---------------------------------------------------------------------------
// Installs without faults
// ---------------------------------------------------------------------------

struct Nothing {};

Nothing write_all(UpdateAgent& agent, Bytes image, std::size_t chunk, bool patch) {
  for (std::size_t at = 0; at < image.size(); at += chunk) {
    const Bytes part = image.subspan(at, std::min(chunk, image.size() - at));
    REQUIRE((patch ? agent.write_patch(part) : agent.write(part)).ok());
  }
  return {};
}

Nothing test_ab_install_confirm_rollback() {
  g_test = "install: A/B full image, trial boot, confirm; then rollback of the next";
  const Release v1 = v1_release(), v2 = v2_release();
  Device dev(Layout{});
  REQUIRE(factory(dev, v1));
  Verifier& ver = g_device_verifier;
  g_context = "install v2";
  {
    UpdateAgent& a = g_agent.make(dev, ver, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootNormal);
    CHECK(b.action.slot == SlotId::A);
    // Refusals change nothing: a tampered manifest, another device's hardware.
    std::array<std::uint8_t, 256> tampered{};
    std::copy(v2.envelope.begin(), v2.envelope.end(), tampered.begin());
    tampered[20] ^= 1;
    const std::uint64_t writes = dev.slot_b.writes() + dev.slot_b.erases() + dev.boot.writes();
    const AgentStatus t = a.offer(std::span(tampered).first(v2.envelope.size()));
    CHECK(t.error == AgentError::Rejected);
    CHECK(t.verdict == Verdict::BadSignature);
    CHECK(dev.slot_b.writes() + dev.slot_b.erases() + dev.boot.writes() == writes);
    REQUIRE(a.offer(v2.envelope).ok());
    CHECK(a.installing() == SlotId::B);
    write_all(a, v2.image, 1000, false);
    REQUIRE(a.finish().ok());
    CHECK(a.record().state_of(SlotId::B) == SlotState::Pending);
    REQUIRE(a.set_pending().ok());
  }
  g_context = "trial boot and confirm";
  {
    UpdateAgent& a = g_agent.make(dev, ver, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootTrial);
    CHECK(b.action.slot == SlotId::B);
    REQUIRE(a.report_healthy().ok());
    CHECK(a.record().state_of(SlotId::B) == SlotState::Confirmed);
    CHECK(a.record().min_security_counter == 2);
  }
  {
    UpdateAgent& a = g_agent.make(dev, ver, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootNormal);
    CHECK(b.action.slot == SlotId::B);
    CHECK(Sha256::of(dev.slot_b.raw().first(v2.image.size())) == v2.digest);
    g_context = "anti-rollback";
    const AgentStatus down = a.offer(v1.envelope);
    CHECK(down.error == AgentError::Rejected);
    CHECK(down.verdict == Verdict::Downgrade);
  }
  g_context = "rollback after three failed trial boots";
  {
    Device d2(Layout{});
    REQUIRE(factory(d2, v1));
    {
      UpdateAgent& a = g_agent.make(d2, ver, kDevice);
      REQUIRE(a.boot().status.ok());
      REQUIRE(a.offer(v2.envelope).ok());
      write_all(a, v2.image, 4096, false);
      REQUIRE(a.finish().ok());
      REQUIRE(a.set_pending().ok());
    }
    int trials = 0;
    for (int boot = 0; boot < 6; ++boot) {
      UpdateAgent& a = g_agent.make(d2, ver, kDevice);
      const BootOutcome b = a.boot();
      REQUIRE(b.status.ok());
      if (b.action.kind != BootActionKind::BootTrial) {
        CHECK(b.action.slot == SlotId::A);
        CHECK(a.record().state_of(SlotId::A) == SlotState::Confirmed);
        CHECK(a.record().state_of(SlotId::B) == SlotState::Invalid);
        break;
      }
      ++trials;
      REQUIRE(a.report_unhealthy().ok());
    }
    CHECK(trials == 3);
  }
  g_agent.drop();
  CHECK(dev.violations() == 0);
  return {};
}

Nothing test_single_partition() {
  g_test = "install: single partition";
  const Release v1 = v1_release(), v2 = v2_release();
  Layout l;
  l.scheme = PartitionScheme::SingleNoRecovery;
  Device dev(l);
  REQUIRE(factory(dev, v1));
  {
    UpdateAgent& a = g_agent.make(dev, g_device_verifier, kDevice);
    REQUIRE(a.boot().status.ok());
    CHECK(a.offer(v2.delta_envelope).error == AgentError::Unsupported);
    REQUIRE(a.offer(v2.envelope).ok());
    CHECK(a.installing() == SlotId::A);
    write_all(a, v2.image, 777, false);
    REQUIRE(a.finish().ok());
    REQUIRE(a.set_pending().ok());
  }
  {
    UpdateAgent& a = g_agent.make(dev, g_device_verifier, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootTrial);
    REQUIRE(a.report_healthy().ok());
  }
  {
    UpdateAgent& a = g_agent.make(dev, g_device_verifier, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootNormal);
    CHECK(a.stored().image[0] == v2.slot_image());
    CHECK(Sha256::of(dev.slot_a.raw().first(v2.image.size())) == v2.digest);
  }
  g_agent.drop();
  CHECK(dev.violations() == 0);
  CHECK(dev.slot_b.writes() + dev.slot_b.erases() == 0);
  return {};
}

Nothing test_firmware_delta() {
  g_test = "install: delta of a real firmware pair (esp32c3-random abccd39 -> cd5c5f4)";
  const Bytes old_image = OTA_BYTES(fw_old);
  const Bytes patch = OTA_BYTES(fw_patch);
  Layout l;
  l.slot_size = kMaxSlot;
  Device dev(l);
  const FirmwareVersion old_version{3, 0, 0};
  dev.slot_a.program(0, old_image);
  REQUIRE(UpdateAgent::provision(dev.boot, dev.config(), old_version, 2,
                                 SlotImage{static_cast<std::uint32_t>(old_image.size()), Sha256::of(old_image)})
              .ok());
  const ManifestVerification mv = g_device_verifier.verify_manifest(OTA_BYTES(env_fw_delta),
                                                                    DeviceFacts{kDevice, 0, l.slot_size});
  REQUIRE(mv.accepted());
  const Manifest& m = mv.parse.manifest;
  {
    UpdateAgent& a = g_agent.make(dev, g_device_verifier, kDevice);
    REQUIRE(a.boot().status.ok());
    REQUIRE(a.offer(OTA_BYTES(env_fw_delta)).ok());
    CHECK(a.installing() == SlotId::B);
    write_all(a, patch, 512, true);
    REQUIRE(a.finish().ok());
    REQUIRE(a.set_pending().ok());
  }
  {
    UpdateAgent& a = g_agent.make(dev, g_device_verifier, kDevice);
    const BootOutcome b = a.boot();
    REQUIRE(b.status.ok());
    CHECK(b.action.kind == BootActionKind::BootTrial);
    CHECK(b.action.slot == SlotId::B);
    REQUIRE(a.report_healthy().ok());
  }
  CHECK(Sha256::of(dev.slot_b.raw().first(m.image_size)) == m.image_sha256);
  CHECK(Sha256::of(dev.slot_a.raw().first(old_image.size())) == Sha256::of(old_image));  // base untouched
  std::printf("  firmware delta: %u-byte patch built a %u-byte image in slot B\n",
              static_cast<unsigned>(patch.size()), static_cast<unsigned>(m.image_size));
  g_agent.drop();
  CHECK(dev.violations() == 0);
  return {};
}

// ---------------------------------------------------------------------------
// Power loss at every flash operation (tests/agent/test_power_loss.cpp)
// ---------------------------------------------------------------------------

enum class Goal { Install, RollBack };
enum class Outcome { Done, PowerLost, Reboot, Bricked, Failed };

struct Scenario {
  const Release* from = nullptr;
  const Release* to = nullptr;
  bool delta = false;
  Goal goal = Goal::Install;
  std::size_t chunk = 1000;
  int trial_boots = 0;
  int recovery_boots = 0;
  int boots = 0;
  int resumed_with_progress = 0;
  std::optional<std::uint32_t> accepted_at_cut;  // full image: bytes accepted before the cut write
  std::uint64_t cuts_checked = 0;
};

// Bytes between two download checkpoints, as the slot writer chooses them
// for this layout (test_power_loss.cpp checkpoint_bytes), on scratch flash.
std::uint32_t checkpoint_bytes(const Layout& l, std::uint32_t image_size) {
  std::uint8_t* scratch = Region{}.base + kBootBytes + 2 * kMaxSlot + 3 * (kMaxSlot / 8);
  NorFlash boot(std::span(scratch, kBootBytes), kSector, kAlignment);
  NorFlash slot(std::span(scratch + kBootBytes, l.slot_size), kSector, kAlignment);
  boot.chip_erase();
  slot.chip_erase();
  ProgressLog log(boot, kProgressLogSector * kSector);
  SlotWriter writer(log);
  if (!writer.begin(slot, 1, image_size, InstallKind::FullImage).ok()) return 0;
  return writer.checkpoint_sectors() * kSector;
}

#define PL_REQUIRE(c)                                                      \
  do {                                                                     \
    if (!check(static_cast<bool>(c), #c, __LINE__)) return Outcome::Failed; \
  } while (0)

Outcome lost(const AgentStatus& st, const Device& d) {
  PL_REQUIRE(st.error == AgentError::FlashFailed);
  PL_REQUIRE(st.flash == FlashStatus::PowerLost);
  PL_REQUIRE(!d.cut.powered());
  return Outcome::PowerLost;
}

Outcome check_boot(Device& d, const UpdateAgent& agent, const BootAction& action, Scenario& s) {
  PL_REQUIRE(d.violations() == 0);
  const BootRecord& r = agent.record();
  PL_REQUIRE(is_consistent(r, d.config()));
  if (runs_firmware_slot(action)) {
    const SlotImage& img = agent.stored().image[slot_index(action.slot)];
    PL_REQUIRE(img.size <= d.layout.slot_size);
    PL_REQUIRE(Sha256::of(d.slot(action.slot).raw().first(img.size)) == img.sha256);
    const bool is_old = img == s.from->slot_image();
    const bool is_new = img == s.to->slot_image();
    PL_REQUIRE(is_old || is_new);
    const Release& running = is_new ? *s.to : *s.from;
    PL_REQUIRE(r.version[slot_index(action.slot)] == *pack_version(running.version));
    PL_REQUIRE(r.security_counter[slot_index(action.slot)] == running.counter);
    if (action.kind == BootActionKind::BootTrial) {
      PL_REQUIRE(is_new);
      ++s.trial_boots;
    } else {
      PL_REQUIRE(r.state_of(action.slot) == SlotState::Confirmed);
    }
  } else if (action.kind == BootActionKind::BootRecovery) {
    PL_REQUIRE(d.layout.scheme == PartitionScheme::SingleWithRecovery);
    ++s.recovery_boots;
  } else {
    PL_REQUIRE(d.layout.scheme == PartitionScheme::SingleNoRecovery);
  }
  if (!runs_firmware_slot(action)) {
    const SlotState main = r.state_of(SlotId::A);
    PL_REQUIRE(main == SlotState::Writing || main == SlotState::Invalid);
  }
  return Outcome::Done;
}

Outcome install_step(Device& d, UpdateAgent& agent, Scenario& s) {
  const Release& to = *s.to;
  const bool resuming = [&] {
    const std::optional<SlotId> t = install_target(agent.record(), d.config());
    return t && agent.record().state_of(*t) == SlotState::Writing &&
           agent.stored().image[slot_index(*t)] == to.slot_image();
  }();
  AgentStatus st = agent.offer(s.delta ? to.delta_envelope : to.envelope);
  if (!st.ok()) return lost(st, d);
  const std::uint32_t resume = agent.resume_offset();
  if (s.delta || !resuming) {
    PL_REQUIRE(resume == 0);
  } else {
    PL_REQUIRE(resume % kSector == 0 || resume == to.image.size());
    if (s.accepted_at_cut) {
      PL_REQUIRE(resume <= *s.accepted_at_cut + s.chunk);
      const std::uint32_t interval = checkpoint_bytes(d.layout, static_cast<std::uint32_t>(to.image.size()));
      PL_REQUIRE(interval > 0);
      PL_REQUIRE(*s.accepted_at_cut < resume + interval + kAlignment);
    }
    if (resume > 0) ++s.resumed_with_progress;
  }
  s.accepted_at_cut.reset();
  const Bytes data = s.delta ? to.patch : to.image;
  for (std::size_t at = s.delta ? 0 : resume; at < data.size(); at += s.chunk) {
    const Bytes part = data.subspan(at, std::min(s.chunk, data.size() - at));
    st = s.delta ? agent.write_patch(part) : agent.write(part);
    if (!st.ok()) {
      if (!s.delta) s.accepted_at_cut = static_cast<std::uint32_t>(at);
      return lost(st, d);
    }
  }
  st = agent.finish();
  if (!st.ok()) return lost(st, d);
  return Outcome::Done;
}

Outcome power_on(Device& d, Scenario& s) {
  UpdateAgent& agent = g_agent.make(d, g_device_verifier, kDevice);
  const BootOutcome b = agent.boot();
  if (!b.status.ok()) return lost(b.status, d);
  ++s.boots;
  if (check_boot(d, agent, b.action, s) == Outcome::Failed) return Outcome::Failed;
  s.cuts_checked = d.cut.cuts();
  if (b.action.kind == BootActionKind::Bricked) return Outcome::Bricked;
  if (s.goal == Goal::RollBack) {
    if (b.action.kind == BootActionKind::BootTrial) {
      const AgentStatus st = agent.report_unhealthy();
      if (!st.ok()) return lost(st, d);
      return Outcome::Reboot;
    }
    return Outcome::Done;
  }
  const bool trial = b.action.kind == BootActionKind::BootTrial;
  for (int step = 0; step < 8; ++step) {
    const BootRecord& r = agent.record();
    const SlotImage& active_image = agent.stored().image[slot_index(r.active)];
    if (trial && r.state_of(r.active) == SlotState::Trial) {
      const AgentStatus st = agent.report_healthy();
      if (!st.ok()) return lost(st, d);
      continue;
    }
    if (r.state_of(r.active) == SlotState::Confirmed && active_image == s.to->slot_image()) return Outcome::Done;
    const std::optional<SlotId> target = install_target(r, d.config());
    PL_REQUIRE(target.has_value());
    if (r.state_of(*target) == SlotState::Pending && agent.stored().image[slot_index(*target)] == s.to->slot_image()) {
      const AgentStatus st = agent.set_pending();
      if (!st.ok()) return lost(st, d);
      return Outcome::Reboot;
    }
    if (Outcome o = install_step(d, agent, s); o != Outcome::Done) return o;
  }
  PL_REQUIRE(!"the device main loop made no progress");
  return Outcome::Failed;
}

Outcome run_to_end(Device& d, Scenario& s) {
  for (int cycle = 0; cycle < 40; ++cycle) {
    const Outcome o = power_on(d, s);
    if (o == Outcome::Done || o == Outcome::Bricked || o == Outcome::Failed) return o;
    if (o == Outcome::PowerLost) d.cut.reboot();
  }
  PL_REQUIRE(!"no end after 40 power cycles");
  return Outcome::Failed;
}

bool check_end(Device& d, const Scenario& s) {
  UpdateAgent& agent = g_agent.make(d, g_device_verifier, kDevice);
  const BootOutcome b = agent.boot();
  if (!CHECK(b.status.ok())) return false;
  bool ok = CHECK(b.action.kind == BootActionKind::BootNormal);
  const BootRecord& r = agent.record();
  const Release& expected = s.goal == Goal::Install ? *s.to : *s.from;
  ok &= CHECK(agent.stored().image[slot_index(b.action.slot)] == expected.slot_image());
  ok &= CHECK(Sha256::of(d.slot(b.action.slot).raw().first(expected.image.size())) == expected.digest);
  ok &= CHECK(r.min_security_counter == expected.counter);
  if (d.layout.scheme == PartitionScheme::DualSlot) {
    const SlotId other = other_slot(b.action.slot);
    if (s.goal == Goal::Install) {
      ok &= CHECK(r.state_of(other) == SlotState::Confirmed);
      ok &= CHECK(Sha256::of(d.slot(other).raw().first(s.from->image.size())) == s.from->digest);
    } else {
      ok &= CHECK(r.state_of(other) == SlotState::Invalid);
      ok &= CHECK(s.trial_boots == d.layout.trial_boot_limit);
    }
  }
  ok &= CHECK(d.violations() == 0);
  return ok;
}

enum class Start { Factory, Selected };

// A fresh device for one run: factory state, or with `to` selected for its first trial.
bool prepare(Device& d, Start start, const Release& from, const Release& to) {
  if (!factory(d, from)) return false;
  if (start == Start::Factory) return true;
  UpdateAgent& a = g_agent.make(d, g_device_verifier, kDevice);
  return a.boot().status.ok() && a.offer(to.envelope).ok() && a.write(to.image).ok() && a.finish().ok() &&
         a.set_pending().ok();
}

struct SweepReport {
  std::uint64_t ops = 0;
  std::uint64_t cuts_fired = 0;
  std::uint64_t cuts_checked = 0;
  int resumed_with_progress = 0;
  int recovery_boots = 0;
  int bricked = 0;
  int failed_runs = 0;
};

SweepReport sweep(const Layout& l, const Release& from, const Release& to, bool delta, Goal goal, Start start,
                  CutMode mode, std::size_t chunk) {
  SweepReport rep;
  {
    Device d(l);
    if (!CHECK(prepare(d, start, from, to))) return rep;
    Scenario s{&from, &to, delta, goal, chunk};
    const std::uint64_t before = d.cut.ops();
    if (!CHECK(run_to_end(d, s) == Outcome::Done)) return rep;
    rep.ops = d.cut.ops() - before;
    CHECK(check_end(d, s));
    CHECK(s.recovery_boots == 0);
  }
  for (std::uint64_t i = 1; i <= rep.ops; ++i) {
    Device d(l);
    if (!prepare(d, start, from, to)) {
      ++rep.failed_runs;
      continue;
    }
    d.cut.seed(i);
    d.cut.cut_after(i, mode);
    Scenario s{&from, &to, delta, goal, chunk};
    const Outcome o = run_to_end(d, s);
    const bool counted = CHECK(d.cut.cuts() == 1) & CHECK(s.cuts_checked == d.cut.cuts());
    rep.cuts_fired += d.cut.cuts();
    rep.cuts_checked += s.cuts_checked;
    rep.resumed_with_progress += s.resumed_with_progress;
    rep.recovery_boots += s.recovery_boots > 0;
    if (o == Outcome::Bricked) {
      ++rep.bricked;
      continue;
    }
    if (o == Outcome::Failed || !counted || !check_end(d, s)) {
      ++rep.failed_runs;
      std::printf("  ... at cut %u of %u (%s)\n", static_cast<unsigned>(i), static_cast<unsigned>(rep.ops),
                  mode == CutMode::Torn ? "torn" : "clean");
      if (rep.failed_runs > 3) return rep;
    }
  }
  return rep;
}

// Cut points at which a single-partition device's main slot holds no bootable
// image: from the offer to the end of finish, less the two operations of the
// record store that marks the new image complete (test_power_loss.cpp).
std::uint64_t unbootable_window(const Layout& l, const Release& from, const Release& to) {
  Device d(l);
  if (!CHECK(factory(d, from))) return 0;
  UpdateAgent& a = g_agent.make(d, g_device_verifier, kDevice);
  if (!CHECK(a.boot().status.ok())) return 0;
  const std::uint64_t before_offer = d.cut.ops();
  if (!CHECK(a.offer(to.envelope).ok())) return 0;
  for (std::size_t at = 0; at < to.image.size(); at += 1000)
    if (!CHECK(a.write(to.image.subspan(at, std::min<std::size_t>(1000, to.image.size() - at))).ok())) return 0;
  if (!CHECK(a.finish().ok())) return 0;
  return d.cut.ops() - before_offer - 2;
}

const char* mode_name(CutMode m) { return m == CutMode::Torn ? "torn" : "clean"; }

// tests/agent/test_power_loss.cpp "chains of 5 random cuts (seeded)": cuts
// at random points of whatever is left of the update, clean or torn, five in
// a row before the device may finish; full image and delta alternate.
void test_random_chains() {
  g_test = "power loss: chains of 5 random cuts (seeded)";
  const Release v1 = v1_release(), v2 = v2_release();
  constexpr int kChains = 12;
  std::uint64_t cuts_fired = 0, cuts_checked = 0;
  for (int n = 0; n < kChains; ++n) {
    const std::uint64_t seed = 0xC0FFEE + static_cast<std::uint64_t>(n);
    const bool delta = n % 2 == 1;
    std::uint64_t rng = seed;
    const auto next = [&rng] {  // xorshift64
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      return rng;
    };
    Device d(Layout{});
    if (!CHECK(factory(d, v1))) return;
    Scenario s{&v1, &v2, delta, Goal::Install, 1000};
    bool chain_ok = true;
    for (int cut = 0; cut < 5 && chain_ok; ++cut) {
      // How many operations the rest of the update takes from this state,
      // measured on a copy; the cut falls uniformly among them.
      Device probe(Layout{}, Region{}.second());
      probe.copy_from(d);
      Scenario ps = s;
      const std::uint64_t before = probe.cut.ops();
      chain_ok = CHECK(run_to_end(probe, ps) == Outcome::Done);
      const std::uint64_t remaining = probe.cut.ops() - before;
      chain_ok = chain_ok && CHECK(remaining > 0);
      if (!chain_ok) break;
      const std::uint64_t at = 1 + next() % remaining;
      const CutMode mode = next() % 2 == 0 ? CutMode::Clean : CutMode::Torn;
      d.cut.seed(next());
      d.cut.cut_after(at, mode);
      const std::uint64_t cuts_before = d.cut.cuts();
      for (int cycle = 0; cycle < 40 && d.cut.cuts() == cuts_before && chain_ok; ++cycle) {
        const Outcome o = power_on(d, s);
        chain_ok = CHECK(o != Outcome::Done && o != Outcome::Bricked && o != Outcome::Failed);
      }
      chain_ok = chain_ok && CHECK(d.cut.cuts() == cuts_before + 1);
      d.cut.reboot();
    }
    chain_ok = chain_ok && CHECK(run_to_end(d, s) == Outcome::Done) && check_end(d, s);
    if (!chain_ok) {
      std::printf("  ... chain with seed 0x%llx (%s)\n", static_cast<unsigned long long>(seed),
                  delta ? "delta" : "full image");
      return;
    }
    cuts_fired += d.cut.cuts();
    cuts_checked += s.cuts_checked;
  }
  std::printf("  random chains: %d chains of 5 cuts, %u cut points tried\n", kChains,
              static_cast<unsigned>(cuts_fired));
  CHECK(cuts_fired == 5 * kChains);
  CHECK(cuts_checked == cuts_fired);
  g_agent.drop();
}

void test_power_loss() {
  const Release v1 = v1_release(), v2 = v2_release();
  for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
    g_test = "power loss at every operation: full A/B update, 32 KiB image over 4 KiB sectors";
    g_context = mode_name(mode);
    SweepReport r = sweep(Layout{}, v1, v2, false, Goal::Install, Start::Factory, mode, 1000);
    std::printf("  full A/B (%s): %u cut points (every one of the %u operations), %d resumed a partial download\n",
                mode_name(mode), static_cast<unsigned>(r.cuts_fired), static_cast<unsigned>(r.ops),
                r.resumed_with_progress);
    CHECK(r.cuts_fired == r.ops);
    CHECK(r.cuts_checked == r.cuts_fired);
    CHECK(r.ops > 8 * 2);  // at least an erase and a write per sector of the image
    CHECK(r.resumed_with_progress > static_cast<int>(r.ops / 2));
    CHECK(r.bricked == 0);
    CHECK(r.failed_runs == 0);

    g_test = "power loss at every operation: delta A/B update";
    r = sweep(Layout{}, v1, v2, true, Goal::Install, Start::Factory, mode, 777);
    std::printf("  delta A/B (%s, %u-byte patch): %u cut points (every operation)\n", mode_name(mode),
                static_cast<unsigned>(v2.patch.size()), static_cast<unsigned>(r.cuts_fired));
    CHECK(r.cuts_fired == r.ops);
    CHECK(r.cuts_checked == r.cuts_fired);
    CHECK(r.ops > 8 * 2);  // at least an erase and a write per sector of the image
    CHECK(r.bricked == 0);
    CHECK(r.failed_runs == 0);

    g_test = "power loss at every operation: confirm";
    r = sweep(Layout{}, v1, v2, false, Goal::Install, Start::Selected, mode, 1000);
    std::printf("  confirm (%s): %u cut points\n", mode_name(mode), static_cast<unsigned>(r.cuts_fired));
    CHECK(r.cuts_fired == r.ops);
    CHECK(r.cuts_checked == r.cuts_fired);
    CHECK(r.ops == 4);
    CHECK(r.failed_runs == 0);

    g_test = "power loss at every operation: rollback (trial boot limit 3)";
    r = sweep(Layout{}, v1, v2, false, Goal::RollBack, Start::Selected, mode, 1000);
    std::printf("  rollback (%s): %u cut points\n", mode_name(mode), static_cast<unsigned>(r.cuts_fired));
    CHECK(r.cuts_fired == r.ops);
    CHECK(r.cuts_checked == r.cuts_fired);
    CHECK(r.ops == 2u * (3u + 1u));
    CHECK(r.failed_runs == 0);

    g_test = "power loss at every operation: single partition, with and without recovery image";
    for (PartitionScheme scheme : {PartitionScheme::SingleWithRecovery, PartitionScheme::SingleNoRecovery}) {
      Layout single;
      single.scheme = scheme;
      const std::uint64_t window = unbootable_window(single, v1, v2);
      r = sweep(single, v1, v2, false, Goal::Install, Start::Factory, mode, 1000);
      const bool recovery = scheme == PartitionScheme::SingleWithRecovery;
      std::printf("  %s (%s): %u cut points, %u of them while the main slot holds no complete image -> %d %s\n",
                  to_string(scheme).data(), mode_name(mode), static_cast<unsigned>(r.cuts_fired),
                  static_cast<unsigned>(window), recovery ? r.recovery_boots : r.bricked,
                  recovery ? "recovery boots" : "bricked");
      CHECK(r.cuts_fired == r.ops);
      CHECK(r.cuts_checked == r.cuts_fired);
      CHECK(window > 0);
      if (recovery) {
        CHECK(r.bricked == 0);
        CHECK(static_cast<std::uint64_t>(r.recovery_boots) == window);
      } else {
        CHECK(static_cast<std::uint64_t>(r.bricked) == window);  // exactly the cuts in the window brick it
      }
      CHECK(r.failed_runs == 0);
    }
  }
  g_agent.drop();
}

}  // namespace

int main() {
  board::paint_stack();
  std::printf("otasim agent target tests on %s\n", OTA_TARGET_NAME);
  g_context = "setup";
  CHECK(g_device_verifier.trust(public_key(OTA_BYTES(device_pub))) == KeyStoreStatus::Ok);
  struct Step {
    const char* name;
    void (*run)();
  };
  const Step steps[] = {
      {"verifier", [] { test_verifier(); }},
      {"A/B install", [] { test_ab_install_confirm_rollback(); }},
      {"single partition", [] { test_single_partition(); }},
      {"firmware delta", [] { test_firmware_delta(); }},
      {"power loss", [] { test_power_loss(); }},
      {"power loss, random chains", [] { test_random_chains(); }},
  };
  for (const Step& s : steps) {
    const int before = g_failures;
    g_context = "";
    const std::uint64_t t0 = board::millis();
    s.run();
    std::printf("%s %s (%u ms)\n", g_failures == before ? "PASS" : "FAIL", s.name,
                static_cast<unsigned>(board::millis() - t0));
  }
  std::printf("%d checks, %d failed; peak stack %u bytes; crypto heap peak %u of %u; sizeof(UpdateAgent) %u, "
              "sizeof(Verifier) %u\n",
              g_checks, g_failures, static_cast<unsigned>(board::peak_stack()),
              static_cast<unsigned>(board::crypto_heap_peak()), static_cast<unsigned>(board::crypto_heap_size()),
              static_cast<unsigned>(sizeof(UpdateAgent)), static_cast<unsigned>(sizeof(Verifier)));
  std::printf(g_failures == 0 && g_checks > 0 ? "ALL TESTS PASSED\n" : "TESTS FAILED\n");
  board::exit(g_failures == 0 && g_checks > 0 ? 0 : 1);
}
