// field_table_sections.hpp — the scenario field table, one part per section of the file (internal).
//
// table_root.cpp: the document's own fields and its sections; table_fleet.cpp:
// hardware, links, the fleet; table_release.cpp: release, polling, server,
// delivery, prices, health; table_rollout.cpp: rollout and check. Each part
// lists parents before children. A group of fields used in several places
// (a gate, a link profile) is written once with paths relative to its parent
// and placed with `under`.
#pragma once

// Entries name only the members they set (designated initializers); the rest
// keep their defaults, which is what the table means.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <span>
#include <string_view>
#include <vector>

#include "ota/models/scenario/field_table.hpp"

namespace ota::models::fields {

std::span<const Field> root_fields();
std::span<const Field> fleet_fields();
std::span<const Field> release_fields();
std::span<const Field> rollout_fields();

// `group`'s entries with `prefix` put in front of their paths ("" in a group
// stands for the group's own entry). The paths are kept for the program's life.
std::vector<Field> under(std::string_view prefix, std::span<const Field> group);

// Sources said often.
inline constexpr std::string_view kAssumption = "assumption";

}  // namespace ota::models::fields
