// The device side of delta.hpp: header parsing and the streaming applier.
#include "ota/agent/delta.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>

#include <lzma.h>

#include "detail/bytes.hpp"

namespace ota::agent {
namespace {

// What DeltaApplier::decoder_handle_ holds.
struct DecoderHandle {
  lzma_stream stream;
  lzma_allocator allocator;
};
static_assert(sizeof(DecoderHandle) == DeltaApplier::kDecoderHandleBytes,
              "DeltaApplier::kDecoderHandleBytes no longer matches liblzma's lzma_stream + lzma_allocator");
static_assert(alignof(DecoderHandle) <= 8);
static_assert(std::is_trivially_destructible_v<DecoderHandle>);

template <class Bytes>
DecoderHandle& handle(Bytes& bytes) {
  return *std::launder(reinterpret_cast<DecoderHandle*>(bytes.data()));
}

constexpr std::uint8_t kMaxVarintBytes = 5;
constexpr std::size_t kArenaAlign = alignof(std::max_align_t);

}  // namespace

DeltaHeaderResult parse_delta_header(std::span<const std::uint8_t> bytes) {
  DeltaHeaderResult r;
  if (bytes.size() < kDeltaHeaderBytes) return r;
  if (!std::equal(kDeltaMagic.begin(), kDeltaMagic.end(), bytes.begin())) return r;
  r.header.version = bytes[4];
  r.header.dict_log2 = bytes[5];
  if (r.header.version != kDeltaFormatVersion) {
    r.status = DeltaStatus::UnsupportedVersion;
    return r;
  }
  if (bytes[6] != 0 || bytes[7] != 0) return r;
  if (r.header.dict_log2 < kMinDictLog2 || r.header.dict_log2 > kMaxDictLog2) return r;
  r.header.old_size = detail::load_u32(bytes.data() + 8);
  r.header.new_size = detail::load_u32(bytes.data() + 12);
  std::copy_n(bytes.begin() + 16, 32, r.header.old_sha256.begin());
  std::copy_n(bytes.begin() + 48, 32, r.header.new_sha256.begin());
  r.status = DeltaStatus::Ok;
  return r;
}

DeltaApplier::DeltaApplier(const FlashArea& old_image, ByteSink& sink, DeltaApplyOptions options)
    : old_image_(old_image), sink_(sink), options_(options) {
  auto* h = new (decoder_handle_.data()) DecoderHandle{LZMA_STREAM_INIT, {}};
  h->allocator.alloc = &DeltaApplier::arena_alloc;
  h->allocator.free = &DeltaApplier::arena_free;
  h->allocator.opaque = this;
}

DeltaApplier::~DeltaApplier() { end_decoder(); }

void DeltaApplier::end_decoder() {
  lzma_stream& stream = handle(decoder_handle_).stream;
  if (stream_live_) lzma_end(&stream);
  stream = lzma_stream LZMA_STREAM_INIT;
  stream_live_ = false;
  arena_used_ = 0;
}

void DeltaApplier::reset() {
  end_decoder();
  phase_ = Phase::Header;
  error_ = DeltaStatus::Ok;
  old_read_status_ = FlashStatus::Ok;
  header_.reset();
  header_fill_ = 0;
  stream_ended_ = false;
  part_ = RecordPart::Seek;
  varint_value_ = 0;
  varint_bytes_ = 0;
  pending_seek_ = 0;
  diff_left_ = 0;
  extra_left_ = 0;
  old_pos_ = 0;
  produced_ = 0;
  carry_pending_ = false;
  carry_ = 0;
  old_window_pos_ = 0;
  old_window_len_ = 0;
  out_fill_ = 0;
  written_to_sink_ = 0;
  new_hash_ = Sha256();
}

// liblzma allocates its coder state and dictionary once, when the decoder
// starts; a bump allocator over the applier's own arena is enough and makes the
// RAM a compile-time constant. free() is a no-op: the arena is dropped whole.
void* DeltaApplier::arena_alloc(void* opaque, std::size_t count, std::size_t size) {
  auto* self = static_cast<DeltaApplier*>(opaque);
  if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) return nullptr;
  const std::size_t bytes = count * size;
  const std::size_t start = (self->arena_used_ + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
  if (start > self->arena_.size() || bytes > self->arena_.size() - start) return nullptr;
  self->arena_used_ = start + bytes;
  return self->arena_.data() + start;
}

void DeltaApplier::arena_free(void*, void*) {}

DeltaStatus DeltaApplier::fail(DeltaStatus s) {
  phase_ = Phase::Failed;
  error_ = s;
  return s;
}

DeltaStatus DeltaApplier::feed(std::span<const std::uint8_t> patch_bytes) {
  if (phase_ == Phase::Failed) return error_;
  while (!patch_bytes.empty()) {
    if (phase_ == Phase::Header) {
      const std::size_t take = std::min(kDeltaHeaderBytes - header_fill_, patch_bytes.size());
      std::copy_n(patch_bytes.begin(), take, header_bytes_.begin() + static_cast<std::ptrdiff_t>(header_fill_));
      header_fill_ += take;
      patch_bytes = patch_bytes.subspan(take);
      if (header_fill_ == kDeltaHeaderBytes) {
        const DeltaStatus s = on_header();
        if (s != DeltaStatus::Ok) return fail(s);
      }
      continue;
    }
    const DeltaStatus s = decode(patch_bytes);
    if (s != DeltaStatus::Ok) return fail(s);
    patch_bytes = {};
  }
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::on_header() {
  const DeltaHeaderResult parsed = parse_delta_header(header_bytes_);
  if (parsed.status != DeltaStatus::Ok) return parsed.status;
  const DeltaHeader& h = parsed.header;
  if (h.old_size > old_image_.size()) return DeltaStatus::WrongBase;

  if (options_.verify_old_image) {
    Sha256 old_hash;
    for (std::uint32_t at = 0; at < h.old_size;) {
      const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(old_window_.size(), h.old_size - at));
      const FlashStatus fs = old_image_.read(at, std::span(old_window_.data(), n));
      if (fs != FlashStatus::Ok) {
        old_read_status_ = fs;
        return DeltaStatus::OldReadFailed;
      }
      old_hash.update(std::span<const std::uint8_t>(old_window_.data(), n));
      at += n;
    }
    if (!old_hash.finish_equals(h.old_sha256)) return DeltaStatus::WrongBase;
  }

  lzma_options_lzma lzma_options{};
  // lc/lp/pb travel inside the LZMA2 stream; only the dictionary size matters here.
  if (lzma_lzma_preset(&lzma_options, 0) != 0) return DeltaStatus::DecoderFailed;
  lzma_options.dict_size = std::uint32_t{1} << h.dict_log2;
  const lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &lzma_options}, {LZMA_VLI_UNKNOWN, nullptr}};
  end_decoder();
  DecoderHandle& decoder = handle(decoder_handle_);
  decoder.stream.allocator = &decoder.allocator;
  stream_live_ = true;
  if (lzma_raw_decoder(&decoder.stream, filters) != LZMA_OK) return DeltaStatus::DecoderFailed;

  header_ = h;
  phase_ = Phase::Records;
  old_window_len_ = 0;  // the window held hashing leftovers
  if (h.new_size == 0) return finish_records();
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::decode(std::span<const std::uint8_t> in) {
  if (stream_ended_) return DeltaStatus::CorruptPatch;  // bytes after the end of the stream
  lzma_stream& stream = handle(decoder_handle_).stream;
  stream.next_in = in.data();
  stream.avail_in = in.size();
  for (;;) {
    stream.next_out = decoded_.data();
    stream.avail_out = decoded_.size();
    const lzma_ret ret = lzma_code(&stream, LZMA_RUN);
    const std::size_t got = decoded_.size() - stream.avail_out;
    if (got != 0) {
      const DeltaStatus s = consume(std::span<const std::uint8_t>(decoded_.data(), got));
      if (s != DeltaStatus::Ok) return s;
    }
    if (ret == LZMA_STREAM_END) {
      stream_ended_ = true;
      if (stream.avail_in != 0) return DeltaStatus::CorruptPatch;
      // The records stopped short of new_size.
      if (phase_ != Phase::Done) return DeltaStatus::OutputSizeMismatch;
      return DeltaStatus::Ok;
    }
    if (ret == LZMA_MEM_ERROR || ret == LZMA_MEMLIMIT_ERROR) return DeltaStatus::DecoderFailed;
    if (ret != LZMA_OK) return DeltaStatus::CorruptPatch;
    // Output space left over means the decoder has used up its input.
    if (stream.avail_out != 0) return DeltaStatus::Ok;
  }
}

