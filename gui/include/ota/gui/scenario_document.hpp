// scenario_document.hpp — the scenario being edited: its JSON text, a DOM of it
// addressed by JSON Pointers, and the loader's verdict on it.
//
// The text is the truth. The raw JSON view replaces it wholesale (set_text);
// the form changes one value at a time (set_value), which re-serialises the DOM
// with its key order and documentation keys kept. Validation is the loader's
// own (parse_scenario), so the planner refuses exactly what `otasim run` does
// and reports it at the same JSON Pointers. No Qt here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::gui {

class ScenarioDocument {
 public:
  ScenarioDocument();
  ~ScenarioDocument();
  ScenarioDocument(const ScenarioDocument&) = delete;
  ScenarioDocument& operator=(const ScenarioDocument&) = delete;

  // Replaces the whole text (a file just read, or the raw view's content).
  // `base_dir` resolves the release's relative image paths, as for the file.
  void set_text(std::string text, std::string base_dir);
  void set_text(std::string text);  // keeps the base directory
  const std::string& text() const { return text_; }
  const std::string& base_dir() const { return base_dir_; }

  // Whether the text is well-formed JSON (only then can the form read or set it).
  bool well_formed() const;

  // The value at `pointer` as the form shows it: strings without quotes,
  // numbers and booleans as JSON, objects and arrays as compact JSON; nullopt
  // when absent or when the text is not well-formed.
  std::optional<std::string> value_text(std::string_view pointer) const;

  // The number of elements of the array at `pointer` (0 when absent or not an array).
  std::size_t array_size(std::string_view pointer) const;
  // The keys of the object at `pointer`, in document order, without
  // documentation keys ("_comment...", "$schema").
  std::vector<std::string> object_keys(std::string_view pointer) const;

  // Sets the value at `pointer` as `otasim --param` reads it: JSON if `value`
  // parses as JSON, else a string. An empty `value` removes the key, so the
  // loader's default applies. Missing objects on the way are created. Then the
  // text is re-serialised (2-space indent). Returns an error message when the
  // text is not well-formed or the pointer cannot be applied; the document is
  // then unchanged.
  std::string set_value(std::string_view pointer, std::string_view value);

  // Inserts `element_json` into the array at `array_pointer` before `index`
  // (index = size appends) or removes element `index`. Same errors as set_value.
  std::string insert_element(std::string_view array_pointer, std::size_t index, std::string_view element_json);
  std::string remove_element(std::string_view array_pointer, std::size_t index);

  // The loader's verdict on the current text.
  models::LoadResult validate() const;

 private:
  struct Dom;
  std::string reserialise();
  std::string text_;
  std::string base_dir_ = ".";
  std::unique_ptr<Dom> dom_;  // null when the text is not well-formed
};

// Whether a loader error at `error_path` belongs to the field at `field_pointer`:
// the same pointer, or a pointer inside it ("/fleet/classes/0" owns
// "/fleet/classes/0/share").
bool error_belongs_to(std::string_view error_path, std::string_view field_pointer);

}  // namespace ota::gui
