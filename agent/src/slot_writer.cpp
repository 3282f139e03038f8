#include "ota/agent/slot_writer.hpp"

#include <algorithm>

#include "detail/bytes.hpp"

namespace ota::agent {

namespace {

constexpr std::array<std::uint8_t, 4> kLogMagic{'O', 'T', 'P', 'L'};
constexpr std::uint32_t kLogHeaderSize = 20;
constexpr std::uint32_t kLogEntrySize = 12;
constexpr std::uint8_t kEntryMarkerMask = 0xA5;

std::uint32_t entry_crc(std::uint32_t install_id, const std::uint8_t* entry) {
  std::array<std::uint8_t, 4> id{};
  detail::store_u32(id.data(), install_id);
  return crc32(std::span<const std::uint8_t>(entry, 8), crc32(id));
}

bool geometry_ok(const FlashArea& area) {
  const std::uint32_t align = area.write_alignment();
  const std::uint32_t sector = area.sector_size();
  return align != 0 && align <= kMaxWriteAlignment && sector != 0 && sector % align == 0 && area.size() % sector == 0;
}

}  // namespace

// --- ProgressLog -------------------------------------------------------------

std::uint32_t ProgressLog::header_span() const { return detail::round_up(kLogHeaderSize, area_.write_alignment()); }
std::uint32_t ProgressLog::entry_span() const { return detail::round_up(kLogEntrySize, area_.write_alignment()); }

std::uint32_t ProgressLog::capacity() const {
  if (!geometry_ok(area_) || header_span() > area_.sector_size()) return 0;
  return (area_.sector_size() - header_span()) / entry_span();
}

AgentStatus ProgressLog::start(std::uint32_t install_id, std::uint32_t image_size, InstallKind kind) {
  bound_ = false;
  if (!geometry_ok(area_) || header_span() > area_.sector_size()) return AgentStatus::failure(AgentError::BadLayout);
  FlashStatus fs = area_.erase_sector(sector_offset_);
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);

  std::array<std::uint8_t, kLogHeaderSize + kMaxWriteAlignment> buf{};
  std::fill(buf.begin(), buf.end(), area_.erased_value());
  std::uint8_t* p = buf.data();
  std::copy(kLogMagic.begin(), kLogMagic.end(), p);
  detail::store_u32(p + 4, install_id);
  detail::store_u32(p + 8, image_size);
  p[12] = static_cast<std::uint8_t>(kind);
  p[13] = p[14] = p[15] = 0;
  detail::store_u32(p + 16, crc32(std::span<const std::uint8_t>(p, 16)));
  fs = area_.write(sector_offset_, std::span<const std::uint8_t>(p, header_span()));
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);

  bound_ = true;
  install_id_ = install_id;
  next_entry_ = 0;
  return AgentStatus::success();
}

AgentStatus ProgressLog::scan(std::uint32_t install_id, std::uint32_t image_size, InstallKind kind,
                              std::optional<std::uint32_t>& progress) {
  progress.reset();
  bound_ = false;
  if (!geometry_ok(area_) || header_span() > area_.sector_size()) return AgentStatus::failure(AgentError::BadLayout);

  std::array<std::uint8_t, kLogHeaderSize> header{};
  FlashStatus fs = area_.read(sector_offset_, header);
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
  const std::uint8_t* h = header.data();
  const bool header_ok = std::equal(kLogMagic.begin(), kLogMagic.end(), h) &&
                         detail::load_u32(h + 16) == crc32(std::span<const std::uint8_t>(h, 16)) &&
                         detail::load_u32(h + 4) == install_id && detail::load_u32(h + 8) == image_size &&
                         h[12] == static_cast<std::uint8_t>(kind) && h[13] == 0 && h[14] == 0 && h[15] == 0;
  if (!header_ok) return AgentStatus::success();

  const std::uint8_t erased = area_.erased_value();
  const std::uint8_t marker = static_cast<std::uint8_t>(erased ^ kEntryMarkerMask);
  const std::uint32_t span = entry_span();
  const std::uint32_t cap = capacity();
  std::array<std::uint8_t, kLogEntrySize + kMaxWriteAlignment> entry{};
  std::uint32_t offset = 0;
  std::uint32_t k = 0;
  for (; k < cap; ++k) {
    const std::uint32_t at = sector_offset_ + header_span() + k * span;
    fs = area_.read(at, std::span<std::uint8_t>(entry.data(), span));
    if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
    const auto used = std::span<const std::uint8_t>(entry.data(), span);
    if (std::all_of(used.begin(), used.end(), [erased](std::uint8_t b) { return b == erased; })) break;
    const std::uint8_t* e = entry.data();
    const bool valid = e[0] == marker && e[1] == 0 && e[2] == 0 && e[3] == 0 &&
                       detail::load_u32(e + 8) == entry_crc(install_id, e);
    if (valid) offset = std::max(offset, detail::load_u32(e + 4));
    // A torn entry is skipped; its space is used up.
  }
  progress = offset;
  bound_ = true;
  install_id_ = install_id;
  next_entry_ = k;
  return AgentStatus::success();
}

