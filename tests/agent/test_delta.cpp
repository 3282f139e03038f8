// Tests for delta.hpp: the encoder and the streaming applier.
#include <catch2/catch.hpp>

#include <lzma.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mem_flash.hpp"
#include "fuzz/delta_fuzz_image.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"

namespace {

using namespace ota::agent;
using ota::agent::test::MemFlash;
using Bytes = std::vector<std::uint8_t>;

Bytes load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

std::string firmware(const std::string& app, const std::string& build) {
  return std::string(OTA_SHARED_DIR) + "/firmware/esp32c3-" + app + "-" + build + ".bin";
}

// A consecutive pair from shared/firmware/ and bsdiff's patch size for it, as
// measured in shared/firmware/README.md.
struct FirmwarePair {
  const char* app;
  const char* from;
  const char* to;
  std::size_t bsdiff_bytes;
};
constexpr FirmwarePair kPairs[] = {
    {"garduino", "d2dc060", "b720cdf", 43177}, {"random", "d2dc060", "b720cdf", 43819},
    {"garduino", "b720cdf", "abccd39", 16709}, {"random", "b720cdf", "abccd39", 16558},
    {"garduino", "abccd39", "cd5c5f4", 8276},  {"random", "abccd39", "cd5c5f4", 8208},
};

std::string name_of(const FirmwarePair& p) { return std::string(p.app) + " " + p.from + "->" + p.to; }

// Encoding a firmware pair takes a couple of seconds: do it once per run.
const Bytes& firmware_patch(const FirmwarePair& p) {
  static std::map<std::string, Bytes> cache;
  const std::string key = name_of(p);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, encode_delta(load(firmware(p.app, p.from)), load(firmware(p.app, p.to)))).first;
  return it->second;
}

