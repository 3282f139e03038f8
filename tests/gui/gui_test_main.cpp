// The widget tests' main: `ota_gui_tests FUNCTION [qtest options]` runs the
// one registered class that has FUNCTION (ctest runs one function per entry);
// without a function name every class runs in turn.
#include <QApplication>
#include <QByteArray>
#include <QMetaObject>
#include <QSettings>
#include <QTemporaryDir>
#include <QStringList>
#include <QtTest>

#include <cstdio>

#include "gui_test_registry.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  // Settings (recent files) go to a folder of this process, not the user's
  // (and not another test's running beside it).
  QTemporaryDir settings;
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings.path());
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings.path());
  QTEST_SET_MAIN_SOURCE_PATH
  const QByteArray wanted = argc > 1 && argv[1][0] != '-' ? QByteArray(argv[1]) : QByteArray();
  QStringList args = app.arguments();
  int failures = 0;
  bool found = wanted.isEmpty();
  for (auto& [name, factory] : ota::gui::testing::test_classes()) {
    std::unique_ptr<QObject> test = factory();
    if (!wanted.isEmpty() && test->metaObject()->indexOfMethod(wanted + "()") < 0) continue;
    found = true;
    failures += QTest::qExec(test.get(), args);
  }
  if (!found) {
    std::fprintf(stderr, "ota_gui_tests: no test function '%s' in any test class\n", wanted.constData());
    return 2;
  }
  return failures;
}
