// scenario_loader.cpp — JSON text -> validated Scenario (format "otasim-scenario/1").
//
// Three stages, each unable to throw past this file:
//   1. parse: nlohmann's SAX parser feeding our own DOM builder, which refuses
//      duplicate keys and deep nesting and turns a syntax error into one
//      line/column message;
//   2. overrides: (JSON Pointer, value) pairs set in the DOM;
//   3. validate + convert: one reader per section. Readers record every problem
//      and carry on with a placeholder, so one run reports all errors.
#include "ota/models/scenario/scenario_loader.hpp"

#include "ota/agent/boot_control.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ota/agent/manifest.hpp"
#include "ota/models/fleet/links.hpp"

namespace ota::models {

static_assert(kMaxHardwareEntries == ota::agent::kMaxHardwareIds,
              "one release manifest must be able to list every hardware entry");

namespace {

using Json = nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kMaxShownValue = 60;          // characters of a value quoted in a message
constexpr double kShareTolerance = 1e-6;
constexpr double kMaxHours = 87'600;                // 10 years: any horizon, soak or start
constexpr double kMaxMinutes = kMaxHours * 60;
constexpr double kMaxSeconds = kMaxHours * 3600;
constexpr double kMaxImageKb = 4'294'967;           // image sizes are u32 bytes in the manifest
constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kMaxSlotKb = kMaxU32 / 1024;

// ---------------------------------------------------------------------------
// Text helpers

// Replaces each byte that is not part of well-formed UTF-8 with '?', so that
// messages can be shown or written into JSON reports as they are.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len >= 3) {  // overlong forms, surrogates and > U+10FFFF
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) ok = false;
      if (c == 0xED && c1 >= 0xA0) ok = false;
      if (c == 0xF0 && c1 < 0x90) ok = false;
      if (c == 0xF4 && c1 >= 0x90) ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

// One reference token of a JSON Pointer (RFC 6901: '~' -> "~0", '/' -> "~1").
std::string pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string child(const std::string& path, std::string_view key) {
  return path + "/" + pointer_token(key);
}

std::string child(const std::string& path, std::size_t index) {
  return path + "/" + std::to_string(index);
}

// Shortest text that reads back as the same double ("0.3", "1e-06"), with
// whole numbers written out ("1000000000", not "1e+09").
std::string format_number(double x) {
  char buf[40];
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e16) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("?");
}

// A value as it would appear in the document, cut to kMaxShownValue characters.
std::string show(const Json& v) {
  std::string text;
  try {
    text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    text = "(unprintable value)";
  }
  if (text.size() > kMaxShownValue) {
    std::size_t cut = kMaxShownValue;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "...";
  }
  return text;
}

std::string json_quoted(std::string_view s) { return show(Json(std::string(s))); }

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "none" : out;
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (const auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool is_documentation_key(std::string_view key) {
  return key.rfind("_comment", 0) == 0 || key == "$schema";
}

// ---------------------------------------------------------------------------
// Diagnostics

class Diagnostics {
 public:
  void add(const std::string& path, const std::string& message) {
    errors_.push_back({valid_utf8(path), valid_utf8(message)});
  }
  bool empty() const { return errors_.empty(); }
  std::size_t count() const { return errors_.size(); }
  std::vector<ScenarioError> take() { return std::move(errors_); }

 private:
  std::vector<ScenarioError> errors_;
};

// ---------------------------------------------------------------------------
// Parsing: a DOM builder for nlohmann's SAX parser

// Builds the document like nlohmann's own DOM parser, and additionally refuses
// duplicate keys (recorded, parsing goes on) and nesting deeper than
// kMaxJsonDepth (parsing stops: the DOM's recursive operations stay bounded).
class DomBuilder {
 public:
  DomBuilder(Diagnostics& diag, std::string_view text) : diag_(diag), text_(text) {}

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool v) { return add(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return add(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return add(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return add(Json(v)); }
  bool string(Json::string_t& v) { return add(Json(std::move(v))); }
  bool binary(Json::binary_t& /*v*/) { return false; }  // JSON text has no binary values
  bool start_object(std::size_t /*elements*/) { return open(Json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(Json::string_t& k) {
    if (stack_.empty()) return false;
    const Frame& f = stack_.back();
    if (f.node->contains(k))
      diag_.add(child(f.path, k), "duplicate key " + json_quoted(k) + " (expected each key at most once in an object)");
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line
    // 3, column 7: syntax error ..." or "[json.exception.out_of_range.406]
    // number overflow parsing '1e999'". Keep the explanation, and give the
    // position ourselves so that every kind of error has one.
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    if (what.rfind("parse error", 0) == 0) {
      if (const auto p = what.find(": "); p != std::string::npos) what.erase(0, p + 2);
    }
    const std::size_t end = std::min(position, text_.size());
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < end; ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    diag_.add("", "malformed JSON at line " + std::to_string(line) + ", column " +
                      std::to_string(end - line_start) + ": " + what);
    return false;
  }

  Json take_root() { return std::move(root_); }

 private:
  struct Frame {
    Json* node;
    std::string path;
  };

  // Puts `v` where the parser is: the root, the next array element or the
  // value of the last key. Containers on the stack are never resized while a
  // child of theirs is open, so the pointers stay valid.
  Json* place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *stack_.back().node;
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }

  bool add(Json&& v) {
    place(std::move(v));
    return true;
  }

  bool open(Json&& container) {
    std::string path;
    if (!stack_.empty()) {
      const Frame& parent = stack_.back();
      path = parent.node->is_array() ? child(parent.path, parent.node->size()) : child(parent.path, key_);
    }
    if (stack_.size() >= static_cast<std::size_t>(kMaxJsonDepth)) {
      diag_.add(path, "nesting deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels (expected a scenario document, which is at most a few levels deep)");
      return false;
    }
    Json* node = place(std::move(container));
    stack_.push_back({node, std::move(path)});
    return true;
  }

  bool close() {
    if (stack_.empty()) return false;
    stack_.pop_back();
    return true;
  }

  Diagnostics& diag_;
  std::string_view text_;
  Json root_;
  std::vector<Frame> stack_;
  std::string key_;
};

// Parses `text` into `out`. Returns false (with errors recorded) if it is not
// one well-formed JSON value.
bool parse_json(std::string_view text, Diagnostics& diag, Json& out) {
  const std::size_t before = diag.count();
  DomBuilder builder(diag, text);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.data(), text.data() + text.size(), &builder);
  } catch (const std::exception& e) {  // only std::bad_alloc is possible here
    diag.add("", std::string("malformed JSON: ") + e.what());
    return false;
  }
  if (!ok && diag.count() == before) diag.add("", "malformed JSON");
  if (!ok) return false;
  out = builder.take_root();
  return diag.count() == before;
}

// ---------------------------------------------------------------------------
// Overrides

std::optional<std::vector<std::string>> split_pointer(const std::string& pointer, std::string& why) {
  if (pointer.empty()) {
    why = "the empty pointer would replace the whole scenario (expected a path to one field, like /fleet/devices)";
    return std::nullopt;
  }
  if (pointer[0] != '/') {
    why = json_quoted(pointer) + " is not a JSON Pointer (expected a path starting with '/', like /fleet/devices)";
    return std::nullopt;
  }
  std::vector<std::string> tokens;
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~') {
      const char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        why = json_quoted(pointer) + " has '~' not followed by 0 or 1 (expected ~0 for '~' and ~1 for '/')";
        return std::nullopt;
      }
      token.push_back(next == '0' ? '~' : '/');
      ++i;
    } else {
      token.push_back(pointer[i]);
    }
  }
  return tokens;
}

// An array index token: decimal digits without a leading zero, below `size`.
std::optional<std::size_t> array_index(const std::string& token, std::size_t size) {
  if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  if (index >= size) return std::nullopt;
  return index;
}

