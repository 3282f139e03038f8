// The host side of delta.hpp: alignment of old and new images (after Percival,
// "Naive differences of executable code", 2003) and the LZMA2 stage.
//
// Outline. A suffix array of the old image (libdivsufsort) gives, for any
// position of the new image, the longest exact match in the old one. The new
// image is walked left to right keeping a "current alignment" (a constant
// old - new offset). An exact match only starts a new alignment when it beats
// what the current alignment already explains by more than `min_gain` bytes:
// that is what lets the diff absorb code that shifted and changed a few bytes
// (addresses, immediates) instead of being cut into many short copies. At each
// switch, the old alignment is extended forward and the new one backward as
// long as they match at least half of the bytes; what neither covers becomes
// literal "extra" bytes.
//
// Scale: root file systems of tens of MiB, not only firmware. Where no
// alignment holds, the walk queries the suffix array at every new byte, and a
// query is a chain of cache misses. So a query searches only the bucket of
// suffixes that share its first 2 or 3 bytes, and the walk starts the misses
// of the next queries early (SuffixIndex); the array holds 32-bit positions
// where they fit; one array serves all the alignments of an encode, which run
// on their own threads; and LZMA2 compresses the records in independent 4 MiB
// blocks on several threads (kLzmaBlockBytes). None of this changes a patch
// whose records fit in one block, as every firmware image's do.
#include <divsufsort.h>
#include <divsufsort64.h>
#include <lzma.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "detail/bytes.hpp"
#include "ota/agent/delta_encoder.hpp"

