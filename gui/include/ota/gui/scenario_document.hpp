// scenario_document.hpp — the scenario being edited: its JSON text, a DOM of it
// addressed by JSON Pointers, and the loader's verdict on it.
//
// The text is the truth. The raw JSON view replaces it wholesale (set_text);
// the form changes one value at a time (set_value and the array edits), which
// rewrite only that value's bytes in the text and then re-read the DOM from it:
// numbers keep the spelling they were typed with, and every other byte (layout,
// blank lines, documentation keys) stays, so a saved file differs from the
// opened one only where the user edited. Pointers are read by the loader's own
// parser (ota/models/scenario/json_pointer.hpp), and validation is the loader's
// own (parse_scenario), so the planner accepts and refuses exactly what
// `otasim sweep --param` does, with its words, and reports errors at the same
// JSON Pointers. No Qt here.
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
  // numbers as the text spells them (0.40, 1.3e-4), booleans and null as JSON,
  // objects and arrays as compact JSON; nullopt
  // when absent, when the pointer is not one `--param` accepts ("" for the
  // document, an index "01") or when the text is not well-formed.
  std::optional<std::string> value_text(std::string_view pointer) const;

  // The number of elements of the array at `pointer` (0 when absent or not an array).
  std::size_t array_size(std::string_view pointer) const;
  // The keys of the object at `pointer`, in document order, without
  // documentation keys ("_comment...", "$schema").
  std::vector<std::string> object_keys(std::string_view pointer) const;

  // Sets the value at `pointer` as `otasim --param` reads it: JSON if `value`
  // parses as JSON (written as typed, "0.40" stays 0.40), else a string
  // (written escaped, "+1" and ".5" are strings). An empty `value` removes the
  // key, so the loader's default applies (nothing to do when it is absent).
  // Missing objects on the way are created, and a null on the way becomes one;
  // array elements are never created.
  //
  // In the text: the old value's bytes are replaced; a new key comes last in
  // its object, indented like its siblings (inline objects stay on their
  // line); a removed key takes one comma and, if it had one, its line with it.
  // Objects and arrays are written on one line where their siblings are,
  // indented otherwise.
  //
  // Returns an error message, the document unchanged, when the text is not
  // well-formed, when the pointer is one `--param` refuses (with its reason:
  // the empty pointer, a bad '~' escape, an index like "01" or past the end of
  // an array), when a value other than an object or array is on the way, or
  // when the key to remove is an array element.
  std::string set_value(std::string_view pointer, std::string_view value);

  // Inserts `element_json` into the array at `array_pointer` before `index`
  // (index = size appends) or removes element `index`, indented like the other
  // elements (an inline array stays inline; a scalar keeps its spelling).
  // Errors, the document unchanged: the text is not well-formed, the pointer
  // is refused as by set_value, there is no array there, `element_json` is not
  // JSON, or there is no such position or element.
  std::string insert_element(std::string_view array_pointer, std::size_t index, std::string_view element_json);
  std::string remove_element(std::string_view array_pointer, std::size_t index);

  // The loader's verdict on the current text.
  models::LoadResult validate() const;

 private:
  struct Dom;
  // Takes an edited text and re-reads the DOM from it (an error, and nothing
  // changed, should the edit have broken the JSON).
  std::string commit(std::string text);
  std::string text_;
  std::string base_dir_ = ".";
  std::unique_ptr<Dom> dom_;  // null when the text is not well-formed
};

// Whether a loader error at `error_path` belongs to the field at `field_pointer`:
// the same pointer, or a pointer inside it ("/fleet/classes/0" owns
// "/fleet/classes/0/share").
bool error_belongs_to(std::string_view error_path, std::string_view field_pointer);

}  // namespace ota::gui
