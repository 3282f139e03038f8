// delta_encoder.hpp — HOST ONLY: makes the delta patches that delta.hpp's
// DeltaApplier applies on the device.
//
// Lives in the host-only `ota_agent_encoder` library (agent/encoder/), whose
// include directory device code does not see: the encoder allocates, throws
// and links libdivsufsort, none of which a device may do. The method and the
// patch format are documented in delta.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ota/agent/delta.hpp"

namespace ota::agent {

struct DeltaOptions {
  // LZMA2 dictionary 2^dict_log2 bytes, kMinDictLog2..kMaxDictLog2. It is also
  // the device's decoder RAM, so it is a trade: see bench/bench_delta.cpp.
  std::uint8_t dict_log2 = kMaxDictLog2;
  // Percival's rule: a new alignment is taken when an exact match beats the
  // current alignment's matching bytes by more than this many bytes.
  std::uint32_t min_gain = 8;
  // Also try a stricter switching rule (2 x min_gain) and a few LZMA
  // literal-context settings (per 4 MiB block of records), and keep the
  // smallest patch (about 5x the LZMA2 work). The decoder needs no extra
  // information.
  bool exhaustive = true;
  // Threads for the parts of an encode that are independent (the exhaustive
  // search's two alignments, the LZMA2 blocks); 0 = the machine's, at most 8.
  // The patch is the same for any value.
  unsigned threads = 0;
};

// Makes a patch that turns `old_image` into `new_image`. Deterministic (same
// inputs and options, same bytes). Throws std::invalid_argument for an image of
// 4 GiB or more or for options out of range, std::runtime_error if liblzma fails,
// std::system_error if a thread cannot start.
std::vector<std::uint8_t> encode_delta(std::span<const std::uint8_t> old_image,
                                       std::span<const std::uint8_t> new_image, const DeltaOptions& options = {});

// The record stream encode_delta compresses (the LZMA2 payload, uncompressed),
// so benchmarks can compare entropy stages on exactly the same bytes.
std::vector<std::uint8_t> delta_records(std::span<const std::uint8_t> old_image,
                                        std::span<const std::uint8_t> new_image, const DeltaOptions& options = {});

namespace detail {

// For tests: what the encoder's longest-match search in `old_image` answers
// for every suffix needles[i..], as {old position, length} (length 0: no
// byte matches). key_bytes is the length of the bucket keys that narrow each
// search, 0..3 (0: the whole suffix array, the search before buckets); every
// value must give the same answers. wide_index: the 64-bit suffix array that
// old images of 2 GiB and more get.
struct IndexMatch {
  std::int64_t old_pos = 0;
  std::int64_t len = 0;
  bool operator==(const IndexMatch&) const = default;
};
std::vector<IndexMatch> index_matches(std::span<const std::uint8_t> old_image, std::span<const std::uint8_t> needles,
                                      int key_bytes, bool wide_index);

}  // namespace detail

}  // namespace ota::agent
