// otasim-gui — the desktop what-if planner.
//
//   otasim-gui [SCENARIO.json]
//   otasim-gui --screenshot OUT.png [--baseline BASE.json] SCENARIO.json
//
// --screenshot runs headless-friendly (QT_QPA_PLATFORM=offscreen): it runs
// BASE (if given) and keeps it as the baseline, runs SCENARIO, saves the
// window to OUT.png and exits 0. A scenario that does not load exits 2 with
// the loader's messages, as `otasim run` does; a failed run exits 1.
#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QCommandLineParser>
#include <QEventLoop>
#include <QFileInfo>
#include <QPixmap>
#include <QSaveFile>
#include <QTimer>

#include <clocale>
#include <cstdio>
#include <string>

#include "ota/version.hpp"
#include "ota/gui/main_window.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace {

using ota::gui::MainWindow;
using ota::gui::RunEnd;

// Checks a scenario file as `otasim run` would before running it: loads,
// validates and prepares the release. Prints the problems and returns false.
bool check_scenario(const QString& path) {
  const ota::models::LoadResult loaded = ota::models::load_scenario_file(path.toStdString());
  if (!loaded.scenario) {
    std::fprintf(stderr, "otasim-gui: %s does not load:\n%s", path.toLocal8Bit().constData(),
                 ota::models::format_errors(loaded.errors).c_str());
    return false;
  }
  try {
    (void)ota::models::prepare_artifacts(*loaded.scenario);
  } catch (const ota::models::ArtifactError& e) {
    std::fprintf(stderr, "otasim-gui: %s: %s\n", path.toLocal8Bit().constData(), e.what());
    return false;
  }
  return true;
}

// Opens `path` in the window and runs it to the end. Returns the exit status
// to use on failure, or 0.
int open_and_run(MainWindow& window, const QString& path) {
  if (const QString err = window.open_file(path); !err.isEmpty()) {
    std::fprintf(stderr, "otasim-gui: %s\n", err.toLocal8Bit().constData());
    return 2;
  }
  QEventLoop loop;
  RunEnd end = RunEnd::Failed;
  auto connection = QObject::connect(&window, &MainWindow::run_finished, &loop, [&](RunEnd e) {
    end = e;
    loop.quit();
  });
  if (!window.start_run()) {
    QObject::disconnect(connection);
    std::fprintf(stderr, "otasim-gui: %s: %s\n", path.toLocal8Bit().constData(),
                 window.status_text().toLocal8Bit().constData());
    return 2;
  }
  loop.exec();
  QObject::disconnect(connection);
  if (end != RunEnd::Completed) {
    std::fprintf(stderr, "otasim-gui: %s: %s\n", path.toLocal8Bit().constData(),
                 window.status_text().toLocal8Bit().constData());
    return 1;
  }
  return 0;
}

int screenshot(MainWindow& window, const QString& out, const QString& baseline, const QString& scenario) {
  for (const QString& path : {baseline, scenario})
    if (!path.isEmpty() && !check_scenario(path)) return 2;
  window.show();
  if (!baseline.isEmpty()) {
    if (const int status = open_and_run(window, baseline)) return status;
    window.keep_as_baseline();
  }
  if (const int status = open_and_run(window, scenario)) return status;
  // Let the layout settle (chart labels are placed on the plot area's final size).
  for (int i = 0; i < 3; ++i) QApplication::processEvents();
  const QPixmap shot = window.grab();
  QSaveFile file(out);
  if (!file.open(QIODevice::WriteOnly) || !shot.save(&file, "PNG") || !file.commit()) {
    std::fprintf(stderr, "otasim-gui: cannot write %s: %s\n", out.toLocal8Bit().constData(),
                 file.errorString().toLocal8Bit().constData());
    return 1;
  }
  std::printf("otasim-gui: wrote %s (%dx%d)\n", out.toLocal8Bit().constData(), shot.width(), shot.height());
  return 0;
}