class VecSink final : public ByteSink {
 public:
  bool write(std::span<const std::uint8_t> bytes) override {
    if (fail_at_write_ && writes_.size() + 1 == *fail_at_write_) return false;
    writes_.push_back(bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
    return true;
  }
  void fail_at_write(std::size_t n) { fail_at_write_ = n; }
  const std::vector<std::size_t>& writes() const { return writes_; }
  Bytes out;

 private:
  std::optional<std::size_t> fail_at_write_;
  std::vector<std::size_t> writes_;
};

struct Applied {
  DeltaStatus fed = DeltaStatus::Ok;  // first error from feed(), Ok if none
  DeltaStatus finished = DeltaStatus::Ok;
  Bytes out;
  std::vector<std::size_t> writes;
};

// Feeds `patch` in chunks: `chunk` bytes each, or random sizes in [1, 5000] when chunk == 0.
Applied apply_patch(const Bytes& patch, const FlashArea& old_flash, std::size_t chunk = 4096,
              DeltaApplyOptions options = {}, std::uint64_t seed = 1) {
  VecSink sink;
  auto applier = std::make_unique<DeltaApplier>(old_flash, sink, options);
  std::mt19937_64 rng(seed);
  Applied r;
  for (std::size_t at = 0; at < patch.size();) {
    const std::size_t n =
        std::min(patch.size() - at, chunk != 0 ? chunk : std::uniform_int_distribution<std::size_t>(1, 5000)(rng));
    const DeltaStatus s = applier->feed(std::span(patch).subspan(at, n));
    if (r.fed == DeltaStatus::Ok) r.fed = s;
    at += n;
  }
  r.finished = applier->finish();
  r.out = std::move(sink.out);
  r.writes = sink.writes();
  return r;
}

Applied apply_patch(const Bytes& patch, const Bytes& old_image, std::size_t chunk = 4096) {
  const MemFlash flash(old_image);
  return apply_patch(patch, flash, chunk);
}

void check_round_trip(const Bytes& old_image, const Bytes& new_image, const DeltaOptions& options = {}) {
  const Bytes patch = encode_delta(old_image, new_image, options);
  const Applied r = apply_patch(patch, old_image);
  CHECK(r.fed == DeltaStatus::Ok);
  CHECK(r.finished == DeltaStatus::Ok);
  CHECK(r.out == new_image);
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

struct LargePair {
  Bytes old_image, new_image;
};

// Inserts and deletes 1..8 KiB at `places` places each.
void insert_and_delete(Bytes& image, int places, std::mt19937_64& rng) {
  for (int e = 0; e < places; ++e) {
    const Bytes ins = random_bytes(rng, 1024 + rng() % 7168);
    image.insert(image.begin() + static_cast<std::ptrdiff_t>(rng() % image.size()), ins.begin(), ins.end());
    const auto at = image.begin() + static_cast<std::ptrdiff_t>(rng() % (image.size() - 8192));
    image.erase(at, at + 1024 + static_cast<std::ptrdiff_t>(rng() % 7168));
  }
}

// Random old bytes (quick to suffix-sort); the new image changes one byte in
// about 4 KiB and inserts and deletes at 6 places. Long matches (few index
// queries) and records of mostly zero differences: a pair whose records span
// several LZMA2 blocks yet encodes in about a second.
LargePair few_edits_pair(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  LargePair p{random_bytes(rng, size), {}};
  p.new_image = p.old_image;
  for (std::size_t i = rng() % 4096; i < size; i += 1 + rng() % 8192) p.new_image[i] = static_cast<std::uint8_t>(rng());
  insert_and_delete(p.new_image, 6, rng);
  return p;
}

// Runs of zeros and repeated blocks among random bytes; the new image changes
// 0.1 % of the bytes and inserts and deletes at 8 places.
LargePair file_system_like_pair(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  LargePair p{random_bytes(rng, size), {}};
  for (std::size_t i = 1; i + 8000 < size; i += 1 + rng() % 60000) {
    const auto at = p.old_image.begin() + static_cast<std::ptrdiff_t>(i);
    const auto n = static_cast<std::ptrdiff_t>(1 + rng() % 4000);
    if (rng() % 2) std::fill_n(at, n, std::uint8_t{0});
    else std::copy_n(p.old_image.begin() + static_cast<std::ptrdiff_t>(rng() % i), n, at);
  }
  p.new_image = p.old_image;
  for (std::size_t i = 0; i < size; i += 1 + rng() % 2000) p.new_image[i] = static_cast<std::uint8_t>(rng());
  insert_and_delete(p.new_image, 8, rng);
  return p;
}

// The longest prefix of needles[i..] anywhere in `old_image`, by trying every old position.
std::vector<std::int64_t> brute_force_longest(const Bytes& old_image, const Bytes& needles) {
  std::vector<std::int64_t> out(needles.size(), 0);
  for (std::size_t i = 0; i < needles.size(); ++i)
    for (std::size_t o = 0; o < old_image.size(); ++o) {
      std::size_t n = 0;
      while (o + n < old_image.size() && i + n < needles.size() && old_image[o + n] == needles[i + n]) ++n;
      out[i] = std::max(out[i], static_cast<std::int64_t>(n));
    }
  return out;
}

// A patch with hand-written records, to reach the applier's checks that the
// encoder never trips. `records` is the decompressed stream (format in delta.hpp).
Bytes handmade_patch(const Bytes& old_image, const Bytes& new_image, const Bytes& records,
                     std::uint8_t dict_log2 = 12) {
  lzma_options_lzma opt{};
  REQUIRE(lzma_lzma_preset(&opt, 6) == 0);
  opt.dict_size = std::uint32_t{1} << dict_log2;
  const lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  Bytes stream(lzma_stream_buffer_bound(records.size()));
  std::size_t stream_len = 0;
  REQUIRE(lzma_raw_buffer_encode(filters, nullptr, records.data(), records.size(), stream.data(), &stream_len,
                                 stream.size()) == LZMA_OK);
  stream.resize(stream_len);

  Bytes p = {'O', 'T', 'A', 'D', kDeltaFormatVersion, dict_log2, 0, 0};
  for (const std::size_t v : {old_image.size(), new_image.size()})
    for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  const Digest od = Sha256::of(old_image), nd = Sha256::of(new_image);
  p.insert(p.end(), od.begin(), od.end());
  p.insert(p.end(), nd.begin(), nd.end());
  p.insert(p.end(), stream.begin(), stream.end());
  return p;
}

// A small old/new pair with every kind of record, for the exhaustive corruption tests.
struct SmallPair {
  Bytes old_image = fuzz::delta_fuzz_old_image();
  Bytes new_image = fuzz::delta_fuzz_new_image();
};

}  // namespace

// ---- the target: real firmware ---------------------------------------------

TEST_CASE("delta: patch no larger than bsdiff's on every firmware pair", "[delta]") {
  for (const FirmwarePair& p : kPairs) {
    const std::size_t ours = firmware_patch(p).size();
    std::printf("delta: %-28s ours %6zu bytes, bsdiff %6zu bytes (%.1f%%)\n", name_of(p).c_str(), ours,
                p.bsdiff_bytes, 100.0 * static_cast<double>(ours) / static_cast<double>(p.bsdiff_bytes));
    INFO(name_of(p) << ": ours " << ours << " bytes, bsdiff " << p.bsdiff_bytes);
    CHECK(ours <= p.bsdiff_bytes);
  }
}

TEST_CASE("delta: round trip on every firmware pair", "[delta]") {
  for (const FirmwarePair& p : kPairs) {
    INFO(name_of(p));
    const Bytes old_image = load(firmware(p.app, p.from));
    const Bytes new_image = load(firmware(p.app, p.to));
    const Applied r = apply_patch(firmware_patch(p), old_image);
    CHECK(r.fed == DeltaStatus::Ok);
    CHECK(r.finished == DeltaStatus::Ok);
    CHECK(r.out == new_image);
  }
}

TEST_CASE("delta: round trip on every firmware pair in reverse (downgrade)", "[delta]") {
  DeltaOptions quick;
  quick.exhaustive = false;
  for (const FirmwarePair& p : kPairs) {
    INFO(name_of(p) << " reversed");
    check_round_trip(load(firmware(p.app, p.to)), load(firmware(p.app, p.from)), quick);
  }
}

TEST_CASE("delta: firmware patch streamed in chunks of 1, 7, 4096 and random sizes", "[delta]") {
  const FirmwarePair& p = kPairs[4];  // the smallest patch: chunk size 1 stays quick
  const Bytes old_image = load(firmware(p.app, p.from));
  const Bytes new_image = load(firmware(p.app, p.to));
  const MemFlash flash(old_image);
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{0}}) {
    INFO("chunk " << chunk << " (0 = random)");
    const Applied r = apply_patch(firmware_patch(p), flash, chunk, {}, 42);
    CHECK(r.fed == DeltaStatus::Ok);
    CHECK(r.finished == DeltaStatus::Ok);
    CHECK(r.out == new_image);
  }
}

