// Widget tests of the sweep panel, under the offscreen platform: the panel is
// driven as a user would (typing values, clicking Run and Cancel) and what it
// computes and draws is checked against `otasim sweep` with the same arguments.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QtCharts>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <clocale>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/sweep_panel.hpp"

using ota::gui::RunEnd;
using ota::gui::SweepPanel;

using namespace ota::gui::testing;

namespace {

constexpr int kSweepTimeoutMs = 300'000;
constexpr const char* kField = "/polling/interval_min";


QByteArray read_all(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

// A panel over scenarios/default.json, shown at a fixed size.
std::unique_ptr<SweepPanel> default_panel() {
  auto panel = std::make_unique<SweepPanel>();
  const QString path = source_path("scenarios/default.json");
  panel->set_scenario(read_all(path).toStdString(), QFileInfo(path).absolutePath().toStdString(), "default");
  panel->resize(900, 700);
  panel->show();
  return panel;
}

// Replaces what the line holds by `text`, typed.
void type_into(QLineEdit* edit, const QString& text) {
  edit->setFocus();
  edit->selectAll();
  QTest::keyClicks(edit, text);
  QCOMPARE(edit->text(), text);
}

void type_into(QSpinBox* box, int value) {
  box->setFocus();
  box->selectAll();
  QTest::keyClicks(box, QString::number(value));
  QTest::keyClick(box, Qt::Key_Tab);
  QCOMPARE(box->value(), value);
}

// Fills the panel's inputs as a user does.
void fill(SweepPanel& panel, const QString& values, int replications, int devices, int threads) {
  panel.set_parameter(kField);
  QCOMPARE(panel.pointer_field()->text(), QString(kField));
  type_into(panel.values_field(), values);
  type_into(panel.replications_box(), replications);
  type_into(panel.devices_box(), devices);
  type_into(panel.threads_box(), threads);
}

// Clicks Run and waits for the sweep's end; returns how it ended.
RunEnd click_run_and_wait(SweepPanel& panel) {
  QSignalSpy spy(&panel, &SweepPanel::finished);
  QTest::mouseClick(panel.run_button(), Qt::LeftButton);
  if (!panel.running()) {
    qWarning("the sweep did not start: %s", qPrintable(panel.input_error()));
    return RunEnd::Failed;
  }
  if (!spy.wait(kSweepTimeoutMs) && spy.isEmpty()) return RunEnd::Failed;
  return spy.takeFirst().at(0).value<RunEnd>();
}

// The CSV as rows of named cells.
std::vector<std::map<std::string, std::string>> parse_csv(const std::string& csv) {
  std::vector<std::map<std::string, std::string>> rows;
  const QStringList lines = QString::fromStdString(csv).split('\n', Qt::SkipEmptyParts);
  if (lines.isEmpty()) return rows;
  const QStringList head = lines.front().split(',');
  for (qsizetype i = 1; i < lines.size(); ++i) {
    const QStringList cells = lines[i].split(',');
    std::map<std::string, std::string> row;
    for (qsizetype c = 0; c < head.size() && c < cells.size(); ++c) row[head[c].toStdString()] = cells[c].toStdString();
    rows.push_back(row);
  }
  return rows;
}

double number(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

// The chart's mean line and its I-beams, checked against the CSV's numbers
// for `metric`: one mean point per value at (value, mean), one bar per value
// spanning exactly [ci_low, ci_high].
void chart_matches_csv(SweepPanel& panel, const std::string& csv, const std::string& metric) {
  panel.set_metric(QString::fromStdString(metric));
  QCOMPARE(panel.metric(), QString::fromStdString(metric));
  QLineSeries* mean = nullptr;
  std::vector<QLineSeries*> bars;
  for (QAbstractSeries* s : panel.chart()->series()) {
    auto* line = qobject_cast<QLineSeries*>(s);
    QVERIFY(line);
    if (line->objectName() == QLatin1String("ci"))
      bars.push_back(line);
    else
      mean = line;
  }
  QVERIFY(mean);
  const auto rows = parse_csv(csv);
  QCOMPARE(static_cast<std::size_t>(mean->count()), rows.size());
  std::size_t with_width = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double x = number(rows[i].at(kField));
    const double m = number(rows[i].at(metric + "_mean"));
    const double lo = number(rows[i].at(metric + "_ci_low"));
    const double hi = number(rows[i].at(metric + "_ci_high"));
    const QPointF at = mean->at(static_cast<int>(i));
    QVERIFY2(at.x() == x && at.y() == m, qPrintable(QStringLiteral("mean %1 at %2, CSV %3").arg(at.y()).arg(x).arg(m)));
    if (!(hi > lo)) continue;
    ++with_width;
    // The bar at this value: its lowest and highest points are the interval.
    const auto bar = std::find_if(bars.begin(), bars.end(), [&](QLineSeries* b) { return b->at(2).x() == x; });
    QVERIFY2(bar != bars.end(), qPrintable(QStringLiteral("no interval bar at %1").arg(x)));
    double bar_lo = INFINITY, bar_hi = -INFINITY;
    for (const QPointF& p : (*bar)->points()) {
      bar_lo = std::min(bar_lo, p.y());
      bar_hi = std::max(bar_hi, p.y());
    }
    QVERIFY(bar_lo == lo);  // exactly: QCOMPARE on doubles would be fuzzy
    QVERIFY(bar_hi == hi);
  }
  QCOMPARE(bars.size(), with_width);
  // And plotted() reports the same numbers.
  const auto plotted = panel.plotted();
  QCOMPARE(plotted.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    QVERIFY(plotted[i].mean == number(rows[i].at(metric + "_mean")));
    QVERIFY(plotted[i].ci_low == number(rows[i].at(metric + "_ci_low")));
    QVERIFY(plotted[i].ci_high == number(rows[i].at(metric + "_ci_high")));
  }
}

}  // namespace

class SweepTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    std::setlocale(LC_NUMERIC, "C");
    qRegisterMetaType<ota::gui::RunEnd>("ota::gui::RunEnd");
  }

  // The panel's CSV is otasim sweep's, byte for byte, and the chart draws its numbers.
  void gui_sweep_matches_cli() {
    auto panel = default_panel();
    fill(*panel, "30,60,120", 3, 2000, 1);
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    QVERIFY(panel->result());
    QCOMPARE(panel->progress_bar()->value(), panel->progress_bar()->maximum());
    const std::string gui_csv = panel->csv();
    QVERIFY(!gui_csv.empty());

    QTemporaryDir dir;
    const QString out = dir.filePath("sweep.csv");
    QProcess cli;
    cli.start(binary("otasim"), {"sweep", source_path("scenarios/default.json"), "--param",
                                 QString(kField) + "=30,60,120", "--replications", "3", "--devices", "2000",
                                 "--threads", "1", "--out", out});
    QVERIFY(cli.waitForFinished(kSweepTimeoutMs));
    QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
    const QByteArray cli_csv = read_all(out);
    QVERIFY(!cli_csv.isEmpty());
    QCOMPARE(QByteArray::fromStdString(gui_csv), cli_csv);

    // The swept field changes the metric shown (not a flat line of one point).
    const auto rows = parse_csv(gui_csv);
    QCOMPARE(rows.size(), std::size_t{3});
    QVERIFY(rows[0].at("time_to_95pct_h_mean") != rows[2].at("time_to_95pct_h_mean"));
    chart_matches_csv(*panel, gui_csv, "time_to_95pct_h");
    chart_matches_csv(*panel, gui_csv, "total_cost_usd");
    // A metric outside the CSV's defaults is kept too: shown without running again.
    QVERIFY(gui_csv.find("time_to_50pct_h") == std::string::npos);
    panel->set_metric("time_to_50pct_h");
    QCOMPARE(panel->metric(), QStringLiteral("time_to_50pct_h"));
    const auto plotted = panel->plotted();
    QCOMPARE(plotted.size(), std::size_t{3});
    for (std::size_t p = 0; p < plotted.size(); ++p) {
      const ota::models::MetricSummary* s = panel->result()->summary(p, "time_to_50pct_h");
      QVERIFY(s);
      QVERIFY(plotted[p].mean == s->mean);
      QVERIFY(plotted[p].ci_high == s->ci_high);
    }
    QVERIFY(plotted[0].mean < plotted[2].mean);  // slower polls, slower rollout
  }

  // Ranges expand as documented; bad input is named under its field and nothing runs.
  void sweep_range_syntax_and_bad_values() {
    auto panel = default_panel();
    fill(*panel, "30..90 step 30", 1, 500, 1);
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    QCOMPARE(panel->result()->param.values, (std::vector<std::string>{"30", "60", "90"}));
    type_into(panel->values_field(), "30..120 n=4");
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    QCOMPARE(panel->result()->param.values, (std::vector<std::string>{"30", "60", "90", "120"}));
    type_into(panel->values_field(), "0.5..1.5 step 0.25");
    const std::string before = panel->csv();

    const struct {
      const char* values;
      const char* expected;  // a piece of the message under the values field
    } bad[] = {
        {"", "no values"},
        {"30,,60", "empty value"},
        {"30..90", "no step or count"},
        {"30..90 step 0", "step '0' is not a positive number"},
        {"30..90 step -5", "is not a positive number"},
        {"x..90 step 10", "'x' is not a number"},
        {"30..90 n=1", "count '1'"},
        {"30..90 every 10", "neither 'step S' nor 'n=N'"},
        {"1..100000 step 1", "more than 1000 values"},
    };
    QSignalSpy started(panel.get(), &SweepPanel::started);
    for (const auto& b : bad) {
      panel->values_field()->clear();
      if (*b.values) type_into(panel->values_field(), b.values);
      QTest::mouseClick(panel->run_button(), Qt::LeftButton);
      QVERIFY2(!panel->running(), b.values);
      QVERIFY2(panel->values_error_label()->isVisible(), b.values);
      QVERIFY2(panel->values_error_label()->text().contains(b.expected),
               qPrintable(QStringLiteral("%1: %2").arg(b.values, panel->values_error_label()->text())));
      QCOMPARE(panel->input_error(), panel->values_error_label()->text());
      // Typing again clears the message.
      QTest::keyClicks(panel->values_field(), "0");
      QVERIFY(!panel->values_error_label()->isVisible());
    }
    QCOMPARE(started.count(), 0);
    QCOMPARE(panel->csv(), before);

    // A field that is not a JSON Pointer.
    type_into(panel->values_field(), "30,60");
    type_into(panel->pointer_field(), "polling/interval_min");
    QTest::mouseClick(panel->run_button(), Qt::LeftButton);
    QVERIFY(!panel->running());
    QVERIFY(panel->input_error().contains("JSON Pointer"));
    QCOMPARE(started.count(), 0);

    // Values the scenario refuses: every point is loaded first, the bad one is
    // named, nothing runs and the last result stays.
    type_into(panel->pointer_field(), "/fleet/devices");
    type_into(panel->values_field(), "100,0");
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Failed);
    QVERIFY2(panel->input_error().contains("grid point 1 (/fleet/devices=0)"), qPrintable(panel->input_error()));
    QVERIFY(panel->values_error_label()->isVisible());
    QCOMPARE(panel->csv(), before);
    QCOMPARE(panel->progress_bar()->value(), 0);
  }

  // Cancel stops a long sweep within about a second, keeps the previous
  // result, and the panel runs again.
  void sweep_cancel_stops_promptly_and_keeps_previous() {
    auto panel = default_panel();
    fill(*panel, "30,60", 1, 500, 1);
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    const std::string before = panel->csv();
    const auto before_plot = panel->plotted();

    // 3 values x 40 replications of the full 100,000-device fleet: minutes.
    type_into(panel->values_field(), "30,60,120");
    type_into(panel->replications_box(), 40);
    panel->devices_box()->setValue(0);
    QSignalSpy progress(panel.get(), &SweepPanel::progress);
    QSignalSpy finished(panel.get(), &SweepPanel::finished);
    QTest::mouseClick(panel->run_button(), Qt::LeftButton);
    QVERIFY(panel->running());
    QVERIFY(!panel->run_button()->isEnabled());
    QVERIFY(panel->cancel_button()->isEnabled());
    // Wait until runs are under way (a progress past the start).
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(progress.begin(), progress.end(),
                                         [](const QList<QVariant>& a) { return a.at(0).toDouble() > 0; }),
                             60'000);
    QVERIFY(finished.isEmpty());
    const auto t0 = std::chrono::steady_clock::now();
    QTest::mouseClick(panel->cancel_button(), Qt::LeftButton);
    QVERIFY(finished.wait(10'000) || !finished.isEmpty());
    const double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("cancel took %.3f s", stop_s);
    QVERIFY2(stop_s < 1.5, qPrintable(QStringLiteral("cancel took %1 s").arg(stop_s)));
    QCOMPARE(finished.takeFirst().at(0).value<RunEnd>(), RunEnd::Cancelled);
    QVERIFY(!panel->running());
    QCOMPARE(panel->csv(), before);
    QCOMPARE(panel->plotted().size(), before_plot.size());
    QCOMPARE(panel->result()->param.values, (std::vector<std::string>{"30", "60"}));
    QVERIFY(panel->run_button()->isEnabled());

    // And again, to the end.
    type_into(panel->replications_box(), 2);
    type_into(panel->devices_box(), 500);
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    QCOMPARE(panel->result()->param.values, (std::vector<std::string>{"30", "60", "120"}));
    QCOMPARE(panel->result()->replications, std::size_t{2});
  }

  // A panel destroyed while sweeping cancels and joins its worker, promptly.
  void sweep_destroy_while_running_joins() {
    auto panel = default_panel();
    fill(*panel, "30,60,120", 40, 100000, 1);
    QSignalSpy progress(panel.get(), &SweepPanel::progress);
    QTest::mouseClick(panel->run_button(), Qt::LeftButton);
    QVERIFY(panel->running());
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(progress.begin(), progress.end(),
                                         [](const QList<QVariant>& a) { return a.at(0).toDouble() > 0; }),
                             60'000);
    const auto t0 = std::chrono::steady_clock::now();
    panel.reset();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("destroying a running panel took %.3f s", s);
    QVERIFY(s < 1.5);
    // Posts the worker made before it stopped are dropped with the panel.
    QCoreApplication::processEvents();
    QTest::qWait(50);
  }

  // PNG at twice the chart's size, an SVG that parses, and the sweep CSV;
  // nothing exported before a sweep, no temporary files left.
  void sweep_export_png_svg_csv() {
    auto panel = default_panel();
    QTemporaryDir dir;
    QVERIFY(!panel->export_csv(dir.filePath("none.csv")).isEmpty());
    QVERIFY(!QFile::exists(dir.filePath("none.csv")));
    fill(*panel, "30,60,120", 2, 500, 1);
    QCOMPARE(click_run_and_wait(*panel), RunEnd::Completed);
    panel->set_metric("time_to_95pct_h");  // a metric with visible intervals
    const QString png = dir.filePath("sweep.png"), svg = dir.filePath("sweep.svg"), csv = dir.filePath("sweep.csv");
    QCOMPARE(panel->export_png(png), QString());
    QCOMPARE(panel->export_svg(svg), QString());
    QCOMPARE(panel->export_csv(csv), QString());
    const QImage image(png);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), panel->chart_view()->size() * 2);
    // Not blank: the mean line's colour is somewhere in the picture.
    bool drawn = false;
    for (int y = 0; y < image.height() && !drawn; y += 2)
      for (int x = 0; x < image.width() && !drawn; x += 2) drawn = image.pixelColor(x, y) == QColor(0x3b74c4);
    QVERIFY(drawn);
    QSvgRenderer renderer(svg);
    QVERIFY(renderer.isValid());
    QVERIFY(read_all(svg).contains("<svg"));
    QCOMPARE(read_all(csv), QByteArray::fromStdString(panel->csv()));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 3);
  }
};

OTA_GUI_TEST(SweepTest);

#include "test_sweep.moc"
