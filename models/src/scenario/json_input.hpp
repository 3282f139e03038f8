// json_input.hpp — the scenario loader's JSON layer (internal): text helpers, diagnostics, parsing, overrides.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ota/models/scenario/json_pointer.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::scenario_detail {

using Json = nlohmann::json;

inline constexpr std::size_t kMaxShownValue = 60;   // characters of a value quoted in a message

// ---------------------------------------------------------------------------
// Text helpers (json_input.cpp)

std::string valid_utf8(std::string_view s);  // bytes not in well-formed UTF-8 -> '?'
std::string pointer_token(std::string_view key);  // one JSON Pointer token, escaped
std::string child(const std::string& path, std::string_view key);
std::string child(const std::string& path, std::size_t index);
std::string format_number(double x);
std::string show(const Json& v);  // as in the document, cut to kMaxShownValue characters
std::string json_quoted(std::string_view s);
std::string join(const std::vector<std::string>& names);  // "none" if empty
std::string join(std::initializer_list<std::string_view> names);
bool is_documentation_key(std::string_view key);

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
// Parsing and overrides (json_input.cpp)

// Parses `text` into `out`. Returns false (with errors recorded) if it is not
// one well-formed JSON value.
bool parse_json(std::string_view text, Diagnostics& diag, Json& out);

// split_pointer, array_index and not_an_element: ota/models/scenario/json_pointer.hpp.
// Sets `pointer` in `root` to `value_text`, read as JSON if it parses and as a
// plain string otherwise; records why if it cannot.
void apply_override(Json& root, const std::string& pointer, const std::string& value_text, Diagnostics& diag);

}  // namespace ota::models::scenario_detail