DeltaStatus DeltaApplier::consume(std::span<const std::uint8_t> decoded) {
  std::size_t i = 0;
  while (i < decoded.size()) {
    if (phase_ == Phase::Done) return DeltaStatus::OutputSizeMismatch;  // records beyond new_size
    switch (part_) {
      case RecordPart::Seek:
      case RecordPart::DiffLen:
      case RecordPart::ExtraLen: {
        const std::uint8_t b = decoded[i++];
        varint_value_ |= static_cast<std::uint64_t>(b & 0x7f) << (7 * varint_bytes_);
        ++varint_bytes_;
        if (b & 0x80) {
          if (varint_bytes_ == kMaxVarintBytes) return DeltaStatus::CorruptPatch;
          break;
        }
        const std::uint64_t v = varint_value_;
        varint_value_ = 0;
        varint_bytes_ = 0;
        if (part_ == RecordPart::Seek) {
          // zigzag: 0, -1, 1, -2, ... <- 0, 1, 2, 3, ...
          pending_seek_ = (v & 1) ? -static_cast<std::int64_t>(v >> 1) - 1 : static_cast<std::int64_t>(v >> 1);
          part_ = RecordPart::DiffLen;
        } else if (part_ == RecordPart::DiffLen) {
          diff_left_ = v;
          part_ = RecordPart::ExtraLen;
        } else {
          extra_left_ = v;
          const DeltaStatus s = start_record_body();
          if (s != DeltaStatus::Ok) return s;
        }
        break;
      }
      case RecordPart::Diff: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(diff_left_, decoded.size() - i));
        const DeltaStatus s = apply_diff(decoded.subspan(i, n));
        if (s != DeltaStatus::Ok) return s;
        i += n;
        if (diff_left_ == 0) {
          if (extra_left_ != 0) {
            part_ = RecordPart::Extra;
          } else {
            const DeltaStatus e = end_record();
            if (e != DeltaStatus::Ok) return e;
          }
        }
        break;
      }
      case RecordPart::Extra: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(extra_left_, decoded.size() - i));
        for (std::size_t k = 0; k < n; ++k) {
          const DeltaStatus s = emit(decoded[i + k]);
          if (s != DeltaStatus::Ok) return s;
        }
        i += n;
        extra_left_ -= n;
        if (extra_left_ == 0) {
          const DeltaStatus e = end_record();
          if (e != DeltaStatus::Ok) return e;
        }
        break;
      }
    }
  }
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::start_record_body() {
  const std::uint64_t new_left = header_->new_size - produced_;
  if (diff_left_ == 0 && extra_left_ == 0) return DeltaStatus::CorruptPatch;
  // Both lengths are below 2^35 (5-byte varints), so the sum cannot overflow.
  if (diff_left_ + extra_left_ > new_left) return DeltaStatus::OutputSizeMismatch;
  const auto pos = static_cast<std::int64_t>(old_pos_) + pending_seek_;
  if (pos < 0 || static_cast<std::uint64_t>(pos) > header_->old_size) return DeltaStatus::CorruptPatch;
  if (diff_left_ > header_->old_size - static_cast<std::uint64_t>(pos)) return DeltaStatus::CorruptPatch;
  old_pos_ = static_cast<std::uint64_t>(pos);
  carry_pending_ = false;
  part_ = diff_left_ != 0 ? RecordPart::Diff : RecordPart::Extra;
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::end_record() {
  part_ = RecordPart::Seek;
  if (produced_ == header_->new_size) return finish_records();
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::finish_records() {
  phase_ = Phase::Done;
  return flush_output();
}

DeltaStatus DeltaApplier::apply_diff(std::span<const std::uint8_t> diff) {
  for (const std::uint8_t d : diff) {
    if (old_pos_ < old_window_pos_ || old_pos_ >= old_window_pos_ + old_window_len_) {
      // Refill from old_pos_, never past this record's diff (checked to lie in the old image).
      const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(old_window_.size(), diff_left_));
      const FlashStatus fs = old_image_.read(static_cast<std::uint32_t>(old_pos_), std::span(old_window_.data(), n));
      if (fs != FlashStatus::Ok) {
        old_read_status_ = fs;
        return DeltaStatus::OldReadFailed;
      }
      old_window_pos_ = old_pos_;
      old_window_len_ = n;
    }
    const std::uint8_t old_byte = old_window_[static_cast<std::size_t>(old_pos_ - old_window_pos_)];
    std::uint8_t out;
    if (carry_pending_) {
      out = static_cast<std::uint8_t>(old_byte + d + carry_);
      carry_pending_ = false;
    } else if ((produced_ & 1) == 0 && diff_left_ > 1) {
      // Low byte of a halfword whose high byte is in this diff too.
      const unsigned sum = unsigned{old_byte} + d;
      out = static_cast<std::uint8_t>(sum);
      carry_ = static_cast<std::uint8_t>(sum >> 8);
      carry_pending_ = true;
    } else {
      out = static_cast<std::uint8_t>(old_byte + d);
    }
    ++old_pos_;
    --diff_left_;
    const DeltaStatus s = emit(out);
    if (s != DeltaStatus::Ok) return s;
  }
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::emit(std::uint8_t byte) {
  out_[out_fill_++] = byte;
  ++produced_;
  if (out_fill_ == out_.size()) return flush_output();
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::flush_output() {
  if (out_fill_ == 0) return DeltaStatus::Ok;
  const std::span<const std::uint8_t> chunk(out_.data(), out_fill_);
  new_hash_.update(chunk);
  out_fill_ = 0;
  if (!sink_.write(chunk)) return DeltaStatus::SinkFailed;
  written_to_sink_ += chunk.size();
  return DeltaStatus::Ok;
}

DeltaStatus DeltaApplier::finish() {
  if (phase_ == Phase::Failed) return error_;
  if (phase_ == Phase::Header || !stream_ended_) return fail(DeltaStatus::Truncated);
  if (phase_ != Phase::Done) return fail(DeltaStatus::OutputSizeMismatch);
  if (!Sha256(new_hash_).finish_equals(header_->new_sha256)) return fail(DeltaStatus::DigestMismatch);
  return DeltaStatus::Ok;
}

}  // namespace ota::agent