TEST_CASE("delta: identical firmware images make a tiny patch", "[delta]") {
  const Bytes image = load(firmware("garduino", "cd5c5f4"));
  const Bytes patch = encode_delta(image, image);
  // 1.1 MB of zero differences cost LZMA2 a couple of hundred bytes.
  CHECK(patch.size() < kDeltaHeaderBytes + 512);
  const Applied r = apply_patch(patch, image);
  CHECK(r.finished == DeltaStatus::Ok);
  CHECK(r.out == image);
}

// ---- edge cases and random data --------------------------------------------

TEST_CASE("delta: edge-case images round trip", "[delta]") {
  std::mt19937_64 rng(7);
  const Bytes small = random_bytes(rng, 5000);
  DeltaOptions quick;
  quick.exhaustive = false;

  SECTION("empty new image") { check_round_trip(small, {}, quick); }
  SECTION("empty old image") { check_round_trip({}, small, quick); }
  SECTION("both empty") { check_round_trip({}, {}, quick); }
  SECTION("one byte each") { check_round_trip({1}, {2}, quick); }
  SECTION("identical") { check_round_trip(small, small, quick); }
  SECTION("unrelated random data") { check_round_trip(small, random_bytes(rng, 7000), quick); }
  SECTION("new larger than old") {
    Bytes bigger = small;
    const Bytes tail = random_bytes(rng, 3001);
    bigger.insert(bigger.begin() + 1234, tail.begin(), tail.end());
    check_round_trip(small, bigger, quick);
  }
  SECTION("new smaller than old") {
    Bytes smaller(small.begin() + 17, small.begin() + 3333);
    check_round_trip(small, smaller, quick);
  }
  SECTION("odd offsets and halfword carries") {
    // Shift by an odd amount and add 0x0180 to halfwords so carries cross bytes.
    Bytes changed(small.begin() + 1, small.end());
    for (std::size_t i = 10; i + 1 < changed.size(); i += 64) {
      const unsigned v = (changed[i] | unsigned{changed[i + 1]} << 8) + 0x0180u;
      changed[i] = static_cast<std::uint8_t>(v);
      changed[i + 1] = static_cast<std::uint8_t>(v >> 8);
    }
    check_round_trip(small, changed, quick);
  }
  SECTION("smallest dictionary") {
    DeltaOptions tiny = quick;
    tiny.dict_log2 = kMinDictLog2;
    check_round_trip(small, random_bytes(rng, 100), tiny);
  }
}

