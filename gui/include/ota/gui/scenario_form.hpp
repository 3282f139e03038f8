// scenario_form.hpp — the what-if knobs of a scenario as a form, each field
// bound to a JSON Pointer of the document.
//
// A field shows the document's value (blank: the loader's default, shown as
// the placeholder). Typing sets the value with ScenarioDocument::set_value;
// nothing is clamped or converted here, so a bad value reaches the loader and
// its message appears at the field (red border, the message under it and in
// the tooltip) — the same words `otasim run` prints.
#pragma once

#include <QString>
#include <QPalette>
#include <QWidget>

#include <string>
#include <vector>

#include "ota/gui/scenario_document.hpp"

class QComboBox;
class QLabel;
class QScrollArea;
class QLineEdit;
class QVBoxLayout;
class QGridLayout;

namespace ota::gui {

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

  // Scrolls to and focuses the field owning `error_path`, if any.
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
    QWidget* editor = nullptr;
    QLabel* error = nullptr;
    std::vector<Choice> choices;  // empty for a line edit
  };

  void rebuild();
  void rebuild_rows();
  void fit_width();  // the pane never cuts the form's right column
  void add_stage();  // before the last stage, halfway between its neighbours
  std::string structure() const;
  QWidget* add_line(QGridLayout* grid, int row, int column, const QString& label, const std::string& pointer,
                    const QString& default_hint, const QString& tip = {});
  QWidget* add_choice(QGridLayout* grid, int row, int column, const QString& label, const std::string& pointer,
                      std::vector<Choice> choices, const QString& tip = {}, const QString& default_label = {});
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
};

}  // namespace ota::gui
