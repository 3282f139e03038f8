// Tests of the form against the loader's field table: every leaf field of
// the table has an editor in the form of a scenario that holds its parent,
// bound to the concrete JSON Pointer, showing the table's default, range,
// description and choices; the generated "All fields" rows edit as the
// curated ones do (undo, the loader's message at the field).
#include <QAbstractButton>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QGroupBox>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QToolButton>
#include <QUndoStack>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <clocale>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/compare_table.hpp"
#include "ota/gui/main_window.hpp"
#include "ota/gui/scenario_document.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/models/scenario/field_table.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

// The synthetic table below names only the members it sets, as the real one does.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using ota::gui::FieldRow;
using ota::gui::MainWindow;
using ota::gui::ScenarioDocument;
namespace mf = ota::models::fields;

using namespace ota::gui::testing;

namespace {

QString qs(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

// The scenario files the tests open: the shipped ones, and this folder's own
// (which fill the arrays and maps no shipped scenario fills).
QStringList scenario_files() {
  QStringList files;
  for (const QString& dir : {source_path("scenarios"), source_path("tests/gui")}) {
    QDirIterator it(dir, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = it.next();
      QFile f(path);
      if (!f.open(QIODevice::ReadOnly)) continue;
      const auto j = nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
      if (j.is_object() && j.value("format", "") == "otasim-scenario/1") files << path;
    }
  }
  files.sort();
  return files;
}

// A table default as the file holds it: strings without their quotes.
QString default_text(const mf::Field& f) {
  const auto j = nlohmann::json::parse(f.default_json, nullptr, false);
  if (j.is_string()) return QString::fromStdString(j.get<std::string>());
  return qs(f.default_json);
}

bool is_leaf(const mf::Field& f) { return !f.is_container() && f.type != mf::Type::Const; }

// Whether `editor` is a row of the "All fields" part (not a curated row).
bool generated(const QWidget* editor) {
  for (const QObject* o = editor; o; o = o->parent())
    if (o->objectName().startsWith(QLatin1String("all_fields:"))) return true;
  return false;
}

// What is wrong with the editor of `pointer` against its table entry `f` ("" when nothing).
QString check_editor(MainWindow& w, const std::string& pointer, const mf::Field& f) {
  const QString p = QString::fromStdString(pointer);
  QWidget* editor = w.form()->field(pointer);
  if (!editor) return p + ": no editor";
  if (editor->objectName() != p) return p + ": objectName " + editor->objectName();
  if (w.form()->findChild<QWidget*>(p) != editor) return p + ": another widget has its objectName";
  // An editor showing an error shows the message as its tooltip; its own comes back when it clears.
  const QString tip = w.form()->field_error(pointer).isEmpty() ? editor->toolTip()
                                                               : editor->property("ota_tip").toString();
  QStringList want = {p.toHtmlEscaped(), qs(f.description).toHtmlEscaped(), qs(f.source).toHtmlEscaped()};
  const std::string range = f.range_text();
  if (!range.empty() && f.choices.empty()) want << QString::fromStdString(range).toHtmlEscaped();
  if (range.empty() && !f.unit.empty()) want << qs(f.unit).toHtmlEscaped();
  QString shown_default;
  if (!f.default_json.empty()) shown_default = default_text(f);
  else if (!f.default_note.empty()) shown_default = qs(f.default_note);
  if (!shown_default.isEmpty()) want << shown_default.toHtmlEscaped();
  for (const QString& s : want)
    if (!tip.contains(s)) return p + ": tooltip lacks \"" + s + "\": " + tip;

  const bool choices = f.type == mf::Type::Boolean || !f.choices.empty();
  if (choices) {
    auto* combo = qobject_cast<QComboBox*>(editor);
    if (!combo) return p + ": choices but no combo box";
    QStringList table;
    if (f.type == mf::Type::Boolean) table = {QStringLiteral("false"), QStringLiteral("true")};
    else
      for (const std::string_view c : f.choice_list()) table << qs(c);
    QStringList listed;
    for (int i = 1; i < combo->count(); ++i) listed << combo->itemData(i).toString();
    if (listed != table) return p + ": combo lists " + listed.join('|') + ", the table " + table.join('|');
    if (!combo->itemData(0).toString().isEmpty()) return p + ": the first item is not the default (no key)";
    if (!f.default_json.empty()) {
      const QString d = f.type == mf::Type::Boolean ? (shown_default == QLatin1String("true") ? "yes" : "no")
                                                     : shown_default;
      if (!combo->itemText(0).contains(d)) return p + ": first item " + combo->itemText(0) + ", default " + d;
    } else if (f.required && !combo->itemText(0).contains(QLatin1String("required"))) {
      return p + ": first item " + combo->itemText(0) + " for a required field";
    }
    return {};
  }
  auto* edit = qobject_cast<QLineEdit*>(editor);
  if (!edit) return p + ": not a line edit";
  QString placeholder = shown_default;
  if (placeholder.isEmpty() && f.required) placeholder = QStringLiteral("required");
  if (edit->placeholderText() != placeholder)
    return p + ": placeholder \"" + edit->placeholderText() + "\", the table \"" + placeholder + "\"";
  return {};
}

// A value out of `f`'s range, or empty when it has none.
QString out_of_range(const mf::Field& f) {
  if (f.type != mf::Type::Number && f.type != mf::Type::Integer) return {};
  if (std::isfinite(f.hi) && f.hi >= 0 && f.hi < 1e15) return QString::number(f.hi * 2 + 1, 'g', 15);
  if (std::isfinite(f.lo) && f.lo > -1e15) return QString::number(f.lo - 1, 'g', 15);
  return {};
}

// Whether the object holding the field at `pointer` is absent from the document.
bool parent_absent(const ScenarioDocument& doc, const std::string& pointer) {
  return !doc.value_text(pointer.substr(0, pointer.rfind('/')));
}

// Opens the "All fields" section holding `editor` with a click on its header.
void expand_section_of(MainWindow& w, QWidget* editor) {
  for (QObject* o = editor; o; o = o->parent()) {
    if (!o->objectName().startsWith(QLatin1String("all_fields:"))) continue;
    const QString key = o->objectName().mid(QStringLiteral("all_fields:").size());
    auto* toggle = w.form()->findChild<QToolButton*>("all_fields_toggle:" + key);
    QVERIFY(toggle);
    if (!toggle->isChecked()) QTest::mouseClick(toggle, Qt::LeftButton);
    QVERIFY(toggle->isChecked());
    QTRY_VERIFY(editor->isVisible());
    return;
  }
}

}  // namespace

class FieldsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { std::setlocale(LC_NUMERIC, "C"); }

