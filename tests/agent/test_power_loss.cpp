// Power loss at every flash operation: full A/B update, delta update, confirm,
// rollback, single partition (+ recovery); torn writes at every operation;
// chains of random cuts. Plus the strict fake flash itself and the slot writer.
//
// Method (MCUboot's sim/): run a case once without faults and count its N
// erase/write operations; then for each i in 1..N start again from the same
// initial flash, cut the power at operation i, "reboot" by building a fresh
// UpdateAgent over the same flash bytes, and check at every boot that the
// device runs a complete image that verifies (old or new, never neither),
// that the boot record is consistent, and that the update then runs to
// completion (resumed or restarted).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/boot_control.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/slot_writer.hpp"
#include "ota/agent/update_agent.hpp"
#include "ota/agent/verifier.hpp"
#include "strict_flash.hpp"

using namespace ota::agent;
using ota::agent::test::CutMode;
using ota::agent::test::PowerRig;
using ota::agent::test::StrictFlash;

namespace {

constexpr std::uint32_t kHardwareId = 0xC3C3;

// ---------------------------------------------------------------------------
// Keys, releases
// ---------------------------------------------------------------------------

SigningKey make_key() { return SigningKey::generate_from_seed(std::uint64_t{0x0DA5EED}).value(); }

KeyStore trusting(const SigningKey& key) {
  KeyStore ks;
  if (ks.trust(key.public_key()) != KeyStoreStatus::Ok) FAIL("cannot trust the test key");
  return ks;
}

struct Crypto {
  SigningKey key;
  Verifier verifier;
  Crypto() : key(make_key()), verifier(trusting(key)) {}
};

Crypto& crypto() {
  static Crypto c;
  return c;
}

struct Release {
  std::vector<std::uint8_t> image;
  Digest digest{};
  FirmwareVersion version{};
  std::uint32_t security_counter = 0;
  std::vector<std::uint8_t> envelope;        // signed manifest, full image
  std::vector<std::uint8_t> patch;           // delta from the base release, when made
  std::vector<std::uint8_t> delta_envelope;  // signed manifest of the delta
  SlotImage slot_image() const { return SlotImage{static_cast<std::uint32_t>(image.size()), digest}; }
};

Manifest manifest_of(const Release& r) {
  Manifest m;
  m.version = r.version;
  m.security_counter = r.security_counter;
  m.hardware_ids[0] = kHardwareId;
  m.hardware_id_count = 1;
  m.image_size = static_cast<std::uint32_t>(r.image.size());
  m.image_sha256 = r.digest;
  m.build_time = 1700000000;
  return m;
}

Release make_release(std::vector<std::uint8_t> image, FirmwareVersion v, std::uint32_t counter) {
  Release r;
  r.image = std::move(image);
  r.digest = Sha256::of(r.image);
  r.version = v;
  r.security_counter = counter;
  r.envelope = sign_manifest(manifest_of(r), crypto().key).value();
  return r;
}

void add_delta(Release& to, const Release& from) {
  DeltaOptions options;
  options.exhaustive = false;  // patch size does not matter here
  to.patch = encode_delta(from.image, to.image, options);
  Manifest m = manifest_of(to);
  m.delta = DeltaInfo{from.digest, static_cast<std::uint32_t>(to.patch.size()), Sha256::of(to.patch)};
  to.delta_envelope = sign_manifest(m, crypto().key).value();
}

std::vector<std::uint8_t> random_image(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(size);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

// The next version of `old`: scattered byte edits, a changed block and a shift,
// as a firmware rebuild looks to a delta encoder.
std::vector<std::uint8_t> evolve(const std::vector<std::uint8_t>& old, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(std::min(size, old.size())));
  for (int i = 0; i < 400; ++i) v[rng() % v.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
  for (std::size_t i = 1000; i < 3000 && i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(rng());
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(v.size() / 3), 64, 0x5A);
  v.resize(size, 0x11);
  return v;
}

// ---------------------------------------------------------------------------
// A simulated device
// ---------------------------------------------------------------------------

struct Layout {
  PartitionScheme scheme = PartitionScheme::DualSlot;
  std::uint32_t sector = 4096;
  std::uint32_t alignment = 8;
  std::uint32_t slot_size = 72 * 4096;  // 288 KiB
  std::uint8_t erased = 0xFF;
  std::uint8_t trial_boot_limit = 3;
};

struct Device {
  Layout layout;
  PowerRig rig;
  StrictFlash boot;
  StrictFlash slot_a;
  StrictFlash slot_b;

  explicit Device(const Layout& l)
      : layout(l),
        boot(rig, 3 * l.sector, l.sector, l.alignment, l.erased),
        slot_a(rig, l.slot_size, l.sector, l.alignment, l.erased),
        slot_b(rig, l.slot_size, l.sector, l.alignment, l.erased) {}

  BootConfig config() const { return BootConfig{layout.scheme, layout.trial_boot_limit}; }
  AgentAreas areas() { return AgentAreas{boot, slot_a, &slot_b}; }
  StrictFlash& slot(SlotId s) { return s == SlotId::A ? slot_a : slot_b; }
  std::uint64_t violations() const { return boot.violations() + slot_a.violations() + slot_b.violations(); }

  // Same flash contents, fresh rig (powered, nothing armed).
  std::unique_ptr<Device> clone() const {
    auto d = std::make_unique<Device>(layout);
    d->boot.copy_from(boot);
    d->slot_a.copy_from(slot_a);
    d->slot_b.copy_from(slot_b);
    return d;
  }
};

// A factory-fresh device running `from` in slot A.
std::unique_ptr<Device> factory_device(const Layout& l, const Release& from) {
  auto d = std::make_unique<Device>(l);
  d->slot_a.program(0, from.image);
  const AgentStatus s = UpdateAgent::provision(d->boot, d->config(), from.version, from.security_counter,
                                               from.slot_image());
  REQUIRE(s.ok());
  return d;
}

// ---------------------------------------------------------------------------
// The device main loop used by every case, and the checks at every boot
// ---------------------------------------------------------------------------

enum class Goal { Install, RollBack };
enum class Outcome { Done, PowerLost, Reboot, Bricked };

struct Scenario {
  const Release* from = nullptr;
  const Release* to = nullptr;
  bool delta = false;
  Goal goal = Goal::Install;
  std::size_t chunk = 1000;  // full-image chunk size as it arrives from the network

  // Observations.
  int trial_boots = 0;
  int recovery_boots = 0;
  int boots = 0;
  int resumed_with_progress = 0;
  std::optional<std::uint32_t> accepted_at_cut;  // full image: bytes accepted before the cut write
  // Power cuts (as counted by the fake flash) after which a boot ran and its
  // invariants were checked.
  std::uint64_t cuts_checked = 0;
};

Scenario scenario(const Release& from, const Release& to, bool delta, Goal goal, std::size_t chunk) {
  Scenario s;
  s.from = &from;
  s.to = &to;
  s.delta = delta;
  s.goal = goal;
  s.chunk = chunk;
  return s;
}

Digest digest_of_slot(const StrictFlash& area, std::uint32_t size) {
  return Sha256::of(area.raw().subspan(0, size));
}

// Bytes between two download checkpoints for an image of `image_size` in this
// layout, as the slot writer chooses them (one sector unless the progress log
// is too small for one entry per sector).
std::uint32_t checkpoint_bytes(const Layout& l, std::uint32_t image_size) {
  PowerRig rig;
  StrictFlash boot(rig, 3 * l.sector, l.sector, l.alignment, l.erased);
  StrictFlash slot(rig, l.slot_size, l.sector, l.alignment, l.erased);
  ProgressLog log(boot, kProgressLogSector * l.sector);
  SlotWriter writer(log);
  REQUIRE(writer.begin(slot, 1, image_size, InstallKind::FullImage).ok());
  return writer.checkpoint_sectors() * l.sector;
}

// The invariants at every boot.
void check_boot(Device& d, const UpdateAgent& agent, const BootAction& action, Scenario& s) {
  REQUIRE(d.violations() == 0);
  const BootRecord& r = agent.record();
  INFO("boot action " << to_string(action.kind) << " slot " << to_string(action.slot));
  REQUIRE(is_consistent(r, d.config()));
  if (runs_firmware_slot(action)) {
    const SlotImage& img = agent.stored().image[slot_index(action.slot)];
    // The image the record names is complete and verifies, and it is the old or the new one.
    REQUIRE(img.size <= d.layout.slot_size);
    REQUIRE(digest_of_slot(d.slot(action.slot), img.size) == img.sha256);
    const bool is_old = img == s.from->slot_image();
    const bool is_new = img == s.to->slot_image();
    REQUIRE((is_old || is_new));
    const Release& running = is_new ? *s.to : *s.from;
    REQUIRE(r.version[slot_index(action.slot)] == *pack_version(running.version));
    REQUIRE(r.security_counter[slot_index(action.slot)] == running.security_counter);
    if (action.kind == BootActionKind::BootTrial) {
      REQUIRE(is_new);
      ++s.trial_boots;
    } else {
      REQUIRE(r.state_of(action.slot) == SlotState::Confirmed);
    }
  } else if (action.kind == BootActionKind::BootRecovery) {
    REQUIRE(d.layout.scheme == PartitionScheme::SingleWithRecovery);
    ++s.recovery_boots;
  } else {
    REQUIRE(d.layout.scheme == PartitionScheme::SingleNoRecovery);
  }
  if (!runs_firmware_slot(action)) {
    const SlotState main = r.state_of(SlotId::A);
    REQUIRE((main == SlotState::Writing || main == SlotState::Invalid));
  }
}

// A failed call must be the power cut, nothing else.
Outcome lost(const AgentStatus& st, const Device& d) {
  INFO("agent error: " << to_string(st.error) << " / flash " << to_string(st.flash) << " / verdict "
                       << to_string(st.verdict));
  REQUIRE(st.error == AgentError::FlashFailed);
  REQUIRE(st.flash == FlashStatus::PowerLost);
  REQUIRE_FALSE(d.rig.powered());
  return Outcome::PowerLost;
}

Outcome install_step(Device& d, UpdateAgent& agent, Scenario& s) {
  const Release& to = *s.to;
  const bool resuming = [&] {
    const std::optional<SlotId> t = install_target(agent.record(), d.config());
    return t && agent.record().state_of(*t) == SlotState::Writing && agent.stored().image[slot_index(*t)] ==
                                                                         to.slot_image();
  }();
  AgentStatus st = agent.offer(s.delta ? to.delta_envelope : to.envelope);
  if (!st.ok()) return lost(st, d);
  const std::uint32_t resume = agent.resume_offset();
  if (s.delta) {
    REQUIRE(resume == 0);  // a delta restarts from the first patch byte
  } else if (resuming) {
    // Resumes instead of restarting, at a checkpoint: the last one that landed
    // is less than one checkpoint interval (plus the unwritten tail, under one
    // write alignment) behind the bytes accepted before the cut.
    REQUIRE((resume % d.layout.sector == 0 || resume == to.image.size()));
    if (s.accepted_at_cut) {
      REQUIRE(resume <= *s.accepted_at_cut + s.chunk);
      const std::uint32_t interval = checkpoint_bytes(d.layout, static_cast<std::uint32_t>(to.image.size()));
      REQUIRE(*s.accepted_at_cut < resume + interval + d.layout.alignment);
    }
    if (resume > 0) ++s.resumed_with_progress;
  } else {
    REQUIRE(resume == 0);
  }
  s.accepted_at_cut.reset();

  if (s.delta) {
    const std::span<const std::uint8_t> patch(to.patch);
    for (std::size_t at = 0; at < patch.size(); at += s.chunk) {
      st = agent.write_patch(patch.subspan(at, std::min(s.chunk, patch.size() - at)));
      if (!st.ok()) return lost(st, d);
    }
  } else {
    const std::span<const std::uint8_t> image(to.image);
    for (std::size_t at = resume; at < image.size(); at += s.chunk) {
      st = agent.write(image.subspan(at, std::min(s.chunk, image.size() - at)));
      if (!st.ok()) {
        s.accepted_at_cut = static_cast<std::uint32_t>(at);
        return lost(st, d);
      }
    }
  }
  st = agent.finish();
  if (!st.ok()) return lost(st, d);
  return Outcome::Done;
}

// One power cycle: boot, then act until the goal, a reboot, or a power cut.
Outcome power_on(Device& d, Scenario& s) {
  UpdateAgent agent(d.areas(), d.config(), crypto().verifier, kHardwareId);
  const BootOutcome b = agent.boot();
  if (!b.status.ok()) return lost(b.status, d);
  ++s.boots;
  check_boot(d, agent, b.action, s);
  s.cuts_checked = d.rig.cuts();  // every cut so far is followed by this checked boot
  if (b.action.kind == BootActionKind::Bricked) return Outcome::Bricked;

  if (s.goal == Goal::RollBack) {
    if (b.action.kind == BootActionKind::BootTrial) {
      const AgentStatus st = agent.report_unhealthy();
      if (!st.ok()) return lost(st, d);
      return Outcome::Reboot;
    }
    return Outcome::Done;  // the old image runs (check_boot verified it)
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
    REQUIRE(target.has_value());
    if (r.state_of(*target) == SlotState::Pending && agent.stored().image[slot_index(*target)] ==
                                                         s.to->slot_image()) {
      const AgentStatus st = agent.set_pending();
      if (!st.ok()) return lost(st, d);
      return Outcome::Reboot;
    }
    if (Outcome o = install_step(d, agent, s); o != Outcome::Done) return o;
  }
  FAIL("the device main loop made no progress");
  return Outcome::Done;
}

// Power cycles until the goal (or a brick). Returns the final outcome.
Outcome run_to_end(Device& d, Scenario& s) {
  for (int cycle = 0; cycle < 40; ++cycle) {
    const Outcome o = power_on(d, s);
    if (o == Outcome::Done || o == Outcome::Bricked) return o;
    if (o == Outcome::PowerLost) d.rig.reboot();
  }
  FAIL("no end after 40 power cycles");
  return Outcome::Done;
}

// The state after a completed case.
void check_end(Device& d, const Scenario& s) {
  UpdateAgent agent(d.areas(), d.config(), crypto().verifier, kHardwareId);
  const BootOutcome b = agent.boot();
  REQUIRE(b.status.ok());
  REQUIRE(b.action.kind == BootActionKind::BootNormal);
  const BootRecord& r = agent.record();
  const Release& expected = s.goal == Goal::Install ? *s.to : *s.from;
  REQUIRE(agent.stored().image[slot_index(b.action.slot)] == expected.slot_image());
  REQUIRE(digest_of_slot(d.slot(b.action.slot), expected.slot_image().size) == expected.digest);
  REQUIRE(r.min_security_counter == expected.security_counter);
  if (d.layout.scheme == PartitionScheme::DualSlot) {
    const SlotId other = other_slot(b.action.slot);
    if (s.goal == Goal::Install) {
      // The old image survived the whole update untouched.
      REQUIRE(r.state_of(other) == SlotState::Confirmed);
      REQUIRE(digest_of_slot(d.slot(other), s.from->slot_image().size) == s.from->digest);
    } else {
      REQUIRE(r.state_of(other) == SlotState::Invalid);
      REQUIRE(s.trial_boots == d.layout.trial_boot_limit);  // exactly the limit, then rollback
    }
  }
  REQUIRE(d.violations() == 0);
}

// ---------------------------------------------------------------------------
// Sweeps
// ---------------------------------------------------------------------------

using Prepare = std::unique_ptr<Device> (*)(const Layout&, const Release&, const Release&);

std::unique_ptr<Device> prepare_factory(const Layout& l, const Release& from, const Release&) {
  return factory_device(l, from);
}

// `to` fully written, verified and selected for its first trial boot.
std::unique_ptr<Device> prepare_selected(const Layout& l, const Release& from, const Release& to) {
  auto d = factory_device(l, from);
  UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
  REQUIRE(agent.boot().status.ok());
  REQUIRE(agent.offer(to.envelope).ok());
  REQUIRE(agent.write(to.image).ok());
  REQUIRE(agent.finish().ok());
  REQUIRE(agent.set_pending().ok());
  return d;
}

struct SweepReport {
  std::uint64_t ops = 0;         // N: erase/write operations of the clean run
  std::uint64_t cuts_fired = 0;  // power cuts the fake flash performed over the sweep
  std::uint64_t cuts_checked = 0;  // of them, followed by a boot whose invariants were checked
  int resumed_with_progress = 0;
  int recovery_boots = 0;
  int bricked = 0;
};

// Clean run, then a cut at every operation in `mode`.
SweepReport sweep(const Layout& l, const Release& from, const Release& to, bool delta, Goal goal, Prepare prepare,
                  CutMode mode, std::size_t chunk = 1000) {
  SweepReport rep;
  {
    auto d = prepare(l, from, to);
    Scenario s = scenario(from, to, delta, goal, chunk);
    const std::uint64_t before = d->rig.ops();
    REQUIRE(run_to_end(*d, s) == Outcome::Done);
    rep.ops = d->rig.ops() - before;
    check_end(*d, s);
    REQUIRE(s.recovery_boots == 0);
  }
  REQUIRE(rep.ops > 0);
  for (std::uint64_t i = 1; i <= rep.ops; ++i) {
    INFO("cut at operation " << i << " of " << rep.ops << (mode == CutMode::Torn ? " (torn)" : " (clean)"));
    auto d = prepare(l, from, to);
    d->rig.seed(i);
    d->rig.cut_after(i, mode);
    Scenario s = scenario(from, to, delta, goal, chunk);
    const Outcome o = run_to_end(*d, s);
    REQUIRE(d->rig.cuts() == 1);
    REQUIRE(s.cuts_checked == d->rig.cuts());
    rep.cuts_fired += d->rig.cuts();
    rep.cuts_checked += s.cuts_checked;
    rep.resumed_with_progress += s.resumed_with_progress;
    rep.recovery_boots += s.recovery_boots > 0;
    if (o == Outcome::Bricked) {
      ++rep.bricked;
      continue;
    }
    check_end(*d, s);
  }
  return rep;
}

const char* mode_name(CutMode m) { return m == CutMode::Torn ? "torn" : "clean"; }

// The 256 KiB releases over 4 KiB sectors.
struct Releases256 {
  Release v1;
  Release v2;
  Releases256() {
    v1 = make_release(random_image(256 * 1024, 1), FirmwareVersion{1, 0, 0}, 1);
    v2 = make_release(evolve(v1.image, 256 * 1024, 2), FirmwareVersion{1, 1, 0}, 2);
    add_delta(v2, v1);
  }
};

const Releases256& releases256() {
  static const Releases256 r;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------
// The fake flash is itself strict (a test of the test tool)
// ---------------------------------------------------------------------------

TEST_CASE("strict flash: refuses unerased and misaligned writes, cuts and tears", "[power]") {
  PowerRig rig;
  StrictFlash f(rig, 2 * 256, 256, 8);
  const std::vector<std::uint8_t> eight(8, 0x00);
  CHECK(f.write(0, eight) == FlashStatus::Ok);
  CHECK(f.write(0, eight) == FlashStatus::NotErased);
  CHECK(f.write(8, std::vector<std::uint8_t>(8, 0xFF)) == FlashStatus::Ok);
  CHECK(f.write(8, eight) == FlashStatus::NotErased);  // written with 0xFF is still written
  CHECK(f.write(4, eight) == FlashStatus::Misaligned);
  CHECK(f.write(16, std::vector<std::uint8_t>(4, 0)) == FlashStatus::Misaligned);
  CHECK(f.erase_sector(8) == FlashStatus::Misaligned);
  CHECK(f.write(508, eight) == FlashStatus::OutOfBounds);
  CHECK(f.violations() == 6);
  CHECK(f.writes() == 2);  // refused operations never reach the chip
  CHECK(rig.ops() == 2);
  CHECK(f.erase_sector(0) == FlashStatus::Ok);
  CHECK(f.write(0, eight) == FlashStatus::Ok);

  rig.cut_after(2, CutMode::Clean);
  CHECK(f.write(16, eight) == FlashStatus::Ok);         // op 1
  CHECK(f.write(24, eight) == FlashStatus::PowerLost);  // op 2: cut, nothing lands
  CHECK(f.raw()[24] == 0xFF);
  std::array<std::uint8_t, 4> buf{};
  CHECK(f.read(0, buf) == FlashStatus::PowerLost);  // device is off
  CHECK(f.erase_sector(256) == FlashStatus::PowerLost);
  rig.reboot();
  CHECK(f.write(24, eight) == FlashStatus::Ok);  // the cut write never landed

  rig.seed(7);
  rig.cut_after(1, CutMode::Torn);
  const std::vector<std::uint8_t> ones(64, 0x11);
  CHECK(f.write(64, ones) == FlashStatus::PowerLost);
  const auto landed = std::count(f.raw().begin() + 64, f.raw().begin() + 128, std::uint8_t{0x11});
  CHECK(landed > 0);
  CHECK(landed < 64);
  rig.reboot();
  CHECK(f.write(120, eight) == FlashStatus::NotErased);  // the torn range is spent until erased

  CHECK(f.write(248, eight) == FlashStatus::Ok);
  rig.cut_after(1, CutMode::Torn);
  CHECK(f.erase_sector(0) == FlashStatus::PowerLost);
  rig.reboot();
  CHECK(f.raw()[0] == 0xFF);    // the start of the sector is erased...
  CHECK(f.raw()[255] == 0x00);  // ...its end still holds old data
  CHECK(f.write(0, eight) == FlashStatus::Ok);
  CHECK(f.write(248, eight) == FlashStatus::NotErased);
}

// ---------------------------------------------------------------------------
// Power loss at every flash operation
// ---------------------------------------------------------------------------

TEST_CASE("power loss at every operation: full A/B update, 256 KiB image over 4 KiB sectors", "[power]") {
  const Releases256& r = releases256();
  const Layout l;  // A/B, 4 KiB sectors, 8-byte writes, 288 KiB slots
  for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
    const SweepReport rep = sweep(l, r.v1, r.v2, false, Goal::Install, prepare_factory, mode);
    WARN("full A/B update (256 KiB, 4 KiB sectors), " << mode_name(mode) << " cuts: " << rep.cuts_fired
                                                      << " cut points tried (every one of the " << rep.ops
                                                      << " erase/write operations), " << rep.resumed_with_progress
                                                      << " resumed a partial download");
    CHECK(rep.cuts_fired == rep.ops);
    CHECK(rep.cuts_checked == rep.cuts_fired);
    CHECK(rep.ops > 64 * 2);  // at least an erase and a write per sector of the image
    CHECK(rep.resumed_with_progress > static_cast<int>(rep.ops / 2));
    CHECK(rep.recovery_boots == 0);
    CHECK(rep.bricked == 0);
  }
}

TEST_CASE("power loss at every operation: delta A/B update", "[power]") {
  const Releases256& r = releases256();
  REQUIRE(!r.v2.patch.empty());
  const Layout l;
  for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
    const SweepReport rep = sweep(l, r.v1, r.v2, true, Goal::Install, prepare_factory, mode, 777);
    WARN("delta A/B update (" << r.v2.patch.size() << "-byte patch, 256 KiB image), " << mode_name(mode)
                              << " cuts: " << rep.cuts_fired << " cut points tried (every operation)");
    CHECK(rep.cuts_fired == rep.ops);
    CHECK(rep.cuts_checked == rep.cuts_fired);
    CHECK(rep.ops > 64 * 2);
    CHECK(rep.bricked == 0);
  }
}

TEST_CASE("power loss at every operation: confirm", "[power]") {
  const Releases256& r = releases256();
  const Layout l;
  for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
    // From "new image selected": trial boot, report healthy.
    const SweepReport rep = sweep(l, r.v1, r.v2, false, Goal::Install, prepare_selected, mode);
    WARN("confirm (trial boot + report healthy), " << mode_name(mode) << " cuts: " << rep.cuts_fired
                                                   << " cut points tried (every operation)");
    CHECK(rep.cuts_fired == rep.ops);
    CHECK(rep.cuts_checked == rep.cuts_fired);
    CHECK(rep.ops == 4);  // two record stores of two operations each
  }
}

