// links.hpp — built-in radio link profiles with public-figure defaults.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// The built-in profiles: nbiot, ltem, lte_cat1, wifi, ethernet. A scenario may
// override any field of these or define new profiles based on one of them.
// Sources for every default are in links.cpp and ../shared/reference/figures.md.
const std::vector<LinkProfile>& builtin_link_profiles();
std::optional<LinkProfile> builtin_link_profile(std::string_view name);

}  // namespace ota::models