TEST_CASE("delta: random edits round trip (seeded property test)", "[delta]") {
  DeltaOptions quick;
  quick.exhaustive = false;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
    Bytes old_image = random_bytes(rng, pick(0, 6000));
    // Make some of it repetitive, as code and tables are.
    for (std::size_t i = 0; i + 8 < old_image.size(); i += 8)
      if (rng() % 3 == 0) std::copy_n(old_image.begin(), 8, old_image.begin() + static_cast<std::ptrdiff_t>(i));
    Bytes new_image = old_image;
    const std::size_t edits = pick(0, 12);
    for (std::size_t e = 0; e < edits; ++e) {
      const std::size_t at = pick(0, new_image.size());
      switch (rng() % 4) {
        case 0: {  // insert
          const Bytes ins = random_bytes(rng, pick(1, 300));
          new_image.insert(new_image.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
          break;
        }
        case 1: {  // delete
          const std::size_t n = std::min(pick(1, 300), new_image.size() - at);
          new_image.erase(new_image.begin() + static_cast<std::ptrdiff_t>(at),
                          new_image.begin() + static_cast<std::ptrdiff_t>(at + n));
          break;
        }
        case 2:  // small arithmetic changes
          for (std::size_t i = at; i < std::min(new_image.size(), at + 200); i += pick(2, 16))
            new_image[i] = static_cast<std::uint8_t>(new_image[i] + 8);
          break;
        default:  // truncate or append
          if (rng() % 2) new_image.resize(at);
          else {
            const Bytes tail = random_bytes(rng, pick(1, 500));
            new_image.insert(new_image.end(), tail.begin(), tail.end());
          }
      }
    }
    const Bytes patch = encode_delta(old_image, new_image, quick);
    const MemFlash flash(old_image);
    const Applied r = apply_patch(patch, flash, 0, {}, seed);
    INFO("seed " << seed << ": old " << old_image.size() << " bytes, new " << new_image.size() << " bytes");
    REQUIRE(r.finished == DeltaStatus::Ok);
    REQUIRE(r.out == new_image);
  }
}

TEST_CASE("delta: the encoder is deterministic and checks its options", "[delta]") {
  const SmallPair s;
  CHECK(encode_delta(s.old_image, s.new_image) == encode_delta(s.old_image, s.new_image));
  DeltaOptions bad;
  bad.dict_log2 = kMaxDictLog2 + 1;
  CHECK_THROWS_AS(encode_delta(s.old_image, s.new_image, bad), std::invalid_argument);
  bad.dict_log2 = kMinDictLog2 - 1;
  CHECK_THROWS_AS(encode_delta(s.old_image, s.new_image, bad), std::invalid_argument);
}

TEST_CASE("delta: the header carries sizes, digests and the dictionary", "[delta]") {
  const SmallPair s;
  DeltaOptions o;
  o.dict_log2 = 14;
  const Bytes patch = encode_delta(s.old_image, s.new_image, o);
  const DeltaHeaderResult h = parse_delta_header(patch);
  REQUIRE(h.status == DeltaStatus::Ok);
  CHECK(h.header.version == kDeltaFormatVersion);
  CHECK(h.header.dict_log2 == 14);
  CHECK(h.header.old_size == s.old_image.size());
  CHECK(h.header.new_size == s.new_image.size());
  CHECK(h.header.old_sha256 == Sha256::of(s.old_image));
  CHECK(h.header.new_sha256 == Sha256::of(s.new_image));
  CHECK(parse_delta_header(std::span(patch).first(kDeltaHeaderBytes - 1)).status == DeltaStatus::BadHeader);
}

// ---- scale: the suffix index, LZMA2 blocks, threads -----------------------

