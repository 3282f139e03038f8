// field_table.cpp — looking fields up in the scenario's field table; what a field expects, in words.
#include "ota/models/scenario/field_table.hpp"

#include <cmath>
#include <deque>
#include <string>

#include "field_table_sections.hpp"
#include "json_input.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/models/scenario/json_pointer.hpp"

namespace ota::models::fields {

using scenario_detail::format_number;
using scenario_detail::json_quoted;

std::vector<std::string_view> Field::choice_list() const {
  std::vector<std::string_view> out;
  std::string_view rest = choices;
  while (!rest.empty()) {
    const auto bar = rest.find('|');
    out.push_back(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

std::optional<double> Field::default_number() const {
  if (default_json.empty()) return std::nullopt;
  const std::string text(default_json);
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return std::nullopt;
  return x;
}

bool Field::contains(double x) const {
  if (!std::isfinite(x)) return false;
  if (lo_open ? !(x > lo) : !(x >= lo)) return false;
  if (hi_open ? !(x < hi) : !(x <= hi)) return false;
  return true;
}

namespace {

std::string integer_text(double x) {
  // The table's integer bounds are whole numbers up to 2^64 - 1.
  if (x >= 18446744073709551615.0) return "18446744073709551615";
  return std::to_string(static_cast<std::uint64_t>(x));
}

std::string with_unit(std::string text, std::string_view unit) {
  if (!unit.empty()) text += ", in " + std::string(unit);
  return text;
}

}  // namespace

std::string Field::expected() const {
  if (!expect.empty()) return std::string(expect);
  switch (type) {
    case Type::Number: {
      std::string d;
      if (hi == kUnbounded) {
        d = std::string("a number ") + (lo_open ? "> " : ">= ") + format_number(lo);
      } else {
        d = std::string("a number in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) +
            (hi_open ? ")" : "]");
      }
      return with_unit(std::move(d), unit);
    }
    case Type::Integer:
      return with_unit("an integer in [" + integer_text(lo) + ", " + integer_text(hi) + "]", unit);
    case Type::String: return "a string";
    case Type::Name: return "a non-empty string";
    case Type::Choice: {
      std::string e = "one of:";
      for (const auto c : choice_list()) e += (e.back() == ':' ? " " : ", ") + json_quoted(c);
      return e;
    }
    case Type::Boolean: return "true or false";
    case Type::Version: return "a version " + std::string(agent::kFirmwareVersionForm);
    case Type::Const: return std::string(default_json);
    case Type::Object:
    case Type::Map: return "an object";
    case Type::Array: return "an array";
  }
  return {};
}

std::string Field::range_text() const {
  if (!choices.empty() && type != Type::Choice) {
    std::string r;
    for (const auto c : choice_list()) r += (r.empty() ? "" : " or ") + std::string(c);
    return unit.empty() ? r : r + " " + std::string(unit);
  }
  switch (type) {
    case Type::Number: {
      std::string r = hi == kUnbounded
                          ? std::string(lo_open ? "> " : ">= ") + format_number(lo)
                          : (lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) + (hi_open ? ")" : "]");
      return unit.empty() ? r : r + " " + std::string(unit);
    }
    case Type::Integer: {
      std::string r = integer_text(lo) + ".." + integer_text(hi);
      return unit.empty() ? r : r + " " + std::string(unit);
    }
    case Type::Choice: {
      std::string r;
      for (const auto c : choice_list()) r += (r.empty() ? "" : ", ") + std::string(c);
      return r;
    }
    case Type::Boolean: return "true, false";
    case Type::Array:
    case Type::Map:
      if (max_items > 0) return std::to_string(min_items) + ".." + std::to_string(max_items) + " entries";
      return min_items > 0 ? "at least " + std::to_string(min_items) + " entries" : std::string();
    default: return {};
  }
}

namespace {

std::vector<Field> build() {
  std::vector<Field> out;
  for (const auto section : {root_fields(), fleet_fields(), release_fields(), rollout_fields()})
    out.insert(out.end(), section.begin(), section.end());
  return out;
}

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  if (path.front() == '/') path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

std::span<const Field> all() {
  static const std::vector<Field> table = build();
  return table;
}

const Field* find(std::string_view pointer) {
  std::vector<std::string> want;
  if (!pointer.empty()) {
    // Concrete pointers are unescaped (~0, ~1) the loader's way; a path that
    // does not parse as a pointer has no entry.
    std::string error;
    const auto split = split_pointer(std::string(pointer), error);
    if (!split) return nullptr;
    want = *split;
  }
  const Field* best = nullptr;
  std::size_t best_exact = 0;
  for (const Field& f : all()) {
    const auto have = segments(f.path);
    if (have.size() != want.size()) continue;
    std::size_t exact = 0;
    bool match = true;
    for (std::size_t i = 0; i < have.size() && match; ++i) {
      if (have[i] == want[i]) ++exact;
      else if (have[i] != "*") match = false;
    }
    if (match && (!best || exact > best_exact)) {
      best = &f;
      best_exact = exact;
    }
  }
  return best;
}

const Field* child(std::string_view parent_path, std::string_view key) {
  const std::string path = std::string(parent_path) + "/" + std::string(key);
  for (const Field& f : all())
    if (f.path == path) return &f;
  return nullptr;
}

std::vector<std::string_view> child_keys(std::string_view parent_path) {
  std::vector<std::string_view> out;
  const std::string prefix = std::string(parent_path) + "/";
  for (const Field& f : all()) {
    if (f.path.size() <= prefix.size() || f.path.substr(0, prefix.size()) != prefix) continue;
    const std::string_view key = f.path.substr(prefix.size());
    if (key.find('/') != std::string_view::npos || key == "*") continue;
    out.push_back(key);
  }
  return out;
}

std::string table_path(std::string_view pointer) {
  const Field* f = find(pointer);
  return f ? std::string(f->path) : std::string();
}

}  // namespace ota::models::fields

namespace ota::models::fields {

std::vector<Field> under(std::string_view prefix, std::span<const Field> group) {
  static std::deque<std::string> paths;  // written only while all() builds the table, once
  std::vector<Field> out;
  for (Field f : group) {
    paths.push_back(std::string(prefix) + std::string(f.path));
    f.path = paths.back();
    out.push_back(f);
  }
  return out;
}

}  // namespace ota::models::fields
