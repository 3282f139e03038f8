// schema.cpp — scenarios/scenario.schema.json and scenarios/FIELDS.md, written from the field table.
#include <string>

#include <nlohmann/json.hpp>

#include "ota/models/scenario/field_table.hpp"

namespace ota::models::fields {

namespace {

using Json = nlohmann::ordered_json;

Json documentation_keys() {
  Json p = Json::object();
  p["^_comment"] = Json::object();
  p["^\\$schema$"] = Json::object();
  return p;
}

std::string sentence(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.back() != '.' && s.back() != ')') s += '.';
  return s;
}

// The description, with how the default depends on other fields and where it comes from.
std::string describe(const Field& f) {
  std::string d = sentence(f.description);
  if (!f.unit.empty() && !f.is_container()) d += (d.empty() ? "" : " ") + std::string("Unit: ") + sentence(f.unit);
  if (!f.default_note.empty()) d += (d.empty() ? "" : " ") + std::string("Default: ") + sentence(f.default_note);
  if (!f.source.empty() && !f.is_container())
    d += (d.empty() ? "" : " ") + std::string("Source: ") + sentence(f.source);
  return d;
}

std::uint64_t whole(double x) {
  return x >= 18446744073709551615.0 ? 18446744073709551615ULL : static_cast<std::uint64_t>(x);
}

Json node(const Field& f);

Json item_node(std::string_view path) {
  const Field* item = find(std::string(path) + "/*");
  return item ? node(*item) : Json::object();
}

Json node(const Field& f) {
  Json j = Json::object();
  switch (f.type) {
    case Type::Number:
      j["type"] = "number";
      j[f.lo_open ? "exclusiveMinimum" : "minimum"] = f.lo;
      if (f.hi != kUnbounded) j[f.hi_open ? "exclusiveMaximum" : "maximum"] = f.hi;
      break;
    case Type::Integer:
      j["type"] = "integer";
      j["minimum"] = whole(f.lo);
      j["maximum"] = whole(f.hi);
      break;
    case Type::String: j["type"] = "string"; break;
    case Type::Name:
      j["type"] = "string";
      j["minLength"] = 1;
      break;
    case Type::Choice: {
      Json e = Json::array();
      for (const auto c : f.choice_list()) e.push_back(std::string(c));
      j["enum"] = e;
      break;
    }
    case Type::Boolean: j["type"] = "boolean"; break;
    case Type::Version:
      j["type"] = "string";
      j["pattern"] = "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$";
      break;
    case Type::Const: j["const"] = Json::parse(f.default_json); break;
    case Type::Object:
    case Type::Map: {
      j["type"] = "object";
      Json props = Json::object();
      Json required = Json::array();
      for (const auto key : child_keys(f.path)) {
        const Field* c = child(f.path, key);
        props[std::string(key)] = node(*c);
        if (c->required) required.push_back(std::string(key));
      }
      j["patternProperties"] = documentation_keys();
      if (!props.empty()) j["properties"] = props;
      if (!required.empty()) j["required"] = required;
      if (f.type == Type::Map) {
        j["propertyNames"] = Json{{"minLength", 1}};
        j["additionalProperties"] = item_node(f.path);
      } else {
        j["additionalProperties"] = false;
      }
      break;
    }
    case Type::Array:
      j["type"] = "array";
      if (f.min_items > 0) j["minItems"] = f.min_items;
      if (f.max_items > 0) j["maxItems"] = f.max_items;
      j["items"] = item_node(f.path);
      break;
  }
  if ((f.type == Type::Number || f.type == Type::Integer) && !f.choices.empty()) {
    // A number from a short list (prices.bytes_per_mb): the list is the range.
    Json e = Json::array();
    for (const auto c : f.choice_list()) e.push_back(Json::parse(c));
    j["enum"] = e;
  }
  if (f.nullable) {
    if (j.contains("type")) j["type"] = Json::array({j["type"], "null"});
    else if (j.contains("enum")) j["enum"].push_back(nullptr);
  }
  if (!f.default_json.empty() && f.type != Type::Const) j["default"] = Json::parse(f.default_json);
  if (const std::string d = describe(f); !d.empty()) j["description"] = d;
  return j;
}

const char* type_name(const Field& f) {
  switch (f.type) {
    case Type::Number: return "number";
    case Type::Integer: return "integer";
    case Type::String: return "string";
    case Type::Name: return "name";
    case Type::Choice: return "choice";
    case Type::Boolean: return "boolean";
    case Type::Version: return "version";
    case Type::Const: return "constant";
    case Type::Object: return "object";
    case Type::Map: return "object by name";
    case Type::Array: return "array";
  }
  return "";
}

// One table cell: no line breaks, '|' escaped.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace

std::string schema_json() {
  const Field& root = all().front();
  Json j = Json::object();
  j["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  j["$id"] = "https://otasim.invalid/scenarios/scenario.schema.json";
  j["title"] = "otasim scenario, format otasim-scenario/1";
  j["$comment"] = "Generated by `otasim schema` from the scenario field table (models/src/scenario/table_*.cpp); "
                  "do not edit.";
  const Json body = node(root);
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  return j.dump(2) + "\n";
}

std::string fields_markdown() {
  std::string md =
      "# Scenario fields\n\n"
      "Generated by `otasim schema --markdown` from the field table (`models/src/scenario/table_*.cpp`), like\n"
      "`scenario.schema.json`; do not edit. `*` stands for any array index or any name of a keyed object.\n"
      "Required fields have no default; a default that depends on other fields is described.\n\n"
      "| field | type | range, unit | default | description | source |\n"
      "|---|---|---|---|---|---|\n";
  for (const Field& f : all()) {
    if (f.path.empty()) continue;
    std::string type = type_name(f);
    if (f.nullable) type += " or null";
    std::string def = f.required ? "required" : std::string(f.default_json);
    if (!f.default_note.empty()) def += (def.empty() ? "" : "; ") + std::string(f.default_note);
    md += "| `" + cell(f.path) + "` | " + type + " | " + cell(f.range_text()) + " | " + cell(def) + " | " +
          cell(f.description) + " | " + cell(f.source) + " |\n";
  }
  return md;
}

}  // namespace ota::models::fields
