// gui_test_util.hpp — what every planner widget test needs: the source and
// binary folders (from the environment ctest sets), the form's fields, typing
// into one as a user does, and a run to its end.
#pragma once

#include <QLineEdit>
#include <QSignalSpy>
#include <QString>
#include <QtTest>

#include <string>

#include "ota/gui/main_window.hpp"
#include "ota/gui/scenario_form.hpp"

namespace ota::gui::testing {

inline constexpr int kRunTimeoutMs = 300'000;

inline QString source_path(const QString& relative) {
  return qEnvironmentVariable("OTA_SOURCE_DIR", QStringLiteral(".")) + "/" + relative;
}
inline QString binary(const QString& name) {
  return qEnvironmentVariable("OTA_BIN_DIR", QStringLiteral(".")) + "/" + name;
}

inline QLineEdit* line_field(MainWindow& w, const std::string& pointer) {
  return qobject_cast<QLineEdit*>(w.form()->field(pointer));
}

// Types `text` into the field bound to `pointer`, replacing what is there, key by key.
inline void type_into(MainWindow& w, const std::string& pointer, const QString& text) {
  QLineEdit* edit = line_field(w, pointer);
  QVERIFY2(edit, pointer.c_str());
  edit->setFocus();
  edit->selectAll();
  QTest::keyClicks(edit, text);
  QCOMPARE(edit->text(), text);
}

// Starts a run and waits for its end; returns how it ended.
inline RunEnd run_to_end(MainWindow& w) {
  QSignalSpy spy(&w, &MainWindow::run_finished);
  if (!w.start_run()) {
    qWarning("start_run refused: %s", qPrintable(w.status_text()));
    return RunEnd::Failed;
  }
  if (!spy.wait(kRunTimeoutMs) && spy.isEmpty()) return RunEnd::Failed;
  return spy.takeFirst().at(0).value<RunEnd>();
}

}  // namespace ota::gui::testing
