// Footprint images of the device agent (bench/RESULTS.md, "The agent on a
// device"): each image does one job the way a device would, so that the
// linker keeps exactly the code that job needs, and reports its peak stack
// (painting) and mbedTLS's peak heap. Built per configuration by
// tests/target/CMakeLists.txt:
//   OTA_FOOTPRINT_VERIFY   verify only: a signed manifest, then the SHA-256 of
//                          a 1 MiB image in flash (also the cycle counts);
//   OTA_FOOTPRINT_AGENT    UpdateAgent: boot, offer, write a full 64 KiB image,
//                          finish, set pending, trial boot, confirm; with
//                          OTA_AGENT_DELTA=1 the same update as a delta patch.
// The images to install are made on the target from the pattern the host's
// gen_target_vectors signed (make_image), so only manifests and the patch are
// embedded. Exits through semihosting: 0 only when the job succeeded.
#include <cstdint>
#include <new>
#include <span>

#include "footprint_vectors.hpp"
#include "ota/agent/port/nor_flash.hpp"
#include "ota/agent/port/qemu_board.hpp"
#include "ota/agent/update_agent.hpp"
#include "ota/agent/verifier.hpp"

using namespace ota::agent;
namespace board = ota::agent::port::qemu;
using ota::agent::port::NorFlash;

namespace {

constexpr std::uint32_t kDevice = 0xC3C3;
constexpr std::uint32_t kSector = 4096;

void make_image(std::span<std::uint8_t> out, std::uint8_t salt) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>((i * 131 + salt) ^ (i >> 7));
}

PublicKey device_key() {
  PublicKey k{};
  const auto b = OTA_BYTES(device_pub);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = b[i];
  return k;
}

std::uint8_t* const kFlash = reinterpret_cast<std::uint8_t*>(OTA_EMULATED_FLASH_BASE);

// Instructions from timer ticks: with -icount shift=0 one instruction is 1 ns.
unsigned long instructions(std::uint32_t ticks) {
  return static_cast<unsigned long>(std::uint64_t{ticks} * 1000000000u / board::ticks_per_second());
}

Verifier g_verifier;

#if defined(OTA_FOOTPRINT_VERIFY)

int run() {
  constexpr std::uint32_t kMib = 1024 * 1024;
  NorFlash slot(std::span(kFlash, kMib), kSector, 8);
  make_image(std::span(kFlash, kMib), 3);  // factory-programmed image
  if (g_verifier.trust(device_key()) != KeyStoreStatus::Ok) return 1;

  std::uint32_t t0 = board::ticks();
  const ManifestVerification mv = g_verifier.verify_manifest(OTA_BYTES(fp_env_mib), DeviceFacts{kDevice, 0, kMib});
  const std::uint32_t t_manifest = board::ticks() - t0;
  if (!mv.accepted()) return 2;

  t0 = board::ticks();
  Sha256 hash;
  if (hash_area(slot, hash) != FlashStatus::Ok) return 3;
  const bool digest_ok = hash.finish_equals(mv.parse.manifest.image_sha256);
  const std::uint32_t t_hash = board::ticks() - t0;
  if (!digest_ok) return 4;
  board::write("cycles(icount): verify_manifest (SHA-256 of the manifest + ECDSA P-256) ");
  board::write_number(instructions(t_manifest));
  board::write(" instructions; SHA-256 of 1 MiB from flash ");
  board::write_number(instructions(t_hash));
  board::write(" instructions\n");
  return 0;
}

#elif defined(OTA_FOOTPRINT_AGENT)

alignas(UpdateAgent) std::uint8_t g_agent_storage[sizeof(UpdateAgent)];

UpdateAgent& agent_over(const AgentAreas& areas) {
  return *new (g_agent_storage) UpdateAgent(areas, BootConfig{PartitionScheme::DualSlot, 3}, g_verifier, kDevice);
}