void apply_override(Json& root, const std::string& pointer, const std::string& value_text, Diagnostics& diag) {
  std::string why;
  const auto tokens = split_pointer(pointer, why);
  if (!tokens) {
    diag.add(pointer, "cannot override: " + why);
    return;
  }
  Json value;
  Diagnostics value_diag;
  if (!parse_json(value_text, value_diag, value)) value = Json(value_text);  // a plain string

  Json* node = &root;
  std::string at;  // pointer of *node
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const std::string& token = (*tokens)[i];
    const bool last = i + 1 == tokens->size();
    if (node->is_object()) {
      if (last) {
        (*node)[token] = std::move(value);
        return;
      }
      Json& next = (*node)[token];
      if (next.is_null()) next = Json::object();  // create a missing intermediate object
      node = &next;
    } else if (node->is_array()) {
      const auto index = array_index(token, node->size());
      if (!index) {
        diag.add(pointer, "cannot override: " + json_quoted(token) + " is not an element of " +
                              (at.empty() ? std::string("the document") : at) + ", which has " +
                              std::to_string(node->size()) + " elements (expected an index below " +
                              std::to_string(node->size()) + "; overrides replace elements and do not append)");
        return;
      }
      if (last) {
        (*node)[*index] = std::move(value);
        return;
      }
      node = &(*node)[*index];
    } else {
      diag.add(pointer, "cannot override: " + (at.empty() ? std::string("the document") : at) + " is " +
                            show(*node) + " (expected an object or array on the way to the field)");
      return;
    }
    at = child(at, token);
  }
}

// ---------------------------------------------------------------------------
// Reading fields

enum class Need { Required, Optional };

// The keys of one JSON object, checked against the keys it may have.
class Fields {
 public:
  // `object` must be a JSON object. Reports every key not in `allowed` that is
  // not a documentation key.
  Fields(Diagnostics& diag, const Json& object, std::string path, std::initializer_list<std::string_view> allowed)
      : diag_(diag), object_(object), path_(std::move(path)) {
    for (const auto& [key, value] : object_.items()) {
      if (is_documentation_key(key)) continue;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        diag_.add(child(path_, key), "unknown key (expected one of: " + join(allowed) + ")");
    }
  }

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

 private:
  Diagnostics& diag_;
  const Json& object_;
  std::string path_;
};

// The allowed range of a number, and how to talk about it.
struct Bounds {
  double lo = 0;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;
  const char* unit = nullptr;  // "hours", shown after the range
  bool probability = false;    // say "is not a probability" when outside

  std::string describe() const {
    std::string d;
    if (hi == kInf) {
      d = std::string("a number ") + (lo_open ? "> " : ">= ") + format_number(lo);
    } else {
      d = std::string("a number in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) +
          (hi_open ? ")" : "]");
    }
    if (unit) d += std::string(", in ") + unit;
    return d;
  }
  bool contains(double x) const {
    if (!std::isfinite(x)) return false;
    if (lo_open ? !(x > lo) : !(x >= lo)) return false;
    if (hi_open ? !(x < hi) : !(x <= hi)) return false;
    return true;
  }
};

constexpr Bounds probability() { return Bounds{0, 1, false, false, nullptr, true}; }
constexpr Bounds positive(double hi, const char* unit = nullptr) { return Bounds{0, hi, true, false, unit, false}; }
constexpr Bounds non_negative(double hi, const char* unit = nullptr) { return Bounds{0, hi, false, false, unit, false}; }
// For quantities that are divided by or repeat (rates, capacities, poll and
// backoff intervals): "positive" with a floor, so that 1e-300 cannot become a
// zero or an infinity in the model.
constexpr double kTiny = 0.001;
constexpr Bounds at_least_tiny(double hi, const char* unit = nullptr) { return Bounds{kTiny, hi, false, false, unit, false}; }

std::optional<double> number(const Fields& f, std::string_view key, const Bounds& b, Need need) {
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, b.describe());
    return std::nullopt;
  }
  if (!v->is_number()) {
    f.wrong_type(key, *v, b.describe());
    return std::nullopt;
  }
  const double x = v->get<double>();
  if (!b.contains(x)) {
    f.error(key, show(*v) + (b.probability ? " is not a probability" : " is out of range") + " (expected " +
                     b.describe() + ")");
    return std::nullopt;
  }
  return x;
}

double number_or(const Fields& f, std::string_view key, const Bounds& b, double fallback) {
  return number(f, key, b, Need::Optional).value_or(fallback);
}

std::string describe_integer(std::uint64_t lo, std::uint64_t hi, const char* unit) {
  std::string d = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (unit) d += std::string(", in ") + unit;
  return d;
}

// Integers may be written as 12, 12.0 or 1.2e1; 1.5 and 1e300 are refused.
std::optional<std::uint64_t> integer(const Fields& f, std::string_view key, std::uint64_t lo, std::uint64_t hi,
                                     Need need, const char* unit = nullptr) {
  const std::string expected = describe_integer(lo, hi, unit);
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, expected);
    return std::nullopt;
  }
  if (!v->is_number()) {
    f.wrong_type(key, *v, expected);
    return std::nullopt;
  }
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
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, expected);
    return std::nullopt;
  }
  if (!v->is_string()) {
    f.wrong_type(key, *v, expected);
    return std::nullopt;
  }
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
  const Json* v = f.find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    f.wrong_type(key, *v, "true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

template <class E>
std::optional<E> choice(const Fields& f, std::string_view key, std::initializer_list<Choice<E>> choices, Need need) {
  std::string expected = "one of:";
  for (const auto& c : choices) expected += (expected.back() == ':' ? " " : ", ") + json_quoted(c.name);
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, expected);
    return std::nullopt;
  }
  if (!v->is_string()) {
    f.wrong_type(key, *v, expected);
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  for (const auto& c : choices)
    if (c.name == s) return c.value;
  f.error(key, show(*v) + " is not a valid choice (expected " + expected + ")");
  return std::nullopt;
}

const Json* object(const Fields& f, std::string_view key, Need need) {
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, "an object");
    return nullptr;
  }
  if (!v->is_object()) {
    f.wrong_type(key, *v, "an object");
    return nullptr;
  }
  return v;
}

const Json* array(const Fields& f, std::string_view key, Need need, const std::string& expected) {
  const Json* v = f.find(key);
  if (!v) {
    if (need == Need::Required) f.missing(key, expected);
    return nullptr;
  }
  if (!v->is_array()) {
    f.wrong_type(key, *v, expected);
    return nullptr;
  }
  return v;
}

// MAJOR.MINOR.PATCH, decimal without leading zeros; MAJOR and MINOR <= 255.
std::optional<Version> parse_version(const std::string& s) {
  std::uint32_t parts[3] = {0, 0, 0};
  std::size_t part = 0, digits = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (digits == 0 || part >= 3) return std::nullopt;
      ++part;
      digits = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || part >= 3) return std::nullopt;
    if (digits == 1 && parts[part] == 0) return std::nullopt;  // leading zero
    if (++digits > 5) return std::nullopt;
    parts[part] = parts[part] * 10 + static_cast<std::uint32_t>(s[i] - '0');
  }
  if (part != 3 || parts[0] > 255 || parts[1] > 255 || parts[2] > 65535) return std::nullopt;
  return Version{static_cast<std::uint16_t>(parts[0]), static_cast<std::uint16_t>(parts[1]),
                 static_cast<std::uint16_t>(parts[2])};
}

