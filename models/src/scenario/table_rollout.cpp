// table_rollout.cpp — the scenario field table: see field_table_sections.hpp.
#include "field_table_sections.hpp"
#include "fields.hpp"

namespace ota::models::fields {

std::span<const Field> rollout_fields() { return {}; }

}  // namespace ota::models::fields
