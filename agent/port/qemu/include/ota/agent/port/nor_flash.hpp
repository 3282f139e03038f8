// nor_flash.hpp — the QEMU port's flash: a FlashArea over a RAM region that
// behaves like NOR flash, and the device layout carved out of it.
//
// QEMU's mps2 boards have no writable flash model, so the port emulates one
// in RAM (the boards' 16 MiB PSRAM) with NOR's rules, enforced:
//   - erase_sector sets a whole sector to 0xFF (erased_value());
//   - a write can only clear bits: a byte that would need a 0 -> 1 change is
//     refused (NotErased) and nothing of the write lands;
//   - writes start and end on write_alignment(), erases on a sector (Misaligned);
//   - optionally (`strict`), like the host tests' StrictFlash, a byte may be
//     programmed once between erases, as on parts with ECC; this needs one
//     bit of bookkeeping per byte, provided by the caller.
// Every refused operation is counted (violations()), so a test can assert the
// agent never tried one.
//
// For the power-loss tests every erase/write can be numbered by a PowerCut
// shared by the areas of one device, which cuts power at a chosen operation:
// Clean (nothing lands) or Torn (a prefix lands), and every later operation,
// reads included, answers PowerLost until reboot(). A device build passes no
// PowerCut and pays one pointer test per operation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::port {

enum class CutMode : std::uint8_t { Clean, Torn };

class PowerCut {
 public:
  enum class Fate : std::uint8_t { Run, Fail, Tear };

  // Cuts power at the `op`-th erase/write from now (1 = the next one).
  void cut_after(std::uint64_t op, CutMode mode) {
    cut_at_ = ops_ + op;
    mode_ = mode;
  }
  void reboot() {
    powered_ = true;
    cut_at_.reset();
  }
  bool powered() const { return powered_; }
  std::uint64_t ops() const { return ops_; }
  std::uint64_t cuts() const { return cuts_; }
  void seed(std::uint64_t s) { rng_ = s | 1; }

  Fate next_op();
  // How many of `n` units of a torn operation land, in [1, n-1] (0 when n < 2).
  std::uint32_t torn_prefix(std::uint32_t n);

 private:
  bool powered_ = true;
  std::uint64_t ops_ = 0;
  std::uint64_t cuts_ = 0;
  std::optional<std::uint64_t> cut_at_;
  CutMode mode_ = CutMode::Clean;
  std::uint64_t rng_ = 12345;
};

class NorFlash final : public FlashArea {
 public:
  // `bytes`: the emulated area (size a whole number of sectors). `written`:
  // for strict mode, (bytes.size() + 7) / 8 bytes of bookkeeping; empty = NOR rules only.
  NorFlash(std::span<std::uint8_t> bytes, std::uint32_t sector_size, std::uint32_t write_alignment,
           PowerCut* cut = nullptr, std::span<std::uint8_t> written = {});

  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return sector_size_; }
  std::uint32_t write_alignment() const override { return alignment_; }
  std::uint8_t erased_value() const override { return 0xFF; }

  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override;
  FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) override;
  FlashStatus erase_sector(std::uint32_t offset) override;

  // Factory programming: no rules, no counting (a programmer on the bench).
  void program(std::uint32_t offset, std::span<const std::uint8_t> data);
  // Erases the whole area, rules and counters untouched (a chip erase on the bench).
  void chip_erase();
  std::span<const std::uint8_t> raw() const { return bytes_; }

  std::uint64_t erases() const { return erases_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t violations() const { return violations_; }

 private:
  bool powered() const { return cut_ == nullptr || cut_->powered(); }
  bool is_written(std::uint32_t i) const { return (written_[i >> 3] >> (i & 7)) & 1u; }
  void mark(std::uint32_t from, std::uint32_t n, bool written);
  FlashStatus violation(FlashStatus s) {
    ++violations_;
    return s;
  }

  std::span<std::uint8_t> bytes_;
  std::uint32_t sector_size_;
  std::uint32_t alignment_;
  PowerCut* cut_;
  std::span<std::uint8_t> written_;
  std::uint64_t erases_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t violations_ = 0;
};

}  // namespace ota::agent::port
