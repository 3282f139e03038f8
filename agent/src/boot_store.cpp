#include "ota/agent/boot_store.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "detail/bytes.hpp"

namespace ota::agent {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'O', 'T', 'B', 'R'};
constexpr std::uint32_t kCrcOffset = kBootCopySize - 4;

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  crc = ~crc;
  for (std::uint8_t b : bytes) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::array<std::uint8_t, kBootCopySize> encode_boot_copy(const StoredRecord& rec, std::uint32_t sequence,
                                                         PartitionScheme scheme) {
  std::array<std::uint8_t, kBootCopySize> b{};
  std::uint8_t* p = b.data();
  std::copy(kMagic.begin(), kMagic.end(), p);
  p[4] = kBootCopyFormat;
  p[5] = static_cast<std::uint8_t>(scheme);
  detail::store_u32(p + 8, sequence);
  detail::store_u32(p + 12, rec.install_id);
  const BootRecord& r = rec.record;
  detail::store_u32(p + 16, r.version[0]);
  detail::store_u32(p + 20, r.version[1]);
  detail::store_u32(p + 24, r.security_counter[0]);
  detail::store_u32(p + 28, r.security_counter[1]);
  detail::store_u32(p + 32, r.min_security_counter);
  p[36] = static_cast<std::uint8_t>(r.state[0]);
  p[37] = static_cast<std::uint8_t>(r.state[1]);
  p[38] = static_cast<std::uint8_t>(r.active);
  p[39] = r.trial_boots_left;
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    std::uint8_t* s = p + 40 + 36 * i;
    detail::store_u32(s, rec.image[i].size);
    std::copy(rec.image[i].sha256.begin(), rec.image[i].sha256.end(), s + 4);
  }
  detail::store_u32(p + kCrcOffset, crc32(std::span<const std::uint8_t>(p, kCrcOffset)));
  return b;
}

std::optional<DecodedBootCopy> decode_boot_copy(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kBootCopySize) return std::nullopt;
  const std::uint8_t* p = bytes.data();
  if (!std::equal(kMagic.begin(), kMagic.end(), p)) return std::nullopt;
  if (p[4] != kBootCopyFormat || p[6] != 0 || p[7] != 0) return std::nullopt;
  if (detail::load_u32(p + kCrcOffset) != crc32(std::span<const std::uint8_t>(p, kCrcOffset))) return std::nullopt;
  if (p[5] >= kPartitionSchemeCount || p[36] >= kSlotStateCount || p[37] >= kSlotStateCount || p[38] >= kSlotCount) {
    return std::nullopt;
  }
  DecodedBootCopy d;
  d.scheme = static_cast<PartitionScheme>(p[5]);
  d.sequence = detail::load_u32(p + 8);
  d.stored.install_id = detail::load_u32(p + 12);
  BootRecord& r = d.stored.record;
  r.version = {detail::load_u32(p + 16), detail::load_u32(p + 20)};
  r.security_counter = {detail::load_u32(p + 24), detail::load_u32(p + 28)};
  r.min_security_counter = detail::load_u32(p + 32);
  r.state = {static_cast<SlotState>(p[36]), static_cast<SlotState>(p[37])};
  r.active = static_cast<SlotId>(p[38]);
  r.trial_boots_left = p[39];
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    const std::uint8_t* s = p + 40 + 36 * i;
    d.stored.image[i].size = detail::load_u32(s);
    std::copy(s + 4, s + 36, d.stored.image[i].sha256.begin());
  }
  return d;
}

AgentStatus BootStore::check_layout(const FlashArea& area) {
  const std::uint32_t sector = area.sector_size();
  const std::uint32_t align = area.write_alignment();
  if (sector == 0 || align == 0 || align > kMaxWriteAlignment || sector % align != 0) {
    return AgentStatus::failure(AgentError::BadLayout);
  }
  if (area.size() / sector < kBootAreaMinSectors) return AgentStatus::failure(AgentError::BadLayout);
  if (detail::round_up(kBootCopySize, align) > sector) return AgentStatus::failure(AgentError::BadLayout);
  return AgentStatus::success();
}