// A dark palette for the Fusion style (what dark desktop themes give).
QPalette dark_palette() {
  QPalette p;
  const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xee, 0xee, 0xee), disabled(0x80, 0x80, 0x80);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
  p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3a, 0x3a));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, QColor(0x9e, 0x9e, 0x9e));
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, QColor(0xff, 0x6e, 0x6e));
  p.setColor(QPalette::Link, QColor(0x64, 0xb5, 0xf6));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xb5));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Light, QColor(0x4a, 0x4a, 0x4a));
  p.setColor(QPalette::Midlight, QColor(0x40, 0x40, 0x40));
  p.setColor(QPalette::Mid, QColor(0x30, 0x30, 0x30));
  p.setColor(QPalette::Dark, QColor(0x18, 0x18, 0x18));
  p.setColor(QPalette::Shadow, Qt::black);
  for (auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
    p.setColor(QPalette::Disabled, role, disabled);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  // Qt adopts the user's locale for the C library; numbers in files stay C.
  std::setlocale(LC_NUMERIC, "C");
  QApplication::setApplicationName(QStringLiteral("otasim-gui"));
  QApplication::setApplicationDisplayName(QStringLiteral("otasim planner"));
  QApplication::setApplicationVersion(QString::fromUtf8(ota::build_version()));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("otasim desktop what-if planner"));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption shot_option(QStringLiteral("screenshot"),
                                       QStringLiteral("Run headless, save the window to <png> and exit."),
                                       QStringLiteral("png"));
  const QCommandLineOption baseline_option(QStringLiteral("baseline"),
                                           QStringLiteral("With --screenshot: run <scenario> first as the baseline."),
                                           QStringLiteral("scenario"));
  const QCommandLineOption palette_option(
      QStringLiteral("palette"),
      QStringLiteral("system (the default: the desktop's colours), dark or light (Fusion style)."),
      QStringLiteral("palette"), QStringLiteral("system"));
  parser.addOption(shot_option);
  parser.addOption(baseline_option);
  parser.addOption(palette_option);
  parser.addPositionalArgument(QStringLiteral("scenario"), QStringLiteral("Scenario JSON file to open."),
                               QStringLiteral("[SCENARIO.json]"));
  parser.process(app);
  const QStringList files = parser.positionalArguments();
  if (files.size() > 1) {
    std::fprintf(stderr, "otasim-gui: one scenario file at most, not %lld\n", static_cast<long long>(files.size()));
    return 2;
  }

  const QString palette = parser.value(palette_option);
  if (palette == QStringLiteral("dark") || palette == QStringLiteral("light")) {
    QApplication::setStyle(QStringLiteral("Fusion"));
    QApplication::setPalette(palette == QStringLiteral("dark") ? dark_palette() : QApplication::style()->standardPalette());
  } else if (palette != QStringLiteral("system")) {
    std::fprintf(stderr, "otasim-gui: --palette: expected system, dark or light, not '%s'\n",
                 palette.toLocal8Bit().constData());
    return 2;
  }

  MainWindow window;
  if (parser.isSet(shot_option)) {
    if (files.isEmpty()) {
      std::fprintf(stderr, "otasim-gui: --screenshot needs a SCENARIO.json\n");
      return 2;
    }
    return screenshot(window, parser.value(shot_option), parser.value(baseline_option), files.front());
  }
  if (parser.isSet(baseline_option)) {
    std::fprintf(stderr, "otasim-gui: --baseline goes with --screenshot (in the window: Run, then Keep as baseline)\n");
    return 2;
  }
  window.show();
  if (!files.isEmpty()) {
    if (const QString err = window.open_file(files.front()); !err.isEmpty()) {
      std::fprintf(stderr, "otasim-gui: %s\n", err.toLocal8Bit().constData());
      return 2;
    }
  }
  return QApplication::exec();
}