std::optional<Version> version(const Fields& f, std::string_view key) {
  const std::string expected = "a version \"MAJOR.MINOR.PATCH\" like \"2.5.0\", MAJOR and MINOR in 0..255, PATCH in 0..65535";
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

// ---------------------------------------------------------------------------
// The scenario reader

class ScenarioReader {
 public:
  ScenarioReader(Diagnostics& diag, std::string base_dir) : diag_(diag), base_dir_(std::move(base_dir)) {}

  Scenario read(const Json& root) {
    if (!root.is_object()) {
      diag_.add("", show(root) + " has the wrong type (expected an object: the scenario document)");
      return s_;
    }
    const Fields f(diag_, root, "",
                   {"format", "name", "description", "seed", "horizon_h", "bin_minutes", "fleet", "hardware", "links",
                    "release", "polling", "server", "delivery", "rollout", "prices", "health", "check"});
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

 private:
  void read_header(const Fields& f) {
    const std::string format_expected = json_quoted(kScenarioFormat);
    if (const auto format = text(f, "format", Need::Required, format_expected); format && *format != kScenarioFormat)
      f.error("format", json_quoted(*format) + " is not a supported format (expected " + format_expected + ")");
    if (auto name = name_field(f, "name", Need::Required)) s_.name = std::move(*name);
    if (auto d = text(f, "description", Need::Optional, "a string")) s_.description = std::move(*d);
    s_.seed = integer(f, "seed", 0, std::numeric_limits<std::uint64_t>::max(), Need::Optional).value_or(1);
    const auto horizon_h = number(f, "horizon_h", positive(kMaxHours, "hours"), Need::Required);
    const auto bin_min = number(f, "bin_minutes", positive(kMaxMinutes, "minutes"), Need::Optional);
    if (horizon_h) s_.horizon_s = *horizon_h * 3600;
    s_.bin_s = bin_min.value_or(60) * 60;
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

  void read_hardware(const Fields& root) {
    const Json* list = array(root, "hardware", Need::Required, "an array of hardware entries");
    if (!list) return;
    if (list->empty()) root.error("hardware", "[] is empty (expected at least one hardware entry)");
    if (list->size() > kMaxHardwareEntries) {
      root.error("hardware", std::to_string(list->size()) + " entries are too many (expected at most " +
                                 std::to_string(kMaxHardwareEntries) +
                                 ": one signed manifest lists at most that many hardware ids)");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string path = child(root.path_of("hardware"), i);
      const Json& entry = (*list)[i];
      Hardware hw;
      hw.flash.slot_bytes = 1536 * 1024;
      if (!entry.is_object()) {
        diag_.add(path, show(entry) + " has the wrong type (expected an object: a hardware entry)");
        s_.hardware.push_back(hw);
        hardware_id_ok_.push_back(false);
        slot_ok_.push_back(false);
        continue;
      }
      const Fields f(diag_, entry, path, {"name", "hardware_id", "trial_boot_limit", "boot_s", "flash"});
      if (auto name = name_field(f, "name", Need::Required)) {
        for (std::size_t j = 0; j < s_.hardware.size(); ++j)
          if (s_.hardware[j].name == *name)
            f.error("name", json_quoted(*name) + " is already the name of /hardware/" + std::to_string(j) +
                                " (expected a unique name)");
        hw.name = std::move(*name);
      }
      if (auto id = integer(f, "hardware_id", 0, kMaxU32, Need::Required)) {
        for (std::size_t j = 0; j < s_.hardware.size(); ++j)
          if (hardware_id_ok_[j] && s_.hardware[j].hardware_id == *id)
            f.error("hardware_id", std::to_string(*id) + " is already the id of /hardware/" + std::to_string(j) +
                                       " (expected a unique id)");
        hw.hardware_id = static_cast<std::uint32_t>(*id);
        hardware_id_ok_.push_back(true);
      } else {
        hardware_id_ok_.push_back(false);
      }
      hw.trial_boot_limit = static_cast<std::uint8_t>(integer(f, "trial_boot_limit", 1, 255, Need::Optional)
                                                             .value_or(agent::BootConfig{}.trial_boot_limit));
      hw.boot_s = number_or(f, "boot_s", at_least_tiny(86400, "seconds"), 5);
      slot_ok_.push_back(true);
      if (const Json* flash = object(f, "flash", Need::Optional)) {
        const Fields fl(diag_, *flash, f.path_of("flash"),
                        {"sector_bytes", "erase_ms_per_sector", "program_ms_per_kb", "write_mw", "slot_kb"});
        if (const auto sector = integer(fl, "sector_bytes", 256, std::uint64_t{1} << 31, Need::Optional)) {
          if ((*sector & (*sector - 1)) != 0)
            fl.error("sector_bytes", std::to_string(*sector) + " is not a power of two (expected a power of two >= 256)");
          hw.flash.sector_bytes = static_cast<std::uint32_t>(*sector);
        }
        hw.flash.erase_s_per_sector = number_or(fl, "erase_ms_per_sector", non_negative(1e6, "milliseconds"), 45) / 1e3;
        hw.flash.program_s_per_kb = number_or(fl, "program_ms_per_kb", non_negative(1e6, "milliseconds per KiB"), 1.6) / 1e3;
        hw.flash.write_watts = number_or(fl, "write_mw", non_negative(1e9, "milliwatts"), 0) / 1e3;
        const auto slot = integer(fl, "slot_kb", 1, kMaxSlotKb, Need::Optional, "KiB");
        if (slot) hw.flash.slot_bytes = static_cast<std::uint32_t>(*slot * 1024);
        slot_ok_.back() = slot.has_value() || !fl.has("slot_kb");
      }
      s_.hardware.push_back(std::move(hw));
    }
  }

  std::vector<std::string> hardware_names() const {
    std::vector<std::string> names;
    for (const auto& h : s_.hardware)
      if (!h.name.empty()) names.push_back(h.name);
    return names;
  }

  std::optional<std::size_t> hardware_index(std::string_view name) const {
    for (std::size_t i = 0; i < s_.hardware.size(); ++i)
      if (!s_.hardware[i].name.empty() && s_.hardware[i].name == name) return i;
    return std::nullopt;
  }

  // Reads the fields present in `f` over `l`. `check_order`: whether min <=
  // median <= max is checked (not for a profile without a usable base, where
  // the unset fields would be placeholders).
  void read_link_fields(const Fields& f, LinkProfile& l, bool check_order = true) {
    const auto kbps = at_least_tiny(1e8, "kbit/s");
    if (const auto x = number(f, "median_kbps", kbps, Need::Optional)) l.median_bps = *x * 1e3;
    if (const auto x = number(f, "min_kbps", kbps, Need::Optional)) l.min_bps = *x * 1e3;
    if (const auto x = number(f, "max_kbps", kbps, Need::Optional)) l.max_bps = *x * 1e3;
    l.sigma = number_or(f, "sigma", non_negative(10), l.sigma);
    l.latency_s = number_or(f, "latency_s", non_negative(86400, "seconds"), l.latency_s);
    l.drop_per_mb = number_or(f, "drop_per_mb", non_negative(1e6, "drops per MB"), l.drop_per_mb);
    if (const auto x = number(f, "usd_per_mb", non_negative(1e6, "USD"), Need::Optional)) {
      l.usd_per_mb = *x;
      l.metered = *x > 0;
    }
    if (const auto x = number(f, "rx_mw", non_negative(1e9, "milliwatts"), Need::Optional)) l.rx_watts = *x / 1e3;
    if (const auto x = number(f, "poll_mj", non_negative(1e9, "millijoules"), Need::Optional)) l.poll_joules = *x / 1e3;
    l.wake_interval_s = number_or(f, "wake_interval_s", non_negative(kMaxSeconds, "seconds"), l.wake_interval_s);
    if (check_order && !(l.min_bps <= l.median_bps && l.median_bps <= l.max_bps))
      diag_.add(f.path(), "min_kbps " + format_number(l.min_bps / 1e3) + ", median_kbps " +
                              format_number(l.median_bps / 1e3) + ", max_kbps " + format_number(l.max_bps / 1e3) +
                              " are out of order (expected min_kbps <= median_kbps <= max_kbps)");
  }

  void read_links(const Fields& root) {
    s_.links = builtin_link_profiles();
    const Json* links = object(root, "links", Need::Optional);
    if (!links) return;
    const std::string path = root.path_of("links");
    std::vector<std::string> builtin_names;
    for (const auto& l : builtin_link_profiles()) builtin_names.push_back(l.name);
    const auto is_builtin = [&](const std::string& n) {
      return std::find(builtin_names.begin(), builtin_names.end(), n) != builtin_names.end();
    };
    const std::initializer_list<std::string_view> keys = {
        "base", "median_kbps", "sigma", "min_kbps", "max_kbps", "latency_s", "drop_per_mb",
        "usd_per_mb", "rx_mw", "poll_mj", "wake_interval_s"};
    // Overrides of built-ins first, so that a new profile based on a built-in
    // starts from the built-in as this scenario sets it.
    for (const bool builtin_pass : {true, false}) {
      for (const auto& [name, value] : links->items()) {
        if (is_documentation_key(name) || is_builtin(name) != builtin_pass) continue;
        const std::string lpath = child(path, name);
        if (name.empty()) {
          diag_.add(lpath, "\"\" is an empty profile name (expected a non-empty name)");
          continue;
        }
        if (!value.is_object()) {
          diag_.add(lpath, show(value) + " has the wrong type (expected an object: a link profile)");
          continue;
        }
        const Fields f(diag_, value, lpath, keys);
        if (builtin_pass) {
          if (f.has("base"))
            f.error("base", show(*f.find("base")) + " is not allowed here (expected no base: " + json_quoted(name) +
                                " is a built-in profile, and its fields override the built-in's)");
          for (auto& l : s_.links)
            if (l.name == name) read_link_fields(f, l);
          continue;
        }
        const std::string expected = "the name of a built-in profile: " + join(builtin_names);
        const auto base = text(f, "base", Need::Required, expected);
        if (base && !is_builtin(*base)) f.error("base", json_quoted(*base) + " names no built-in profile (expected " + expected + ")");
        if (s_.links.size() >= kMaxLinkProfiles) {
          diag_.add(lpath, "one profile too many (expected at most " + std::to_string(kMaxLinkProfiles) +
                               " link profiles, built-ins included)");
          return;
        }
        const bool based = base && is_builtin(*base);
        LinkProfile l = builtin_link_profiles().front();
        if (based)
          for (const auto& b : s_.links)
            if (b.name == *base) l = b;
        l.name = name;
        read_link_fields(f, l, based);
        s_.links.push_back(std::move(l));
      }
    }
  }

  std::optional<std::size_t> link_index(std::string_view name) const {
    for (std::size_t i = 0; i < s_.links.size(); ++i)
      if (s_.links[i].name == name) return i;
    return std::nullopt;
  }

  // Checks that a release image file exists and is readable; returns its size.
  std::optional<std::uint64_t> image_file(const Fields& f, std::string_view key, Need need,
                                          std::optional<std::string>& resolved) {
    const std::string expected = "a path to a readable image file, relative to the scenario file's directory";
    const auto rel = text(f, key, need, expected);
    if (!rel) return std::nullopt;
    if (rel->empty() || rel->find('\0') != std::string::npos) {
      f.error(key, json_quoted(*rel) + " is not a usable path (expected " + expected + ")");
      return std::nullopt;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p(*rel);
    if (p.is_relative()) p = fs::path(base_dir_) / p;
    p = p.lexically_normal();
    const std::string where = json_quoted(*rel) + (p.string() == *rel ? "" : " (" + json_quoted(p.string()) + ")");
    const auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
      f.error(key, where + " cannot be read: " + (ec ? ec.message() : std::string("no such file")) + " (expected " +
                       expected + ")");
      return std::nullopt;
    }
    if (!fs::is_regular_file(status)) {
      f.error(key, where + " is not a regular file (expected " + expected + ")");
      return std::nullopt;
    }
    const auto size = fs::file_size(p, ec);
    std::ifstream in(p, std::ios::binary);
    if (ec || !in) {
      f.error(key, where + " cannot be opened for reading (expected " + expected + ")");
      return std::nullopt;
    }
    if (size == 0 || size > kMaxU32) {
      f.error(key, where + " has " + std::to_string(size) + " bytes (expected an image of 1 to " +
                       std::to_string(kMaxU32) + " bytes)");
      return std::nullopt;
    }
    resolved = p.string();
    return size;
  }

  void read_release(const Fields& root) {
    const Json* rel = object(root, "release", Need::Required);
    if (!rel) return;
    const Fields f(diag_, *rel, root.path_of("release"),
                   {"from_version", "to_version", "from_security_counter", "to_security_counter", "payload", "full_kb",
                    "delta_kb", "images", "corruption_per_transfer", "tamper_per_transfer", "behaviour"});
    Release& r = s_.release;
    if (const auto v = version(f, "from_version")) r.from_version = *v;
    if (const auto v = version(f, "to_version")) r.to_version = *v;
    r.from_security_counter = static_cast<std::uint32_t>(integer(f, "from_security_counter", 0, kMaxU32, Need::Optional).value_or(1));
    r.to_security_counter = static_cast<std::uint32_t>(integer(f, "to_security_counter", 0, kMaxU32, Need::Optional).value_or(2));
    r.payload = choice<Payload>(f, "payload", {{"full", Payload::Full}, {"delta", Payload::Delta}}, Need::Optional)
                    .value_or(Payload::Full);
    const bool delta = r.payload == Payload::Delta;

    if (f.has("images")) {
      if (const Json* images = object(f, "images", Need::Optional)) {
        const Fields im(diag_, *images, f.path_of("images"), {"old", "new"});
        image_bytes_ = image_file(im, "new", Need::Required, r.new_image_file);
        image_file(im, "old", delta ? Need::Required : Need::Optional, r.old_image_file);
      }
      for (const std::string_view key : {"full_kb", "delta_kb"})
        if (f.has(key))
          f.error(key, show(*f.find(key)) + " conflicts with /release/images (expected no " + std::string(key) +
                           " when images are given: the sizes come from the image files)");
    } else {
      read_release_sizes(f, delta);
    }
    read_release_rest(f);
  }

  void read_release_sizes(const Fields& f, bool delta) {
    Release& r = s_.release;
    const auto size_kb = positive(kMaxImageKb, "KB of 1000 bytes");
    const auto full_kb = number(f, "full_kb", size_kb, Need::Optional);
    if (!f.has("full_kb")) f.missing("full_kb", size_kb.describe() + "; required unless images are given");
    if (full_kb) {
      r.full_bytes = static_cast<std::uint64_t>(std::llround(*full_kb * 1000));
      if (r.full_bytes == 0) f.error("full_kb", show(*f.find("full_kb")) + " is less than one byte (expected " + size_kb.describe() + ")");
      else image_bytes_ = r.full_bytes;
    }
    const auto delta_kb = number(f, "delta_kb", size_kb, Need::Optional);
    if (delta && !f.has("delta_kb"))
      f.missing("delta_kb", size_kb.describe() + "; required when payload is \"delta\" and no images are given");
    if (delta && delta_kb) {
      r.delta_bytes = static_cast<std::uint64_t>(std::llround(*delta_kb * 1000));
      if (r.delta_bytes == 0) f.error("delta_kb", show(*f.find("delta_kb")) + " is less than one byte (expected " + size_kb.describe() + ")");
    }
  }

  void read_release_rest(const Fields& f) {
    Release& r = s_.release;
    r.corruption_per_transfer = number_or(f, "corruption_per_transfer", probability(), 0);
    r.tamper_per_transfer = number_or(f, "tamper_per_transfer", probability(), 0);
    r.behaviour.assign(s_.hardware.size(), ReleaseBehaviour{});
    const Json* behaviour = object(f, "behaviour", Need::Optional);
    if (!behaviour) return;
    const std::string path = f.path_of("behaviour");
    const auto read_entry = [&](const std::string& key, const Json& value, ReleaseBehaviour& b) {
      const std::string epath = child(path, key);
      if (!value.is_object()) {
        diag_.add(epath, show(value) + " has the wrong type (expected an object: the release's behaviour)");
        return;
      }
      const Fields e(diag_, value, epath, {"boot_failure_probability", "crash_per_day", "failing_device_share"});
      b.failing_device_share = number_or(e, "failing_device_share", probability(), b.failing_device_share);
      b.boot_failure_probability = number_or(e, "boot_failure_probability", probability(), b.boot_failure_probability);
      b.crash_per_day = number_or(e, "crash_per_day", non_negative(1e6, "crashes per device-day"), b.crash_per_day);
    };
    ReleaseBehaviour fallback;
    if (const auto it = behaviour->find("default"); it != behaviour->end()) read_entry("default", *it, fallback);
    r.behaviour.assign(s_.hardware.size(), fallback);
    for (const auto& [key, value] : behaviour->items()) {
      if (key == "default" || is_documentation_key(key)) continue;
      const auto hw = hardware_index(key);
      if (!hw) {
        diag_.add(child(path, key), json_quoted(key) + " names no hardware (expected \"default\" or a hardware name; defined: " +
                                        join(hardware_names()) + ")");
        ReleaseBehaviour ignored;
        read_entry(key, value, ignored);
        continue;
      }
      read_entry(key, value, r.behaviour[*hw]);
    }
  }

  void read_fleet(const Fields& root) {
    const Json* fleet = object(root, "fleet", Need::Required);
    if (!fleet) return;
    const Fields f(diag_, *fleet, root.path_of("fleet"), {"devices", "classes"});
    const auto devices = integer(f, "devices", 1, kMaxFleetDevices, Need::Required);
    if (devices) s_.devices = *devices;
    const Json* classes = array(f, "classes", Need::Required, "an array of device classes");
    if (!classes) return;
    const std::string cpath = f.path_of("classes");
    if (classes->empty()) diag_.add(cpath, "[] is empty (expected at least one device class)");
    if (classes->size() > kMaxDeviceClasses) {
      diag_.add(cpath, std::to_string(classes->size()) + " classes are too many (expected at most " +
                           std::to_string(kMaxDeviceClasses) + ")");
      return;
    }
    std::vector<double> shares;
    bool shares_ok = true;
    for (std::size_t i = 0; i < classes->size(); ++i) {
      const std::string path = child(cpath, i);
      const Json& entry = (*classes)[i];
      if (!entry.is_object()) {
        diag_.add(path, show(entry) + " has the wrong type (expected an object: a device class)");
        shares_ok = false;
        continue;
      }
      const Fields c(diag_, entry, path,
                     {"name", "share", "hardware", "link", "region", "power", "partitioning", "power_loss_per_hour",
                      "battery", "group", "notify", "source"});
      DeviceClass dc;
      if (auto name = name_field(c, "name", Need::Required)) {
        for (std::size_t j = 0; j < s_.classes.size(); ++j)
          if (s_.classes[j].name == *name)
            c.error("name", json_quoted(*name) + " is already the name of " + child(cpath, class_entry_[j]) +
                                " (expected a unique name)");
        dc.name = std::move(*name);
      }
      const auto share = number(c, "share", Bounds{0, 1, true, false, nullptr, true}, Need::Required);
      if (share) shares.push_back(*share);
      else shares_ok = false;

      if (const auto hw = text(c, "hardware", Need::Required, "the name of a /hardware entry")) {
        if (const auto index = hardware_index(*hw)) dc.hardware = *index;
        else c.error("hardware", json_quoted(*hw) + " names no hardware (defined: " + join(hardware_names()) + ")");
      }
      if (const auto link = text(c, "link", Need::Required, "the name of a link profile")) {
        if (const auto index = link_index(*link)) {
          dc.link = *index;
        } else {
          std::vector<std::string> names;
          for (const auto& l : s_.links) names.push_back(l.name);
          c.error("link", json_quoted(*link) + " names no link profile (defined: " + join(names) + ")");
        }
      }
      const std::string region = name_field(c, "region", Need::Optional).value_or("default");
      const auto rit = std::find(s_.regions.begin(), s_.regions.end(), region);
      dc.region = static_cast<std::size_t>(rit - s_.regions.begin());
      if (rit == s_.regions.end()) s_.regions.push_back(region);
      dc.notify = choice<Notify>(c, "notify", {{"poll", Notify::Poll}, {"push", Notify::Push}}, Need::Optional)
                      .value_or(Notify::Poll);
      dc.source = choice<Source>(c, "source", {{"origin", Source::Origin}, {"cdn", Source::Cdn}, {"p2p", Source::P2p}},
                                 Need::Optional)
                      .value_or(Source::Origin);
      if (const auto group = name_field(c, "group", Need::Optional)) {
        const auto git = std::find(s_.groups.begin(), s_.groups.end(), *group);
        dc.group = static_cast<std::size_t>(git - s_.groups.begin());
        if (git == s_.groups.end()) s_.groups.push_back(*group);
      }

      const auto power = choice<PowerSource>(c, "power", {{"mains", PowerSource::Mains}, {"battery", PowerSource::Battery}},
                                             Need::Required);
      if (power) dc.power = *power;
      dc.partitioning = choice<Partitioning>(c, "partitioning",
                                             {{"ab", Partitioning::AB},
                                              {"single_recovery", Partitioning::SingleWithRecovery},
                                              {"single", Partitioning::SingleNoRecovery}},
                                             Need::Optional)
                            .value_or(Partitioning::AB);
      // figures.md "Mains power loss": derived hazard 1.1–1.6e-4 outages per
      // device-hour. Battery devices lose power by brownout instead.
      const double default_hazard = dc.power == PowerSource::Mains ? 1.3e-4 : 0.0;
      dc.power_loss_per_hour = number_or(c, "power_loss_per_hour", non_negative(1e6, "events per device-hour"),
                                         default_hazard);

      const Json* battery = c.find("battery");
      if (battery) {
        if (power == PowerSource::Mains)
          c.error("battery", "a battery block on a mains class (expected no \"battery\" unless power is \"battery\")");
        if (!battery->is_object()) c.wrong_type("battery", *battery, "an object");
        else dc.battery = read_battery(Fields(diag_, *battery, c.path_of("battery"),
                                              {"capacity_mah", "voltage_v", "soc_mean", "soc_stddev", "idle_mw",
                                               "recharge_mw", "update_margin", "min_soc", "brownout_soc"}));
      } else if (power == PowerSource::Battery) {
        c.missing("battery", "an object with at least capacity_mah and voltage_v, for a battery-powered class");
      }
      if (dc.power == PowerSource::Mains) dc.battery.reset();
      class_entry_.push_back(i);
      s_.classes.push_back(std::move(dc));
    }
    if (shares_ok && !shares.empty()) {
      const double sum = std::accumulate(shares.begin(), shares.end(), 0.0);
      if (std::fabs(sum - 1) > kShareTolerance) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.10g", sum);
        diag_.add(cpath, std::string("shares sum to ") + buf + " (expected 1 within " + format_number(kShareTolerance) + ")");
      } else if (devices) {
        const auto counts = apportion(*devices, shares);
        for (std::size_t i = 0; i < counts.size(); ++i) s_.classes[i].devices = counts[i];
      }
    }
  }

  Battery read_battery(const Fields& b) {
    Battery out;
    const auto mah = number(b, "capacity_mah", at_least_tiny(1e9, "mAh"), Need::Required);
    const auto volts = number(b, "voltage_v", at_least_tiny(1e4, "volts"), Need::Required);
    if (mah && volts) out.capacity_j = *mah * 3.6 * *volts;  // 1 mAh = 3.6 coulombs
    if (volts) out.voltage_v = *volts;
    out.soc_mean = number_or(b, "soc_mean", probability(), 0.7);
    out.soc_stddev = number_or(b, "soc_stddev", non_negative(1), 0.15);
    out.idle_watts = number_or(b, "idle_mw", non_negative(1e9, "milliwatts"), 0.05) / 1e3;
    out.recharge_watts = number_or(b, "recharge_mw", non_negative(1e9, "milliwatts"), 0) / 1e3;
    out.update_margin = number_or(b, "update_margin", Bounds{1, 1000}, 1.5);
    const auto min_soc = number(b, "min_soc", probability(), Need::Optional);
    const auto brownout = number(b, "brownout_soc", probability(), Need::Optional);
    out.min_soc = min_soc.value_or(0.2);
    out.brownout_soc = brownout.value_or(0.02);
    if ((min_soc || !b.has("min_soc")) && (brownout || !b.has("brownout_soc")) && !(out.brownout_soc < out.min_soc))
      b.error("brownout_soc", format_number(out.brownout_soc) + " is not below min_soc " + format_number(out.min_soc) +
                                  " (expected brownout_soc < min_soc: an update never starts where it would brown out)");
    return out;
  }

  void read_polling(const Fields& root) {
    const Json* polling = object(root, "polling", Need::Optional);
    if (!polling) return;
    const Fields f(diag_, *polling, root.path_of("polling"),
                   {"interval_min", "jitter", "backoff", "idle_polls", "synchronized_start"});
    Polling& p = s_.polling;
    p.interval_s = number_or(f, "interval_min", at_least_tiny(kMaxMinutes, "minutes"), 60) * 60;
    p.jitter = number_or(f, "jitter", Bounds{0, 1, false, true}, 0.1);
    p.idle_polls = choice<IdlePollMode>(f, "idle_polls",
                                        {{"aggregate", IdlePollMode::Aggregate}, {"events", IdlePollMode::Events}},
                                        Need::Optional)
                       .value_or(IdlePollMode::Aggregate);
    p.synchronized_start = flag(f, "synchronized_start").value_or(false);
    if (const Json* backoff = object(f, "backoff", Need::Optional)) {
      const Fields b(diag_, *backoff, f.path_of("backoff"), {"initial_s", "factor", "max_s"});
      const auto initial = number(b, "initial_s", at_least_tiny(kMaxSeconds, "seconds"), Need::Optional);
      const auto max = number(b, "max_s", positive(kMaxSeconds, "seconds"), Need::Optional);
      p.backoff_initial_s = initial.value_or(60);
      p.backoff_factor = number_or(b, "factor", Bounds{1, 1000}, 2);
      p.backoff_max_s = max.value_or(3600);
      if ((initial || !b.has("initial_s")) && (max || !b.has("max_s")) && p.backoff_max_s < p.backoff_initial_s)
        b.error("max_s", format_number(p.backoff_max_s) + " is below initial_s " + format_number(p.backoff_initial_s) +
                             " (expected max_s >= initial_s)");
    }
  }

  void read_server(const Fields& root) {
    const Json* server = object(root, "server", Need::Optional);
    if (!server) return;
    const Fields f(diag_, *server, root.path_of("server"),
                   {"max_requests_per_s", "max_concurrent_downloads", "bandwidth_mbps", "queue_limit", "usd_per_gb"});
    Server& s = s_.server;
    s.max_requests_per_s = number_or(f, "max_requests_per_s", non_negative(1e12, "requests per second; 0 = unlimited"), 0);
    s.max_concurrent_downloads = static_cast<std::uint32_t>(
        integer(f, "max_concurrent_downloads", 0, kMaxU32, Need::Optional, "downloads; 0 = unlimited").value_or(0));
    s.bandwidth_bps = number_or(f, "bandwidth_mbps", non_negative(1e9, "Mbit/s; 0 = unlimited"), 0) * 1e6;
    s.queue_limit = static_cast<std::uint32_t>(integer(f, "queue_limit", 0, kMaxU32, Need::Optional, "waiting downloads; 0 = unlimited").value_or(0));
    s.usd_per_gb = number_or(f, "usd_per_gb", non_negative(1e9, "USD per GB"), 0.09);
  }

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

  void read_delivery(const Fields& root) {
    Delivery& D = s_.delivery;
    const Json* delivery = object(root, "delivery", Need::Optional);
    std::optional<Fields> f;
    if (delivery) f.emplace(diag_, *delivery, root.path_of("delivery"), std::initializer_list<std::string_view>{"push", "cdn", "p2p"});
    if (f) {
      if (const Json* push = object(*f, "push", Need::Optional)) {
        const Fields p(diag_, *push, f->path_of("push"), {"fanout_per_s", "max_connections", "connected_share", "latency_s"});
        D.push.fanout_per_s = number_or(p, "fanout_per_s", at_least_tiny(1e12, "notifications per second"), 1000);
        D.push.max_connections =
            integer(p, "max_connections", 0, kMaxFleetDevices, Need::Optional, "connections; 0 = unlimited").value_or(0);
        D.push.connected_share = number_or(p, "connected_share", probability(), 0.7);
        D.push.latency_s = number_or(p, "latency_s", non_negative(kMaxSeconds, "seconds"), 1);
      }
      if (const Json* cdn = object(*f, "cdn", Need::Optional)) {
        const Fields c(diag_, *cdn, f->path_of("cdn"), {"edges", "origin_fill_mbps", "cache_ttl_h"});
        Cdn out;
        out.edges.assign(s_.regions.size(), std::nullopt);
        out.origin_fill_bps = number_or(c, "origin_fill_mbps", at_least_tiny(1e9, "Mbit/s"), 1000) * 1e6;
        out.cache_ttl_s = number_or(c, "cache_ttl_h", non_negative(kMaxHours, "hours; 0 = for the whole run"), 0) * 3600;
        for_each_region(c, "edges", Need::Required, "a CDN edge", [&](std::size_t region, const Json& value,
                                                                       const std::string& path) {
            const Fields e(diag_, value, path, {"bandwidth_mbps", "max_concurrent_downloads", "usd_per_gb"});
            CdnEdge edge;
            edge.bandwidth_bps = number_or(e, "bandwidth_mbps", non_negative(1e9, "Mbit/s; 0 = unlimited"), 0) * 1e6;
            edge.max_concurrent_downloads = static_cast<std::uint32_t>(
                integer(e, "max_concurrent_downloads", 0, kMaxU32, Need::Optional, "downloads; 0 = unlimited").value_or(0));
            edge.usd_per_gb = number_or(e, "usd_per_gb", non_negative(1e9, "USD per GB"), 0.085);
            out.edges[region] = edge;
        });
        D.cdn = std::move(out);
      }
      if (const Json* p2p = object(*f, "p2p", Need::Optional)) {
        const Fields p(diag_, *p2p, f->path_of("p2p"),
                       {"neighbourhood_size", "link_kbps", "sigma", "uploads_per_peer", "malicious_share", "fallback_min",
                        "rx_mw", "tx_mw"});
        P2p out;
        out.neighbourhood_size = static_cast<std::uint32_t>(
            integer(p, "neighbourhood_size", 1, 1'000'000, Need::Optional, "devices").value_or(20));
        out.link_bps = number_or(p, "link_kbps", at_least_tiny(1e9, "kbit/s"), 250) * 1e3;
        out.sigma = number_or(p, "sigma", non_negative(3), 0.3);
        out.uploads_per_peer =
            static_cast<std::uint32_t>(integer(p, "uploads_per_peer", 1, 1000, Need::Optional, "transfers").value_or(1));
        out.malicious_share = number_or(p, "malicious_share", probability(), 0);
        out.fallback_s = number_or(p, "fallback_min", at_least_tiny(kMaxMinutes, "minutes"), 60) * 60;
        out.rx_watts = number_or(p, "rx_mw", non_negative(1e6, "mW"), 15) / 1000;
        out.tx_watts = number_or(p, "tx_mw", non_negative(1e6, "mW"), 15) / 1000;
        D.p2p = out;
      }
    }
    // Every class's delivery must have what it needs.
    for (std::size_t i = 0; i < s_.classes.size() && i < class_entry_.size(); ++i) {
      const DeviceClass& c = s_.classes[i];
      const std::string path = "/fleet/classes/" + std::to_string(class_entry_[i]) + "/source";
      if (c.source == Source::Cdn && (!D.cdn || c.region >= D.cdn->edges.size() || !D.cdn->edges[c.region]))
        diag_.add(path, "\"cdn\" but /delivery/cdn/edges has no edge for region " + json_quoted(s_.regions[c.region]) +
                            " (expected an edge for every region of a CDN class)");
      if (c.source == Source::P2p && !D.p2p)
        diag_.add(path, "\"p2p\" without a /delivery/p2p block (expected the neighbourhoods' settings)");
    }
  }

  // A gate object; `path` is its JSON Pointer. Absent keys keep `g`'s values.
  // null: no gate (a stage that overrides the rollout's default gate).
  Gate read_gate(const Json& v, const std::string& path, Gate g) {
    if (v.is_null()) return Gate{};
    if (!v.is_object()) {
      diag_.add(path, show(v) + " has the wrong type (expected an object or null: a gate)");
      return g;
    }
    const Fields f(diag_, v, path,
                   {"max_failure_rate", "max_rollback_rate", "max_crash_rate_per_day", "max_deferral_rate",
                    "max_failures", "max_rollbacks", "min_reports", "min_exposure_days", "mode", "confidence", "prior", "sprt",
                    "on_breach"});
    const auto rate = [&](std::string_view key, std::optional<double>& slot) {
      if (f.has(key)) slot = number(f, key, probability(), Need::Required);
    };
    rate("max_failure_rate", g.max_failure_rate);
    rate("max_rollback_rate", g.max_rollback_rate);
    rate("max_deferral_rate", g.max_deferral_rate);
    if (f.has("max_crash_rate_per_day"))
      g.max_crash_rate_per_day =
          number(f, "max_crash_rate_per_day", at_least_tiny(1e6, "crashes per device-day"), Need::Required);
    if (f.has("max_failures")) g.max_failures = integer(f, "max_failures", 0, kMaxFleetDevices, Need::Required, "devices");
    if (f.has("max_rollbacks"))
      g.max_rollbacks = integer(f, "max_rollbacks", 0, kMaxFleetDevices, Need::Required, "devices");
    g.min_reports = integer(f, "min_reports", 0, kMaxFleetDevices, Need::Optional, "reports").value_or(g.min_reports);
    g.min_exposure_days = number_or(f, "min_exposure_days", non_negative(1e12, "device-days"), g.min_exposure_days);
    g.mode = choice<GateMode>(f, "mode",
                              {{"threshold", GateMode::Threshold}, {"bayes", GateMode::Bayes}, {"sprt", GateMode::Sprt}},
                              Need::Optional)
                 .value_or(g.mode);
    g.confidence = number_or(f, "confidence", Bounds{0, 1, true, true, nullptr, true}, g.confidence);
    if (const Json* prior = object(f, "prior", Need::Optional)) {
      const Fields p(diag_, *prior, f.path_of("prior"), {"a", "b"});
      g.prior_a = number_or(p, "a", at_least_tiny(1e9), g.prior_a);
      g.prior_b = number_or(p, "b", at_least_tiny(1e9), g.prior_b);
    }
    if (const Json* sprt = object(f, "sprt", Need::Optional)) {
      const Fields p(diag_, *sprt, f.path_of("sprt"), {"alpha", "beta", "good_ratio"});
      g.sprt_alpha = number_or(p, "alpha", Bounds{0, 0.5, true, true, nullptr, true}, g.sprt_alpha);
      g.sprt_beta = number_or(p, "beta", Bounds{0, 0.5, true, true, nullptr, true}, g.sprt_beta);
      g.sprt_good_ratio = number_or(p, "good_ratio", Bounds{0, 1, true, true, nullptr, false}, g.sprt_good_ratio);
    }
    g.on_breach = choice<GateAction>(f, "on_breach",
                                     {{"continue", GateAction::Continue},
                                      {"pause", GateAction::Pause},
                                      {"abort", GateAction::Abort},
                                      {"rollback", GateAction::Rollback}},
                                     Need::Optional)
                      .value_or(g.on_breach);
    return g;
  }

  void read_rollout(const Fields& root) {
    Rollout& R = s_.rollout;
    R.stages = {Stage{1.0, 0.0, {}, {}}};
    R.start_s = 0;
    R.windows.assign(s_.regions.size(), std::nullopt);
    const Json* rollout = object(root, "rollout", Need::Optional);
    if (!rollout) return;
    const Fields f(diag_, *rollout, root.path_of("rollout"),
                   {"start_h", "stages", "gate", "selection", "ramp", "evaluate_every_min", "device_timeout_h",
                    "max_attempts", "maintenance_windows", "on_pause"});
    if (const auto start = number(f, "start_h", non_negative(kMaxHours, "hours"), Need::Optional)) {
      R.start_s = *start * 3600;
      if (horizon_ok_ && R.start_s >= s_.horizon_s)
        f.error("start_h", show(*f.find("start_h")) + " is not before the horizon (expected start_h < horizon_h = " +
                               format_number(s_.horizon_s / 3600) + ")");
    }
    Gate default_gate;
    if (const Json* g = f.find("gate")) default_gate = read_gate(*g, f.path_of("gate"), Gate{});
    R.stages[0].gate = default_gate;
    R.selection = choice<CanarySelection>(f, "selection",
                                          {{"random", CanarySelection::Random},
                                           {"stratified", CanarySelection::Stratified}},
                                          Need::Optional)
                      .value_or(CanarySelection::Random);
    R.evaluate_every_s = number_or(f, "evaluate_every_min", Bounds{1, kMaxMinutes, false, false, "minutes", false}, 10) * 60;
    R.device_timeout_s = number_or(f, "device_timeout_h", non_negative(kMaxHours, "hours; 0 = never"), 0) * 3600;
    R.max_attempts = static_cast<std::uint32_t>(
        integer(f, "max_attempts", 0, 255, Need::Optional, "attempts; 0 = retry for ever").value_or(0));
    if (const Json* ramp = object(f, "ramp", Need::Optional)) {
      const Fields r(diag_, *ramp, f.path_of("ramp"),
                     {"base_per_minute", "increment_factor", "increase_every_successes", "max_per_minute"});
      RateRamp rr;
      rr.base_per_minute = number(r, "base_per_minute", at_least_tiny(1e9, "devices per minute"), Need::Required).value_or(1);
      rr.increment_factor = number_or(r, "increment_factor", Bounds{1, 100, false, false, nullptr, false}, 2);
      rr.increase_every_successes =
          integer(r, "increase_every_successes", 1, kMaxFleetDevices, Need::Required, "successful devices").value_or(1);
      rr.max_per_minute = number_or(r, "max_per_minute", non_negative(1e9, "devices per minute; 0 = no cap"), 0);
      if (rr.max_per_minute > 0 && rr.max_per_minute < rr.base_per_minute)
        r.error("max_per_minute", format_number(rr.max_per_minute) + " is below base_per_minute " +
                                      format_number(rr.base_per_minute) + " (expected max_per_minute >= base_per_minute)");
      R.ramp = rr;
      if (f.has("stages"))
        f.error("ramp", "a ramp together with \"stages\" (expected one of the two: stages, or a rate ramp whose gate is "
                        "/rollout/gate)");
    }
    for_each_region(f, "maintenance_windows", Need::Optional, "a maintenance window",
                    [&](std::size_t region, const Json& value, const std::string& path) {
        const Fields w(diag_, value, path, {"utc_offset_h", "from_h", "to_h"});
        MaintenanceWindow mw;
        mw.utc_offset_h = number_or(w, "utc_offset_h", Bounds{-12, 14, false, false, "hours", false}, 0);
        mw.from_h = number(w, "from_h", Bounds{0, 24, false, true, "local hours", false}, Need::Required).value_or(0);
        mw.to_h = number(w, "to_h", Bounds{0, 24, false, false, "local hours", false}, Need::Required).value_or(24);
        if (w.has("from_h") && w.has("to_h") && mw.from_h == mw.to_h)
          w.error("to_h", format_number(mw.to_h) + " equals from_h (expected a window of some length)");
        R.windows[region] = mw;
    });
    if (const Json* pause = object(f, "on_pause", Need::Optional)) {
      const Fields p(diag_, *pause, f.path_of("on_pause"), {"decide_after_h", "action"});
      PauseDecision d;
      d.after_s = number(p, "decide_after_h", non_negative(kMaxHours, "hours"), Need::Required).value_or(0) * 3600;
      d.action = choice<GateAction>(p, "action",
                                    {{"resume", GateAction::Continue},
                                     {"abort", GateAction::Abort},
                                     {"rollback", GateAction::Rollback}},
                                    Need::Required)
                     .value_or(GateAction::Continue);
      R.on_pause = d;
    }
    const Json* stages = array(f, "stages", Need::Optional, "an array of stages");
    if (!stages) return;
    const std::string spath = f.path_of("stages");
    if (stages->empty()) {
      diag_.add(spath, "[] is empty (expected at least one stage, the last at 100 percent)");
      return;
    }
    R.stages.clear();
    bool have_previous = false;       // the previous stage had a valid percent:
    double previous = 0;              // this one
    std::size_t previous_index = 0;
    for (std::size_t i = 0; i < stages->size(); ++i) {
      const std::string path = child(spath, i);
      const Json& entry = (*stages)[i];
      const bool last = i + 1 == stages->size();
      if (!entry.is_object()) {
        diag_.add(path, show(entry) + " has the wrong type (expected an object: a stage)");
        have_previous = false;
        continue;
      }
      const Fields st(diag_, entry, path, {"percent", "soak_h", "groups", "gate"});
      Stage stage;
      stage.soak_s = number_or(st, "soak_h", non_negative(kMaxHours, "hours"), 0) * 3600;
      stage.gate = default_gate;
      if (const Json* g = st.find("gate")) stage.gate = read_gate(*g, st.path_of("gate"), default_gate);
      if (const Json* groups = array(st, "groups", Need::Optional, "an array of group names")) {
        if (st.has("percent"))
          st.error("groups", "a stage with both \"groups\" and \"percent\" (expected one: a named-group stage or a "
                             "percent of the fleet)");
        if (last) st.error("groups", "a named-group stage is the last stage (expected the last stage at 100 percent)");
        if (groups->empty()) st.error("groups", "[] is empty (expected at least one group name)");
        for (std::size_t k = 0; k < groups->size(); ++k) {
          const Json& g = (*groups)[k];
          const auto it = g.is_string() ? std::find(s_.groups.begin(), s_.groups.end(), g.get<std::string>())
                                        : s_.groups.end();
          if (it == s_.groups.end())
            diag_.add(child(st.path_of("groups"), k),
                      show(g) + " names no group (expected a \"group\" of a /fleet/classes entry; defined: " +
                          join(s_.groups) + ")");
          else
            stage.groups.push_back(static_cast<std::size_t>(it - s_.groups.begin()));
        }
        stage.fraction = have_previous ? previous / 100 : 0;
        R.stages.push_back(std::move(stage));
        continue;
      }
      const auto percent = number(st, "percent", positive(100, "percent of the fleet, cumulative"), Need::Required);
      if (percent) {
        if (have_previous && !(*percent > previous))
          st.error("percent", format_number(*percent) + " does not exceed stage " + std::to_string(previous_index) +
                                  "'s " + format_number(previous) +
                                  " (expected percents to increase strictly from stage to stage)");
        if (last && *percent != 100)
          st.error("percent", format_number(*percent) +
                                  " is not 100 (expected the last stage to offer the release to the whole fleet: 100)");
        have_previous = true;
        previous = *percent;
        previous_index = i;
      } else {
        have_previous = false;
      }
      stage.fraction = percent.value_or(0) / 100;
      R.stages.push_back(std::move(stage));
    }
  }

  void read_check(const Fields& root) {
    const Json* check = object(root, "check", Need::Optional);
    if (!check) return;
    const Fields f(diag_, *check, root.path_of("check"), {"replications", "expect"});
    s_.check.replications = static_cast<std::uint32_t>(
        integer(f, "replications", 1, 100000, Need::Optional, "replications").value_or(20));
    const Json* expect = array(f, "expect", Need::Required, "an array of expectations");
    if (!expect) return;
    const std::string epath = f.path_of("expect");
    if (expect->empty()) diag_.add(epath, "[] is empty (expected at least one expectation)");
    for (std::size_t i = 0; i < expect->size(); ++i) {
      const std::string path = child(epath, i);
      const Json& entry = (*expect)[i];
      if (!entry.is_object()) {
        diag_.add(path, show(entry) + " has the wrong type (expected an object: an expectation)");
        continue;
      }
      const Fields e(diag_, entry, path, {"metric", "op", "value", "share", "description"});
      Expectation x;
      x.metric = name_field(e, "metric", Need::Required).value_or("");
      x.op = choice<Comparison>(e, "op",
                                {{"<", Comparison::Less},
                                 {"<=", Comparison::LessEqual},
                                 {">", Comparison::Greater},
                                 {">=", Comparison::GreaterEqual},
                                 {"==", Comparison::Equal}},
                                Need::Required)
                 .value_or(Comparison::LessEqual);
      x.value = number(e, "value", Bounds{-1e300, 1e300, false, false, nullptr, false}, Need::Required).value_or(0);
      x.share = number_or(e, "share", Bounds{0, 1, true, false, nullptr, true}, 1);
      x.description = text(e, "description", Need::Optional, "a string").value_or("");
      s_.check.expect.push_back(std::move(x));
    }
  }

  void read_prices(const Fields& root) {
    const Json* prices = object(root, "prices", Need::Optional);
    if (!prices) return;
    const Fields f(diag_, *prices, root.path_of("prices"), {"service_call_usd", "bytes_per_mb"});
    s_.prices.service_call_usd = number_or(f, "service_call_usd", non_negative(1e9, "USD"), 200);
    if (const Json* v = f.find("bytes_per_mb")) {
      if (!v->is_number() || (v->get<double>() != 1e6 && v->get<double>() != 1048576.0))
        f.error("bytes_per_mb", show(*v) + " is not a supported megabyte (expected 1000000 or 1048576)");
      else
        s_.prices.bytes_per_mb = v->get<double>();
    }
  }

  void read_health(const Fields& root) {
    const Json* health = object(root, "health", Need::Optional);
    if (!health) return;
    const Fields f(diag_, *health, root.path_of("health"), {"report_after_min"});
    s_.health.report_after_s = number_or(f, "report_after_min", positive(kMaxMinutes, "minutes"), 10) * 60;
  }

  // Every slot must hold the release's full image.
  void check_slots() {
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

  Diagnostics& diag_;
  std::string base_dir_;
  Scenario s_;
  bool horizon_ok_ = false;
  std::vector<bool> hardware_id_ok_;   // per hardware entry: its id was valid
  std::vector<bool> slot_ok_;          // per hardware entry: its slot size was valid (or defaulted)
  std::vector<std::size_t> class_entry_;  // per class read: its index in /fleet/classes
  std::optional<std::uint64_t> image_bytes_;  // the full image, when known
};

LoadResult finish(Diagnostics& diag, Scenario&& s) {
  LoadResult out;
  if (diag.empty()) out.scenario = std::move(s);
  out.errors = diag.take();
  return out;
}

LoadResult load(std::string_view json_text, const std::vector<std::pair<std::string, std::string>>& overrides,
                const std::string& base_dir) {
  Diagnostics diag;
  try {
    Json root;
    if (!parse_json(json_text, diag, root)) return finish(diag, Scenario{});
    for (const auto& [pointer, value] : overrides) apply_override(root, pointer, value, diag);
    if (!diag.empty()) return finish(diag, Scenario{});
    ScenarioReader reader(diag, base_dir);
    Scenario s = reader.read(root);
    return finish(diag, std::move(s));
  } catch (const std::exception& e) {
    // Not expected: every reader checks types before reading. Kept so that a
    // defect here still reports instead of terminating the program.
    diag.add("", std::string("internal error while loading the scenario: ") + e.what());
    return finish(diag, Scenario{});
  }
}

}  // namespace

LoadResult parse_scenario(std::string_view json_text, const std::string& base_dir) {
  return load(json_text, {}, base_dir);
}

LoadResult parse_scenario_with_overrides(std::string_view json_text,
                                         const std::vector<std::pair<std::string, std::string>>& pointer_value_pairs,
                                         const std::string& base_dir) {
  return load(json_text, pointer_value_pairs, base_dir);
}

LoadResult load_scenario_file(const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& overrides) {
  const auto file_error = [&](const std::string& why) {
    LoadResult out;
    out.errors.push_back({"", valid_utf8("cannot read scenario file " + json_quoted(path) + ": " + why)});
    return out;
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return file_error(ec ? ec.message() : "no such file");
  if (!std::filesystem::is_regular_file(status)) return file_error("not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error("cannot be opened for reading");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return file_error("read error");
  const std::string text = std::move(buf).str();
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  LoadResult out = load(text, overrides, base_dir);
  for (auto& e : out.errors)
    if (e.path.empty() && e.message.rfind("malformed JSON", 0) == 0) e.message = valid_utf8(path) + ": " + e.message;
  return out;
}

std::string format_errors(const std::vector<ScenarioError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "scenario: ";
    if (!e.path.empty()) out += e.path + ": ";
    out += e.message;
    out += '\n';
  }
  return out;
}

}  // namespace ota::models