AgentStatus ProgressLog::append(std::uint32_t offset) {
  if (!bound_) return AgentStatus::failure(AgentError::WrongState);
  if (next_entry_ >= capacity()) return AgentStatus::success();  // full: checkpoint skipped
  const std::uint32_t span = entry_span();
  std::array<std::uint8_t, kLogEntrySize + kMaxWriteAlignment> entry{};
  std::fill(entry.begin(), entry.end(), area_.erased_value());
  std::uint8_t* e = entry.data();
  e[0] = static_cast<std::uint8_t>(area_.erased_value() ^ kEntryMarkerMask);
  e[1] = e[2] = e[3] = 0;
  detail::store_u32(e + 4, offset);
  detail::store_u32(e + 8, entry_crc(install_id_, e));
  const std::uint32_t at = sector_offset_ + header_span() + next_entry_ * span;
  ++next_entry_;  // even when the write fails: a torn entry uses up its space
  const FlashStatus fs = area_.write(at, std::span<const std::uint8_t>(e, span));
  if (fs != FlashStatus::Ok) return AgentStatus::flash_failed(fs);
  return AgentStatus::success();
}

// --- SlotWriter --------------------------------------------------------------

AgentStatus SlotWriter::setup(FlashArea& slot, std::uint32_t image_size, InstallKind kind) {
  active_ = false;
  faulted_ = false;
  slot_ = &slot;
  if (!geometry_ok(slot)) return AgentStatus::failure(AgentError::BadLayout);
  if (image_size == 0 || image_size > slot.size()) return AgentStatus::failure(AgentError::TooLarge);
  const std::uint32_t sector = slot.sector_size();
  const std::uint32_t image_sectors = (image_size + sector - 1) / sector;
  // One entry stays free for the final checkpoint.
  const std::uint32_t cap = log_.capacity();
  checkpoint_sectors_ = cap >= 2 ? std::max<std::uint32_t>(1, (image_sectors + cap - 2) / (cap - 1)) : image_sectors;
  image_size_ = image_size;
  kind_ = kind;
  tail_size_ = 0;
  accepted_ = written_ = erased_until_ = 0;
  last_checkpoint_ = 0;
  return AgentStatus::success();
}

AgentStatus SlotWriter::begin(FlashArea& slot, std::uint32_t install_id, std::uint32_t image_size,
                              InstallKind kind) {
  if (AgentStatus s = setup(slot, image_size, kind); !s.ok()) return s;
  if (AgentStatus s = log_.start(install_id, image_size, kind); !s.ok()) return fail(s);
  active_ = true;
  return AgentStatus::success();
}

AgentStatus SlotWriter::resume(FlashArea& slot, std::uint32_t install_id, std::uint32_t image_size,
                               InstallKind kind) {
  if (AgentStatus s = setup(slot, image_size, kind); !s.ok()) return s;
  std::optional<std::uint32_t> progress;
  if (AgentStatus s = log_.scan(install_id, image_size, kind, progress); !s.ok()) return fail(s);
  std::uint32_t offset = kind == InstallKind::FullImage ? progress.value_or(0) : 0;
  // Only sector boundaries and the image end are ever recorded; anything else
  // cannot be trusted, so start over.
  if (offset > image_size || (offset != image_size && offset % slot_->sector_size() != 0)) offset = 0;
  if (!progress) {
    if (AgentStatus s = log_.start(install_id, image_size, kind); !s.ok()) return fail(s);
  }
  // The bytes before `offset` are not re-read here: finish() reads back and
  // hashes the whole image as it is on flash.
  accepted_ = written_ = erased_until_ = offset;
  last_checkpoint_ = offset;
  active_ = true;
  return AgentStatus::success();
}