TEST_CASE("delta: the bucketed suffix search finds what the whole-array search finds", "[delta]") {
  // Bucket keys of 1..3 bytes and the 64-bit array must give exactly the
  // matches of the whole-array search (key_bytes 0: the search that made every
  // patch before buckets), and those must be the longest, by brute force.
  // Small alphabets with 0x00 and 0xff and old images ending in short
  // suffixes of those bytes reach the bucket edges: "\x01\x00" (padded key
  // 01 00 00) sorts at the end of key 00 ff ff's range but outside its bucket,
  // "\x00\x00" and "\x00" share a padded key. 3-byte keys cost a 64 MiB table
  // per index, so only the images that end in two such bytes get them.
  const std::vector<Bytes> endings = {{}, {0x01}, {0x01, 0x00}, {0x00}, {0x00, 0x00}, {0xff}, {0xff, 0xff}};
  const std::vector<std::uint8_t> small_alphabet = {0x00, 0x01, 0xfe, 0xff};
  for (std::uint64_t seed = 1; seed <= 21; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
    const bool small = seed % 2 == 0;
    auto byte = [&] { return small ? small_alphabet[rng() % 4] : static_cast<std::uint8_t>(rng()); };
    Bytes old_image(seed <= 5 ? seed - 1 : pick(8, 1500));
    for (auto& b : old_image) b = byte();
    if (seed % 4 == 3)  // repetitive: runs of one byte, as code and tables have
      for (std::size_t i = 0; i + 40 < old_image.size(); i += pick(20, 200))
        std::fill_n(old_image.begin() + static_cast<std::ptrdiff_t>(i), pick(1, 40), byte());
    const Bytes& ending = endings[seed % endings.size()];
    old_image.insert(old_image.end(), ending.begin(), ending.end());
    // Needles: fresh bytes, copies of old slices (long matches) and old
    // tails (matches that end at the old image's last byte).
    Bytes needles;
    while (needles.size() < 1200) {
      if (rng() % 2 == 0 || old_image.empty()) {
        for (std::size_t n = pick(1, 30); n > 0; --n) needles.push_back(byte());
      } else {
        const std::size_t at = pick(0, old_image.size() - 1);
        const std::size_t n =
            rng() % 3 == 0 ? old_image.size() - at : pick(1, std::min<std::size_t>(200, old_image.size() - at));
        needles.insert(needles.end(), old_image.begin() + static_cast<std::ptrdiff_t>(at),
                       old_image.begin() + static_cast<std::ptrdiff_t>(at + n));
      }
    }
    INFO("seed " << seed << ", old " << old_image.size() << " bytes");
    const auto reference = detail::index_matches(old_image, needles, 0, false);
    const auto longest = brute_force_longest(old_image, needles);
    for (std::size_t i = 0; i < needles.size(); ++i) {
      INFO("needle at " << i);
      REQUIRE(reference[i].len == longest[i]);
      const auto from = needles.begin() + static_cast<std::ptrdiff_t>(i);
      REQUIRE(std::equal(from, from + reference[i].len, old_image.begin() + reference[i].old_pos));
    }
    CHECK(detail::index_matches(old_image, needles, 1, false) == reference);
    CHECK(detail::index_matches(old_image, needles, 2, false) == reference);
    CHECK(detail::index_matches(old_image, needles, 2, true) == reference);
    if (small && ending.size() == 2) CHECK(detail::index_matches(old_image, needles, 3, false) == reference);
  }
}

TEST_CASE("delta: records of several LZMA2 blocks round trip and do not depend on the thread count", "[delta]") {
  // 5 MiB of records: two LZMA2 blocks, each its own stream, joined into one
  // that the device's applier reads unchanged. (Three blocks and default
  // mode: the [.slow] test below.)
  const LargePair p = few_edits_pair(std::size_t{5} << 20, 5);
  DeltaOptions one_thread;
  one_thread.exhaustive = false;
  one_thread.threads = 1;
  DeltaOptions three_threads = one_thread;
  three_threads.threads = 3;
  const Bytes patch = encode_delta(p.old_image, p.new_image, one_thread);
  CHECK(encode_delta(p.old_image, p.new_image, three_threads) == patch);
  std::printf("delta: 5 MiB pair, %zu-byte patch (fast)\n", patch.size());
  const Applied r = apply_patch(patch, p.old_image, 0);
  CHECK(r.fed == DeltaStatus::Ok);
  CHECK(r.finished == DeltaStatus::Ok);
  CHECK(r.out == p.new_image);
}

TEST_CASE("delta: 9 MiB pairs round trip in default and fast mode on 1 and 2 threads", "[.slow]") {
  // Run with: build/bin/ota_agent_tests "[slow]" (about 70 s on 2 cores). The two
  // kinds of large pair that cost the most: unrelated random images (an index
  // query per new byte, nothing to compress) and file-system-like ones.
  const std::size_t size = std::size_t{9} << 20;
  const LargePair fs = file_system_like_pair(size, 9);
  std::mt19937_64 rng(10);
  const LargePair random_pair{random_bytes(rng, size), random_bytes(rng, size)};

  for (const auto& [name, pair] : {std::pair{"file-system-like", &fs}, std::pair{"random", &random_pair}})
    for (const bool exhaustive : {true, false}) {
      INFO(name << (exhaustive ? ", default" : ", fast"));
      DeltaOptions o;
      o.exhaustive = exhaustive;
      o.threads = 1;
      const Bytes patch = encode_delta(pair->old_image, pair->new_image, o);
      o.threads = 2;
      CHECK(encode_delta(pair->old_image, pair->new_image, o) == patch);
      std::printf("delta: 9 MiB %s pair, %s: %zu-byte patch\n", name, exhaustive ? "default" : "fast", patch.size());
      const Applied r = apply_patch(patch, pair->old_image);
      CHECK(r.fed == DeltaStatus::Ok);
      CHECK(r.finished == DeltaStatus::Ok);
      CHECK(r.out == pair->new_image);
    }
}

