#include "ota/agent/port/nor_flash.hpp"

#include <cstring>

namespace ota::agent::port {

PowerCut::Fate PowerCut::next_op() {
  ++ops_;
  if (!cut_at_ || ops_ != *cut_at_) return Fate::Run;
  powered_ = false;
  cut_at_.reset();
  ++cuts_;
  return mode_ == CutMode::Torn ? Fate::Tear : Fate::Fail;
}

std::uint32_t PowerCut::torn_prefix(std::uint32_t n) {
  if (n < 2) return 0;
  rng_ ^= rng_ << 13;  // xorshift64: deterministic per seed
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return 1 + static_cast<std::uint32_t>(rng_ % (n - 1));
}

NorFlash::NorFlash(std::span<std::uint8_t> bytes, std::uint32_t sector_size, std::uint32_t write_alignment,
                   PowerCut* cut, std::span<std::uint8_t> written)
    : bytes_(bytes), sector_size_(sector_size), alignment_(write_alignment), cut_(cut), written_(written) {}

FlashStatus NorFlash::read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  if (!powered()) return FlashStatus::PowerLost;
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return FlashStatus::OutOfBounds;
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return FlashStatus::Ok;
}

FlashStatus NorFlash::write(std::uint32_t offset, std::span<const std::uint8_t> data) {
  if (!powered()) return FlashStatus::PowerLost;
  if (offset > bytes_.size() || data.size() > bytes_.size() - offset) return violation(FlashStatus::OutOfBounds);
  if (offset % alignment_ != 0 || data.size() % alignment_ != 0) return violation(FlashStatus::Misaligned);
  const auto n = static_cast<std::uint32_t>(data.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    // NOR programs by clearing bits: a 1 where the flash holds 0 cannot be made.
    if ((bytes_[offset + i] & data[i]) != data[i]) return violation(FlashStatus::NotErased);
    if (!written_.empty() && is_written(offset + i)) return violation(FlashStatus::NotErased);
  }
  PowerCut::Fate fate = PowerCut::Fate::Run;
  if (cut_ != nullptr) fate = cut_->next_op();
  ++writes_;
  if (fate == PowerCut::Fate::Fail) return FlashStatus::PowerLost;
  const std::uint32_t lands = fate == PowerCut::Fate::Tear ? cut_->torn_prefix(n) : n;
  for (std::uint32_t i = 0; i < lands; ++i) bytes_[offset + i] &= data[i];
  if (!written_.empty()) mark(offset, n, true);  // a torn range is spent until erased
  return fate == PowerCut::Fate::Tear ? FlashStatus::PowerLost : FlashStatus::Ok;
}

FlashStatus NorFlash::erase_sector(std::uint32_t offset) {
  if (!powered()) return FlashStatus::PowerLost;
  if (offset >= bytes_.size()) return violation(FlashStatus::OutOfBounds);
  if (offset % sector_size_ != 0) return violation(FlashStatus::Misaligned);
  PowerCut::Fate fate = PowerCut::Fate::Run;
  if (cut_ != nullptr) fate = cut_->next_op();
  ++erases_;
  if (fate == PowerCut::Fate::Fail) return FlashStatus::PowerLost;
  const std::uint32_t lands = fate == PowerCut::Fate::Tear ? cut_->torn_prefix(sector_size_) : sector_size_;
  std::memset(bytes_.data() + offset, 0xFF, lands);
  if (!written_.empty()) mark(offset, lands, false);
  return fate == PowerCut::Fate::Tear ? FlashStatus::PowerLost : FlashStatus::Ok;
}

void NorFlash::program(std::uint32_t offset, std::span<const std::uint8_t> data) {
  std::memcpy(bytes_.data() + offset, data.data(), data.size());
  if (!written_.empty()) mark(offset, static_cast<std::uint32_t>(data.size()), true);
}

void NorFlash::chip_erase() {
  std::memset(bytes_.data(), 0xFF, bytes_.size());
  if (!written_.empty()) std::memset(written_.data(), 0, written_.size());
}

void NorFlash::mark(std::uint32_t from, std::uint32_t n, bool written) {
  for (std::uint32_t i = from; i < from + n; ++i) {
    const auto bit = static_cast<std::uint8_t>(1u << (i & 7));
    if (written)
      written_[i >> 3] |= bit;
    else
      written_[i >> 3] &= static_cast<std::uint8_t>(~bit);
  }
}

}  // namespace ota::agent::port
