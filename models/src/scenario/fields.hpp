// fields.hpp — the scenario loader's field readers (internal): typed, range-checked values of one JSON object.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_input.hpp"
#include "ota/models/scenario/field_table.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models::scenario_detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kShareTolerance = 1e-6;
inline constexpr double kMaxHours = 87'600;         // 10 years: any horizon, soak or start
inline constexpr double kMaxMinutes = kMaxHours * 60;
inline constexpr double kMaxSeconds = kMaxHours * 3600;
inline constexpr double kMaxImageKb = 4'294'967;    // image sizes are u32 bytes in the manifest
inline constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint64_t kMaxSlotKb = kMaxU32 / 1024;

// ---------------------------------------------------------------------------
// Reading fields

enum class Need { Required, Optional };

// The keys of one JSON object, checked against the keys it may have.
class Fields {
 public:
  // The keys allowed are those the field table lists under `table_path`
  // (field_table.hpp), e.g. "/hardware/*/flash" for "/hardware/2/flash".
  Fields(Diagnostics& diag, const Json& object, std::string path, std::string table_path)
      : diag_(diag), object_(object), path_(std::move(path)), table_(std::move(table_path)) {
    const auto allowed = fields::child_keys(table_);
    for (const auto& [key, value] : object_.items()) {
      if (is_documentation_key(key)) continue;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        diag_.add(child(path_, key), "unknown key (expected one of: " + join(names) + ")");
      }
    }
  }

  // The table entry of `key` in this object. A key the table does not list is
  // a defect of the reader, not of the input: it throws std::logic_error,
  // which the loader reports as an internal error.
  const fields::Field& spec(std::string_view key) const;
  // The table path of this object, and of `key` in it.
  const std::string& table() const { return table_; }
  std::string table_of(std::string_view key) const { return table_ + "/" + std::string(key); }

  const Json* find(std::string_view key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::string path_of(std::string_view key) const { return child(path_, key); }
  const std::string& path() const { return path_; }

  void missing(std::string_view key, const std::string& expected) const {
    diag_.add(path_of(key), "missing required field (expected " + expected + ")");
  }
  void wrong_type(std::string_view key, const Json& v, const std::string& expected) const {
    diag_.add(path_of(key), show(v) + " has the wrong type (expected " + expected + ")");
  }
  void error(std::string_view key, const std::string& message) const { diag_.add(path_of(key), message); }

  // The value of `key` when it is there and `of_type` accepts it; otherwise
  // reports a missing required field or a wrong type (with `expected`) and
  // returns null. Every reader starts here.
  template <class OfType>
  const Json* typed(std::string_view key, Need need, const std::string& expected, OfType of_type) const {
    const Json* v = find(key);
    if (!v) {
      if (need == Need::Required) missing(key, expected);
      return nullptr;
    }
    if (!of_type(*v)) {
      wrong_type(key, *v, expected);
      return nullptr;
    }
    return v;
  }

 private:
  Diagnostics& diag_;
  const Json& object_;
  std::string path_;
  std::string table_;
};

// For quantities that are divided by or repeat (rates, capacities, poll and
// backoff intervals): "positive" with a floor, so that 1e-300 cannot become a
// zero or an infinity in the model.
inline constexpr double kTiny = 0.001;

// The readers below (fields.cpp) report a missing, mistyped or out-of-range
// field through `f` and return nothing (std::nullopt or nullptr).
// Integers may be written as 12, 12.0 or 1.2e1; 1.5 and 1e300 are refused.
std::optional<std::uint64_t> integer_in(const Fields& f, std::string_view key, const std::string& expected,
                                        std::uint64_t lo, std::uint64_t hi, Need need);
std::optional<std::string> text(const Fields& f, std::string_view key, Need need, const std::string& expected);
std::optional<std::string> name_field(const Fields& f, std::string_view key, Need need);
std::optional<bool> flag(const Fields& f, std::string_view key);

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

