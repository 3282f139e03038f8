#include "ota/gui/scenario_document.hpp"

#include <nlohmann/json.hpp>

namespace ota::gui {

namespace {

using Json = nlohmann::ordered_json;

bool is_documentation_key(std::string_view key) { return key.starts_with("_comment") || key == "$schema"; }

// The pointer parsed, or an error message.
std::optional<Json::json_pointer> parse_pointer(std::string_view pointer, std::string& error) {
  try {
    return Json::json_pointer(std::string(pointer));
  } catch (const Json::exception& e) {
    error = "'" + std::string(pointer) + "' is not a JSON Pointer (" + e.what() + ")";
    return std::nullopt;
  }
}

}  // namespace

struct ScenarioDocument::Dom {
  Json root;
};

ScenarioDocument::ScenarioDocument() = default;
ScenarioDocument::~ScenarioDocument() = default;

void ScenarioDocument::set_text(std::string text, std::string base_dir) {
  base_dir_ = base_dir.empty() ? std::string(".") : std::move(base_dir);
  set_text(std::move(text));
}

void ScenarioDocument::set_text(std::string text) {
  text_ = std::move(text);
  // Duplicate keys and the like are the loader's to report; the DOM only needs
  // to be usable for reading and setting fields.
  Json root = Json::parse(text_, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    dom_.reset();
  } else {
    dom_ = std::make_unique<Dom>();
    dom_->root = std::move(root);
  }
}

bool ScenarioDocument::well_formed() const { return dom_ != nullptr; }

std::optional<std::string> ScenarioDocument::value_text(std::string_view pointer) const {
  if (!dom_) return std::nullopt;
  std::string error;
  const auto ptr = parse_pointer(pointer, error);
  if (!ptr || !dom_->root.contains(*ptr)) return std::nullopt;
  const Json& v = dom_->root.at(*ptr);
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::size_t ScenarioDocument::array_size(std::string_view pointer) const {
  if (!dom_) return 0;
  std::string error;
  const auto ptr = parse_pointer(pointer, error);
  if (!ptr || !dom_->root.contains(*ptr)) return 0;
  const Json& v = dom_->root.at(*ptr);
  return v.is_array() ? v.size() : 0;
}

std::vector<std::string> ScenarioDocument::object_keys(std::string_view pointer) const {
  std::vector<std::string> keys;
  if (!dom_) return keys;
  std::string error;
  const auto ptr = parse_pointer(pointer, error);
  if (!ptr || !dom_->root.contains(*ptr)) return keys;
  const Json& v = dom_->root.at(*ptr);
  if (!v.is_object()) return keys;
  for (const auto& [key, value] : v.items())
    if (!is_documentation_key(key)) keys.push_back(key);
  return keys;
}

std::string ScenarioDocument::set_value(std::string_view pointer, std::string_view value) {
  if (!dom_) return "the JSON text is not well-formed; fix it in the JSON view first";
  std::string error;
  const auto ptr = parse_pointer(pointer, error);
  if (!ptr) return error;
  if (ptr->empty()) return "the form cannot replace the whole document";
  Json root = dom_->root;  // edit a copy: the document stays unchanged on error
  try {
    if (value.empty()) {
      if (!root.contains(*ptr)) return {};
      Json& parent = root.at(ptr->parent_pointer());
      if (parent.is_object()) {
        parent.erase(ptr->back());
      } else {
        return "cannot remove " + std::string(pointer) + " from an array; remove the element instead";
      }
    } else {
      // Array elements must exist (as for --param): no silent appending.
      Json::json_pointer walk;
      Json::json_pointer rest = *ptr;
      std::vector<std::string> tokens;
      while (!rest.empty()) {
        tokens.insert(tokens.begin(), rest.back());
        rest.pop_back();
      }
      for (const std::string& token : tokens) {
        if (root.contains(walk) && root.at(walk).is_array()) {
          const Json& array = root.at(walk);
          std::size_t index = 0;
          const bool numeric = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
          if (numeric) index = std::stoul(token);
          if (!numeric || index >= array.size())
            return std::string(pointer) + ": element '" + token + "' does not exist in the array at " +
                   (walk.empty() ? std::string("/") : walk.to_string());
        }
        walk /= token;
      }
      Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) parsed = std::string(value);
      root[*ptr] = std::move(parsed);
    }
  } catch (const Json::exception& e) {
    return std::string(pointer) + ": " + e.what();
  } catch (const std::out_of_range& e) {
    return std::string(pointer) + ": " + e.what();
  }
  dom_->root = std::move(root);
  return reserialise();
}

std::string ScenarioDocument::insert_element(std::string_view array_pointer, std::size_t index,
                                             std::string_view element_json) {
  if (!dom_) return "the JSON text is not well-formed; fix it in the JSON view first";
  std::string error;
  const auto ptr = parse_pointer(array_pointer, error);
  if (!ptr) return error;
  if (!dom_->root.contains(*ptr) || !dom_->root.at(*ptr).is_array())
    return std::string(array_pointer) + " is not an array";
  Json element = Json::parse(element_json, nullptr, false);
  if (element.is_discarded()) return "not JSON: " + std::string(element_json);
  Json& array = dom_->root.at(*ptr);
  if (index > array.size()) return std::string(array_pointer) + ": no position " + std::to_string(index);
  array.insert(array.begin() + static_cast<std::ptrdiff_t>(index), std::move(element));
  return reserialise();
}

std::string ScenarioDocument::remove_element(std::string_view array_pointer, std::size_t index) {
  if (!dom_) return "the JSON text is not well-formed; fix it in the JSON view first";
  std::string error;
  const auto ptr = parse_pointer(array_pointer, error);
  if (!ptr) return error;
  if (!dom_->root.contains(*ptr) || !dom_->root.at(*ptr).is_array())
    return std::string(array_pointer) + " is not an array";
  Json& array = dom_->root.at(*ptr);
  if (index >= array.size()) return std::string(array_pointer) + ": no element " + std::to_string(index);
  array.erase(array.begin() + static_cast<std::ptrdiff_t>(index));
  return reserialise();
}

std::string ScenarioDocument::reserialise() {
  text_ = dom_->root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return {};
}

models::LoadResult ScenarioDocument::validate() const { return models::parse_scenario(text_, base_dir_); }

bool error_belongs_to(std::string_view error_path, std::string_view field_pointer) {
  if (field_pointer.empty()) return error_path.empty();
  if (!error_path.starts_with(field_pointer)) return false;
  return error_path.size() == field_pointer.size() || error_path[field_pointer.size()] == '/';
}

}  // namespace ota::gui
