// byte_area.hpp — a read-only FlashArea over bytes already in memory.
//
// For host tools and the simulator, which hold an image in RAM and hand it to
// agent code that reads through FlashArea (the delta applier, the streaming
// verifier). Writes and erases fail with IoError. At most 4 GiB - 1 bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "ota/agent/flash_area.hpp"

namespace ota::agent {

class ByteArea final : public FlashArea {
 public:
  explicit ByteArea(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return 1; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xFF; }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return FlashStatus::OutOfBounds;
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return FlashStatus::Ok;
  }
  FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override { return FlashStatus::IoError; }
  FlashStatus erase_sector(std::uint32_t) override { return FlashStatus::IoError; }

 private:
  std::span<const std::uint8_t> bytes_;
};

}  // namespace ota::agent