template <class E>
std::optional<E> choice(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices, Need need) {
  std::string expected = "one of:";
  for (const auto& c : choices) expected += (expected.back() == ':' ? " " : ", ") + json_quoted(c.name);
  const Json* v = f.typed(key, need, expected, [](const Json& j) { return j.is_string(); });
  if (!v) return std::nullopt;
  const auto& s = v->get_ref<const std::string&>();
  for (const auto& c : choices)
    if (c.name == s) return c.value;
  f.error(key, show(*v) + " is not a valid choice (expected " + expected + ")");
  return std::nullopt;
}

// {}: what a missing optional object reads as, so that its fields take the
// table's defaults.
const Json& empty_object();
inline const Json& or_empty(const Json* object) { return object ? *object : empty_object(); }

// Whether the entry says the field is required.
inline Need need_of(const fields::Field& spec) { return spec.required ? Need::Required : Need::Optional; }

// Readers by the field table: the range, whether the field is required, its
// default and its choices come from the key's entry (f.spec(key)).
std::optional<double> number(const Fields& f, std::string_view key);
double number_or_default(const Fields& f, std::string_view key);
// The entry's default as a number, for a reader that also needs to know
// whether the field was given (std::logic_error if the entry has none).
double default_of(const Fields& f, std::string_view key);  // the entry's default when absent or invalid
std::optional<std::uint64_t> integer(const Fields& f, std::string_view key);
std::uint64_t integer_or_default(const Fields& f, std::string_view key);
std::optional<std::string> text(const Fields& f, std::string_view key);  // String, Name and Const entries
bool flag_or_default(const Fields& f, std::string_view key);
const Json* object(const Fields& f, std::string_view key);
const Json* array(const Fields& f, std::string_view key);  // also checks the entry's min_items and max_items

// A choice by the table: `choices` maps each of the entry's names (all of
// them, in the table's order) to its value; the default is the entry's.
template <class E>
std::optional<E> choice(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices);
template <class E>
E choice_or_default(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices);

const Json* object(const Fields& f, std::string_view key, Need need);
const Json* array(const Fields& f, std::string_view key, Need need, const std::string& expected);
namespace detail {
// Checks that `names` are the entry's choices, in order (std::logic_error if not).
void check_choices(const fields::Field& spec, const std::vector<std::string_view>& names);
}  // namespace detail

template <class E>
std::optional<E> choice(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices) {
  const fields::Field& spec = f.spec(key);
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.name);
  detail::check_choices(spec, names);
  return choice(f, key, choices, spec.required ? Need::Required : Need::Optional);
}

template <class E>
E choice_or_default(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices) {
  if (auto v = choice(f, key, choices)) return *v;
  const fields::Field& spec = f.spec(key);
  for (const auto& c : choices)
    if (spec.default_json == "\"" + std::string(c.name) + "\"") return c.value;
  throw std::logic_error("scenario field table: " + std::string(spec.path) + " has no default among its choices");
}

// MAJOR.MINOR.PATCH, decimal without leading zeros; MAJOR and MINOR <= 255.
std::optional<Version> parse_version(const std::string& s);
std::optional<Version> version(const Fields& f, std::string_view key);
// Splits `n` devices over classes in proportion to `shares`; the counts add up
// to exactly n.
std::vector<std::uint64_t> apportion(std::uint64_t n, const std::vector<double>& shares);


// hardware (/hardware/...), link profiles (/links/...) and the fleet (/fleet/..., classes, batteries, regions, groups) readers

// An Array entry's value, its type and presence checked by the entry; its
// length is left to the caller, whose messages say in their own words what a
// list of fewer than min_items or more than max_items is.
const Json* array_unsized(const Fields& f, std::string_view key);
// A String or Name entry's value, or the entry's default (a JSON string) when
// it is absent or invalid.
std::string text_or_default(const Fields& f, std::string_view key);
// The entry of the items of the Array, or the values of the Map, `key` in `f`
// (the entry at "<path>/*").
const fields::Field& item_spec(const Fields& f, std::string_view key);

}  // namespace ota::models::scenario_detail
