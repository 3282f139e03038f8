// Host port: a FlashArea backed by a file.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ota/agent/port/file_flash.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/update_agent.hpp"

using namespace ota::agent;
using ota::agent::port::FileFlash;
using ota::agent::port::FileFlashError;
using ota::agent::port::FileFlashMode;
using ota::agent::port::FlashGeometry;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("otasim-file-flash-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

const FlashGeometry kGeometry{8 * 1024, 1024, 8, 0xFF};

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}

}  // namespace

TEST_CASE("file flash: a created file is blank flash with NOR rules", "[file_flash]") {
  TempDir dir;
  auto created = FileFlash::create(dir.file("flash.bin"), kGeometry);
  REQUIRE(created.ok());
  FileFlash& f = *created.flash;
  CHECK(f.size() == kGeometry.size);
  CHECK(std::filesystem::file_size(dir.file("flash.bin")) == kGeometry.size);

  std::vector<std::uint8_t> all(f.size());
  REQUIRE(f.read(0, all) == FlashStatus::Ok);
  CHECK(std::all_of(all.begin(), all.end(), [](std::uint8_t b) { return b == 0xFF; }));

  const auto data = pattern(64, 3);
  CHECK(f.write(1024, data) == FlashStatus::Ok);
  std::vector<std::uint8_t> back(64);
  REQUIRE(f.read(1024, back) == FlashStatus::Ok);
  CHECK(back == data);

  CHECK(f.write(1024, data) == FlashStatus::NotErased);  // no rewrite without erase
  CHECK(f.write(1028, data) == FlashStatus::Misaligned);
  CHECK(f.write(8 * 1024 - 8, data) == FlashStatus::OutOfBounds);
  CHECK(f.read(8 * 1024 - 8, back) == FlashStatus::OutOfBounds);
  CHECK(f.erase_sector(100) == FlashStatus::Misaligned);
  CHECK(f.erase_sector(8 * 1024) == FlashStatus::OutOfBounds);

  REQUIRE(f.erase_sector(1024) == FlashStatus::Ok);
  REQUIRE(f.read(1024, back) == FlashStatus::Ok);
  CHECK(std::all_of(back.begin(), back.end(), [](std::uint8_t b) { return b == 0xFF; }));
  CHECK(f.write(1024, data) == FlashStatus::Ok);
}

TEST_CASE("file flash: contents persist across close and reopen, and areas at offsets are independent",
          "[file_flash]") {
  TempDir dir;
  const std::string path = dir.file("device.bin");
  const auto first = pattern(1024, 1);
  const auto second = pattern(1024, 2);
  {
    auto a = FileFlash::create(path, kGeometry, 0);
    REQUIRE(a.ok());
    // A second area later in the same file: opened over the grown file.
    REQUIRE(a.flash->write(0, first) == FlashStatus::Ok);
  }
  {
    // Grow the file for a second area at offset 8 KiB: create() would truncate, so extend by hand.
    std::ofstream grow(path, std::ios::binary | std::ios::app);
    const std::vector<char> blank(kGeometry.size, static_cast<char>(0xFF));
    grow.write(blank.data(), static_cast<std::streamsize>(blank.size()));
  }
  {
    auto b = FileFlash::open(path, kGeometry, kGeometry.size);
    REQUIRE(b.ok());
    REQUIRE(b.flash->write(0, second) == FlashStatus::Ok);
  }
  auto a = FileFlash::open(path, kGeometry, 0);
  auto b = FileFlash::open(path, kGeometry, kGeometry.size);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  std::vector<std::uint8_t> back(1024);
  REQUIRE(a.flash->read(0, back) == FlashStatus::Ok);
  CHECK(back == first);
  REQUIRE(b.flash->read(0, back) == FlashStatus::Ok);
  CHECK(back == second);
  REQUIRE(a.flash->erase_sector(0) == FlashStatus::Ok);
  REQUIRE(b.flash->read(0, back) == FlashStatus::Ok);
  CHECK(back == second);  // erasing area A did not touch area B
}