// ---- what the sink sees, RAM, restart --------------------------------------

TEST_CASE("delta: the sink gets full chunks and the exact new size", "[delta]") {
  const FirmwarePair& p = kPairs[4];
  const Bytes old_image = load(firmware(p.app, p.from));
  const Applied r = apply_patch(firmware_patch(p), old_image, 999);
  REQUIRE(r.finished == DeltaStatus::Ok);
  REQUIRE(!r.writes.empty());
  for (std::size_t i = 0; i + 1 < r.writes.size(); ++i) CHECK(r.writes[i] == DeltaApplier::kChunkBytes);
  CHECK(r.writes.back() >= 1);
  CHECK(r.writes.back() <= DeltaApplier::kChunkBytes);
}

TEST_CASE("delta: applier RAM is fixed and the decoder fits its arena", "[delta]") {
  // All state is inline: the documented budget is the arena, 4 KiB of output,
  // 2 x 1 KiB of scratch and under 1 KiB of header, parser and hash state.
  constexpr std::size_t kBudget =
      DeltaApplier::kDecoderArenaBytes + DeltaApplier::kChunkBytes + 2 * DeltaApplier::kScratchBytes + 1024;
  std::printf("delta: sizeof(DeltaApplier) = %zu bytes (budget %zu)\n", sizeof(DeltaApplier), kBudget);
  CHECK(sizeof(DeltaApplier) <= kBudget);

  const SmallPair s;
  const MemFlash flash(s.old_image);
  for (std::uint8_t dict_log2 = kMinDictLog2; dict_log2 <= kMaxDictLog2; ++dict_log2) {
    DeltaOptions o;
    o.dict_log2 = dict_log2;
    o.exhaustive = false;
    const Bytes patch = encode_delta(s.old_image, s.new_image, o);
    VecSink sink;
    auto applier = std::make_unique<DeltaApplier>(flash, sink);
    CHECK(applier->feed(patch) == DeltaStatus::Ok);
    CHECK(applier->finish() == DeltaStatus::Ok);
    INFO("dict_log2 " << int{dict_log2} << " arena used " << applier->decoder_arena_used());
    CHECK(applier->decoder_arena_used() >= (std::size_t{1} << dict_log2));
    CHECK(applier->decoder_arena_used() <= (std::size_t{1} << dict_log2) + DeltaApplier::kDecoderStateBytes);
  }
}

TEST_CASE("delta: restart after an interrupted apply gives the same image", "[delta]") {
  const SmallPair s;
  const Bytes patch = encode_delta(s.old_image, s.new_image);
  const MemFlash flash(s.old_image);
  for (const std::size_t cut : {std::size_t{10}, kDeltaHeaderBytes, patch.size() / 2, patch.size() - 1}) {
    INFO("power lost after " << cut << " patch bytes");
    VecSink sink;
    auto applier = std::make_unique<DeltaApplier>(flash, sink);
    CHECK(applier->feed(std::span(patch).first(cut)) == DeltaStatus::Ok);
    // The device reboots: the same applier object is reset (a new one would do
    // the same) and the new image is produced again from offset 0.
    applier->reset();
    sink.out.clear();
    CHECK(applier->feed(patch) == DeltaStatus::Ok);
    CHECK(applier->finish() == DeltaStatus::Ok);
    CHECK(sink.out == s.new_image);
    CHECK(applier->bytes_written() == s.new_image.size());
  }
}

// ---- refusing bad input ----------------------------------------------------

TEST_CASE("delta: every truncation of a small patch is refused", "[delta]") {
  const SmallPair s;
  const Bytes patch = encode_delta(s.old_image, s.new_image);
  const MemFlash flash(s.old_image);
  std::map<DeltaStatus, int> seen;
  for (std::size_t len = 0; len < patch.size(); ++len) {
    const Bytes cut(patch.begin(), patch.begin() + static_cast<std::ptrdiff_t>(len));
    const Applied r = apply_patch(cut, flash, 13);
    INFO("truncated to " << len << " of " << patch.size() << " bytes: " << to_string(r.finished));
    CHECK(r.finished != DeltaStatus::Ok);
    CHECK(r.out.size() <= s.new_image.size());
    ++seen[r.finished];
  }
  // Nothing but a clean "truncated" (a cut inside the stream cannot look like its end).
  CHECK(seen.size() == 1);
  CHECK(seen.count(DeltaStatus::Truncated) == 1);
}

