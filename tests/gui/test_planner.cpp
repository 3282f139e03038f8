// Widget tests of the desktop planner, under the offscreen platform: the
// window is driven as a user would (typing in fields, clicking actions) and
// what it shows is checked against the model and the CLI.
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTimer>
#include <QtCharts>
#include <QtTest>

#include <clocale>
#include <cmath>
#include <set>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/chart_data.hpp"
#include "ota/gui/chart_panel.hpp"
#include "ota/gui/compare_table.hpp"
#include "ota/gui/main_window.hpp"
#include "ota/gui/scenario_document.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

using ota::gui::ChartPanel;
using ota::gui::CompareTable;
using ota::gui::MainWindow;
using ota::gui::RunEnd;
using namespace ota::gui::testing;

namespace {

// Picks the combo entry whose value is `value`, as a user's click does.
void choose(MainWindow& w, const std::string& pointer, const QString& value) {
  auto* combo = qobject_cast<QComboBox*>(w.form()->field(pointer));
  QVERIFY2(combo, pointer.c_str());
  const int index = combo->findData(value);
  QVERIFY(index >= 0);
  combo->setCurrentIndex(index);
  emit combo->activated(index);
}


std::size_t point_count(QAbstractSeries* series) {
  if (auto* area = qobject_cast<QAreaSeries*>(series)) return static_cast<std::size_t>(area->upperSeries()->count());
  if (auto* xy = qobject_cast<QXYSeries*>(series)) return static_cast<std::size_t>(xy->count());
  return 0;
}

bool same_number(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b;
}

// Every metric in the table's current column equals the model's report
// (and, with `text`, is formatted as the table formats it).
void table_matches(CompareTable* table, const ota::models::RunReport& expected, bool text) {
  for (const ota::models::MetricInfo& m : ota::models::metrics()) {
    const int row = table->row_of(m.name);
    QVERIFY2(row >= 0, m.name.c_str());
    const double shown = table->value(row, CompareTable::kCurrent);
    const double want = *ota::models::metric_value(expected, m.name);
    QVERIFY2(same_number(shown, want), qPrintable(QStringLiteral("%1: table %2, model %3")
                                                      .arg(QString::fromStdString(m.name))
                                                      .arg(shown)
                                                      .arg(want)));
    if (text) QCOMPARE(table->item(row, CompareTable::kCurrent)->text(), CompareTable::format(m.name, want));
  }
}

}  // namespace

class PlannerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    std::setlocale(LC_NUMERIC, "C");
    qRegisterMetaType<ota::gui::RunEnd>("ota::gui::RunEnd");
  }

  // Load, run, every chart drawn, and the totals are the CLI's for the same seed.
  void load_run_and_match_cli() {
    const QString path = source_path("scenarios/cellular-cost-full.json");
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(path), QString());
    QVERIFY(w.scenario_valid());
    type_into(w, "/seed", "7");
    QVERIFY(w.scenario_valid());
    QVERIFY(w.document().text().find("\"seed\": 7") != std::string::npos);
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.run_action()->isEnabled());
    QCOMPARE(w.progress_bar()->value(), 1000);

    // Every chart has series, and every series has points.
    QCOMPARE(w.charts().size(), ota::gui::kChartCount);
    for (ChartPanel* panel : w.charts()) {
      const QList<QAbstractSeries*> series = panel->chart()->series();
      QVERIFY2(!series.isEmpty(), panel->data().id.c_str());
      for (QAbstractSeries* s : series)
        QVERIFY2(point_count(s) > 0, qPrintable(QString::fromStdString(panel->data().id) + ": " + s->name()));
      QVERIFY(!panel->legend()->text().isEmpty());
    }

    // The same run made directly with the model, same seed.
    const ota::models::LoadResult loaded = ota::models::load_scenario_file(path.toStdString());
    QVERIFY(loaded.scenario);
    const ota::models::ReleaseArtifacts artifacts = ota::models::prepare_artifacts(*loaded.scenario);
    ota::models::RunOptions options;
    options.seed = 7;
    const ota::models::RunReport expected = ota::models::run_scenario(*loaded.scenario, artifacts, options);
    CompareTable* table = w.totals();
    table_matches(table, expected, true);
    if (QTest::currentTestFailed()) return;

    // And the CLI itself: `otasim run --seed 7 --json`.
    QTemporaryDir out;
    QProcess cli;
    cli.start(binary("otasim"), {"run", path, "--seed", "7", "--json", "--out", out.path()});
    QVERIFY(cli.waitForFinished(kRunTimeoutMs));
    QCOMPARE(cli.exitCode(), 0);
    const QJsonObject report = QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
    const QJsonObject totals = report.value("totals").toObject();
    QVERIFY(!totals.isEmpty());
    for (const char* name : {"updated", "failed", "rolled_back", "bricked", "data_bytes", "server_requests",
                             "data_cost_usd", "server_egress_cost_usd", "energy_j"}) {
      const double shown = table->value(table->row_of(name), CompareTable::kCurrent);
      const double cli_value = totals.value(name).toDouble();
      QVERIFY2(std::fabs(shown - cli_value) <= 1e-9 * std::max(1.0, std::fabs(cli_value)),
               qPrintable(QStringLiteral("%1: table %2, CLI %3").arg(name).arg(shown).arg(cli_value)));
    }
    const double t90_h = table->value(table->row_of("time_to_90pct_h"), CompareTable::kCurrent);
    QVERIFY(std::fabs(t90_h * 3600 - totals.value("time_to_90pct_s").toDouble()) < 1e-6);
  }

  void json_view_and_form_stay_in_sync() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    // At the default window size the form fits its panel: nothing clipped at the right.
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* scroll = w.form()->findChild<QScrollArea*>();
    QVERIFY(scroll);
    QTRY_VERIFY2(scroll->widget()->minimumSizeHint().width() <= scroll->viewport()->width(),
                 qPrintable(QStringLiteral("form needs %1 px, has %2")
                                .arg(scroll->widget()->minimumSizeHint().width())
                                .arg(scroll->viewport()->width())));
    // Form -> JSON.
    type_into(w, "/fleet/devices", "2500");
    QVERIFY(w.json_view()->toPlainText().contains("\"devices\": 2500"));
    QVERIFY(w.scenario_valid());
    // JSON -> form.
    QString text = w.json_view()->toPlainText();
    QVERIFY(text.contains("\"horizon_h\": 336"));
    text.replace("\"horizon_h\": 336", "\"horizon_h\": 100");
    w.json_view()->setPlainText(text);
    w.apply_json_view();
    QCOMPARE(line_field(w, "/horizon_h")->text(), QStringLiteral("100"));
    // Documentation keys survive the form's edits.
    QVERIFY(w.json_view()->toPlainText().contains("_comment_horizon"));
    // "Add stage" inserts a canary stage before the last; the rows follow.
    const std::size_t stages = w.document().array_size("/rollout/stages");
    auto* add = w.form()->findChild<QPushButton*>("add_stage");
    QVERIFY(add);
    add->click();
    QTRY_COMPARE(w.document().array_size("/rollout/stages"), stages + 1);
    QVERIFY(w.form()->field("/rollout/stages/" + std::to_string(stages) + "/percent"));
    QCOMPARE(*w.document().value_text("/rollout/stages/" + std::to_string(stages - 1) + "/percent"),
             std::string("62.5"));
    QVERIFY2(w.scenario_valid(), qPrintable(w.error_list()->count() ? w.error_list()->item(0)->text() : ""));
    // Malformed JSON: the loader's message, the form says so, Run is off.
    w.json_view()->setPlainText("{ \"format\": ");
    w.apply_json_view();
    QVERIFY(!w.scenario_valid());
    QVERIFY(!w.run_action()->isEnabled());
    QVERIFY(w.error_list()->count() >= 1);
  }

  // A bad value shows the loader's own message at the field.
  void bad_field_shows_loader_message() {
    const QString path = source_path("scenarios/cellular-cost-full.json");
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(path), QString());
    const std::string original = w.document().text();
    type_into(w, "/fleet/devices", "0");
    QVERIFY(!w.scenario_valid());
    QVERIFY(!w.run_action()->isEnabled());

    const ota::models::LoadResult expected =
        ota::models::parse_scenario_with_overrides(original, {{"/fleet/devices", "0"}}, ".");
    QVERIFY(!expected.errors.empty());
    QString message;
    for (const auto& e : expected.errors)
      if (e.path == "/fleet/devices") message = QString::fromStdString(e.message);
    QVERIFY(!message.isEmpty());
    QCOMPARE(w.form()->field_error("/fleet/devices"), message);
    QWidget* field = w.form()->field("/fleet/devices");
    QCOMPARE(field->toolTip(), message);
    QVERIFY(field->styleSheet().contains("#d32f2f"));
    // The message is also listed with its JSON Pointer, and no other field is marked.
    QVERIFY(w.error_list()->item(0)->text().startsWith("/fleet/devices: "));
    QVERIFY(w.form()->field_error("/fleet/classes/0/share").isEmpty());

    // A share out of range, at its own field.
    type_into(w, "/fleet/devices", "10000");
    type_into(w, "/fleet/classes/0/share", "1.5");
    QVERIFY(w.form()->field_error("/fleet/devices").isEmpty());
    QVERIFY(w.form()->field_error("/fleet/classes/0/share").contains("1.5"));

    // Fixed: the marks go, Run comes back.
    type_into(w, "/fleet/classes/0/share", "1");
    QVERIFY(w.scenario_valid());
    QVERIFY(w.form()->field_error("/fleet/classes/0/share").isEmpty());
    QVERIFY(w.form()->field("/fleet/classes/0/share")->styleSheet().isEmpty());
    QVERIFY(w.run_action()->isEnabled());
  }

  // Keep a run as the baseline, run a what-if: dashed overlays, and the
  // table's difference is current - baseline.
  void baseline_overlay_and_difference() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-full.json")), QString());
    QVERIFY(!w.baseline_action()->isEnabled());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.baseline_action()->isEnabled());
    w.baseline_action()->trigger();
    QVERIFY(w.baseline_result());
    choose(w, "/release/payload", "delta");
    QVERIFY(w.json_view()->toPlainText().contains("\"payload\": \"delta\""));
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.current_result() != w.baseline_result());

    for (ChartPanel* panel : w.charts()) {
      bool dashed = false, solid = false;
      for (QAbstractSeries* s : panel->chart()->series()) {
        auto* line = qobject_cast<QLineSeries*>(s);
        if (!line || qobject_cast<QScatterSeries*>(s) || point_count(s) == 0) continue;
        (line->pen().style() == Qt::DashLine ? dashed : solid) = true;
      }
      const QList<QAbstractSeries*> all = panel->chart()->series();
      const bool has_area =
          std::any_of(all.begin(), all.end(), [](QAbstractSeries* s) { return qobject_cast<QAreaSeries*>(s) != nullptr; });
      QVERIFY2(dashed, panel->data().id.c_str());
      QVERIFY2(solid || has_area, panel->data().id.c_str());
      QVERIFY(panel->legend()->text().contains("baseline"));
    }

    CompareTable* table = w.totals();
    QVERIFY(!table->isColumnHidden(CompareTable::kBaseline));
    const int row = table->row_of("data_cost_usd");
    const double base = table->value(row, CompareTable::kBaseline);
    const double cur = table->value(row, CompareTable::kCurrent);
    // The scenarios' own expectation: $1,000 full vs $30 delta.
    QVERIFY2(std::fabs(base - 1000) < 10, qPrintable(QString::number(base)));
    QVERIFY2(std::fabs(cur - 30) < 1, qPrintable(QString::number(cur)));
    QCOMPARE(table->value(row, CompareTable::kDifference), cur - base);
    QVERIFY(table->item(row, CompareTable::kDifference)->text().startsWith(QStringLiteral("−$")));

    // Clearing the baseline hides its columns and its overlays.
    w.clear_baseline();
    QVERIFY(table->isColumnHidden(CompareTable::kBaseline));
    for (ChartPanel* panel : w.charts())
      for (const auto& s : panel->data().series) QVERIFY(!s.baseline);
  }

  // A long run (1,000,000 devices, idle polls as events) cancelled midway:
  // it ends as cancelled, and the window runs the next scenario.
  void cancel_long_run() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    type_into(w, "/fleet/devices", "1000000");
    QCOMPARE(w.document().set_value("/polling/idle_polls", "events"), std::string());
    w.json_view()->setPlainText(QString::fromStdString(w.document().text()));
    w.apply_json_view();
    QVERIFY(w.scenario_valid());

    QSignalSpy finished(&w, &MainWindow::run_finished);
    QVERIFY(w.start_run());
    QVERIFY(w.running());
    QVERIFY(!w.run_action()->isEnabled());
    QVERIFY(w.cancel_action()->isEnabled());
    QVERIFY(!w.start_run());  // one run at a time
    // The window stays responsive while the worker runs: progress arrives through the event loop.
    QTRY_VERIFY_WITH_TIMEOUT(w.progress_bar()->value() >= 10, kRunTimeoutMs);
    QVERIFY(w.running());
    w.cancel_action()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 60'000);
    QCOMPARE(finished.takeFirst().at(0).value<RunEnd>(), RunEnd::Cancelled);
    QVERIFY(!w.running());
    QVERIFY2(w.status_text().contains("cancelled"), qPrintable(w.status_text()));
    QVERIFY(!w.current_result());
    QVERIFY(w.run_action()->isEnabled());
    QVERIFY(!w.cancel_action()->isEnabled());

    // Still usable: a small run goes through to the end.
    type_into(w, "/fleet/devices", "2000");
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.current_result());
    QCOMPARE(w.current_result()->first().totals.devices, 2000u);
  }

  // Issue 7: the plots update while the run goes. A run of a few seconds
  // (100,000 devices, idle polls as events) draws partial reports while the
  // controller still runs; the final report then replaces them, totals exact.
  void plots_update_while_running() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    type_into(w, "/fleet/devices", "100000");
    QCOMPARE(w.document().set_value("/polling/idle_polls", "events"), std::string());
    w.json_view()->setPlainText(QString::fromStdString(w.document().text()));
    w.apply_json_view();
    QVERIFY(w.scenario_valid());
    QVERIFY(w.charts()[0]->chart()->series().isEmpty());

    QSignalSpy finished(&w, &MainWindow::run_finished);
    QVERIFY(w.start_run());
    QTRY_VERIFY_WITH_TIMEOUT(w.partial_draws() > 0 || !finished.isEmpty(), kRunTimeoutMs);
    QVERIFY2(finished.isEmpty(), "the run ended before any partial report was drawn");
    QVERIFY(w.running());
    QVERIFY(w.partial_result());
    QVERIFY(!w.current_result());
    // The adoption chart has points, up to the time simulated so far, on an axis spanning the horizon.
    ChartPanel* adoption = w.charts()[0];
    QVERIFY(!adoption->chart()->series().isEmpty());
    std::size_t points = 0;
    for (QAbstractSeries* s : adoption->chart()->series()) points += point_count(s);
    QVERIFY(points > 0);
    QCOMPARE(adoption->data().x_max, 336.0);
    const std::size_t first_bins = adoption->data().series.front().x.size();
    QVERIFY(first_bins > 0);
    QVERIFY(adoption->data().series.front().x.back() < 336.0);
    // The table shows the totals so far, marked as running.
    CompareTable* table = w.totals();
    QVERIFY(table->is_running());
    QVERIFY(table->horizontalHeaderItem(CompareTable::kCurrent)->text().contains("running"));
    const ota::models::RunReport& partial = w.partial_result()->first();
    QCOMPARE(partial.totals.devices, 100000u);
    QCOMPARE(table->value(table->row_of("server_requests"), CompareTable::kCurrent),
             static_cast<double>(partial.totals.server_requests));
    // More partials follow while it runs, each with at least the bins of the one before.
    QTRY_VERIFY_WITH_TIMEOUT(w.partial_draws() > 1 || !finished.isEmpty(), kRunTimeoutMs);
    if (finished.isEmpty()) QVERIFY(w.charts()[0]->data().series.front().x.size() >= first_bins);

    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
    QCOMPARE(finished.takeFirst().at(0).value<RunEnd>(), RunEnd::Completed);
    const int draws = w.partial_draws();
    qInfo("partial reports drawn: %d in %.2f s", draws, w.current_result()->wall_s);
    QVERIFY(!w.partial_result());
    QVERIFY(!table->is_running());
    QCOMPARE(table->horizontalHeaderItem(CompareTable::kCurrent)->text(), QStringLiteral("Current"));
    // The final report replaced the partial one: the charts are the final report's, all bins.
    const ota::models::RunReport& final_report = w.current_result()->first();
    QCOMPARE(w.charts()[0]->data().series.front().x.size(), final_report.series.t_s.size());
    // The totals are the model's for the same scenario and seed.
    const ota::models::LoadResult loaded = w.document().validate();
    QVERIFY(loaded.scenario);
    const ota::models::RunReport expected =
        ota::models::run_scenario(*loaded.scenario, ota::models::prepare_artifacts(*loaded.scenario), {});
    table_matches(table, expected, false);
    if (QTest::currentTestFailed()) return;
  }

  void export_png_svg_csv() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-delta.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QTemporaryDir dir;
    for (ChartPanel* panel : w.charts()) {
      const QString base = dir.filePath(QString::fromStdString(panel->data().id));
      QCOMPARE(panel->export_png(base + ".png"), QString());
      QImage image(base + ".png");
      QVERIFY(!image.isNull());
      QCOMPARE(image.size(), panel->frame()->size() * 2);  // twice the screen size by default
      QVERIFY(image.width() >= 400 && image.height() >= 300);
      QCOMPARE(panel->export_png(base + "-x1.png", 1.0), QString());
      QCOMPARE(QImage(base + "-x1.png").size(), panel->frame()->size());
      QCOMPARE(panel->export_png(base + "-x4.png", 4.0), QString());
      QCOMPARE(QImage(base + "-x4.png").size(), panel->frame()->size() * 4);
      // Not a blank image: a chart has many colours (lines, fills, text).
      std::set<QRgb> colours;
      for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
      QVERIFY2(colours.size() > 20, qPrintable(QString::number(colours.size())));

      QCOMPARE(panel->export_svg(base + ".svg"), QString());
      QFile svg(base + ".svg");
      QVERIFY(svg.open(QIODevice::ReadOnly));
      const QByteArray svg_text = svg.readAll();
      QVERIFY(svg_text.contains("<svg"));
      QVERIFY(svg_text.contains("</svg>"));
      QVERIFY(svg_text.size() > 2000);

      QCOMPARE(panel->export_csv(base + ".csv"), QString());
      QFile csv(base + ".csv");
      QVERIFY(csv.open(QIODevice::ReadOnly | QIODevice::Text));
      const QList<QByteArray> lines = csv.readAll().split('\n');
      QCOMPARE(lines.front(), QByteArray("series,t_h,value,label"));
      std::size_t points = 0;
      for (const auto& s : panel->data().series) points += s.x.size();
      QCOMPARE(static_cast<std::size_t>(lines.size()), points + 2);  // header + rows + the empty piece after the last '\n'
    }
    // A path that cannot be written: an error naming it, no crash.
    const QString bad = dir.filePath("missing/dir/x.png");
    QVERIFY(w.charts()[0]->export_png(bad).contains(bad));
  }

  // A chart zoomed into part of the run exports only that part as SVG: nothing
  // is painted in the margin right of the plot (Qt's SVG output does not clip).
  void svg_export_clipped_to_the_span_shown() {
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    ChartPanel* panel = w.charts()[0];  // adoption: filled areas up to the horizon
    QApplication::processEvents();
    for (const auto& [lo, hi] : {std::pair{0.0, 30.0}, std::pair{20.0, 45.0}}) {
      panel->set_time_range(lo, hi);
      QApplication::processEvents();
      const QByteArray svg = panel->svg_document();
      QVERIFY(svg.size() > 2000);
      QSvgRenderer renderer(svg);
      QVERIFY(renderer.isValid());
      QImage picture(panel->frame()->size(), QImage::Format_ARGB32);
      picture.fill(Qt::white);
      QPainter painter(&picture);
      renderer.render(&painter, QRectF(QPointF(0, 0), QSizeF(panel->frame()->size())));
      painter.end();
      // The plot area in frame coordinates.
      const QRectF plot = panel->chart()->plotArea();
      const QPoint top_right = panel->view()->mapTo(panel->frame(), panel->view()->mapFromScene(plot.topRight()));
      const QPoint bottom_right =
          panel->view()->mapTo(panel->frame(), panel->view()->mapFromScene(plot.bottomRight()));
      int coloured = 0, looked = 0;
      for (int y = top_right.y() + 4; y < bottom_right.y() - 4; y += 2)
        for (int x = top_right.x() + 4; x < picture.width() - 2; x += 2) {
          ++looked;
          if (QColor(picture.pixel(x, y)).hsvSaturation() > 90) ++coloured;
        }
      QVERIFY(looked > 50);
      QVERIFY2(coloured == 0, qPrintable(QStringLiteral("%1 coloured pixels right of the plot at [%2, %3] h")
                                             .arg(coloured).arg(lo).arg(hi)));
    }
    // The pure part: what the window keeps.
    ota::gui::ChartData d;
    d.x_max = 10;
    ota::gui::SeriesData line;
    line.kind = ota::gui::SeriesKind::Line;
    line.x = {0, 4, 8};
    line.y = {0, 40, 80};
    ota::gui::SeriesData step = line;
    step.kind = ota::gui::SeriesKind::Step;
    ota::gui::SeriesData events;
    events.kind = ota::gui::SeriesKind::Events;
    events.x = {1, 5, 9};
    events.y = {1, 1, 1};
    events.labels = {"a", "b", "c"};
    d.series = {line, step, events};
    const ota::gui::ChartData c = ota::gui::clip_to(d, 2, 6);
    QCOMPARE(c.x_max, 6.0);
    QCOMPARE(c.series[0].x, (std::vector<double>{2, 4, 6}));
    QCOMPARE(c.series[0].y, (std::vector<double>{20, 40, 60}));  // interpolated at both edges
    QCOMPARE(c.series[1].x, (std::vector<double>{2, 4, 6}));
    QCOMPARE(c.series[1].y, (std::vector<double>{0, 40, 40}));   // held: a step keeps its level
    QCOMPARE(c.series[2].x, (std::vector<double>{5}));
    QCOMPARE(c.series[2].labels, (std::vector<std::string>{"b"}));
  }

  // The failures chart says what the table says: its "failed devices" line
  // ends at the table's failed count; retried attempts are named as such.
  void failure_chart_matches_the_table() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    const ota::models::RunReport& r = w.current_result()->first();
    const ota::gui::ChartData& c = w.charts()[2]->data();
    QCOMPARE(QString::fromStdString(c.id), QStringLiteral("failures"));
    const ota::gui::SeriesData* failed = nullptr;
    const ota::gui::SeriesData* attempts = nullptr;
    for (const auto& s : c.series) {
      if (s.name == "failed devices") failed = &s;
      if (s.name == "failed attempts (retried)") attempts = &s;
      QVERIFY2(s.name != "failures", "an unqualified 'failures' line reads as the table's failed devices");
    }
    QVERIFY(failed && attempts);
    QCOMPARE(failed->y.back(), static_cast<double>(r.totals.failed));
    double retried = 0;
    for (auto f : r.series.failures) retried += static_cast<double>(f);
    QCOMPARE(attempts->y.back(), retried);
    QVERIFY(retried > 100);            // default.json: hundreds of dropped transfers, retried...
    QCOMPARE(r.totals.failed, 0ull);   // ...and no device that failed for good
  }

  // A menu bar with every action and its shortcut; the keyboard reaches them:
  // Ctrl+Shift+S opens the save dialog (it did nothing before).
  void menu_bar_and_shortcuts() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QStringList menus;
    for (QAction* a : w.menuBar()->actions()) menus << a->text().remove('&');
    QCOMPARE(menus, (QStringList{"File", "Edit", "Run", "View", "Help"}));
    QStringList file_items;
    for (QAction* a : w.menuBar()->actions().front()->menu()->actions())
      if (!a->isSeparator()) file_items << a->text().remove('&');
    QCOMPARE(file_items, (QStringList{"Open…", "Save", "Save as…", "Open session…", "Save session…", "Start page",
                                      "Export charts…", "Quit"}));
    QCOMPARE(w.run_action()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-full.json")), QString());
    // Ctrl+Shift+S, typed: a save dialog comes up; Escape closes it.
    QString seen;
    QTimer::singleShot(0, [&] {
      for (int i = 0; i < 200 && !QApplication::activeModalWidget(); ++i) QTest::qWait(10);
      QWidget* modal = QApplication::activeModalWidget();
      if (!modal) return;
      seen = QString::fromLatin1(modal->metaObject()->className()) + ": " + modal->windowTitle();
      QTest::keyClick(modal, Qt::Key_Escape);
    });
    QTest::keyClick(&w, Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(seen, QStringLiteral("QFileDialog: Save scenario"));
  }

  // Opening another file clears the results of the previous one from the
  // charts and the table; a kept baseline stays.
  void opening_another_file_clears_results() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-full.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.keep_as_baseline());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(!w.charts()[0]->data().series.empty());
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-delta.json")), QString());
    QVERIFY(w.current_result() == nullptr);
    for (QAction* a : w.findChildren<QAction*>())  // nothing to export: Export charts… is off
      if (a->shortcut() == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E)) QVERIFY(!a->isEnabled());
    for (ChartPanel* c : w.charts()) QVERIFY(c->data().series.empty());
    QVERIFY(w.baseline_result() != nullptr);
    QVERIFY(w.status_text().contains("previous results were cleared (the baseline is kept)"));
    // The next run is drawn against the kept baseline.
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    bool dashed = false;
    for (const auto& sd : w.charts()[0]->data().series) dashed = dashed || sd.baseline;
    QVERIFY(dashed);
  }

  // Every chart into one folder, as a person asks for it: Ctrl+Shift+E is the action.
  void export_all_charts_into_a_folder() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-delta.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QAction* action = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
      if (a->shortcut() == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E)) action = a;
    QVERIFY(action);
    QTemporaryDir dir;
    QCOMPARE(w.export_all_charts(dir.path()), QString());
    QCOMPARE(static_cast<std::size_t>(QDir(dir.path()).entryList(QDir::Files).size()), 3 * w.charts().size());
    for (ChartPanel* panel : w.charts()) {
      const QString base = dir.filePath(QString::fromStdString(panel->data().id));
      QCOMPARE(QImage(base + ".png").size(), panel->frame()->size() * 2);
      QVERIFY(QFileInfo(base + ".svg").size() > 2000);
      QVERIFY(QFileInfo(base + ".csv").size() > 20);
    }
    QVERIFY(w.export_all_charts(dir.filePath("no/such")).contains("no/such"));
  }

  // Replications > 1: means with confidence intervals, and the paired difference's interval.
  void replications_show_intervals() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/cellular-cost-full.json")), QString());
    type_into(w, "/fleet/devices", "2000");
    w.replications_box()->setValue(4);
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QCOMPARE(w.current_result()->replications(), 4u);
    CompareTable* table = w.totals();
    const int row = table->row_of("time_to_90pct_h");
    double low = 0, high = 0;
    QVERIFY(table->interval(row, CompareTable::kCurrent, low, high));
    const double mean = table->value(row, CompareTable::kCurrent);
    QVERIFY(low < mean && mean < high);
    QVERIFY(table->item(row, CompareTable::kCurrent)->text().contains("["));
    const double mean_by_hand = [&] {
      double sum = 0;
      for (const auto& r : w.current_result()->reports) sum += *r.totals.time_to_90pct_s / 3600;
      return sum / 4;
    }();
    QVERIFY(std::fabs(mean - mean_by_hand) < 1e-9);

    w.keep_as_baseline();
    choose(w, "/release/payload", "delta");
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    const double diff = table->value(row, CompareTable::kDifference);
    QVERIFY(std::fabs(diff - (table->value(row, CompareTable::kCurrent) - table->value(row, CompareTable::kBaseline))) <
            1e-9);
    QVERIFY(table->interval(row, CompareTable::kDifference, low, high));
    QVERIFY(low <= diff && diff <= high);
  }

  // Zoom and pan act on the time axis, and every chart follows.
  void zoom_is_shared_by_time_axes() {
    MainWindow w;
    w.show();
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    type_into(w, "/fleet/devices", "5000");
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    ChartPanel* first = w.charts()[0];
    first->reset_time_range();
    QCOMPARE(first->time_range().second, 336.0);
    for (ChartPanel* p : w.charts()) QCOMPARE(p->time_range(), first->time_range());

    // The wheel over the plot zooms around the cursor.
    QChartView* view = first->view();
    const QRectF plot = first->chart()->plotArea();
    const QPointF centre = plot.center();
    QWheelEvent wheel(centre, view->viewport()->mapToGlobal(centre.toPoint()), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view->viewport(), &wheel);
    const auto [lo, hi] = first->time_range();
    QVERIFY2(hi - lo < 336.0 && lo > 0, qPrintable(QStringLiteral("%1..%2").arg(lo).arg(hi)));
    for (ChartPanel* p : w.charts()) QCOMPARE(p->time_range(), first->time_range());

    // A right-button drag pans.
    QTest::mousePress(view->viewport(), Qt::RightButton, {}, centre.toPoint());
    QMouseEvent move(QEvent::MouseMove, centre - QPointF(50, 0), view->viewport()->mapToGlobal(centre - QPointF(50, 0)),
                     Qt::NoButton, Qt::RightButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &move);
    QTest::mouseRelease(view->viewport(), Qt::RightButton, {}, (centre - QPointF(50, 0)).toPoint());
    QVERIFY(first->time_range().first > lo);
    QCOMPARE(w.charts()[3]->time_range(), first->time_range());

    // Hover text: the values at that time.
    const QString tip = first->tooltip_at(50.0, 1.0);
    QVERIFY2(tip.contains("updated (new)") && tip.contains("t = "), qPrintable(tip));

    // Double-click: the whole run again.
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, centre.toPoint());
    QCOMPARE(first->time_range(), std::make_pair(0.0, 336.0));
    QCOMPARE(w.charts()[5]->time_range(), std::make_pair(0.0, 336.0));
  }

  // The user's steps that crashed the planner (a segmentation fault in
  // QGraphicsView::paintEvent, 3 of 3): run, hover the charts, run again (or
  // keep a baseline), hover again. Every rebuild replaces a chart; the view's
  // hover line must not outlive the chart that owned it.
  void hovering_charts_across_rebuilds() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    type_into(w, "/fleet/devices", "3000");
    const auto hover_all = [&w] {
      for (ChartPanel* panel : w.charts()) {
        QChartView* view = panel->view();
        const QRectF plot = panel->chart()->plotArea();
        for (double f : {0.25, 0.5, 0.75}) {
          const QPoint at(static_cast<int>(plot.left() + f * plot.width()), static_cast<int>(plot.center().y()));
          QTest::mouseMove(view->viewport(), at);
        }
        view->viewport()->repaint();
      }
    };
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    hover_all();
    QCOMPARE(run_to_end(w), RunEnd::Completed);  // Ctrl+R again: every chart rebuilt
    hover_all();
    w.baseline_action()->trigger();  // Ctrl+B: rebuilt with the baseline overlay
    hover_all();
    // During a run: the charts are rebuilt from partial reports while the mouse moves.
    type_into(w, "/fleet/devices", "60000");
    QSignalSpy spy(&w, &MainWindow::run_finished);
    QVERIFY(w.start_run());
    while (spy.isEmpty()) {
      hover_all();
      QTest::qWait(20);
    }
    hover_all();
    QCOMPARE(spy.takeFirst().at(0).value<RunEnd>(), RunEnd::Completed);
  }

  void screenshot_command() {
    QTemporaryDir dir;
    const QString out = dir.filePath("planner.png");
    QProcess gui;
    gui.start(binary("otasim-gui"), {"--screenshot", out, "--baseline", source_path("scenarios/cellular-cost-full.json"),
                                     source_path("scenarios/cellular-cost-delta.json")});
    QVERIFY(gui.waitForFinished(kRunTimeoutMs));
    QVERIFY2(gui.exitCode() == 0, gui.readAllStandardError().constData());
    const QImage image(out);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1600, 1000));
  }

  void bad_scenario_exits_2() {
    QTemporaryDir dir;
    QFile in(source_path("scenarios/cellular-cost-full.json"));
    QVERIFY(in.open(QIODevice::ReadOnly));
    QByteArray text = in.readAll();
    QVERIFY(text.contains("\"devices\": 10000"));
    text.replace("\"devices\": 10000", "\"devices\": -3");
    const QString bad = dir.filePath("bad.json");
    QFile out(bad);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text);
    out.close();

    const QString png = dir.filePath("never.png");
    QProcess gui;
    gui.start(binary("otasim-gui"), {"--screenshot", png, bad});
    QVERIFY(gui.waitForFinished(60'000));
    QCOMPARE(gui.exitCode(), 2);
    const QByteArray err = gui.readAllStandardError();
    QVERIFY2(err.contains("/fleet/devices"), err.constData());
    QVERIFY(!QFile::exists(png));

    QProcess missing;
    missing.start(binary("otasim-gui"), {"--screenshot", png, dir.filePath("nope.json")});
    QVERIFY(missing.waitForFinished(60'000));
    QCOMPARE(missing.exitCode(), 2);
    QVERIFY(!QFile::exists(png));
  }
};

OTA_GUI_TEST(PlannerTest);
#include "test_planner.moc"
