// device_class.hpp — what the hot path needs of a device class, precomputed
// once per run from the scenario and the release artifacts.
#pragma once

#include <cstdint>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

struct ClassInfo {
  std::size_t hardware = 0;
  std::size_t link_index = 0;
  const LinkProfile* link = nullptr;
  const Battery* battery = nullptr;
  agent::BootConfig boot_config;
  Partitioning partitioning = Partitioning::AB;
  double power_loss_per_s = 0;
  double usd_per_byte = 0;
  double flash_s = 0;           // erase + program the full image
  double write_watts = 0;
  double background_watts = 0;  // battery: sleep draw plus hourly check-ins, minus recharge
  double boot_s = 0;
  double boot_failure = 0;
  double crash_per_s = 0;
  double failing_share = 0;     // devices on which the new image never boots
  std::size_t region = 0;
  Source source = Source::Origin;
  std::uint32_t first_device = 0;  // the class's devices are first_device, first_device + 1, ... (whole fleet)
  std::uint32_t devices = 0;
  std::uint32_t sector_bytes = 4096;
};

std::vector<ClassInfo> build_classes(const Scenario& s, const ReleaseArtifacts& a);

// The class of a device of the whole fleet (classes are contiguous ranges).
inline std::size_t class_of_global(const std::vector<ClassInfo>& classes, std::uint32_t g) {
  std::size_t c = 0;
  while (c + 1 < classes.size() && g >= classes[c].first_device + classes[c].devices) ++c;
  return c;
}

}  // namespace ota::models