namespace ota::agent {
namespace detail {
namespace {

using Bytes = std::span<const std::uint8_t>;

// One region of the new image: `diff_len` bytes made from old bytes at
// `old_start` plus differences, then `extra_len` literal bytes.
struct Region {
  std::int64_t new_start = 0;
  std::int64_t old_start = 0;
  std::int64_t diff_len = 0;
  std::int64_t extra_len = 0;
};

struct Match {
  std::int64_t old_pos = 0;
  std::int64_t len = 0;
};

std::int64_t common_prefix(const std::uint8_t* a, std::int64_t a_len, const std::uint8_t* b, std::int64_t b_len) {
  const std::int64_t n = std::min(a_len, b_len);
  std::int64_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Old images of this size and more get 3-byte bucket keys (a table of 64 MiB),
// smaller ones 2-byte keys (256 KiB). On random data, where every new byte is
// a query, 3-byte keys take an 8 MiB pair's alignment from 4.0 s to 1.4 s, but
// the table alone is 4 x such a pair and the whole encode would peak at 8.2 x
// (measured; the budget is 10 x): below 16 MiB, 2-byte keys. On file system
// data, where long matches skip most queries, the two are within 0.1 s.
constexpr std::size_t kThreeByteKeysFrom = std::size_t{16} << 20;

int bucket_key_bytes(std::size_t old_size) { return old_size < kThreeByteKeysFrom ? 2 : 3; }

int suffix_sort(const std::uint8_t* text, saidx_t* sa, saidx_t n) { return divsufsort(text, sa, n); }
int suffix_sort(const std::uint8_t* text, saidx64_t* sa, saidx64_t n) { return divsufsort64(text, sa, n); }

// Longest-match queries against the old image through its suffix array, with
// positions of type Index (32-bit where they fit: half the memory and cache
// traffic of 64-bit ones).
//
// Buckets. Every query first narrows the array to its bucket, the range of
// the suffixes that start with the needle's first key_bytes_ bytes (its key),
// from a table indexed by key: buckets_[g] = how many suffixes sort before
// the key_bytes_-byte string g (big-endian number g). The bucket of g is
// [buckets_[g], buckets_[g + 1]) less the short suffixes at its end: the last
// key_bytes_ - 1 suffixes of the image are shorter than a key, and one whose
// bytes, padded with zeros, make g + 1 sorts after every suffix that starts
// with g and before g + 1 (a proper prefix sorts first) while belonging to
// neither. A needle that starts with g sorts after every suffix below its
// bucket and before every suffix above it, so its place in the array, and the
// neighbours there that hold the longest match, are where a search of the
// whole array would find them: patches do not change.
template <typename Index>
class SuffixIndex {
 public:
  // key_bytes: 0..3; 0 = one bucket, the whole array (the search before buckets).
  SuffixIndex(Bytes old_image, int key_bytes) : old_(old_image), sa_(old_image.size()), key_bytes_(key_bytes) {
    if (!old_.empty() && suffix_sort(old_.data(), sa_.data(), static_cast<Index>(old_.size())) != 0)
      throw std::runtime_error("delta: suffix sorting the old image failed");
    build_buckets();
  }

  // The longest prefix of `needle` found anywhere in the old image. Binary
  // search for where `needle` sorts among the old suffixes (inside its
  // bucket; a needle shorter than a key searches everything), remembering how
  // much each bound shares with it so no comparison restarts from byte 0;
  // the longest match is one of the two neighbours of that place.
  Match longest(Bytes needle) const {
    const auto old_len = static_cast<std::int64_t>(old_.size());
    const auto needle_len = static_cast<std::int64_t>(needle.size());
    const auto [first, last] =
        needle_len >= key_bytes_ ? bucket(needle.data()) : Range{0, static_cast<std::int64_t>(sa_.size())};
    std::int64_t lo = first, hi = last;
    std::int64_t lo_common = 0, hi_common = 0;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      const std::int64_t suffix = sa_[static_cast<std::size_t>(mid)];
      const std::int64_t skip = std::min(lo_common, hi_common);
      const std::int64_t same =
          skip + common_prefix(old_.data() + suffix + skip, old_len - suffix - skip, needle.data() + skip,
                               needle_len - skip);
      const bool suffix_before = same != needle_len &&
                                 (suffix + same == old_len || old_[static_cast<std::size_t>(suffix + same)] <
                                                                  needle[static_cast<std::size_t>(same)]);
      if (suffix_before) {
        lo = mid + 1;
        lo_common = same;
      } else {
        hi = mid;
        hi_common = same;
      }
    }
    Match best;
    for (const std::int64_t at : {lo - 1, lo}) {
      if (at < 0 || at >= static_cast<std::int64_t>(sa_.size())) continue;
      // Next to a non-empty bucket, a neighbour outside it shares fewer than
      // key_bytes_ bytes with the needle and the one inside at least that
      // many: it cannot win, and its old bytes would be one more cache miss.
      if (first < last && (at < first || at >= last)) continue;
      const std::int64_t suffix = sa_[static_cast<std::size_t>(at)];
      const std::int64_t same = common_prefix(old_.data() + suffix, old_len - suffix, needle.data(), needle_len);
      if (same > best.len) best = Match{suffix, same};
    }
    return best;
  }

  // Where no alignment holds, align() queries every new byte in turn, and a
  // query is a chain of dependent cache misses: bucket table, array, old
  // bytes. This starts the misses of coming queries early, one link per
  // query, so that those of several queries overlap: the table entry of the
  // query at `at` + kAhead, the array entries of the one at `at` + kAhead / 2,
  // the old bytes of the one at `at` + 1. Always inlined: GCC 12 drops calls
  // to a function whose only effect is a prefetch.
  [[gnu::always_inline]] void prefetch(Bytes text, std::int64_t at) const {
    static constexpr std::int64_t kAhead = 16;
    static constexpr std::int64_t kFewSuffixes = 4;
    const auto len = static_cast<std::int64_t>(text.size());
    if (at + kAhead + key_bytes_ <= len) __builtin_prefetch(&buckets_[key_of(text.data() + at + kAhead)]);
    if (at + kAhead / 2 + key_bytes_ <= len) {
      const auto [first, last] = bucket(text.data() + at + kAhead / 2);
      __builtin_prefetch(sa_.data() + first + (last - first) / 2);
    }
    if (at + 1 + key_bytes_ <= len && !sa_.empty()) {
      const auto [first, last] = bucket(text.data() + at + 1);
      const auto size = static_cast<std::int64_t>(sa_.size());
      if (first == last) {  // the neighbours outside
        if (first > 0) __builtin_prefetch(old_.data() + sa_[static_cast<std::size_t>(first - 1)]);
        if (first < size) __builtin_prefetch(old_.data() + sa_[static_cast<std::size_t>(first)]);
      } else if (last - first <= kFewSuffixes) {
        for (std::int64_t i = first; i < last; ++i) __builtin_prefetch(old_.data() + sa_[static_cast<std::size_t>(i)]);
      } else {
        __builtin_prefetch(old_.data() + sa_[static_cast<std::size_t>(first + (last - first) / 2)]);
      }
    }
  }

 private:
  struct Range {
    std::int64_t first, last;
  };

  // The first key_bytes_ bytes at `p` as a big-endian number.
  std::uint32_t key_of(const std::uint8_t* p) const {
    std::uint32_t key = 0;
    for (int i = 0; i < key_bytes_; ++i) key = key << 8 | p[i];
    return key;
  }

  // The bucket of the key at `p`: the suffixes that start with it.
  Range bucket(const std::uint8_t* p) const {
    const std::uint32_t key = key_of(p);
    std::int64_t last = buckets_[key + 1];
    for (const std::uint32_t padded : short_keys_)
      if (padded == key + 1) --last;
    return {buckets_[key], last};
  }

  // Counted in one sequential pass over the old image, none over the array:
  // a suffix of key_bytes_ bytes or more sorts before g when its key is less
  // than g, a shorter one when its padded key is at most g.
  void build_buckets() {
    const auto k = static_cast<std::size_t>(key_bytes_);
    const std::size_t n = old_.size();
    buckets_.assign((std::size_t{1} << (8 * k)) + 1, 0);
    for (std::size_t i = 0; i < n && i + k <= n; ++i) ++buckets_[key_of(old_.data() + i) + 1];
    std::size_t shorts = 0;
    for (std::size_t i = n + 1 > k ? n + 1 - k : 0; i < n; ++i) {
      std::uint32_t padded = 0;
      for (std::size_t j = 0; j < k; ++j) padded = padded << 8 | (i + j < n ? old_[i + j] : 0u);
      ++buckets_[padded];
      short_keys_[shorts++] = padded;
    }
    std::partial_sum(buckets_.begin(), buckets_.end(), buckets_.begin());
  }

  Bytes old_;
  std::vector<Index> sa_;
  int key_bytes_;
  std::vector<std::uint32_t> buckets_;
  // The padded keys of the suffixes shorter than a key (0 where there are
  // fewer: a key g + 1 is never 0).
  std::array<std::uint32_t, 2> short_keys_{};
};

template <typename Index>
std::vector<Region> align(const SuffixIndex<Index>& index, Bytes old_image, Bytes new_image, std::int64_t min_gain) {
  const auto old_len = static_cast<std::int64_t>(old_image.size());
  const auto new_len = static_cast<std::int64_t>(new_image.size());
  auto old_at = [&](std::int64_t i) { return old_image[static_cast<std::size_t>(i)]; };
  auto new_at = [&](std::int64_t i) { return new_image[static_cast<std::size_t>(i)]; };

  std::vector<Region> regions;
  // The current alignment: new[from_new...] pairs with old[from_old...].
  std::int64_t from_new = 0, from_old = 0;
  std::int64_t shift = 0;  // old - new position of the current alignment
  // Does new[i] equal the old byte the current alignment pairs it with?
  auto agrees = [&](std::int64_t i) {
    const std::int64_t o = i + shift;
    return o >= 0 && o < old_len && old_at(o) == new_at(i);
  };

  std::int64_t cursor = 0;
  Match match;
  while (cursor < new_len) {
    cursor += match.len;
    // `agreeing` counts bytes of new[cursor, counted_to) that the current alignment explains.
    std::int64_t agreeing = 0;
    std::int64_t counted_to = cursor;
    for (; cursor < new_len; ++cursor) {
      index.prefetch(new_image, cursor);
      match = index.longest(new_image.subspan(static_cast<std::size_t>(cursor)));
      for (; counted_to < cursor + match.len; ++counted_to)
        if (agrees(counted_to)) ++agreeing;
      // The match is no better than the current alignment: skip over it.
      if (match.len == agreeing && match.len != 0) break;
      // The match is clearly better: switch to it.
      if (match.len > agreeing + min_gain) break;
      if (agrees(cursor)) --agreeing;
    }
    if (match.len == agreeing && cursor != new_len) continue;

    // Grow the current alignment forward from from_new while it matches at
    // least half of the bytes (maximise 2 * matches - length).
    std::int64_t fwd_len = 0;
    {
      std::int64_t matches = 0, best_score = 0;
      for (std::int64_t i = 0; from_new + i < cursor && from_old + i < old_len;) {
        if (old_at(from_old + i) == new_at(from_new + i)) ++matches;
        ++i;
        if (2 * matches - i > best_score) {
          best_score = 2 * matches - i;
          fwd_len = i;
        }
      }
    }
    // Grow the next alignment backward from the match the same way.
    std::int64_t back_len = 0;
    if (cursor < new_len) {
      std::int64_t matches = 0, best_score = 0;
      for (std::int64_t i = 1; cursor - i >= from_new && match.old_pos - i >= 0; ++i) {
        if (old_at(match.old_pos - i) == new_at(cursor - i)) ++matches;
        if (2 * matches - i > best_score) {
          best_score = 2 * matches - i;
          back_len = i;
        }
      }
    }
    // Where the two overlap, split at the point that keeps the most matches.
    if (from_new + fwd_len > cursor - back_len) {
      const std::int64_t overlap = from_new + fwd_len - (cursor - back_len);
      const std::int64_t start = cursor - back_len;  // new position where the overlap begins
      std::int64_t score = 0, best_score = 0, keep_fwd = 0;
      for (std::int64_t i = 0; i < overlap; ++i) {
        const std::int64_t n = start + i;
        if (new_at(n) == old_at(from_old + (n - from_new))) ++score;
        if (new_at(n) == old_at(match.old_pos - (cursor - n))) --score;
        if (score > best_score) {
          best_score = score;
          keep_fwd = i + 1;
        }
      }
      fwd_len -= overlap - keep_fwd;
      back_len -= keep_fwd;
    }

    const Region r{from_new, from_old, fwd_len, (cursor - back_len) - (from_new + fwd_len)};
    if (r.diff_len + r.extra_len > 0) regions.push_back(r);
    from_new = cursor - back_len;
    from_old = match.old_pos - back_len;
    shift = match.old_pos - cursor;
  }
  return regions;
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// The decompressed record stream (format in delta.hpp), with halfword differences.
std::vector<std::uint8_t> serialize(Bytes old_image, Bytes new_image, const std::vector<Region>& regions) {
  std::vector<std::uint8_t> out;
  out.reserve(new_image.size() + regions.size() * 12);
  std::int64_t old_pos = 0;
  for (const Region& r : regions) {
    const std::int64_t seek = r.old_start - old_pos;
    put_varint(out, seek >= 0 ? static_cast<std::uint64_t>(seek) << 1
                              : (static_cast<std::uint64_t>(-(seek + 1)) << 1) | 1);
    put_varint(out, static_cast<std::uint64_t>(r.diff_len));
    put_varint(out, static_cast<std::uint64_t>(r.extra_len));
    for (std::int64_t k = 0; k < r.diff_len;) {
      const auto n = static_cast<std::size_t>(r.new_start + k);
      const auto o = static_cast<std::size_t>(r.old_start + k);
      if ((n & 1) == 0 && k + 1 < r.diff_len) {
        const unsigned new16 = new_image[n] | unsigned{new_image[n + 1]} << 8;
        const unsigned old16 = old_image[o] | unsigned{old_image[o + 1]} << 8;
        const unsigned d = (new16 - old16) & 0xffffu;
        out.push_back(static_cast<std::uint8_t>(d));
        out.push_back(static_cast<std::uint8_t>(d >> 8));
        k += 2;
      } else {
        out.push_back(static_cast<std::uint8_t>(new_image[n] - old_image[o]));
        k += 1;
      }
    }
    const auto extra = new_image.subspan(static_cast<std::size_t>(r.new_start + r.diff_len),
                                         static_cast<std::size_t>(r.extra_len));
    out.insert(out.end(), extra.begin(), extra.end());
    old_pos = r.old_start + r.diff_len;
  }
  return out;
}

struct LiteralContext {
  std::uint32_t lc, lp, pb;
};

std::vector<std::uint8_t> lzma2_compress(Bytes data, std::uint8_t dict_log2, LiteralContext ctx) {
  lzma_options_lzma opt{};
  if (lzma_lzma_preset(&opt, 9 | LZMA_PRESET_EXTREME) != 0) throw std::runtime_error("delta: lzma preset failed");
  opt.dict_size = std::uint32_t{1} << dict_log2;
  opt.lc = ctx.lc;
  opt.lp = ctx.lp;
  opt.pb = ctx.pb;
  opt.nice_len = 273;
  opt.mf = LZMA_MF_BT4;
  const lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};

  std::vector<std::uint8_t> out(lzma_stream_buffer_bound(data.size()));
  lzma_stream strm{};
  if (lzma_raw_encoder(&strm, filters) != LZMA_OK) throw std::runtime_error("delta: lzma encoder init failed");
  strm.next_in = data.data();
  strm.avail_in = data.size();
  std::size_t produced = 0;
  lzma_ret ret = LZMA_OK;
  // The bound is the .xz format's; raw LZMA2 of incompressible data can
  // exceed it (3 header bytes per chunk of a little under 64 KiB): 64 MiB of
  // random records did, and liblzma then returns LZMA_OK with the output full.
  // Grow and go on; the stream does not depend on the buffer's size.
  while (ret == LZMA_OK) {
    if (produced == out.size()) out.resize(out.size() + out.size() / 64 + 4096);
    strm.next_out = out.data() + produced;
    strm.avail_out = out.size() - produced;
    ret = lzma_code(&strm, LZMA_FINISH);
    produced = out.size() - strm.avail_out;
  }
  lzma_end(&strm);
  if (ret != LZMA_STREAM_END) throw std::runtime_error("delta: lzma encoding failed (" + std::to_string(ret) + ")");
  out.resize(produced);
  out.shrink_to_fit();  // an exhaustive encode keeps five of these per block for a while
  return out;
}

// Record streams are compressed in independent blocks of this many bytes, each
// a raw LZMA2 stream of its own: it starts with a dictionary reset and carries
// its own lc/lp/pb. LZMA2 allows a dictionary reset anywhere, so the blocks,
// each but the last less its end byte 0x00, make one valid stream that any
// LZMA2 decoder reads (the device's does, unchanged). Blocks compress on
// separate threads and join in order: the patch is the same for any number of
// threads. Firmware records are far smaller than one block, so their patches
// are the single streams they were before blocks. The price: no match reaches
// across a block edge, about 100 bytes an edge (file-system-like 16 MiB pair:
// 398 bytes over 4 edges, +0.15 %; random data: 3 bytes an edge).
constexpr std::size_t kLzmaBlockBytes = std::size_t{4} << 20;

// Threads when DeltaOptions::threads is 0: the machine's, at most this many.
// Each holds an LZMA2 encoder and a block's output buffer (about 6 MiB), and a
// 64 MiB image has only 16 blocks to share out.
constexpr unsigned kMaxDefaultThreads = 8;

unsigned thread_count(unsigned requested) {
  if (requested != 0) return requested;
  return std::clamp(std::thread::hardware_concurrency(), 1u, kMaxDefaultThreads);
}

// Runs task(0) .. task(count - 1), each once, on up to `threads` threads (the
// caller's among them); after all have ended, rethrows a failure if any task threw.
template <typename Task>
void run_tasks(std::size_t count, unsigned threads, const Task& task) {
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        task(i);
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (std::size_t t = 1; t < std::min<std::size_t>(threads, count); ++t) helpers.emplace_back(work);
    work();
  }
  if (failure) std::rethrow_exception(failure);
}

// The record stream of one alignment per switching threshold in `min_gains`,
// all from one suffix array of the old image, the alignments on their own threads.
template <typename Index>
std::vector<std::vector<std::uint8_t>> record_streams_with(Bytes old_image, Bytes new_image,
                                                           const std::vector<std::int64_t>& min_gains,
                                                           unsigned threads) {
  const SuffixIndex<Index> index(old_image, bucket_key_bytes(old_image.size()));
  std::vector<std::vector<std::uint8_t>> streams(min_gains.size());
  run_tasks(min_gains.size(), threads, [&](std::size_t i) {
    streams[i] = serialize(old_image, new_image, align(index, old_image, new_image, min_gains[i]));
  });
  return streams;
}

std::vector<std::vector<std::uint8_t>> record_streams(Bytes old_image, Bytes new_image,
                                                      const std::vector<std::int64_t>& min_gains, unsigned threads) {
  if (old_image.size() <= static_cast<std::size_t>(std::numeric_limits<saidx_t>::max()))
    return record_streams_with<saidx_t>(old_image, new_image, min_gains, threads);
  return record_streams_with<saidx64_t>(old_image, new_image, min_gains, threads);
}

std::size_t block_count(const std::vector<std::uint8_t>& records) {
  return std::max<std::size_t>(1, (records.size() + kLzmaBlockBytes - 1) / kLzmaBlockBytes);
}

Bytes block_of(const std::vector<std::uint8_t>& records, std::size_t block) {
  const std::size_t at = block * kLzmaBlockBytes;
  return Bytes(records).subspan(at, std::min(kLzmaBlockBytes, records.size() - at));
}

// The compressed blocks of one record stream, in order.
using Blocks = std::vector<std::vector<std::uint8_t>>;

// Bytes of the stream the blocks make (every block's end byte but the last goes).
std::size_t stream_bytes(const Blocks& blocks) {
  std::size_t n = 0;
  for (const auto& b : blocks) n += b.size();
  return n - (blocks.size() - 1);
}

void append_stream(std::vector<std::uint8_t>& out, const Blocks& blocks) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    if (b.empty() || b.back() != 0x00) throw std::runtime_error("delta: an lzma block lacks its end byte");
    out.insert(out.end(), b.begin(), i + 1 < blocks.size() ? b.end() - 1 : b.end());
  }
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  std::array<std::uint8_t, 4> le{};
  store_u32(le.data(), v);
  out.insert(out.end(), le.begin(), le.end());
}

}  // namespace