TEST_CASE("delta: every single-bit flip of a small patch is refused or harmless", "[delta]") {
  const SmallPair s;
  const Bytes patch = encode_delta(s.old_image, s.new_image);
  const MemFlash flash(s.old_image);
  std::size_t refused = 0, harmless = 0;
  for (std::size_t bit = 0; bit < patch.size() * 8; ++bit) {
    Bytes flipped = patch;
    flipped[bit / 8] = static_cast<std::uint8_t>(flipped[bit / 8] ^ (1u << (bit % 8)));
    const Applied r = apply_patch(flipped, flash, 64);
    INFO("bit " << bit << ": " << to_string(r.finished));
    if (r.finished == DeltaStatus::Ok) {
      // Accepting is only allowed if the image made is exactly right.
      CHECK(r.out == s.new_image);
      ++harmless;
    } else {
      ++refused;
    }
  }
  std::printf("delta: %zu-byte patch, %zu bit flips refused, %zu harmless\n", patch.size(), refused, harmless);
  // The digest in the header makes harmful flips impossible to accept; almost
  // all flips should be refused outright.
  CHECK(refused >= patch.size() * 8 * 99 / 100);
}

TEST_CASE("delta: header damage gives the specific reason", "[delta]") {
  const SmallPair s;
  const Bytes patch = encode_delta(s.old_image, s.new_image);
  const MemFlash flash(s.old_image);
  auto with = [&](std::size_t offset, std::uint8_t value) {
    Bytes p = patch;
    p[offset] = value;
    return apply_patch(p, flash).finished;
  };
  CHECK(with(0, 'X') == DeltaStatus::BadHeader);                        // magic
  CHECK(with(4, kDeltaFormatVersion + 1) == DeltaStatus::UnsupportedVersion);
  CHECK(with(5, kMaxDictLog2 + 1) == DeltaStatus::BadHeader);           // dictionary too large for a device
  CHECK(with(5, kMinDictLog2 - 1) == DeltaStatus::BadHeader);
  CHECK(with(6, 1) == DeltaStatus::BadHeader);                          // reserved
  CHECK(with(16, static_cast<std::uint8_t>(patch[16] ^ 1)) == DeltaStatus::WrongBase);       // old digest
  CHECK(with(48, static_cast<std::uint8_t>(patch[48] ^ 1)) == DeltaStatus::DigestMismatch);  // new digest
  CHECK(with(11, 0xff) == DeltaStatus::WrongBase);  // old size larger than the flash area
}

TEST_CASE("delta: a wrong base image is refused before anything is written", "[delta]") {
  const SmallPair s;
  const Bytes patch = encode_delta(s.old_image, s.new_image);
  Bytes other = s.old_image;
  other[1500] ^= 0x01;
  const MemFlash flash(other);
  const Applied checked = apply_patch(patch, flash);
  CHECK(checked.finished == DeltaStatus::WrongBase);
  CHECK(checked.out.empty());
  // Without the up-front check the damage is still caught, by the new digest.
  DeltaApplyOptions unchecked;
  unchecked.verify_old_image = false;
  CHECK(apply_patch(patch, flash, 4096, unchecked).finished == DeltaStatus::DigestMismatch);
}

TEST_CASE("delta: bytes after the end of the stream are refused", "[delta]") {
  const SmallPair s;
  Bytes patch = encode_delta(s.old_image, s.new_image);
  patch.push_back(0);
  const Applied r = apply_patch(patch, s.old_image);
  CHECK(r.finished == DeltaStatus::CorruptPatch);
}

