// scenario_form.hpp — the what-if knobs of a scenario as a form, each field
// bound to a JSON Pointer of the document.
//
// A field shows the document's value (blank: the loader's default, shown as
// the placeholder). Typing sets the value with ScenarioDocument::set_value;
// nothing is clamped or converted here, so a bad value reaches the loader and
// its message appears at the field (red border, the message under it and in
// the tooltip) — the same words `otasim run` prints.
//
// What a field is comes from the loader's field table
// (ota/models/scenario/field_table.hpp): every editor's placeholder (the
// default, the note saying what it depends on, or "required"), tooltip
// (pointer, description, range and unit, default, source) and choices. The
// curated sections at the top pick and label the fields most what-ifs touch;
// the "All fields" sections below them list every other field of the table,
// instantiated for the document (instantiate_fields), so that each one can be
// set from the form.
#pragma once

#include <QString>
#include <QPalette>
#include <QWidget>

#include <set>
#include <span>
#include <string>
#include <vector>

#include "ota/gui/scenario_document.hpp"
#include "ota/models/scenario/field_table.hpp"

class QComboBox;
class QLabel;
class QScrollArea;
class QLineEdit;
class QVBoxLayout;
class QGridLayout;

namespace ota::gui {

// One field of a document: a concrete JSON Pointer and its table entry.
struct FieldRow {
  std::string pointer;
  const models::fields::Field* field = nullptr;
};

// The leaf entries of `table` (not objects, maps, arrays, nor constants)
// instantiated for `document`, in table order: an entry under an array once
// per element present, under a map once per key present (a key with an exact
// entry of its own takes that one, not "*"); objects, present or not, show
// their fields; an absent or empty array or map shows none. Keys are escaped
// as JSON Pointer tokens (~0, ~1).
std::vector<FieldRow> instantiate_fields(std::span<const models::fields::Field> table,
                                         const ScenarioDocument& document);

// What the form shows for a table entry (`field` may be null: nothing known).
// The placeholder: the default as the file would hold it (strings unquoted),
// else the note on what it depends on, else "required"; empty otherwise.
QString field_placeholder(const models::fields::Field* field);
// The tooltip (rich text): the pointer, description, range and unit, default, source.
QString field_tooltip(const std::string& pointer, const models::fields::Field* field);

class ScenarioForm : public QWidget {
  Q_OBJECT

 public:
  explicit ScenarioForm(ScenarioDocument* document, QWidget* parent = nullptr);

  // Re-reads every field from the document, rebuilding the class and stage
  // rows if their number changed. `keep_focused`: leave the field being typed
  // in alone (its text is what the user is typing).
  void refresh(bool keep_focused = false);

  // Marks the fields that own `errors` (the most specific field whose pointer
  // contains the error's) and clears the others. Returns the errors no field owns.
  std::vector<models::ScenarioError> show_errors(const std::vector<models::ScenarioError>& errors);

  // The editor bound to `pointer` (a QLineEdit or QComboBox), or null.
  QWidget* field(const std::string& pointer) const;
  // The message shown at the field, empty when none.
  QString field_error(const std::string& pointer) const;
  // All bound pointers, in form order.
  std::vector<std::string> pointers() const;

  // Opens or closes an "All fields" section, named by the first token of its
  // pointers ("fleet"; "" for the document's own fields). They start closed,
  // and stay as the user left them across rebuilds.
  void set_section_expanded(const std::string& section, bool expanded);
  bool section_expanded(const std::string& section) const { return expanded_.count(section) > 0; }

  // Scrolls to and focuses the field owning `error_path`, if any (expanding its section).
  void focus_error(const std::string& error_path);

  // The pointer of the field behind the last edited() (for undo: typing in one
  // field is one step).
  const std::string& last_edited() const { return last_edited_; }

  // Colours that read on the current palette, light or dark (#rrggbb).
  static QString error_colour(const QPalette& palette);
  static QString muted_colour(const QPalette& palette);

 signals:
  void edited();  // the document changed through the form
  // The user asked to sweep the numeric field at `pointer` (its context menu).
  void sweep_requested(const QString& pointer);

 private:
  struct Choice {
    QString label;
    QString value;  // "" = remove the key (loader default)
  };
  struct Field {
    std::string pointer;
    const models::fields::Field* entry = nullptr;  // its table entry, null when the table has none
    QWidget* editor = nullptr;
    QLabel* error = nullptr;
    std::vector<Choice> choices;  // empty for a line edit
    bool generated = false;       // a row of the "All fields" part (else a curated row)
    std::string section;          // generated: its section (the pointer's first token; "" for the document's own)
  };

  void rebuild();
  void rebuild_rows();
  void fit_width();  // the pane never cuts the form's right column
  void add_stage();  // before the last stage, halfway between its neighbours
  std::string structure() const;
  // A labelled row of a curated section: the editor the table says (a combo
  // for choices and booleans, a line edit otherwise) at (row, column + 1).
  QWidget* add_row(QGridLayout* grid, int row, int column, const QString& label, const std::string& pointer);
  // A new editor for `pointer`, bound to it and added to fields_ (returns the
  // editor wrapped with its error label).
  QWidget* make_editor(const std::string& pointer, bool generated = false);
  void add_all_fields();
  QWidget* wrap(Field& f);
  void apply(const Field& f, const QString& value);
  void load(Field& f, bool keep_focused);
  void mark(Field& f, const QString& message);

  ScenarioDocument* document_;
  QWidget* content_ = nullptr;
  QScrollArea* scroll_ = nullptr;
  QVBoxLayout* sections_ = nullptr;
  std::vector<Field> fields_;
  std::string structure_;
  std::string last_edited_;
  std::set<std::string> expanded_;  // "All fields" sections shown open
};

}  // namespace ota::gui
