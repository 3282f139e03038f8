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
  parser.addOption(shot_option);
  parser.addOption(baseline_option);
  parser.addPositionalArgument(QStringLiteral("scenario"), QStringLiteral("Scenario JSON file to open."),
                               QStringLiteral("[SCENARIO.json]"));
  parser.process(app);
  const QStringList files = parser.positionalArguments();
  if (files.size() > 1) {
    std::fprintf(stderr, "otasim-gui: one scenario file at most, not %lld\n", static_cast<long long>(files.size()));
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
