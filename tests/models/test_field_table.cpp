// The scenario field table is the one source of truth: for every entry, the
// loader accepts its default and refuses a value outside its range with an
// error at its path, and the generated schema holds it with the same range.
// Nothing here lists fields by hand: the test walks fields::all().
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ota/models/scenario/field_table.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace {

namespace fields = ota::models::fields;
using Json = nlohmann::json;

struct Shipped {
  std::string path;
  std::string text;
  Json doc;
};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every shipped scenario (a JSON file with a "format" key), in name order,
// then tests/gui/all-fields.json: it fills the arrays and keyed objects that
// no shipped scenario has (maintenance windows, named-group stages...).
const std::vector<Shipped>& shipped() {
  static const std::vector<Shipped> all = [] {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(std::string(OTA_SOURCE_DIR) + "/scenarios"))
      if (e.is_regular_file() && e.path().extension() == ".json" && e.path().filename() != "scenario.schema.json")
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    files.push_back(std::string(OTA_SOURCE_DIR) + "/tests/gui/all-fields.json");
    std::vector<Shipped> out;
    for (const auto& f : files) {
      Shipped s{f.string(), read_text(f), Json::parse(read_text(f), nullptr, false)};
      if (s.doc.is_object() && s.doc.contains("format")) out.push_back(std::move(s));
    }
    return out;
  }();
  return all;
}

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool documentation_key(const std::string& k) { return k.rfind("_comment", 0) == 0 || k == "$schema"; }

// A concrete pointer for the table path in `doc`: "*" becomes the first
// element of an array or the first key of an object present in the document;
// exact keys may be absent (an override creates the objects on the way), but
// no "*" may follow an absent one.
std::optional<std::string> concrete(const Json& doc, std::string_view table_path) {
  const Json* node = &doc;
  std::string out;
  for (const std::string& seg : segments(table_path)) {
    if (seg == "*") {
      if (!node) return std::nullopt;
      if (node->is_array() && !node->empty()) {
        out += "/0";
        node = &(*node)[0];
        continue;
      }
      if (!node->is_object()) return std::nullopt;
      const Json* next = nullptr;
      for (auto it = node->begin(); it != node->end(); ++it)
        if (!documentation_key(it.key())) {
          out += "/" + it.key();
          next = &it.value();
          break;
        }
      if (!next) return std::nullopt;
      node = next;
      continue;
    }
    out += "/" + seg;
    node = node && node->is_object() && node->contains(seg) ? &(*node)[seg] : nullptr;
  }
  return out;
}

ota::models::LoadResult load_with(const Shipped& s, const std::string& pointer, const std::string& value) {
  const std::string dir = std::filesystem::path(s.path).parent_path().string();
  return ota::models::parse_scenario_with_overrides(s.text, {{pointer, value}}, dir);
}

std::string errors_text(const ota::models::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "  " + e.path + ": " + e.message + "\n";
  return out;
}

// A value of the entry's JSON type that its range refuses, if there is one.
std::vector<std::string> bad_values(const fields::Field& f) {
  std::vector<std::string> out;
  const auto num = [](double x) {
    std::ostringstream s;
    s.precision(17);
    s << x;
    return s.str();
  };
  switch (f.type) {
    case fields::Type::Number:
      out.push_back(num(f.lo_open ? f.lo : f.lo - std::max(1.0, std::abs(f.lo))));
      if (f.hi != fields::kUnbounded) out.push_back(num(f.hi_open ? f.hi : f.hi + std::max(1.0, std::abs(f.hi))));
      break;
    case fields::Type::Integer:
      out.push_back(f.lo > 0 ? num(f.lo - 1) : "-1");
      if (f.hi < 1.8e19) out.push_back(num(f.hi + 1));
      out.push_back("1.5");
      break;
    case fields::Type::Choice: out.push_back("\"no_such_choice\""); break;
    case fields::Type::Boolean: out.push_back("\"yes\""); break;
    case fields::Type::Name: out.push_back("\"\""); break;
    case fields::Type::Version: out.push_back("\"1.2\""); break;
    case fields::Type::String: out.push_back("5"); break;
    default: break;
  }
  return out;
}

bool is_leaf(const fields::Field& f) { return !f.is_container() && f.type != fields::Type::Const; }

// The schema node of a table path: properties, items or additionalProperties.
const Json* schema_node(const Json& schema, std::string_view table_path) {
  const Json* node = &schema;
  for (const std::string& seg : segments(table_path)) {
    if (seg == "*") {
      if (node->contains("items")) node = &(*node)["items"];
      else if (node->contains("additionalProperties") && (*node)["additionalProperties"].is_object())
        node = &(*node)["additionalProperties"];
      else return nullptr;
    } else {
      if (!node->contains("properties") || !(*node)["properties"].contains(seg)) return nullptr;
      node = &(*node)["properties"][seg];
    }
  }
  return node;
}

}  // namespace

