// field_table.hpp — every field of a scenario file, declared once.
//
// One entry per field (and per object or array that holds fields): its JSON
// path, type, range, unit, default, choices, a one-line description and the
// source of its default. The loader reads every field through its entry
// (models/src/scenario/fields.hpp: Fields and its readers), `otasim schema`
// writes scenarios/scenario.schema.json from the table, scenarios/FIELDS.md is
// generated from it, and the planner's form takes its placeholders, ranges,
// tooltips and choices from it. What a table cannot say — shares summing to 1,
// names resolving, increasing stages, slots holding the image — stays in the
// readers, next to the fields it concerns.
//
// Paths: JSON Pointers in which `*` stands for any array index or object key,
// e.g. "/fleet/classes/*/battery/capacity_mah" or "/links/*/median_kbps".
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ota::models::fields {

enum class Type {
  Number,   // a JSON number within [lo, hi] (either end may be open)
  Integer,  // an integer within [lo, hi]; 12, 12.0 and 1.2e1 are integers
  String,   // any string
  Name,     // a non-empty string
  Choice,   // one of `choices`
  Boolean,
  Version,  // MAJOR.MINOR.PATCH
  Const,    // exactly the string in `default_json`
  Object,   // an object whose keys are the entries below it
  Map,      // an object with free keys (names); its values are the entries at "<path>/*"
  Array,    // an array of [min_items, max_items] items; its items are the entries at "<path>/*"
};

inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

struct Field {
  std::string_view path;
  Type type = Type::Number;
  // Number, Integer: the range. Integers use lo and hi as whole numbers.
  double lo = 0;
  double hi = kUnbounded;
  bool lo_open = false;
  bool hi_open = false;
  std::string_view unit;         // as said in messages: "hours", "KiB", "kbit/s"; empty for none
  bool probability = false;      // out of range is "not a probability"
  bool required = false;
  // The default as JSON text ("45", "\"origin\"", "true"); empty when the field
  // is required or its default depends on other fields (then `default_note`
  // says how, e.g. "1.3e-4 for mains, 0 for battery").
  std::string_view default_json;
  std::string_view default_note;
  std::string_view choices;      // Choice: the names, separated by '|'
  std::size_t min_items = 0;     // Array, Map
  std::size_t max_items = 0;     // 0: no limit
  std::string_view expect;       // what messages say is expected, where the type's own words are too vague
                                 // ("the name of a link profile", "an array of stages")
  std::string_view description;  // one line (or a short paragraph) for people
  std::string_view source;       // where the default comes from: a figure, a document, or "assumption"
  bool nullable = false;         // null is allowed too (and means what the description says)

  std::vector<std::string_view> choice_list() const;
  std::optional<double> default_number() const;
  // What the field expects, as error messages and tooltips say it:
  // "a number in (0, 87600], in hours", "an integer in [1, 255]",
  // "one of: \"ab\", \"single\"".
  std::string expected() const;
  // The range alone, for people: "(0, 87600] hours", "1..255".
  std::string range_text() const;
  bool contains(double x) const;
  bool is_container() const { return type == Type::Object || type == Type::Map || type == Type::Array; }
};

// Every entry, parents before children, in the order of the file format's
// documentation. The root object is the entry with path "".
std::span<const Field> all();

// The entry of `pointer`, a concrete JSON Pointer ("/fleet/classes/2/share")
// or a table path ("/fleet/classes/*/share"). An exact key is preferred over
// `*` where both match. Null when the path has no entry.
const Field* find(std::string_view pointer);
// The entry of `key` under the container entry `parent` (by table path).
const Field* child(std::string_view parent_path, std::string_view key);
// The keys of the entries directly under `parent_path` (not "*"), in table order.
std::vector<std::string_view> child_keys(std::string_view parent_path);

// The table path of a concrete pointer's entry ("" when none).
std::string table_path(std::string_view pointer);

// scenarios/scenario.schema.json: JSON Schema (draft 2020-12) of the table,
// 2-space indented with a final newline (`otasim schema`).
std::string schema_json();
// scenarios/FIELDS.md: one Markdown table row per field (`otasim schema --markdown`).
std::string fields_markdown();

}  // namespace ota::models::fields
