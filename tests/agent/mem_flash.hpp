// mem_flash.hpp — a plain in-memory FlashArea for tests that only need to read
// an image (the old image of a delta apply) or collect writes, without the
// power-loss machinery of strict_flash.hpp.
//
// The area is the image padded with the erased value up to a whole number of
// sectors, as a slot holding that image would be. fail_reads_from() makes every
// read that touches bytes at or after an offset fail, to test how callers
// handle a flash that stops answering.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::test {

class MemFlash final : public FlashArea {
 public:
  static constexpr std::uint32_t kSectorSize = 4096;

  explicit MemFlash(std::span<const std::uint8_t> image, std::uint32_t min_size = 0)
      : bytes_(round_up(std::max<std::size_t>(image.size(), min_size)), kErased) {
    std::copy(image.begin(), image.end(), bytes_.begin());
  }

  std::uint32_t size() const override { return static_cast<std::uint32_t>(bytes_.size()); }
  std::uint32_t sector_size() const override { return kSectorSize; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return kErased; }

  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    ++reads_;
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return FlashStatus::OutOfBounds;
    if (fail_from_ && offset + out.size() > *fail_from_) return fail_status_;
    std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return FlashStatus::Ok;
  }
  FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) override {
    if (offset > bytes_.size() || data.size() > bytes_.size() - offset) return FlashStatus::OutOfBounds;
    std::memcpy(bytes_.data() + offset, data.data(), data.size());
    return FlashStatus::Ok;
  }
  FlashStatus erase_sector(std::uint32_t offset) override {
    if (offset % kSectorSize != 0) return FlashStatus::Misaligned;
    if (offset >= bytes_.size()) return FlashStatus::OutOfBounds;
    std::fill_n(bytes_.begin() + offset, kSectorSize, kErased);
    return FlashStatus::Ok;
  }

  void fail_reads_from(std::uint32_t offset, FlashStatus status = FlashStatus::IoError) {
    fail_from_ = offset;
    fail_status_ = status;
  }
  std::uint64_t reads() const { return reads_; }
  std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  static constexpr std::uint8_t kErased = 0xff;
  static std::size_t round_up(std::size_t n) {
    return std::max<std::size_t>(kSectorSize, (n + kSectorSize - 1) / kSectorSize * kSectorSize);
  }

  std::vector<std::uint8_t> bytes_;
  std::optional<std::uint32_t> fail_from_;
  FlashStatus fail_status_ = FlashStatus::IoError;
  mutable std::uint64_t reads_ = 0;
};

}  // namespace ota::agent::test
