// flash_timing.hpp — how long a flash write window lasts.
#pragma once

#include <cmath>
#include <cstdint>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// Seconds to erase and program `bytes` on `f`: every sector touched is erased
// (whole sectors), then every KiB programmed. The simulator and the analytic
// model both use this, so their write windows are the same.
inline double flash_seconds(const FlashTiming& f, std::uint64_t bytes) {
  const double sectors = std::ceil(static_cast<double>(bytes) / f.sector_bytes);
  return sectors * f.erase_s_per_sector + static_cast<double>(bytes) / 1024.0 * f.program_s_per_kb;
}

}  // namespace ota::models
