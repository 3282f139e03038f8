#include "ota/agent/boot_store.hpp"

#include <algorithm>
#include <cstring>

namespace ota::agent {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'O', 'T', 'B', 'R'};
constexpr std::uint32_t kCrcOffset = kBootCopySize - 4;

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

std::uint32_t round_up(std::uint32_t n, std::uint32_t align) { return (n + align - 1) / align * align; }

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
  put_u32(p + 8, sequence);
  put_u32(p + 12, rec.install_id);
  const BootRecord& r = rec.record;
  put_u32(p + 16, r.version[0]);
  put_u32(p + 20, r.version[1]);
  put_u32(p + 24, r.security_counter[0]);
  put_u32(p + 28, r.security_counter[1]);
  put_u32(p + 32, r.min_security_counter);
  p[36] = static_cast<std::uint8_t>(r.state[0]);
  p[37] = static_cast<std::uint8_t>(r.state[1]);
  p[38] = static_cast<std::uint8_t>(r.active);
  p[39] = r.trial_boots_left;
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    std::uint8_t* s = p + 40 + 36 * i;
    put_u32(s, rec.image[i].size);
    std::copy(rec.image[i].sha256.begin(), rec.image[i].sha256.end(), s + 4);
  }
  put_u32(p + kCrcOffset, crc32(std::span<const std::uint8_t>(p, kCrcOffset)));
  return b;
}

std::optional<DecodedBootCopy> decode_boot_copy(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kBootCopySize) return std::nullopt;
  const std::uint8_t* p = bytes.data();
  if (!std::equal(kMagic.begin(), kMagic.end(), p)) return std::nullopt;
  if (p[4] != kBootCopyFormat || p[6] != 0 || p[7] != 0) return std::nullopt;
  if (get_u32(p + kCrcOffset) != crc32(std::span<const std::uint8_t>(p, kCrcOffset))) return std::nullopt;
  if (p[5] >= kPartitionSchemeCount || p[36] >= kSlotStateCount || p[37] >= kSlotStateCount || p[38] >= kSlotCount) {
    return std::nullopt;
  }
  DecodedBootCopy d;
  d.scheme = static_cast<PartitionScheme>(p[5]);
  d.sequence = get_u32(p + 8);
  d.stored.install_id = get_u32(p + 12);
  BootRecord& r = d.stored.record;
  r.version = {get_u32(p + 16), get_u32(p + 20)};
  r.security_counter = {get_u32(p + 24), get_u32(p + 28)};
  r.min_security_counter = get_u32(p + 32);
  r.state = {static_cast<SlotState>(p[36]), static_cast<SlotState>(p[37])};
  r.active = static_cast<SlotId>(p[38]);
  r.trial_boots_left = p[39];
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    const std::uint8_t* s = p + 40 + 36 * i;
    d.stored.image[i].size = get_u32(s);
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
  if (round_up(kBootCopySize, align) > sector) return AgentStatus::failure(AgentError::BadLayout);
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

  const std::uint32_t padded = round_up(kBootCopySize, area_.write_alignment());
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
  // Sector 1 first: an old copy there must not outlive the new one.
  const FlashStatus fs = area_.erase_sector(area_.sector_size());
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
  AgentStatus s = write_copy(0, rec, 1);
  if (!s.ok()) return s;
  current_sector_ = 0;
  sequence_ = 1;
  return s;
}

}  // namespace ota::agent