std::vector<IndexMatch> index_matches(std::span<const std::uint8_t> old_image, std::span<const std::uint8_t> needles,
                                      int key_bytes, bool wide_index) {
  if (key_bytes < 0 || key_bytes > 3) throw std::invalid_argument("delta: bucket keys are 0..3 bytes");
  auto all = [&](const auto& index) {
    std::vector<IndexMatch> out;
    for (std::size_t i = 0; i < needles.size(); ++i) {
      const Match m = index.longest(needles.subspan(i));
      out.push_back({m.old_pos, m.len});
    }
    return out;
  };
  if (wide_index) return all(SuffixIndex<saidx64_t>(old_image, key_bytes));
  return all(SuffixIndex<saidx_t>(old_image, key_bytes));
}

}  // namespace detail

namespace detail {
namespace {

void check_options(std::span<const std::uint8_t> old_image, std::span<const std::uint8_t> new_image,
                   const DeltaOptions& options) {
  constexpr std::size_t kMaxImage = std::numeric_limits<std::uint32_t>::max();
  if (old_image.size() > kMaxImage || new_image.size() > kMaxImage)
    throw std::invalid_argument("delta: images must be smaller than 4 GiB");
  if (options.dict_log2 < kMinDictLog2 || options.dict_log2 > kMaxDictLog2)
    throw std::invalid_argument("delta: dict_log2 " + std::to_string(options.dict_log2) + " outside " +
                                std::to_string(kMinDictLog2) + ".." + std::to_string(kMaxDictLog2));
}

}  // namespace
}  // namespace detail