TEST_CASE("power loss at every operation: rollback", "[power]") {
  const Releases256& r = releases256();
  for (std::uint8_t limit : {std::uint8_t{1}, std::uint8_t{3}}) {
    Layout l;
    l.trial_boot_limit = limit;
    for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
      // From "new image selected": every trial boot reports unhealthy until the old image runs again.
      const SweepReport rep = sweep(l, r.v1, r.v2, false, Goal::RollBack, prepare_selected, mode);
      WARN("rollback (trial boot limit " << int{limit} << "), " << mode_name(mode) << " cuts: " << rep.cuts_fired
                                         << " cut points tried (every operation)");
      CHECK(rep.cuts_fired == rep.ops);
      CHECK(rep.cuts_checked == rep.cuts_fired);
      CHECK(rep.ops == 2u * (limit + 1u));  // each trial boot and the rollback: one record store each
    }
  }
}

TEST_CASE("power loss at every operation: odd geometry (512 B sectors, 16 B writes, erased 0x00)", "[power]") {
  // An image size that is a multiple of nothing, sectors small enough that the
  // progress log must checkpoint every few sectors, an erased value of 0x00.
  Layout l;
  l.sector = 512;
  l.alignment = 16;
  l.slot_size = 120 * 512;
  l.erased = 0x00;
  const Release v1 = make_release(random_image(50'000 + 77, 11), FirmwareVersion{3, 1, 4}, 7);
  const Release v2 = make_release(evolve(v1.image, 52'000 + 5, 12), FirmwareVersion{3, 2, 0}, 7);
  for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
    const SweepReport rep = sweep(l, v1, v2, false, Goal::Install, prepare_factory, mode, 333);
    WARN("full A/B update, odd geometry, " << mode_name(mode) << " cuts: " << rep.cuts_fired
                                           << " cut points tried (every operation), " << rep.resumed_with_progress
                                           << " resumed a partial download");
    CHECK(rep.cuts_fired == rep.ops);
    CHECK(rep.cuts_checked == rep.cuts_fired);
    CHECK(rep.resumed_with_progress > static_cast<int>(rep.ops / 2));
  }
}

namespace {

// Single partition: the clean run's window in which the main slot holds no
// bootable image: from the moment BeginInstall's record is stored (its two
// operations) until WriteVerified's record is stored (finish's last two).
struct SingleWindow {
  std::uint64_t unbootable = 0;  // cut points at which the main slot holds no bootable image
};

SingleWindow single_window(const Layout& l, const Release& from, const Release& to) {
  auto d = factory_device(l, from);
  UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
  REQUIRE(agent.boot().status.ok());
  const std::uint64_t before_offer = d->rig.ops();
  REQUIRE(agent.offer(to.envelope).ok());
  for (std::size_t at = 0; at < to.image.size(); at += 1000) {
    REQUIRE(agent.write(std::span(to.image).subspan(at, std::min<std::size_t>(1000, to.image.size() - at))).ok());
  }
  REQUIRE(agent.finish().ok());
  const std::uint64_t after_finish = d->rig.ops();
  SingleWindow w;
  w.unbootable = after_finish - before_offer - 2;
  return w;
}

}  // namespace

TEST_CASE("power loss at every operation: single partition, with and without recovery image", "[power]") {
  Layout base;
  base.slot_size = 20 * 4096;
  const Release v1 = make_release(random_image(64 * 1024, 21), FirmwareVersion{1, 0, 0}, 1);
  const Release v2 = make_release(evolve(v1.image, 70 * 1024 + 3, 22), FirmwareVersion{1, 0, 1}, 1);

  for (PartitionScheme scheme : {PartitionScheme::SingleWithRecovery, PartitionScheme::SingleNoRecovery}) {
    Layout l = base;
    l.scheme = scheme;
    const SingleWindow window = single_window(l, v1, v2);
    for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
      INFO(to_string(scheme) << ", " << mode_name(mode));
      const SweepReport rep = sweep(l, v1, v2, false, Goal::Install, prepare_factory, mode);
      WARN(to_string(scheme) << ", " << mode_name(mode) << " cuts: " << rep.cuts_fired
                             << " cut points tried (every operation); " << window.unbootable
                             << " of them fall while the main slot holds no complete image -> "
                             << (scheme == PartitionScheme::SingleWithRecovery ? rep.recovery_boots : rep.bricked)
                             << (scheme == PartitionScheme::SingleWithRecovery ? " recovery boots" : " bricked"));
      CHECK(rep.cuts_fired == rep.ops);
      CHECK(rep.cuts_checked == rep.cuts_fired);
      if (scheme == PartitionScheme::SingleWithRecovery) {
        // Every cut in the window boots recovery, which downloads again to completion.
        CHECK(rep.bricked == 0);
        CHECK(static_cast<std::uint64_t>(rep.recovery_boots) == window.unbootable);
      } else {
        // The thermostat disaster: exactly the cuts in the window brick the device.
        CHECK(static_cast<std::uint64_t>(rep.bricked) == window.unbootable);
      }
      CHECK(window.unbootable > 0);
    }
  }
}

TEST_CASE("power loss: chains of 5 random cuts (seeded)", "[power]") {
  const Releases256& r = releases256();
  const Layout l;
  constexpr int kChains = 12;
  std::uint64_t cuts_fired = 0;    // counted by the fake flash
  std::uint64_t cuts_checked = 0;  // followed by a boot whose invariants were checked
  for (int n = 0; n < kChains; ++n) {
    const std::uint64_t seed = 0xC0FFEE + static_cast<std::uint64_t>(n);
    const bool delta = n % 2 == 1;
    INFO("seed " << seed << (delta ? " (delta)" : " (full image)") << " -- rerun with this seed to reproduce");
    std::mt19937_64 rng(seed);
    auto d = factory_device(l, r.v1);
    Scenario s = scenario(r.v1, r.v2, delta, Goal::Install, 1000);
    for (int cut = 0; cut < 5; ++cut) {
      // How many operations the rest of the update takes from this flash state,
      // measured on a copy; the cut falls uniformly among them.
      auto probe = d->clone();
      Scenario ps = s;
      const std::uint64_t before = probe->rig.ops();
      REQUIRE(run_to_end(*probe, ps) == Outcome::Done);
      const std::uint64_t remaining = probe->rig.ops() - before;
      REQUIRE(remaining > 0);
      const std::uint64_t at = std::uniform_int_distribution<std::uint64_t>(1, remaining)(rng);
      const CutMode mode = rng() % 2 == 0 ? CutMode::Clean : CutMode::Torn;
      d->rig.seed(rng());
      d->rig.cut_after(at, mode);
      INFO("cut " << cut + 1 << " at operation " << at << " of " << remaining << " (" << mode_name(mode) << ")");
      const std::uint64_t cuts_before = d->rig.cuts();
      // Run until the cut fires (then reboot once, which checks the invariants at boot).
      for (int cycle = 0; cycle < 40 && d->rig.cuts() == cuts_before; ++cycle) {
        const Outcome o = power_on(*d, s);
        REQUIRE(o != Outcome::Done);
        REQUIRE(o != Outcome::Bricked);
      }
      REQUIRE(d->rig.cuts() == cuts_before + 1);
      d->rig.reboot();
    }
    REQUIRE(run_to_end(*d, s) == Outcome::Done);
    check_end(*d, s);
    cuts_fired += d->rig.cuts();
    cuts_checked += s.cuts_checked;
  }
  WARN("random chains: " << kChains << " chains of 5 cuts, " << cuts_fired << " cut points tried");
  CHECK(cuts_fired == 5 * kChains);
  CHECK(cuts_checked == cuts_fired);
}

// ---------------------------------------------------------------------------
// Resume, refusals
// ---------------------------------------------------------------------------

TEST_CASE("slot writer: an interrupted download resumes instead of restarting", "[power]") {
  const Releases256& r = releases256();
  const Layout l;
  auto d = factory_device(l, r.v1);
  std::uint64_t clean_ops = 0;
  {
    auto probe = d->clone();
    Scenario s = scenario(r.v1, r.v2, false, Goal::Install, 1000);
    REQUIRE(run_to_end(*probe, s) == Outcome::Done);
    clean_ops = probe->rig.ops();
  }
  UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
  REQUIRE(agent.boot().status.ok());
  REQUIRE(agent.offer(r.v2.envelope).ok());
  const std::size_t half = r.v2.image.size() / 2 + 123;
  REQUIRE(agent.write(std::span(r.v2.image).first(half)).ok());
  const std::uint64_t ops_first_half = d->rig.ops();
  d->rig.cut_after(1, CutMode::Clean);
  CHECK(agent.write(std::span(r.v2.image).subspan(half, 4096)).error == AgentError::FlashFailed);
  CHECK(agent.write(std::span(r.v2.image).subspan(half, 4096)).error == AgentError::NeedsReboot);
  d->rig.reboot();

  UpdateAgent after(d->areas(), d->config(), crypto().verifier, kHardwareId);
  const BootOutcome b = after.boot();
  REQUIRE(b.status.ok());
  CHECK(b.action == BootAction{BootActionKind::BootNormal, SlotId::A});
  CHECK(after.record().state_of(SlotId::B) == SlotState::Writing);
  REQUIRE(after.offer(r.v2.envelope).ok());
  const std::uint32_t resume = after.resume_offset();
  CHECK(resume == half / l.sector * l.sector);  // the last complete sector
  const std::uint64_t ops_at_resume = d->rig.ops();
  REQUIRE(after.write(std::span(r.v2.image).subspan(resume)).ok());
  REQUIRE(after.finish().ok());
  REQUIRE(after.set_pending().ok());
  const std::uint64_t resumed_ops = d->rig.ops() - ops_at_resume;
  // The second half costs about half the operations of a whole download.
  CHECK(resumed_ops < clean_ops - ops_first_half / 2);
  UpdateAgent trial(d->areas(), d->config(), crypto().verifier, kHardwareId);
  const BootOutcome t = trial.boot();
  REQUIRE(t.status.ok());
  CHECK(t.action == BootAction{BootActionKind::BootTrial, SlotId::B});
  CHECK(digest_of_slot(d->slot_b, r.v2.slot_image().size) == r.v2.digest);
  REQUIRE(trial.report_healthy().ok());
  CHECK(trial.record().min_security_counter == 2);
  CHECK(d->violations() == 0);
}

TEST_CASE("update agent: refusals are results and change nothing they should not", "[power]") {
  const Releases256& r = releases256();
  const Layout l;

  SECTION("a blank device is not provisioned") {
    Device d(l);
    UpdateAgent agent(d.areas(), d.config(), crypto().verifier, kHardwareId);
    CHECK(agent.boot().status.error == AgentError::NotProvisioned);
    CHECK(agent.offer(r.v2.envelope).error == AgentError::NotProvisioned);
  }
  SECTION("A/B without slot B is a bad layout") {
    auto d = factory_device(l, r.v1);
    UpdateAgent agent(AgentAreas{d->boot, d->slot_a, nullptr}, d->config(), crypto().verifier, kHardwareId);
    CHECK(agent.boot().status.error == AgentError::BadLayout);
  }
  SECTION("tampered manifest, wrong hardware: rejected with the verifier's reason, nothing written") {
    auto d = factory_device(l, r.v1);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    const std::uint64_t ops = d->rig.ops();
    std::vector<std::uint8_t> tampered = r.v2.envelope;
    tampered[20] ^= 0x01;  // image_size
    const AgentStatus st = agent.offer(tampered);
    CHECK(st.error == AgentError::Rejected);
    CHECK(st.verdict == Verdict::BadSignature);
    UpdateAgent other_hw(d->areas(), d->config(), crypto().verifier, kHardwareId + 1);
    CHECK(other_hw.offer(r.v2.envelope).verdict == Verdict::WrongHardware);
    CHECK(d->rig.ops() == ops);
    CHECK(agent.write(r.v2.image).error == AgentError::WrongState);  // no install in progress
    CHECK(agent.finish().error == AgentError::WrongState);
  }
  SECTION("an image that does not match its manifest is refused at finish and never booted") {
    auto d = factory_device(l, r.v1);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    REQUIRE(agent.offer(r.v2.envelope).ok());
    std::vector<std::uint8_t> corrupt = r.v2.image;
    corrupt[100'000] ^= 0x80;
    CHECK(agent.finish().error == AgentError::Incomplete);
    CHECK(agent.write(std::span(corrupt).first(1000)).ok());
    CHECK(agent.write(corrupt).error == AgentError::Overflow);
    REQUIRE(agent.write(std::span(corrupt).subspan(1000)).ok());
    const AgentStatus st = agent.finish();
    CHECK(st.error == AgentError::Rejected);
    CHECK(st.verdict == Verdict::DigestMismatch);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Invalid);
    CHECK(agent.set_pending().error == AgentError::WrongState);
    UpdateAgent after(d->areas(), d->config(), crypto().verifier, kHardwareId);
    CHECK(after.boot().action == BootAction{BootActionKind::BootNormal, SlotId::A});
  }
  SECTION("a delta for another base image is refused before anything is written") {
    auto d = factory_device(l, r.v2);  // running v2, the patch expects v1
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    const AgentStatus st = agent.offer(r.v2.delta_envelope);
    CHECK(st.verdict == Verdict::DeltaBaseMismatch);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Empty);
  }
  SECTION("a corrupt patch fails the install; the full image still works afterwards") {
    auto d = factory_device(l, r.v1);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    REQUIRE(agent.offer(r.v2.delta_envelope).ok());
    std::vector<std::uint8_t> patch = r.v2.patch;
    patch[patch.size() / 2] ^= 0x40;
    AgentStatus st = agent.write_patch(patch);
    if (st.ok()) st = agent.finish();
    CHECK(st.error == AgentError::Rejected);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Invalid);
    REQUIRE(agent.offer(r.v2.envelope).ok());  // fall back to the full image
    REQUIRE(agent.write(r.v2.image).ok());
    REQUIRE(agent.finish().ok());
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Pending);
  }
  SECTION("no delta on a single partition, no install during a trial") {
    Layout single = l;
    single.scheme = PartitionScheme::SingleWithRecovery;
    auto d = factory_device(single, r.v1);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    CHECK(agent.offer(r.v2.delta_envelope).error == AgentError::Unsupported);

    auto ab = prepare_selected(l, r.v1, r.v2);
    UpdateAgent trial(ab->areas(), ab->config(), crypto().verifier, kHardwareId);
    REQUIRE(trial.boot().action.kind == BootActionKind::BootTrial);
    CHECK(trial.offer(r.v2.envelope).error == AgentError::WrongState);
  }
  SECTION("anti-rollback: once v2 is confirmed, v1 (lower counter) is refused") {
    auto d = prepare_selected(l, r.v1, r.v2);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    REQUIRE(agent.report_healthy().ok());
    CHECK(agent.offer(r.v1.envelope).verdict == Verdict::Downgrade);
  }
}

