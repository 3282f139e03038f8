// fields.cpp — the scenario loader's field readers: numbers, integers, strings, choices, versions; apportioning.
#include "fields.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "ota/agent/manifest.hpp"

namespace ota::models::scenario_detail {

// Integers may be written as 12, 12.0 or 1.2e1; 1.5 and 1e300 are refused.
std::optional<std::uint64_t> integer_in(const Fields& f, std::string_view key, const std::string& expected,
                                        std::uint64_t lo, std::uint64_t hi, Need need) {
  const Json* v = f.typed(key, need, expected, [](const Json& j) { return j.is_number(); });
  if (!v) return std::nullopt;
  std::optional<std::uint64_t> x;
  if (v->is_number_unsigned()) {
    x = v->get<std::uint64_t>();
  } else if (v->is_number_integer()) {
    const auto s = v->get<std::int64_t>();
    if (s >= 0) x = static_cast<std::uint64_t>(s);
  } else {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) {
      f.error(key, show(*v) + " is not an integer (expected " + expected + ")");
      return std::nullopt;
    }
    if (d >= 0 && d < 18446744073709551616.0) x = static_cast<std::uint64_t>(d);
  }
  if (!x || *x < lo || *x > hi) {
    f.error(key, show(*v) + " is out of range (expected " + expected + ")");
    return std::nullopt;
  }
  return x;
}

