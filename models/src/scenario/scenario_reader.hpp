// scenario_reader.hpp — the scenario loader's validating reader (internal): one member per section of the document.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fields.hpp"
#include "json_input.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models::scenario_detail {

// Reads a parsed scenario document into a Scenario. Every problem is recorded
// in `diag` and reading carries on with a placeholder, so that one run reports
// all errors. The sections are read in a fixed order (see read()), each one
// able to use what the earlier ones set.
class ScenarioReader {
 public:
  ScenarioReader(Diagnostics& diag, std::string base_dir) : diag_(diag), base_dir_(std::move(base_dir)) {}

  Scenario read(const Json& root);  // scenario_reader.cpp

 private:
  // scenario_reader.cpp
  void read_header(const Fields& f);
  void check_slots();

  // read_fleet.cpp: hardware, link profiles, device classes and regions, batteries
  void read_hardware(const Fields& root);
  std::vector<std::string> hardware_names() const;
  std::optional<std::size_t> hardware_index(std::string_view name) const;
  void read_link_fields(const Fields& f, LinkProfile& l, bool check_order = true);
  void read_links(const Fields& root);
  std::optional<std::size_t> link_index(std::string_view name) const;
  void read_fleet(const Fields& root);
  Battery read_battery(const Fields& b);

  // read_release.cpp: the release and its images, polling, server, delivery, prices, health
  std::optional<std::uint64_t> image_file(const Fields& f, std::string_view key, Need need,
                                          std::optional<std::string>& resolved);
  void read_release(const Fields& root);
  void read_release_sizes(const Fields& f, bool delta);
  void read_release_rest(const Fields& f);
  void read_polling(const Fields& root);
  void read_server(const Fields& root);
  void read_delivery(const Fields& root);
  void read_prices(const Fields& root);
  void read_health(const Fields& root);

  // read_rollout.cpp: the rollout, its gates and stages, and the check block
  Gate read_gate(const Json& v, const std::string& path, const std::string& table, const Gate* inherited);
  void read_rollout(const Fields& root);
  void read_check(const Fields& root);

  // An object keyed by region name (`key` in `f`): calls `each(region index,
  // value, JSON Pointer)` for every entry that names a region of the fleet
  // and is an object (`what` names it in messages); reports the others.
  template <class Each>
  void for_each_region(const Fields& f, std::string_view key, Need need, const char* what, Each each) {
    const Json* entries = object(f, key, need);
    if (!entries) return;
    for (const auto& [name, value] : entries->items()) {
      if (is_documentation_key(name)) continue;
      const std::string path = child(f.path_of(key), name);
      const auto it = std::find(s_.regions.begin(), s_.regions.end(), name);
      if (it == s_.regions.end()) {
        diag_.add(path, json_quoted(name) + " names no region of the fleet (defined: " + join(s_.regions) + ")");
        continue;
      }
      if (!value.is_object()) {
        diag_.add(path, show(value) + " has the wrong type (expected an object: " + what + ")");
        continue;
      }
      each(static_cast<std::size_t>(it - s_.regions.begin()), value, path);
    }
  }

  Diagnostics& diag_;
  std::string base_dir_;
  Scenario s_;
  bool horizon_ok_ = false;
  std::vector<bool> hardware_id_ok_;   // per hardware entry: its id was valid
  std::vector<bool> slot_ok_;          // per hardware entry: its slot size was valid (or defaulted)
  std::vector<std::size_t> class_entry_;  // per class read: its index in /fleet/classes
  std::optional<std::uint64_t> image_bytes_;  // the full image, when known
};

}  // namespace ota::models::scenario_detail