AgentStatus BootStore::load(StoredRecord& out) {
  if (AgentStatus s = check_layout(area_); !s.ok()) return s;
  std::optional<DecodedBootCopy> best;
  std::uint32_t best_sector = 0;
  std::array<std::uint8_t, kBootCopySize> buf{};
  for (std::uint32_t sector = 0; sector < 2; ++sector) {
    const FlashStatus fs = area_.read(sector * area_.sector_size(), buf);
    if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
    std::optional<DecodedBootCopy> d = decode_boot_copy(buf);
    // Equal sequence numbers cannot be produced by store(); prefer sector 0 then.
    if (d && (!best || d->sequence > best->sequence)) {
      best = d;
      best_sector = sector;
    }
  }
  if (!best) {
    sequence_ = 0;
    current_sector_.reset();
    return AgentStatus::failure(AgentError::NotProvisioned);
  }
  if (best->scheme != scheme_) return AgentStatus::failure(AgentError::SchemeMismatch);
  sequence_ = best->sequence;
  current_sector_ = best_sector;
  out = best->stored;
  return AgentStatus::success();
}

AgentStatus BootStore::write_copy(std::uint32_t sector, const StoredRecord& rec, std::uint32_t sequence) {
  const std::uint32_t offset = sector * area_.sector_size();
  FlashStatus fs = area_.erase_sector(offset);
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);

  const std::uint32_t padded = detail::round_up(kBootCopySize, area_.write_alignment());
  std::array<std::uint8_t, kBootCopySize + kMaxWriteAlignment> buf{};
  std::fill(buf.begin(), buf.end(), area_.erased_value());
  const std::array<std::uint8_t, kBootCopySize> copy = encode_boot_copy(rec, sequence, scheme_);
  std::copy(copy.begin(), copy.end(), buf.begin());
  fs = area_.write(offset, std::span<const std::uint8_t>(buf.data(), padded));
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);

  // Read back: a copy that does not read as written must not be trusted.
  std::array<std::uint8_t, kBootCopySize> check{};
  fs = area_.read(offset, check);
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
  if (check != copy) return AgentStatus::flash_failed(FlashStatus::IoError);
  return AgentStatus::success();
}

AgentStatus BootStore::store(const StoredRecord& rec) {
  if (!current_sector_) return AgentStatus::failure(AgentError::WrongState);
  const std::uint32_t target = 1 - *current_sector_;
  const std::uint32_t next_sequence = sequence_ + 1;
  AgentStatus s = write_copy(target, rec, next_sequence);
  if (!s.ok()) {
    // Which copy is current is now unknown to us (the write may have landed):
    // force a load() before the next store().
    current_sector_.reset();
    return s;
  }
  current_sector_ = target;
  sequence_ = next_sequence;
  return s;
}

AgentStatus BootStore::provision(const StoredRecord& rec) {
  if (AgentStatus s = check_layout(area_); !s.ok()) return s;
  current_sector_.reset();
  sequence_ = 0;
  // The new record must outrank every valid copy already there (whatever
  // scheme wrote it), and must not overwrite the newest one: then a cut at any
  // point leaves either that copy or the new record, never a mix and never an
  // older copy.
  std::optional<std::uint32_t> newest_sector;
  std::uint32_t newest_sequence = 0;
  std::array<std::uint8_t, kBootCopySize> buf{};
  for (std::uint32_t sector = 0; sector < 2; ++sector) {
    const FlashStatus fs = area_.read(sector * area_.sector_size(), buf);
    if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
    const std::optional<DecodedBootCopy> d = decode_boot_copy(buf);
    if (d && (!newest_sector || d->sequence > newest_sequence)) {
      newest_sector = sector;
      newest_sequence = d->sequence;
    }
  }
  // A sequence at the very top cannot be outranked; no store() ever gets
  // there (2^32 stores), so only a forged or foreign copy can: refuse it.
  if (newest_sequence == std::numeric_limits<std::uint32_t>::max()) return AgentStatus::failure(AgentError::BadLayout);
  const std::uint32_t target = newest_sector ? 1 - *newest_sector : 0;
  const std::uint32_t sequence = newest_sequence + 1;
  AgentStatus s = write_copy(target, rec, sequence);
  if (!s.ok()) return s;
  current_sector_ = target;
  sequence_ = sequence;
  return s;
}

}  // namespace ota::agent