std::optional<std::string> text(const Fields& f, std::string_view key, Need need, const std::string& expected) {
  const Json* v = f.typed(key, need, expected, [](const Json& j) { return j.is_string(); });
  if (!v) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::string> name_field(const Fields& f, std::string_view key, Need need) {
  auto s = text(f, key, need, "a non-empty string");
  if (s && s->empty()) {
    f.error(key, "\"\" is empty (expected a non-empty string)");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> flag(const Fields& f, std::string_view key) {
  const Json* v = f.typed(key, Need::Optional, "true or false", [](const Json& j) { return j.is_boolean(); });
  if (!v) return std::nullopt;
  return v->get<bool>();
}

const Json* object(const Fields& f, std::string_view key, Need need) {
  const Json* v = f.typed(key, need, "an object", [](const Json& j) { return j.is_object(); });
  if (!v) return nullptr;
  return v;
}

const Json* array(const Fields& f, std::string_view key, Need need, const std::string& expected) {
  const Json* v = f.typed(key, need, expected, [](const Json& j) { return j.is_array(); });
  if (!v) return nullptr;
  return v;
}

// ---------------------------------------------------------------------------
// Readers by the field table

const Json& empty_object() {
  static const Json empty = Json::object();
  return empty;
}

const fields::Field& Fields::spec(std::string_view key) const {
  const fields::Field* f = fields::child(table_, key);
  if (!f) throw std::logic_error("scenario field table has no entry " + table_of(key));
  return *f;
}

namespace {


void expect_type(const fields::Field& spec, fields::Type type, const char* reader) {
  if (spec.type != type)
    throw std::logic_error("scenario field table: " + std::string(spec.path) + " is read by " + reader +
                           " but its entry has another type");
}

}  // namespace

std::optional<double> number(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  expect_type(spec, fields::Type::Number, "number()");
  const std::string expected = spec.expected();
  const Json* v = f.typed(key, need_of(spec), expected, [](const Json& j) { return j.is_number(); });
  if (!v) return std::nullopt;
  const double x = v->get<double>();
  if (!spec.contains(x)) {
    f.error(key, show(*v) + (spec.probability ? " is not a probability" : " is out of range") + " (expected " +
                     expected + ")");
    return std::nullopt;
  }
  return x;
}

double default_of(const Fields& f, std::string_view key) {
  const auto d = f.spec(key).default_number();
  if (!d) throw std::logic_error("scenario field table: " + f.table_of(key) + " has no number default");
  return *d;
}

double number_or_default(const Fields& f, std::string_view key) {
  if (const auto x = number(f, key)) return *x;
  return default_of(f, key);
}

std::optional<std::uint64_t> integer(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  expect_type(spec, fields::Type::Integer, "integer()");
  return integer_in(f, key, spec.expected(), static_cast<std::uint64_t>(spec.lo),
                    spec.hi >= 18446744073709551615.0 ? std::numeric_limits<std::uint64_t>::max()
                                                      : static_cast<std::uint64_t>(spec.hi),
                    need_of(spec));
}

std::uint64_t integer_or_default(const Fields& f, std::string_view key) {
  if (const auto x = integer(f, key)) return *x;
  return static_cast<std::uint64_t>(default_of(f, key));
}

std::optional<std::string> text(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  if (spec.type == fields::Type::Name) return name_field(f, key, need_of(spec));
  if (spec.type == fields::Type::Const) {
    const std::string expected = spec.expected();
    auto s = text(f, key, need_of(spec), expected);
    if (s && json_quoted(*s) != spec.default_json) {
      f.error(key, json_quoted(*s) + " is not a supported " + std::string(key) + " (expected " + expected + ")");
      return std::nullopt;
    }
    return s;
  }
  expect_type(spec, fields::Type::String, "text()");
  return text(f, key, need_of(spec), spec.expected());
}

bool flag_or_default(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  expect_type(spec, fields::Type::Boolean, "flag_or_default()");
  if (const auto v = flag(f, key)) return *v;
  return spec.default_json == "true";
}

const Json* object(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  if (spec.type != fields::Type::Object && spec.type != fields::Type::Map)
    throw std::logic_error("scenario field table: " + std::string(spec.path) + " is not an object");
  return object(f, key, need_of(spec));
}

const Json* array(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  expect_type(spec, fields::Type::Array, "array()");
  const Json* list = array(f, key, need_of(spec), spec.expected());
  if (!list) return nullptr;
  if (list->size() < spec.min_items)
    f.error(key, list->empty() ? "[] is empty (expected " + spec.expected() + " with at least " +
                                     std::to_string(spec.min_items) + ")"
                               : std::to_string(list->size()) + " entries are too few (expected at least " +
                                     std::to_string(spec.min_items) + ")");
  return list;
}

namespace detail {

void check_choices(const fields::Field& spec, const std::vector<std::string_view>& names) {
  if (spec.type != fields::Type::Choice || spec.choice_list() != names)
    throw std::logic_error("scenario field table: the choices of " + std::string(spec.path) +
                           " differ from its reader's");
}

}  // namespace detail

// The agent's version rule (agent::parse_firmware_version), the one otasign
// and the boot record use.
std::optional<Version> parse_version(const std::string& s) {
  const auto v = agent::parse_firmware_version(s);
  if (!v) return std::nullopt;
  return Version{v->major, v->minor, v->patch};
}

std::optional<Version> version(const Fields& f, std::string_view key) {
  const std::string expected = "a version " + std::string(agent::kFirmwareVersionForm);
  const auto s = text(f, key, Need::Required, expected);
  if (!s) return std::nullopt;
  auto v = parse_version(*s);
  if (!v) f.error(key, json_quoted(*s) + " is not a version (expected " + expected + ")");
  return v;
}

// Splits `n` devices over classes in proportion to `shares`: each class gets
// round(share x n); what rounding leaves over (or takes too much) goes one
// device at a time to the classes with the largest shares, ties to the earlier
// class. Deterministic, and the counts add up to exactly n.
std::vector<std::uint64_t> apportion(std::uint64_t n, const std::vector<double>& shares) {
  const double total = std::accumulate(shares.begin(), shares.end(), 0.0);
  std::vector<std::int64_t> counts(shares.size(), 0);
  std::int64_t assigned = 0;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    counts[i] = std::llround(shares[i] / total * static_cast<double>(n));
    assigned += counts[i];
  }
  std::vector<std::size_t> order(shares.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return shares[a] > shares[b]; });
  std::int64_t remainder = static_cast<std::int64_t>(n) - assigned;
  for (std::size_t j = 0; remainder > 0; ++j, --remainder) ++counts[order[j % order.size()]];
  for (std::size_t j = 0; remainder < 0; ++j) {
    std::int64_t& c = counts[order[j % order.size()]];
    if (c > 0) {
      --c;
      ++remainder;
    }
  }
  std::vector<std::uint64_t> out(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) out[i] = static_cast<std::uint64_t>(counts[i]);
  return out;
}


// hardware (/hardware/...), link profiles (/links/...) and the fleet (/fleet/..., classes, batteries, regions, groups) readers

const Json* array_unsized(const Fields& f, std::string_view key) {
  const fields::Field& spec = f.spec(key);
  expect_type(spec, fields::Type::Array, "array_unsized()");
  return array(f, key, need_of(spec), spec.expected());
}

std::string text_or_default(const Fields& f, std::string_view key) {
  if (auto s = text(f, key)) return std::move(*s);
  const fields::Field& spec = f.spec(key);
  const Json d = Json::parse(spec.default_json.empty() ? std::string_view("null") : spec.default_json, nullptr, false);
  if (!d.is_string())
    throw std::logic_error("scenario field table: " + std::string(spec.path) + " has no string default");
  return d.get<std::string>();
}

const fields::Field& item_spec(const Fields& f, std::string_view key) {
  const fields::Field* item = fields::child(f.table_of(key), "*");
  if (!item) throw std::logic_error("scenario field table has no entry " + f.table_of(key) + "/*");
  return *item;
}

}  // namespace ota::models::scenario_detail