  // Every leaf field of the table has an editor in the form of some scenario:
  // its objectName the concrete pointer, its placeholder and tooltip the
  // table's default, range and description, a combo for choices listing
  // exactly the table's. Every row the table instantiates for a scenario has
  // its editor too. Fails with the list of fields that have none.
  void every_table_field_has_an_editor() {
    const QStringList files = scenario_files();
    QVERIFY(files.size() >= 20);
    std::map<const mf::Field*, std::string> covered;  // entry -> where
    QStringList problems;
    MainWindow w;
    w.show();
    for (const QString& path : files) {
      QCOMPARE(w.open_file(path), QString());
      const std::string file = QDir(source_path({})).relativeFilePath(path).toStdString();
      // What the table instantiates for this document is all in the form.
      for (const FieldRow& row : ota::gui::instantiate_fields(mf::all(), w.document()))
        if (!w.form()->field(row.pointer)) problems << QString::fromStdString(file + ": no editor for " + row.pointer);
      for (const std::string& pointer : w.form()->pointers()) {
        const mf::Field* f = mf::find(pointer);
        if (!f || !is_leaf(*f)) continue;
        if (const QString bad = check_editor(w, pointer, *f); !bad.isEmpty()) problems << qs(file) + ": " + bad;
        covered.emplace(f, file + " " + pointer);
      }
    }
    QStringList missing;
    std::size_t leaves = 0;
    for (const mf::Field& f : mf::all()) {
      if (!is_leaf(f)) continue;
      ++leaves;
      if (!covered.count(&f)) missing << qs(f.path);
    }
    qInfo("%zu leaf fields in the table, %zu with an editor, in %lld scenario files", leaves, covered.size(),
          static_cast<long long>(files.size()));
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join('\n')));
    QVERIFY2(missing.isEmpty(), qPrintable("fields of the table with no editor in any scenario's form (add one to "
                                           "tests/gui/all-fields.json if no shipped scenario holds its parent):\n" +
                                           missing.join('\n')));
  }

  // instantiate_fields over a table of every kind of container: objects shown
  // present or not, arrays and maps per element present, an exact key before
  // "*", keys escaped, constants and empty arrays giving no rows.
  void instantiate_follows_the_document() {
    static const mf::Field table[] = {
        {.path = "", .type = mf::Type::Object},
        {.path = "/format", .type = mf::Type::Const, .default_json = "\"x/1\""},
        {.path = "/a", .type = mf::Type::Number},
        {.path = "/o", .type = mf::Type::Object},
        {.path = "/o/x", .type = mf::Type::Integer},
        {.path = "/o/deep", .type = mf::Type::Object},
        {.path = "/o/deep/y", .type = mf::Type::Boolean},
        {.path = "/arr", .type = mf::Type::Array},
        {.path = "/arr/*", .type = mf::Type::Object},
        {.path = "/arr/*/v", .type = mf::Type::Number},
        {.path = "/arr/*/sub", .type = mf::Type::Object},
        {.path = "/arr/*/sub/w", .type = mf::Type::Choice, .choices = "p|q"},
        {.path = "/m", .type = mf::Type::Map},
        {.path = "/m/default", .type = mf::Type::Object},
        {.path = "/m/default/p", .type = mf::Type::Number},
        {.path = "/m/*", .type = mf::Type::Object},
        {.path = "/m/*/p", .type = mf::Type::Number},
        {.path = "/names", .type = mf::Type::Array},
        {.path = "/names/*", .type = mf::Type::Name},
        {.path = "/empty", .type = mf::Type::Array},
        {.path = "/empty/*", .type = mf::Type::Number},
        {.path = "/absent_map", .type = mf::Type::Map},
        {.path = "/absent_map/*", .type = mf::Type::Number},
    };
    ScenarioDocument doc;
    doc.set_text(R"({"arr": [{"v": 1}, {}], "m": {"x/y": {}, "default": {}, "_comment": "z", "k~": {"p": 2}},
                    "names": ["a", "b"], "empty": []})", ".");
    std::vector<std::string> got;
    for (const FieldRow& r : ota::gui::instantiate_fields(table, doc)) {
      got.push_back(r.pointer);
      QVERIFY(r.field);
    }
    const std::vector<std::string> want = {"/a",           "/o/x",       "/o/deep/y",    "/arr/0/v", "/arr/0/sub/w",
                                           "/arr/1/v",     "/arr/1/sub/w", "/m/default/p", "/m/x~1y/p", "/m/k~0/p",
                                           "/names/0",     "/names/1"};
    QCOMPARE(got, want);
    // Each row's entry is the table's for that path (the exact key before "*").
    const auto rows = ota::gui::instantiate_fields(table, doc);
    QCOMPARE(rows[7].field->path, std::string_view("/m/default/p"));
    QCOMPARE(rows[8].field->path, std::string_view("/m/*/p"));
    // Not well-formed: no rows.
    doc.set_text("{", ".");
    QVERIFY(ota::gui::instantiate_fields(table, doc).empty());
  }

  // Setting a field whose objects are absent creates them (in an array
  // element too), as `otasim --param` does; the loader then reads the value.
  void set_value_creates_missing_objects() {
    QFile f(source_path("scenarios/default.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    ScenarioDocument doc;
    doc.set_text(f.readAll().toStdString(), source_path("scenarios").toStdString());
    QVERIFY(!doc.value_text("/delivery"));
    QCOMPARE(doc.set_value("/delivery/push/connected_share", "0.5"), std::string());
    QCOMPARE(doc.value_text("/delivery/push/connected_share"), std::optional<std::string>("0.5"));
    QVERIFY(!doc.value_text("/rollout/stages/1/gate"));
    QCOMPARE(doc.set_value("/rollout/stages/1/gate/sprt/alpha", "0.02"), std::string());
    QCOMPARE(doc.value_text("/rollout/stages/1/gate/sprt/alpha"), std::optional<std::string>("0.02"));
    QCOMPARE(doc.value_text("/rollout/stages/1/percent"), std::optional<std::string>("5"));
    const auto loaded = doc.validate();
    QVERIFY2(loaded.scenario, loaded.errors.empty() ? "" : loaded.errors[0].message.c_str());
    // Never an array element.
    QVERIFY(!doc.set_value("/rollout/stages/9/soak_h", "1").empty());
    QCOMPARE(doc.array_size("/rollout/stages"), std::size_t(4));
  }

  // A generated row edits as a curated one: its section opens with a click,
  // typing sets the document, one undo step per field, Ctrl+Z restores the file.
  void generated_rows_edit_and_undo() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    const std::string original = w.document().text();
    // The first generated row that takes free text.
    std::string pointer;
    for (const std::string& p : w.form()->pointers()) {
      const mf::Field* f = mf::find(p);
      if (f && (f->type == mf::Type::String || f->type == mf::Type::Name) && generated(w.form()->field(p))) {
        pointer = p;
        break;
      }
    }
    if (pointer.empty()) QSKIP("no generated text row in the table yet");
    QWidget* editor = w.form()->field(pointer);
    QVERIFY(!editor->isVisible());  // sections start closed
    expand_section_of(w, editor);
    if (QTest::currentTestFailed()) return;
    type_into(w, pointer, QStringLiteral("what if"));
    QCOMPARE(w.document().value_text(pointer), std::optional<std::string>("what if"));
    QCOMPARE(w.undo_stack()->count(), 1);
    QVERIFY(w.isWindowModified());
    QVERIFY2(w.undo_action()->text().contains(QString::fromStdString(pointer)), qPrintable(w.undo_action()->text()));
    // OTA_FORM_SHOT=FILE.png: the form with every section open, for people (not checked).
    if (const QString shot = qEnvironmentVariable("OTA_FORM_SHOT"); !shot.isEmpty()) {
      for (QToolButton* t : w.form()->findChildren<QToolButton*>())
        if (t->objectName().startsWith(QLatin1String("all_fields_toggle:")) && !t->isChecked()) t->click();
      auto* scroll = w.form()->findChild<QScrollArea*>();
      scroll->widget()->adjustSize();
      QVERIFY(scroll->widget()->grab().save(shot));
    }
    QTest::mouseClick(w.totals()->viewport(), Qt::LeftButton);
    QTest::keyClick(&w, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(w.document().text(), original);
    QVERIFY(!w.isWindowModified());
    // The section stays open across the rebuilds.
    QVERIFY(w.form()->field(pointer)->isVisible());
  }

  // An out-of-range value typed into a generated row (preferably one whose
  // object is absent, which the edit creates): the loader's message, naming
  // the path, at the field and in the error list.
  void generated_row_out_of_range_shows_loader_message() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    std::string pointer;
    QString value;
    QString file;
    for (const QString& path : scenario_files()) {
      QCOMPARE(w.open_file(path), QString());
      if (!w.scenario_valid()) continue;
      for (const std::string& p : w.form()->pointers()) {
        const mf::Field* f = mf::find(p);
        if (!f || !generated(w.form()->field(p)) || out_of_range(*f).isEmpty()) continue;
        if (pointer.empty() || (!parent_absent(w.document(), pointer) && parent_absent(w.document(), p))) {
          pointer = p;
          value = out_of_range(*f);
        }
      }
      if (!pointer.empty()) {
        file = path;
        break;
      }
    }
    if (pointer.empty()) QSKIP("no generated numeric row in the table yet");
    const std::string original = w.document().text();
    const bool absent = parent_absent(w.document(), pointer);
    expand_section_of(w, w.form()->field(pointer));
    if (QTest::currentTestFailed()) return;
    type_into(w, pointer, value);
    QCOMPARE(w.document().value_text(pointer), std::optional<std::string>(value.toStdString()));
    if (absent) QVERIFY(!parent_absent(w.document(), pointer));
    QVERIFY(!w.scenario_valid());
    QVERIFY(!w.run_action()->isEnabled());

    const ota::models::LoadResult expected = ota::models::parse_scenario_with_overrides(
        original, {{pointer, value.toStdString()}}, QFileInfo(file).absolutePath().toStdString());
    QString message;
    for (const auto& e : expected.errors)
      if (e.path == pointer) message = QString::fromStdString(e.message);
    QVERIFY2(!message.isEmpty(), pointer.c_str());
    QVERIFY2(w.form()->field_error(pointer).contains(message), qPrintable(w.form()->field_error(pointer)));
    QCOMPARE(w.form()->field(pointer)->toolTip(), w.form()->field_error(pointer));
    bool listed = false;
    for (int i = 0; i < w.error_list()->count(); ++i)
      listed = listed || w.error_list()->item(i)->text().startsWith(QString::fromStdString(pointer) + ": ");
    QVERIFY2(listed, pointer.c_str());
  }
};

OTA_GUI_TEST(FieldsTest);

#include "test_fields.moc"
