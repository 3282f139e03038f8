// strict_flash.hpp — a fake NOR flash for the power-loss tests.
//
// StrictFlash is stricter than most real parts, so that an agent that passes
// against it is safe on them:
//   - a write must start and end on the write alignment (Misaligned);
//   - a write may only touch bytes that were erased and not written since
//     (NotErased) — even a byte written with the erased value counts as
//     written, as on flash with ECC that cannot program a word twice;
//   - an erase must start on a sector (Misaligned).
// Every refused operation is also counted as a violation, so a test can assert
// that the agent never even tried one.
//
// All areas of one simulated device share a PowerRig that numbers their erase
// and write operations (reads are not counted) and cuts the power at a chosen
// operation: that operation fails with PowerLost — in Clean mode nothing of it
// lands, in Torn mode only a prefix lands (part of the bytes of a write, part
// of a sector of an erase) — and every later operation, reads included, fails
// with PowerLost until reboot(). A torn write marks its whole range as
// written: the agent must never write there again without an erase.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::test {

enum class CutMode : std::uint8_t { Clean, Torn };

class PowerRig {
 public:
  enum class Fate : std::uint8_t { Run, Fail, Tear };

  // Cuts the power at the `op`-th erase/write from now (1 = the next one).
  void cut_after(std::uint64_t op, CutMode mode) {
    cut_at_ = ops_ + op;
    mode_ = mode;
  }
  void disarm() { cut_at_.reset(); }
  // Restores power (the device reboots); no cut is armed afterwards.
  void reboot() {
    powered_ = true;
    cut_at_.reset();
  }
  bool powered() const { return powered_; }
  // Erase/write operations attempted while powered (the cut one included).
  std::uint64_t ops() const { return ops_; }
  std::uint64_t cuts() const { return cuts_; }
  // Seeds the choice of how much of a torn operation lands.
  void seed(std::uint64_t s) { rng_.seed(s); }

  // For StrictFlash: the fate of the next operation.
  Fate next_op() {
    ++ops_;
    if (!cut_at_ || ops_ != *cut_at_) return Fate::Run;
    powered_ = false;
    cut_at_.reset();
    ++cuts_;
    return mode_ == CutMode::Torn ? Fate::Tear : Fate::Fail;
  }
  // For StrictFlash: how many of `n` units of a torn operation land, in [1, n-1] (0 when n < 2).
  std::size_t torn_prefix(std::size_t n) {
    if (n < 2) return 0;
    return std::uniform_int_distribution<std::size_t>(1, n - 1)(rng_);
  }

 private:
  bool powered_ = true;
  std::uint64_t ops_ = 0;
  std::uint64_t cuts_ = 0;
  std::optional<std::uint64_t> cut_at_;
  CutMode mode_ = CutMode::Clean;
  std::mt19937_64 rng_{12345};
};

class StrictFlash final : public FlashArea {
 public:
  StrictFlash(PowerRig& rig, std::uint32_t size, std::uint32_t sector_size, std::uint32_t write_alignment,
              std::uint8_t erased_value = 0xFF)
      : rig_(rig),
        sector_size_(sector_size),
        alignment_(write_alignment),
        erased_(erased_value),
        bytes_(size, erased_value),
        written_(size, false) {}

  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return sector_size_; }
  std::uint32_t write_alignment() const override { return alignment_; }
  std::uint8_t erased_value() const override { return erased_; }

  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (!rig_.powered()) return FlashStatus::PowerLost;
    if (offset > size() || out.size() > size() - offset) return FlashStatus::OutOfBounds;
    std::copy_n(bytes_.begin() + offset, out.size(), out.begin());
    return FlashStatus::Ok;
  }

  FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) override {
    if (!rig_.powered()) return FlashStatus::PowerLost;
    if (offset > size() || data.size() > size() - offset) return violation(FlashStatus::OutOfBounds);
    if (offset % alignment_ != 0 || data.size() % alignment_ != 0) return violation(FlashStatus::Misaligned);
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (written_[offset + i]) return violation(FlashStatus::NotErased);
    }
    const PowerRig::Fate fate = rig_.next_op();
    ++writes_;
    if (fate == PowerRig::Fate::Fail) return FlashStatus::PowerLost;
    const std::size_t lands = fate == PowerRig::Fate::Tear ? rig_.torn_prefix(data.size()) : data.size();
    std::copy_n(data.begin(), lands, bytes_.begin() + offset);
    std::fill_n(written_.begin() + offset, data.size(), true);
    return fate == PowerRig::Fate::Tear ? FlashStatus::PowerLost : FlashStatus::Ok;
  }

  FlashStatus erase_sector(std::uint32_t offset) override {
    if (!rig_.powered()) return FlashStatus::PowerLost;
    if (offset >= size()) return violation(FlashStatus::OutOfBounds);
    if (offset % sector_size_ != 0) return violation(FlashStatus::Misaligned);
    const PowerRig::Fate fate = rig_.next_op();
    ++erases_;
    if (fate == PowerRig::Fate::Fail) return FlashStatus::PowerLost;
    const std::size_t lands = fate == PowerRig::Fate::Tear ? rig_.torn_prefix(sector_size_) : sector_size_;
    std::fill_n(bytes_.begin() + offset, lands, erased_);
    std::fill_n(written_.begin() + offset, lands, false);
    return fate == PowerRig::Fate::Tear ? FlashStatus::PowerLost : FlashStatus::Ok;
  }

  // Factory programming (no power, counting or rules): `data` at `offset`.
  void program(std::uint32_t offset, std::span<const std::uint8_t> data) {
    std::copy(data.begin(), data.end(), bytes_.begin() + offset);
    std::fill_n(written_.begin() + offset, data.size(), true);
  }
  // Copies another area's contents and erase state (same geometry), not its counters.
  void copy_from(const StrictFlash& other) {
    bytes_ = other.bytes_;
    written_ = other.written_;
  }
  // The raw bytes, as a probe on the chip would read them.
  std::span<const std::uint8_t> raw() const { return bytes_; }
  std::span<std::uint8_t> raw_mut() { return bytes_; }

  std::uint64_t erases() const { return erases_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t violations() const { return violations_; }

 private:
  FlashStatus violation(FlashStatus s) {
    ++violations_;
    return s;
  }

  PowerRig& rig_;
  std::uint32_t sector_size_;
  std::uint32_t alignment_;
  std::uint8_t erased_;
  std::vector<std::uint8_t> bytes_;
  std::vector<bool> written_;
  std::uint64_t erases_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t violations_ = 0;
};

}  // namespace ota::agent::test