// ---------------------------------------------------------------------------
// What lands on flash, what a delta builds, re-provisioning, the progress log
// ---------------------------------------------------------------------------

namespace {

// A flash part that silently corrupts: it forwards everything to `inner` but
// lands the write covering byte `corrupt_at` with one bit of that byte
// flipped, and reports Ok.
class CorruptingFlash final : public FlashArea {
 public:
  CorruptingFlash(FlashArea& inner, std::uint32_t corrupt_at) : inner_(inner), corrupt_at_(corrupt_at) {}
  std::uint32_t size() const override { return inner_.size(); }
  std::uint32_t sector_size() const override { return inner_.sector_size(); }
  std::uint32_t write_alignment() const override { return inner_.write_alignment(); }
  std::uint8_t erased_value() const override { return inner_.erased_value(); }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    return inner_.read(offset, out);
  }
  FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) override {
    if (corrupted_ || corrupt_at_ < offset || corrupt_at_ - offset >= data.size()) return inner_.write(offset, data);
    std::vector<std::uint8_t> landed(data.begin(), data.end());
    landed[corrupt_at_ - offset] ^= 0x10;
    corrupted_ = true;
    return inner_.write(offset, landed);
  }
  FlashStatus erase_sector(std::uint32_t offset) override { return inner_.erase_sector(offset); }
  bool corrupted() const { return corrupted_; }

 private:
  FlashArea& inner_;
  std::uint32_t corrupt_at_;
  bool corrupted_ = false;
};

