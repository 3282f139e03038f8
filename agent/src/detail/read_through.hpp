// read_through.hpp — reads a FlashArea start to end in bounded chunks (the
// device verifier's hash_area and the host's whole-artifact check).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::detail {

constexpr std::size_t kReadChunk = 4096;

// Reads all of `area` in order, handing each chunk to `consume`, which returns
// false to stop early. The first failed read's status, else Ok.
template <class Consume>
FlashStatus read_through(const FlashArea& area, Consume&& consume) {
  std::array<std::uint8_t, kReadChunk> buf;
  for (std::uint32_t at = 0; at < area.size();) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(buf.size(), area.size() - at));
    const FlashStatus fs = area.read(at, std::span<std::uint8_t>(buf.data(), n));
    if (fs != FlashStatus::Ok) return fs;
    if (!consume(std::span<const std::uint8_t>(buf.data(), n))) break;
    at += n;
  }
  return FlashStatus::Ok;
}

}  // namespace ota::agent::detail
