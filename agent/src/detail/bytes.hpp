// bytes.hpp — little-endian loads and stores and alignment arithmetic, shared
// by every on-flash and on-wire format of the agent (manifest, boot record,
// progress log, delta header) and by the host-side delta encoder.
//
// Internal to the agent: not installed, not part of its API.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace ota::agent::detail {

constexpr std::uint16_t load_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

constexpr std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

constexpr std::uint64_t load_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_u32(p)) | (static_cast<std::uint64_t>(load_u32(p + 4)) << 32);
}

constexpr void store_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

constexpr void store_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

constexpr void store_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

template <std::size_t N>
constexpr void load_bytes(const std::uint8_t* p, std::array<std::uint8_t, N>& out) {
  std::copy_n(p, N, out.begin());
}

template <std::size_t N>
constexpr void store_bytes(std::uint8_t* p, const std::array<std::uint8_t, N>& in) {
  std::copy_n(in.begin(), N, p);
}

// `n` rounded up to a multiple of `align`. Requires align > 0 and no overflow
// (the agent only rounds record and entry sizes of a few hundred bytes).
constexpr std::uint32_t round_up(std::uint32_t n, std::uint32_t align) { return (n + align - 1) / align * align; }

}  // namespace ota::agent::detail