TEST_CASE("file flash: I/O problems are reported, not hidden", "[file_flash]") {
  TempDir dir;

  SECTION("missing file") {
    auto r = FileFlash::open(dir.file("nope.bin"), kGeometry);
    CHECK(r.error == FileFlashError::NotFound);
    CHECK_FALSE(r.flash);
    CHECK(r.message.find("nope.bin") != std::string::npos);
  }
  SECTION("a directory is not a flash file") {
    auto r = FileFlash::open(dir.file(""), kGeometry, 0, FileFlashMode::ReadOnly);
    CHECK_FALSE(r.ok());
    CHECK(r.error != FileFlashError::Ok);
  }
  SECTION("file shorter than the area") {
    { std::ofstream(dir.file("short.bin"), std::ios::binary) << "abc"; }
    CHECK(FileFlash::open(dir.file("short.bin"), kGeometry).error == FileFlashError::TooSmall);
  }
  SECTION("bad geometry") {
    CHECK(FileFlash::create(dir.file("g.bin"), FlashGeometry{1000, 1024, 8, 0xFF}).error ==
          FileFlashError::BadGeometry);
    CHECK(FileFlash::create(dir.file("g.bin"), FlashGeometry{4096, 1024, 3, 0xFF}).error ==
          FileFlashError::BadGeometry);
  }
  SECTION("read-only: reads work, writes and erases fail with IoError") {
    REQUIRE(FileFlash::create(dir.file("ro.bin"), kGeometry).ok());
    auto r = FileFlash::open(dir.file("ro.bin"), kGeometry, 0, FileFlashMode::ReadOnly);
    REQUIRE(r.ok());
    std::vector<std::uint8_t> buf(8);
    CHECK(r.flash->read(0, buf) == FlashStatus::Ok);
    CHECK(r.flash->write(0, buf) == FlashStatus::IoError);
    CHECK(r.flash->erase_sector(0) == FlashStatus::IoError);
    CHECK(r.flash->last_os_error() != 0);
  }
  SECTION("a file without write permission cannot be opened read-write") {
    REQUIRE(FileFlash::create(dir.file("perm.bin"), kGeometry).ok());
    std::filesystem::permissions(dir.file("perm.bin"), std::filesystem::perms::owner_read);
    if (::geteuid() == 0) {
      WARN("running as root: file permissions do not apply, permission check skipped");
    } else {
      CHECK(FileFlash::open(dir.file("perm.bin"), kGeometry).error == FileFlashError::PermissionDenied);
    }
  }
  SECTION("the file truncated behind the flash's back: I/O error, not stale data") {
    auto r = FileFlash::create(dir.file("t.bin"), kGeometry);
    REQUIRE(r.ok());
    std::filesystem::resize_file(dir.file("t.bin"), 2048);
    std::vector<std::uint8_t> buf(8);
    CHECK(r.flash->read(0, buf) == FlashStatus::Ok);
    CHECK(r.flash->read(4096, buf) == FlashStatus::IoError);
    CHECK(r.flash->write(4096, buf) == FlashStatus::IoError);
  }
}

TEST_CASE("file flash: an update agent updates a file that stands for a device's flash", "[file_flash]") {
  TempDir dir;
  const FlashGeometry boot_geo{3 * 4096, 4096, 8, 0xFF};
  const FlashGeometry slot_geo{16 * 4096, 4096, 8, 0xFF};
  const BootConfig config{PartitionScheme::DualSlot, 3};
  const auto key = SigningKey::generate_from_seed(std::uint64_t{99}).value();
  KeyStore keys;
  REQUIRE(keys.trust(key.public_key()) == KeyStoreStatus::Ok);
  Verifier verifier(keys);

  const auto old_image = pattern(40'000, 5);
  const auto new_image = pattern(45'001, 9);
  Manifest m;
  m.version = FirmwareVersion{2, 0, 0};
  m.security_counter = 4;
  m.hardware_ids[0] = 77;
  m.hardware_id_count = 1;
  m.image_size = static_cast<std::uint32_t>(new_image.size());
  m.image_sha256 = Sha256::of(new_image);
  const auto envelope = sign_manifest(m, key).value();

  {
    auto boot = FileFlash::create(dir.file("boot.bin"), boot_geo);
    auto a = FileFlash::create(dir.file("slot_a.bin"), slot_geo);
    auto b = FileFlash::create(dir.file("slot_b.bin"), slot_geo);
    REQUIRE((boot.ok() && a.ok() && b.ok()));
    REQUIRE(a.flash->write(0, old_image) == FlashStatus::Ok);  // 40000 is a multiple of 8
    REQUIRE(UpdateAgent::provision(*boot.flash, config, FirmwareVersion{1, 0, 0}, 3,
                                   SlotImage{40'000, Sha256::of(old_image)})
                .ok());
    UpdateAgent agent(AgentAreas{*boot.flash, *a.flash, b.flash.get()}, config, verifier, 77);
    REQUIRE(agent.boot().action == BootAction{BootActionKind::BootNormal, SlotId::A});
    REQUIRE(agent.offer(envelope).ok());
    REQUIRE(agent.write(std::span(new_image).first(20'000)).ok());
  }  // "power off": the process forgets everything but the files
  for (int power_cycle = 0; power_cycle < 2; ++power_cycle) {
    auto boot = FileFlash::open(dir.file("boot.bin"), boot_geo);
    auto a = FileFlash::open(dir.file("slot_a.bin"), slot_geo);
    auto b = FileFlash::open(dir.file("slot_b.bin"), slot_geo);
    REQUIRE((boot.ok() && a.ok() && b.ok()));
    UpdateAgent agent(AgentAreas{*boot.flash, *a.flash, b.flash.get()}, config, verifier, 77);
    const BootOutcome out = agent.boot();
    REQUIRE(out.status.ok());
    if (power_cycle == 0) {
      CHECK(out.action == BootAction{BootActionKind::BootNormal, SlotId::A});
      REQUIRE(agent.offer(envelope).ok());
      CHECK(agent.resume_offset() == 16'384);  // four complete sectors survived
      REQUIRE(agent.write(std::span(new_image).subspan(agent.resume_offset())).ok());
      REQUIRE(agent.finish().ok());
      REQUIRE(agent.set_pending().ok());
    } else {
      CHECK(out.action == BootAction{BootActionKind::BootTrial, SlotId::B});
      REQUIRE(agent.report_healthy().ok());
      std::vector<std::uint8_t> back(new_image.size());
      REQUIRE(b.flash->read(0, back) == FlashStatus::Ok);
      CHECK(back == new_image);
      CHECK(agent.record().min_security_counter == 4);
    }
  }
}
