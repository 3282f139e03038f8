// bytes_area.hpp — a read-only FlashArea over bytes in memory, exactly their
// size (unlike MemFlash, which pads to whole sectors as a slot would): the
// shape of an input file as `otasign` hands it to the agent. It can be told to
// fail every read that reaches past some offset.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::test {

class BytesArea final : public FlashArea {
 public:
  explicit BytesArea(const std::vector<std::uint8_t>& bytes) : bytes_(bytes) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return 1; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xFF; }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return FlashStatus::OutOfBounds;
    if (fail_from_ && offset + out.size() > *fail_from_) return FlashStatus::IoError;
    std::copy_n(bytes_.begin() + offset, out.size(), out.begin());
    return FlashStatus::Ok;
  }
  FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override { return FlashStatus::IoError; }
  FlashStatus erase_sector(std::uint32_t) override { return FlashStatus::IoError; }

  void fail_reads_from(std::uint32_t offset) { fail_from_ = offset; }
  void heal() { fail_from_.reset(); }

 private:
  const std::vector<std::uint8_t>& bytes_;
  std::optional<std::uint32_t> fail_from_;
};

}  // namespace ota::agent::test