AgentStatus SlotWriter::program(std::span<const std::uint8_t> bytes) {
  const std::uint32_t sector = slot_->sector_size();
  const std::uint32_t checkpoint_bytes = checkpoint_sectors_ * sector;
  while (!bytes.empty()) {
    if (written_ == erased_until_) {
      const FlashStatus fs = slot_->erase_sector(erased_until_);
      if (fs != FlashStatus::Ok) return fail(AgentStatus::flash_failed(fs));
      erased_until_ += sector;
    }
    const std::size_t n = std::min<std::size_t>(bytes.size(), erased_until_ - written_);
    const FlashStatus fs = slot_->write(written_, bytes.first(n));
    if (fs != FlashStatus::Ok) return fail(AgentStatus::flash_failed(fs));
    written_ += static_cast<std::uint32_t>(n);
    bytes = bytes.subspan(n);
    if (kind_ == InstallKind::FullImage && written_ % checkpoint_bytes == 0 && written_ <= image_size_) {
      if (AgentStatus s = log_.append(written_); !s.ok()) return fail(s);
      last_checkpoint_ = written_;
    }
  }
  return AgentStatus::success();
}

AgentStatus SlotWriter::write(std::span<const std::uint8_t> bytes) {
  if (faulted_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (!active_) return AgentStatus::failure(AgentError::WrongState);
  if (bytes.size() > image_size_ - accepted_) return AgentStatus::failure(AgentError::Overflow);
  accepted_ += static_cast<std::uint32_t>(bytes.size());

  const std::uint32_t align = slot_->write_alignment();
  if (tail_size_ > 0) {
    const std::size_t take = std::min<std::size_t>(align - tail_size_, bytes.size());
    std::copy_n(bytes.begin(), take, tail_.begin() + tail_size_);
    tail_size_ += static_cast<std::uint32_t>(take);
    bytes = bytes.subspan(take);
    if (tail_size_ < align) return AgentStatus::success();
    tail_size_ = 0;
    if (AgentStatus s = program(std::span<const std::uint8_t>(tail_.data(), align)); !s.ok()) return s;
  }
  const std::size_t aligned = bytes.size() / align * align;
  if (AgentStatus s = program(bytes.first(aligned)); !s.ok()) return s;
  bytes = bytes.subspan(aligned);
  std::copy(bytes.begin(), bytes.end(), tail_.begin());
  tail_size_ = static_cast<std::uint32_t>(bytes.size());
  return AgentStatus::success();
}

AgentStatus SlotWriter::finish(const Digest& expected) {
  if (faulted_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (!active_) return AgentStatus::failure(AgentError::WrongState);
  if (accepted_ != image_size_) return AgentStatus::failure(AgentError::Incomplete);
  if (tail_size_ > 0) {
    const std::uint32_t align = slot_->write_alignment();
    std::fill(tail_.begin() + tail_size_, tail_.begin() + align, slot_->erased_value());
    tail_size_ = 0;
    if (AgentStatus s = program(std::span<const std::uint8_t>(tail_.data(), align)); !s.ok()) return s;
  }
  if (kind_ == InstallKind::FullImage && last_checkpoint_ != image_size_) {
    if (AgentStatus s = log_.append(image_size_); !s.ok()) return fail(s);
    last_checkpoint_ = image_size_;
  }
  // Read the image back and hash what the flash really holds. The alignment
  // buffer is free now that the tail is written.
  Sha256 hash;
  for (std::uint32_t at = 0; at < image_size_;) {
    const std::uint32_t n = std::min<std::uint32_t>(static_cast<std::uint32_t>(tail_.size()), image_size_ - at);
    const FlashStatus fs = slot_->read(at, std::span<std::uint8_t>(tail_.data(), n));
    if (fs != FlashStatus::Ok) return fail(AgentStatus::flash_failed(fs));
    hash.update(std::span<const std::uint8_t>(tail_.data(), n));
    at += n;
  }
  active_ = false;
  if (!hash.finish_equals(expected)) return AgentStatus::rejected(Verdict::DigestMismatch);
  return AgentStatus::success();
}

}  // namespace ota::agent
