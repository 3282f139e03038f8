// scenario_reader.cpp — ScenarioReader: the document as a whole, its header fields and the checks across sections.
#include "scenario_reader.hpp"

#include <cmath>
#include <limits>

namespace ota::models::scenario_detail {

Scenario ScenarioReader::read(const Json& root) {
  if (!root.is_object()) {
    diag_.add("", show(root) + " has the wrong type (expected an object: the scenario document)");
    return s_;
  }
  const Fields f(diag_, root, "", "");
  read_header(f);
  read_hardware(f);
  read_links(f);
  read_release(f);
  read_fleet(f);
  read_polling(f);
  read_server(f);
  read_delivery(f);
  read_rollout(f);
  read_prices(f);
  read_health(f);
  read_check(f);
  check_slots();
  return s_;
}

void ScenarioReader::read_header(const Fields& f) {
  text(f, "format");
  if (auto name = text(f, "name")) s_.name = std::move(*name);
  if (auto d = text(f, "description")) s_.description = std::move(*d);
  s_.seed = integer_or_default(f, "seed");
  const auto horizon_h = number(f, "horizon_h");
  const auto bin_min = number(f, "bin_minutes");
  if (horizon_h) s_.horizon_s = *horizon_h * 3600;
  s_.bin_s = (bin_min ? *bin_min : default_of(f, "bin_minutes")) * 60;
  horizon_ok_ = horizon_h.has_value();
  if (horizon_h && (bin_min || !f.has("bin_minutes"))) {
    const double bins = s_.horizon_s / s_.bin_s;
    if (bins > kMaxTimeSeriesBins) {
      const std::string key = f.has("bin_minutes") ? "bin_minutes" : "horizon_h";
      f.error(key, "horizon_h " + format_number(*horizon_h) + " with bin_minutes " + format_number(s_.bin_s / 60) +
                       " gives " + format_number(std::ceil(bins)) + " time-series bins (expected at most " +
                       std::to_string(kMaxTimeSeriesBins) + ": use wider bins)");
    }
  }
}

// Every slot must hold the release's full image.
void ScenarioReader::check_slots() {
  if (!image_bytes_) return;
  for (std::size_t i = 0; i < s_.hardware.size() && i < slot_ok_.size(); ++i) {
    const auto slot = s_.hardware[i].flash.slot_bytes;
    if (!slot_ok_[i] || slot >= *image_bytes_) continue;
    const std::uint64_t needed_kb = (*image_bytes_ + 1023) / 1024;
    diag_.add("/hardware/" + std::to_string(i) + "/flash/slot_kb",
              std::to_string(slot / 1024) + " KiB (" + std::to_string(slot) +
                  " bytes) cannot hold the release image of " + std::to_string(*image_bytes_) +
                  " bytes (expected slot_kb >= " + std::to_string(needed_kb) + ")");
  }
}

}  // namespace ota::models::scenario_detail