TEST_CASE("field table: every entry has a parent, a description, and a consistent default") {
  std::vector<std::string> seen;
  for (const fields::Field& f : fields::all()) {
    INFO(std::string(f.path));
    CHECK(std::find(seen.begin(), seen.end(), std::string(f.path)) == seen.end());  // listed once
    if (!f.path.empty()) {
      const std::string parent(f.path.substr(0, f.path.rfind('/')));
      CHECK(std::find(seen.begin(), seen.end(), parent) != seen.end());  // parents first
    }
    seen.emplace_back(f.path);
    CHECK_FALSE(f.description.empty());
    CHECK(!(f.required && !f.default_json.empty() && f.type != fields::Type::Const));
    if (f.type == fields::Type::Number || f.type == fields::Type::Integer) {
      if (!f.default_json.empty()) {
        REQUIRE(f.default_number());
        CHECK(f.contains(*f.default_number()));
      }
      // A default or a note saying how it is found, or the field is required.
      if (!f.required) CHECK((!f.default_json.empty() || !f.default_note.empty()));
      if (!f.default_json.empty()) CHECK_FALSE(f.source.empty());
    }
    if (f.type == fields::Type::Choice) {
      CHECK(f.choice_list().size() >= 2);
      if (!f.default_json.empty()) {
        const auto c = f.choice_list();
        CHECK(std::find(c.begin(), c.end(), f.default_json.substr(1, f.default_json.size() - 2)) != c.end());
      }
    }
  }
  CHECK(seen.size() > 1);
}

TEST_CASE("field table: the loader accepts every default and refuses every out-of-range value at its path") {
  std::vector<std::string> problems;
  std::size_t accepted = 0, refused = 0;
  for (const fields::Field& f : fields::all()) {
    if (!is_leaf(f)) continue;
    // The shipped scenarios in which the field's parent exists.
    std::vector<std::pair<const Shipped*, std::string>> where;
    for (const Shipped& s : shipped())
      if (const auto p = concrete(s.doc, f.path)) where.emplace_back(&s, *p);
    if (where.empty()) {
      problems.push_back(std::string(f.path) + ": no scenario has its parent (add it to tests/gui/all-fields.json)");
      continue;
    }
    if (!f.default_json.empty()) {
      std::string why;
      bool ok = false;
      for (const auto& [s, p] : where) {
        const auto r = load_with(*s, p, std::string(f.default_json));
        if (r.scenario) {
          ok = true;
          break;
        }
        why += s->path + " with " + p + " = " + std::string(f.default_json) + ":\n" + errors_text(r);
      }
      if (ok) ++accepted;
      else problems.push_back(std::string(f.path) + ": the default is refused everywhere:\n" + why);
    }
    for (const std::string& bad : bad_values(f)) {
      bool named = false;
      std::string seen;
      for (const auto& [s, p] : where) {
        const auto r = load_with(*s, p, bad);
        for (const auto& e : r.errors)
          if (e.path == p && e.message.find("expected") != std::string::npos) named = true;
        if (named) break;
        seen += s->path + " with " + p + " = " + bad + ":\n" + (r.scenario ? "  (accepted)\n" : errors_text(r));
      }
      if (named) ++refused;
      else problems.push_back(std::string(f.path) + ": " + bad + " is not refused at its path:\n" + seen.substr(0, 2000));
    }
  }
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  INFO(all);
  CHECK(problems.empty());
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

TEST_CASE("field table: the generated schema holds every entry with its range, default and choices") {
  const Json schema = Json::parse(fields::schema_json());
  std::vector<std::string> problems;
  for (const fields::Field& f : fields::all()) {
    const Json* node = schema_node(schema, f.path);
    if (!node) {
      problems.push_back(std::string(f.path) + ": not in the schema");
      continue;
    }
    if (f.type == fields::Type::Number) {
      const char* lo = f.lo_open ? "exclusiveMinimum" : "minimum";
      if (!node->contains(lo) || (*node)[lo].get<double>() != f.lo) problems.push_back(std::string(f.path) + ": lower bound");
      const char* hi = f.hi_open ? "exclusiveMaximum" : "maximum";
      if (f.hi != fields::kUnbounded && (!node->contains(hi) || (*node)[hi].get<double>() != f.hi))
        problems.push_back(std::string(f.path) + ": upper bound");
    }
    if (f.type == fields::Type::Choice) {
      const auto choices = f.choice_list();
      const std::vector<std::string> want(choices.begin(), choices.end());
      std::vector<std::string> have;
      for (const auto& e : (*node)["enum"])
        if (e.is_string()) have.push_back(e.get<std::string>());
      if (have != want) problems.push_back(std::string(f.path) + ": choices");
    }
    if (!f.default_json.empty() && f.type != fields::Type::Const &&
        (!node->contains("default") || (*node)["default"] != Json::parse(f.default_json)))
      problems.push_back(std::string(f.path) + ": default");
    if (f.required) {
      const std::string parent(f.path.substr(0, f.path.rfind('/')));
      const std::string key(f.path.substr(f.path.rfind('/') + 1));
      const Json* p = schema_node(schema, parent);
      bool listed = false;
      if (p && p->contains("required"))
        for (const auto& r : (*p)["required"]) listed = listed || r == key;
      if (!listed) problems.push_back(std::string(f.path) + ": not listed as required");
    }
  }
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  INFO(all);
  CHECK(problems.empty());
}