// A signed delta manifest for `image` whose patch is `patch` (which may build
// something else).
std::vector<std::uint8_t> delta_envelope_for(const Release& image, const Release& base,
                                             const std::vector<std::uint8_t>& patch) {
  Manifest m = manifest_of(image);
  m.delta = DeltaInfo{base.digest, static_cast<std::uint32_t>(patch.size()), Sha256::of(patch)};
  return sign_manifest(m, crypto().key).value();
}

std::vector<std::uint8_t> quick_delta(const std::vector<std::uint8_t>& from, const std::vector<std::uint8_t>& to) {
  DeltaOptions options;
  options.exhaustive = false;
  return encode_delta(from, to, options);
}

}  // namespace

TEST_CASE("update agent: finish checks what landed on flash, not what was handed to write", "[power]") {
  const Releases256& r = releases256();
  const Layout l;
  for (const bool delta : {false, true}) {
    INFO((delta ? "delta" : "full image") << " install over a slot that flips a bit of one write");
    auto d = factory_device(l, r.v1);
    CorruptingFlash slot_b(d->slot_b, 100'003);
    UpdateAgent agent(AgentAreas{d->boot, d->slot_a, &slot_b}, d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    REQUIRE(agent.offer(delta ? r.v2.delta_envelope : r.v2.envelope).ok());
    REQUIRE((delta ? agent.write_patch(r.v2.patch) : agent.write(r.v2.image)).ok());
    REQUIRE(slot_b.corrupted());
    const AgentStatus st = agent.finish();
    CHECK(st.error == AgentError::Rejected);
    CHECK(st.verdict == Verdict::DigestMismatch);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Invalid);
    // The session is over: a second finish() neither re-runs a finished check
    // nor changes anything.
    CHECK(agent.finish().error == AgentError::WrongState);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Invalid);
    CHECK(agent.set_pending().error == AgentError::WrongState);

    // The old image still runs, and the update succeeds once the flash behaves.
    UpdateAgent after(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(after.boot().action == BootAction{BootActionKind::BootNormal, SlotId::A});
    REQUIRE(after.offer(r.v2.envelope).ok());
    REQUIRE(after.write(r.v2.image).ok());
    REQUIRE(after.finish().ok());
    CHECK(after.record().state_of(SlotId::B) == SlotState::Pending);
    CHECK(d->violations() == 0);
  }
}

TEST_CASE("update agent: a signed delta that builds another image than the manifest's is refused", "[power]") {
  const Releases256& r = releases256();
  const Layout l;
  struct Case {
    const char* what;
    std::size_t size;  // of the image the patch really builds
    std::uint64_t seed;
  };
  for (const Case c : {Case{"same size, other bytes", 256 * 1024, 3}, Case{"shorter", 200 * 1024, 4},
                       Case{"longer", 260 * 1024, 5}}) {
    INFO(c.what);
    // A valid patch from v1, but to another image; the manifest names v2.
    const std::vector<std::uint8_t> other = evolve(r.v1.image, c.size, c.seed);
    REQUIRE(other != r.v2.image);
    const std::vector<std::uint8_t> patch = quick_delta(r.v1.image, other);
    const std::vector<std::uint8_t> envelope = delta_envelope_for(r.v2, r.v1, patch);

    auto d = factory_device(l, r.v1);
    UpdateAgent agent(d->areas(), d->config(), crypto().verifier, kHardwareId);
    REQUIRE(agent.boot().status.ok());
    REQUIRE(agent.offer(envelope).ok());  // manifest, key, patch size: all as signed
    AgentStatus st = agent.write_patch(patch);
    if (st.ok()) st = agent.finish();
    CHECK(st.error == AgentError::Rejected);
    CHECK(st.verdict == Verdict::DigestMismatch);
    CHECK(agent.record().state_of(SlotId::B) == SlotState::Invalid);
    CHECK(agent.finish().error == AgentError::WrongState);

    // The host-side check agrees, on the same bytes.
    CHECK(verify_artifact(crypto().verifier, envelope, patch, DeviceFacts{kHardwareId, 0, l.slot_size},
                          r.v1.image) == Verdict::DigestMismatch);
  }
}

TEST_CASE("boot store: a cut anywhere in re-provisioning leaves the previous record or the new one", "[power]") {
  const Layout l;
  StoredRecord previous;
  previous.record = factory_record(*pack_version(FirmwareVersion{1, 0, 0}), 3);
  StoredRecord fresh;
  fresh.record = factory_record(*pack_version(FirmwareVersion{2, 0, 0}), 1);  // a lower counter: a factory reset
  fresh.image[0] = SlotImage{1234, Digest{0xAB}};

  // The device's history: provisioned, then stored `stores` more times, so the
  // newest copy sits in either sector and an older one in the other.
  for (const int stores : {1, 2}) {
    for (CutMode mode : {CutMode::Clean, CutMode::Torn}) {
      INFO(stores << " stores before, " << mode_name(mode) << " cuts");
      auto make = [&](PowerRig& rig) {
        auto boot = std::make_unique<StrictFlash>(rig, 3 * l.sector, l.sector, l.alignment, l.erased);
        BootStore store(*boot, PartitionScheme::DualSlot);
        StoredRecord older = previous;
        older.install_id = 7;
        REQUIRE(store.provision(older).ok());
        for (int i = 0; i < stores; ++i) REQUIRE(store.store(i + 1 == stores ? previous : older).ok());
        return boot;
      };
      std::uint64_t ops = 0;
      {
        PowerRig rig;
        auto boot = make(rig);
        const std::uint64_t before = rig.ops();
        BootStore store(*boot, PartitionScheme::DualSlot);
        REQUIRE(store.provision(fresh).ok());
        ops = rig.ops() - before;
        StoredRecord loaded;
        BootStore reader(*boot, PartitionScheme::DualSlot);
        REQUIRE(reader.load(loaded).ok());
        CHECK(loaded == fresh);
        REQUIRE(reader.store(previous).ok());  // the store after provisioning outranks it again
        REQUIRE(BootStore(*boot, PartitionScheme::DualSlot).load(loaded).ok());
        CHECK(loaded == previous);
      }
      REQUIRE(ops > 0);
      std::uint64_t saw_previous = 0, saw_fresh = 0;
      for (std::uint64_t i = 1; i <= ops; ++i) {
        INFO("cut at operation " << i << " of " << ops);
        PowerRig rig;
        auto boot = make(rig);
        rig.seed(i);
        rig.cut_after(i, mode);
        BootStore store(*boot, PartitionScheme::DualSlot);
        const AgentStatus cut = store.provision(fresh);
        REQUIRE(rig.cuts() == 1);
        CHECK(cut.flash == FlashStatus::PowerLost);
        rig.reboot();
        StoredRecord loaded;
        const AgentStatus s = BootStore(*boot, PartitionScheme::DualSlot).load(loaded);
        REQUIRE(s.ok());  // never NotProvisioned: the previous record survives until the new one is whole
        REQUIRE((loaded == previous || loaded == fresh));
        (loaded == previous ? saw_previous : saw_fresh) += 1;
        // Provisioning again completes.
        REQUIRE(BootStore(*boot, PartitionScheme::DualSlot).provision(fresh).ok());
        REQUIRE(BootStore(*boot, PartitionScheme::DualSlot).load(loaded).ok());
        CHECK(loaded == fresh);
        CHECK(boot->violations() == 0);
      }
      CHECK(saw_previous + saw_fresh == ops);
      CHECK(saw_previous > 0);
    }
  }

  SECTION("a record of another scheme is outranked") {
    PowerRig rig;
    StrictFlash boot(rig, 3 * l.sector, l.sector, l.alignment, l.erased);
    BootStore single(boot, PartitionScheme::SingleWithRecovery);
    REQUIRE(single.provision(previous).ok());
    REQUIRE(single.store(previous).ok());
    REQUIRE(single.store(previous).ok());
    REQUIRE(BootStore(boot, PartitionScheme::DualSlot).provision(fresh).ok());
    StoredRecord loaded;
    REQUIRE(BootStore(boot, PartitionScheme::DualSlot).load(loaded).ok());
    CHECK(loaded == fresh);
    CHECK(BootStore(boot, PartitionScheme::SingleWithRecovery).load(loaded).error == AgentError::SchemeMismatch);
  }
}

TEST_CASE("progress log: no progress is nullopt, bound progress is an offset", "[power]") {
  const Layout l;
  PowerRig rig;
  StrictFlash boot(rig, 3 * l.sector, l.sector, l.alignment, l.erased);
  ProgressLog log(boot, kProgressLogSector * l.sector);
  std::optional<std::uint32_t> progress = 99;
  REQUIRE(log.scan(1, 8192, InstallKind::FullImage, progress).ok());
  CHECK_FALSE(progress.has_value());  // blank sector: no header
  CHECK(log.append(4096).error == AgentError::WrongState);

  REQUIRE(log.start(1, 8192, InstallKind::FullImage).ok());
  REQUIRE(log.scan(1, 8192, InstallKind::FullImage, progress).ok());
  CHECK(progress == std::optional<std::uint32_t>(0));  // this install, nothing written yet
  REQUIRE(log.append(4096).ok());
  REQUIRE(log.scan(1, 8192, InstallKind::FullImage, progress).ok());
  CHECK(progress == std::optional<std::uint32_t>(4096));
  // Another install, size or kind finds nothing of its own.
  REQUIRE(log.scan(2, 8192, InstallKind::FullImage, progress).ok());
  CHECK_FALSE(progress.has_value());
  REQUIRE(log.scan(1, 8193, InstallKind::FullImage, progress).ok());
  CHECK_FALSE(progress.has_value());
  REQUIRE(log.scan(1, 8192, InstallKind::Delta, progress).ok());
  CHECK_FALSE(progress.has_value());
}