int run() {
  constexpr std::uint32_t kSlot = 20 * kSector, kImage = 64 * 1024;
  NorFlash boot(std::span(kFlash, 3 * kSector), kSector, 8);
  NorFlash slot_a(std::span(kFlash + 3 * kSector, kSlot), kSector, 8);
  NorFlash slot_b(std::span(kFlash + 3 * kSector + kSlot, kSlot), kSector, 8);
  boot.chip_erase();
  slot_a.chip_erase();
  slot_b.chip_erase();
  const AgentAreas areas{boot, slot_a, &slot_b};
  if (g_verifier.trust(device_key()) != KeyStoreStatus::Ok) return 1;

  // Factory: image v1 in slot A, provisioned.
  static std::uint8_t image[kImage];
  make_image(image, 1);
  slot_a.program(0, image);
  if (!UpdateAgent::provision(boot, BootConfig{PartitionScheme::DualSlot, 3}, FirmwareVersion{1, 0, 0}, 1,
                              SlotImage{kImage, Sha256::of(image)})
           .ok())
    return 2;

  UpdateAgent* agent = &agent_over(areas);
  if (!agent->boot().status.ok()) return 3;
#if OTA_AGENT_DELTA
  if (!agent->offer(OTA_BYTES(fp_env_delta)).ok()) return 4;
  const auto patch = OTA_BYTES(fp_patch);
  for (std::size_t at = 0; at < patch.size(); at += 512) {
    const std::size_t n = patch.size() - at < 512 ? patch.size() - at : 512;
    if (!agent->write_patch(patch.subspan(at, n)).ok()) return 5;
  }
#else
  // A full-image-only build refuses a delta release before touching flash.
  if (agent->offer(OTA_BYTES(fp_env_delta)).error != AgentError::Unsupported) return 10;
  if (!agent->offer(OTA_BYTES(fp_env_full)).ok()) return 4;
  make_image(image, 2);  // as it arrives from the network, in 1 KiB chunks
  for (std::size_t at = 0; at < kImage; at += 1024) {
    if (!agent->write(std::span(image).subspan(at, 1024)).ok()) return 5;
  }
#endif
  if (!agent->finish().ok()) return 6;
  if (!agent->set_pending().ok()) return 7;
  agent->~UpdateAgent();

  agent = &agent_over(areas);  // reboot
  const BootOutcome b = agent->boot();
  if (!b.status.ok() || b.action.kind != BootActionKind::BootTrial || b.action.slot != SlotId::B) return 8;
  if (!agent->report_healthy().ok()) return 9;
  board::write(OTA_AGENT_DELTA ? "installed and confirmed v1.1.0 (delta) in slot B\n"
                               : "installed and confirmed v1.1.0 (full image) in slot B\n");
  return 0;
}

#else
#error "define OTA_FOOTPRINT_VERIFY or OTA_FOOTPRINT_AGENT"
#endif

}  // namespace

int main() {
  board::paint_stack();
  const int rc = run();
  board::write("footprint " OTA_FOOTPRINT_NAME ": ");
  board::write(rc == 0 ? "ok" : "FAILED");
  board::write(" (code ");
  board::write_number(static_cast<unsigned long>(rc));
  board::write("); peak stack ");
  board::write_number(board::peak_stack());
  board::write(" bytes; crypto heap peak ");
  board::write_number(board::crypto_heap_peak());
  board::write(" of ");
  board::write_number(board::crypto_heap_size());
  board::write(" bytes; sizeof(UpdateAgent) ");
  board::write_number(sizeof(UpdateAgent));
  board::write(", sizeof(Verifier) ");
  board::write_number(sizeof(Verifier));
#if defined(OTA_FOOTPRINT_AGENT) && OTA_AGENT_DELTA
  board::write(", decoder arena ");
  board::write_number(DeltaApplier::kDecoderArenaBytes);
#endif
  board::write("\n");
  board::exit(rc);
}