std::vector<std::uint8_t> delta_records(std::span<const std::uint8_t> old_image, std::span<const std::uint8_t> new_image,
                                        const DeltaOptions& options) {
  detail::check_options(old_image, new_image, options);
  return std::move(detail::record_streams(old_image, new_image, {options.min_gain}, 1).front());
}

std::vector<std::uint8_t> encode_delta(std::span<const std::uint8_t> old_image, std::span<const std::uint8_t> new_image,
                                       const DeltaOptions& options) {
  detail::check_options(old_image, new_image, options);
  const unsigned threads = detail::thread_count(options.threads);
  // lc/lp/pb are carried inside the LZMA2 stream (in every block), so trying
  // several costs the device nothing. (1,1,0) was the best single choice on
  // the firmware pairs.
  static constexpr std::array<detail::LiteralContext, 4> kTried = {{{1, 1, 0}, {3, 0, 0}, {0, 1, 0}, {1, 0, 0}}};
  std::vector<std::int64_t> min_gains = {options.min_gain};
  // A stricter switching rule (twice min_gain) wins about 1% on small
  // firmware changes and loses on large ones: keep whichever is smaller.
  if (options.exhaustive) min_gains.push_back(2 * std::int64_t{options.min_gain});
  const auto records = detail::record_streams(old_image, new_image, min_gains, threads);

  // Every block of every candidate record stream, with the first literal context.
  std::vector<detail::Blocks> candidates(records.size());
  std::vector<std::pair<std::size_t, std::size_t>> jobs;  // (candidate, block)
  for (std::size_t c = 0; c < records.size(); ++c) {
    candidates[c].resize(detail::block_count(records[c]));
    for (std::size_t b = 0; b < candidates[c].size(); ++b) jobs.emplace_back(c, b);
  }
  detail::run_tasks(jobs.size(), threads, [&](std::size_t j) {
    const auto [c, b] = jobs[j];
    candidates[c][b] = detail::lzma2_compress(detail::block_of(records[c], b), options.dict_log2, kTried[0]);
  });
  std::size_t chosen = 0;
  for (std::size_t c = 1; c < candidates.size(); ++c)
    if (detail::stream_bytes(candidates[c]) < detail::stream_bytes(candidates[chosen])) chosen = c;
  detail::Blocks& blocks = candidates[chosen];

  if (options.exhaustive) {
    // The other literal contexts, block by block: each block keeps the
    // smallest, so the stream is never larger than with any one context.
    const std::size_t others = kTried.size() - 1;
    std::vector<std::vector<std::uint8_t>> tried(blocks.size() * others);
    detail::run_tasks(tried.size(), threads, [&](std::size_t j) {
      tried[j] = detail::lzma2_compress(detail::block_of(records[chosen], j / others), options.dict_log2,
                                        kTried[1 + j % others]);
    });
    for (std::size_t j = 0; j < tried.size(); ++j)
      if (tried[j].size() < blocks[j / others].size()) blocks[j / others] = std::move(tried[j]);
  }

  std::vector<std::uint8_t> patch;
  patch.reserve(kDeltaHeaderBytes + detail::stream_bytes(blocks));
  patch.insert(patch.end(), kDeltaMagic.begin(), kDeltaMagic.end());
  patch.push_back(kDeltaFormatVersion);
  patch.push_back(options.dict_log2);
  patch.push_back(0);
  patch.push_back(0);
  detail::put_u32(patch, static_cast<std::uint32_t>(old_image.size()));
  detail::put_u32(patch, static_cast<std::uint32_t>(new_image.size()));
  const Digest old_digest = Sha256::of(old_image);
  const Digest new_digest = Sha256::of(new_image);
  patch.insert(patch.end(), old_digest.begin(), old_digest.end());
  patch.insert(patch.end(), new_digest.begin(), new_digest.end());
  detail::append_stream(patch, blocks);
  return patch;
}

}  // namespace ota::agent
