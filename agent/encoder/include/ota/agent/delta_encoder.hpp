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
  // literal-context settings, and keep the smallest patch (about 5x the encode
  // time). The decoder needs no extra information.
  bool exhaustive = true;
};

// Makes a patch that turns `old_image` into `new_image`. Deterministic (same
// inputs and options, same bytes). Throws std::invalid_argument for an image of
// 4 GiB or more or for options out of range, std::runtime_error if liblzma fails.
std::vector<std::uint8_t> encode_delta(std::span<const std::uint8_t> old_image,
                                       std::span<const std::uint8_t> new_image, const DeltaOptions& options = {});

// The record stream encode_delta compresses (the LZMA2 payload, uncompressed),
// so benchmarks can compare entropy stages on exactly the same bytes.
std::vector<std::uint8_t> delta_records(std::span<const std::uint8_t> old_image,
                                        std::span<const std::uint8_t> new_image, const DeltaOptions& options = {});

}  // namespace ota::agent