TEST_CASE("delta: flash and sink failures are reported and sticky", "[delta]") {
  const FirmwarePair& p = kPairs[4];
  const Bytes old_image = load(firmware(p.app, p.from));
  const Bytes& patch = firmware_patch(p);

  SECTION("old image unreadable while hashing it") {
    MemFlash flash(old_image);
    flash.fail_reads_from(1000, FlashStatus::IoError);
    VecSink sink;
    auto a = std::make_unique<DeltaApplier>(flash, sink);
    CHECK(a->feed(patch) == DeltaStatus::OldReadFailed);
    CHECK(a->old_read_status() == FlashStatus::IoError);
    CHECK(a->feed(patch) == DeltaStatus::OldReadFailed);
    CHECK(a->finish() == DeltaStatus::OldReadFailed);
  }
  SECTION("old image unreadable during the diff") {
    MemFlash flash(old_image);
    flash.fail_reads_from(600000, FlashStatus::PowerLost);
    DeltaApplyOptions o;
    o.verify_old_image = false;
    const Applied r = apply_patch(patch, flash, 4096, o);
    CHECK(r.fed == DeltaStatus::OldReadFailed);
    CHECK(r.finished == DeltaStatus::OldReadFailed);
    CHECK(r.out.size() < old_image.size());
  }
  SECTION("sink refuses a write") {
    const MemFlash flash(old_image);
    VecSink sink;
    sink.fail_at_write(3);
    auto a = std::make_unique<DeltaApplier>(flash, sink);
    CHECK(a->feed(patch) == DeltaStatus::SinkFailed);
    CHECK(a->bytes_written() == 2 * DeltaApplier::kChunkBytes);
    CHECK(a->finish() == DeltaStatus::SinkFailed);
  }
}

TEST_CASE("delta: malformed records are refused", "[delta]") {
  // Old image 0..99, new image 50 bytes.
  Bytes old_image(100);
  for (std::size_t i = 0; i < old_image.size(); ++i) old_image[i] = static_cast<std::uint8_t>(i);
  const Bytes new_image(old_image.begin() + 10, old_image.begin() + 60);
  const MemFlash flash(old_image);
  auto run = [&](const Bytes& records) { return apply_patch(handmade_patch(old_image, new_image, records), flash).finished; };
  const Bytes zeros(50, 0);
  auto record = [](std::uint8_t seek, std::uint8_t diff, std::uint8_t extra) { return Bytes{seek, diff, extra}; };
  auto cat = [](Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  // The well-formed control: seek +10 (zigzag 20), 50 diff bytes of zero.
  CHECK(run(cat(record(20, 50, 0), zeros)) == DeltaStatus::Ok);
  // The same as 30 diff + 20 extra bytes.
  CHECK(run(cat(cat(record(20, 30, 20), Bytes(30, 0)), Bytes(new_image.begin() + 30, new_image.end()))) ==
        DeltaStatus::Ok);
  CHECK(run(cat(record(20, 0, 0), cat(record(0, 50, 0), zeros))) == DeltaStatus::CorruptPatch);  // empty record
  CHECK(run(cat(record(1, 50, 0), zeros)) == DeltaStatus::CorruptPatch);       // seek to -1
  CHECK(run(cat(record(202, 1, 0), Bytes(1, 0))) == DeltaStatus::CorruptPatch);  // seek past old end (101)
  CHECK(run(cat(record(120, 50, 0), zeros)) == DeltaStatus::CorruptPatch);     // diff reads past old end
  CHECK(run(cat(record(20, 51, 0), Bytes(51, 0))) == DeltaStatus::OutputSizeMismatch);  // more than new_size
  CHECK(run(cat(record(20, 40, 0), Bytes(40, 0))) == DeltaStatus::OutputSizeMismatch);  // stream ends short
  CHECK(run(cat(cat(record(20, 50, 0), zeros), Bytes{0})) == DeltaStatus::OutputSizeMismatch);  // bytes after
  CHECK(run(Bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 50, 0}) == DeltaStatus::CorruptPatch);  // 6-byte varint
  CHECK(run(Bytes{}) == DeltaStatus::OutputSizeMismatch);  // no records at all
  CHECK(run(cat(record(20, 50, 0), Bytes(49, 0))) == DeltaStatus::OutputSizeMismatch);  // diff cut short
}

TEST_CASE("delta: the fuzzer's committed seed patches still apply", "[delta]") {
  // fuzz_delta_apply's input is one option byte, then the patch.
  const std::string dir = std::string(OTA_SOURCE_DIR) + "/tests/fuzz/corpus/delta_apply/";
  for (const char* name : {"seed_small_verify_base", "seed_small_trust_base", "seed_small_read_fails"}) {
    CAPTURE(name);
    const Bytes seed = load(dir + name);
    REQUIRE(seed.size() > 1 + kDeltaHeaderBytes);
    const Bytes patch(seed.begin() + 1, seed.end());
    const Applied r = apply_patch(patch, fuzz::delta_fuzz_old_image());
    CHECK(r.finished == DeltaStatus::Ok);
    CHECK(r.out == fuzz::delta_fuzz_new_image());
  }
}
