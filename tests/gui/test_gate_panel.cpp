// Widget tests of the gate decisions panel and of the charts' link to it,
// under the offscreen platform, driven with real mouse and key events: the
// table lists what the report holds, a row marks its decision on the stage
// timeline and a click on a decision selects its row; value tips stay while
// the mouse does; charts and legend read in a dark palette as in a light one.
#include <QApplication>
#include <QFile>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtCharts>
#include <QtTest>

#include <algorithm>
#include <clocale>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/chart_data.hpp"
#include "ota/gui/chart_panel.hpp"
#include "ota/gui/gate_panel.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/text.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

using ota::gui::ChartPanel;
using ota::gui::GatePanel;
using ota::models::RolloutEvent;
using ota::models::RunReport;

using namespace ota::gui::testing;

namespace {


// Runs scenarios/`file` with `overrides` (JSON Pointer, value), as the planner does.
RunReport run_scenario_file(const QString& file, const std::vector<std::pair<std::string, std::string>>& overrides) {
  QFile in(source_path(file));
  if (!in.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(in.fileName()));
  const QByteArray text = in.readAll();
  const ota::models::LoadResult loaded = ota::models::parse_scenario_with_overrides(
      std::string_view(text.constData(), static_cast<std::size_t>(text.size())), overrides,
      source_path("scenarios").toStdString());
  if (!loaded.scenario) qFatal("%s", ota::models::format_errors(loaded.errors).c_str());
  return ota::models::run_scenario(*loaded.scenario, ota::models::prepare_artifacts(*loaded.scenario), {});
}

// The reference staged rollout (1 %, 5 %, 25 %, 100 %) on 5,000 devices with a
// release that crashes: the first two gates judge rollbacks and pass, the
// third judges the crash rate and rolls the release back. Decisions fall on
// the same instant (a gate passes and the next stage opens).
const RunReport& crash_report() {
  static const RunReport report = run_scenario_file(
      "scenarios/default.json",
      {{"/fleet/devices", "5000"},
       {"/release/behaviour/default/crash_per_day", "0.5"},
       {"/rollout/stages/0/gate", R"({"max_rollback_rate": 0.5, "min_reports": 10})"},
       {"/rollout/stages/1/gate", R"({"max_rollback_rate": 0.5, "min_reports": 10})"},
       {"/rollout/stages/2/gate", R"({"max_crash_rate_per_day": 0.1, "min_exposure_days": 20, "on_breach": "rollback"})"}});
  return report;
}

// A rate ramp stopped by its gate: ramp decisions, then an abort.
const RunReport& ramp_report() {
  static const RunReport report = run_scenario_file("scenarios/gate-threshold.json", {{"/fleet/devices", "20000"}});
  return report;
}

int index_of_kind(const RunReport& r, const std::string& kind) {
  for (std::size_t i = 0; i < r.rollout.events.size(); ++i)
    if (r.rollout.events[i].kind == kind) return static_cast<int>(i);
  return -1;
}

double relative_luminance(const QColor& c) {
  auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast_ratio(const QColor& a, const QColor& b) {
  const double la = relative_luminance(a), lb = relative_luminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// In `rect` of `image`: the most frequent colour (the background) and how
// many grey pixels (text, not a coloured swatch) stand out from it by 4.5:1.
std::pair<QColor, int> background_and_text_pixels(const QImage& image, const QRect& rect) {
  std::map<QRgb, int> counts;
  const QRect r = rect.intersected(image.rect());
  for (int y = r.top(); y <= r.bottom(); ++y)
    for (int x = r.left(); x <= r.right(); ++x) ++counts[image.pixel(x, y)];
  QRgb background = 0;
  int most = -1;
  for (const auto& [rgb, n] : counts)
    if (n > most) {
      most = n;
      background = rgb;
    }
  int text = 0;
  for (const auto& [rgb, n] : counts) {
    const QColor c = QColor::fromRgb(rgb);
    if (c.hsvSaturation() < 40 && contrast_ratio(c, QColor::fromRgb(background)) >= 4.5) text += n;
  }
  return {QColor::fromRgb(background), text};
}

QPalette dark_palette() {
  QPalette p(QColor(0x30, 0x30, 0x30));  // button colour; Qt derives the rest
  p.setColor(QPalette::Window, QColor(0x20, 0x20, 0x20));
  p.setColor(QPalette::Base, QColor(0x20, 0x20, 0x20));
  p.setColor(QPalette::AlternateBase, QColor(0x2a, 0x2a, 0x2a));
  for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText, QPalette::ToolTipText})
    p.setColor(role, QColor(0xf0, 0xf0, 0xf0));
  p.setColor(QPalette::ToolTipBase, QColor(0x2b, 0x2b, 0x2b));
  p.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xe6));
  p.setColor(QPalette::HighlightedText, Qt::white);
  return p;
}

QPalette light_palette() {
  QPalette p(QColor(0xef, 0xef, 0xef));
  p.setColor(QPalette::Window, QColor(0xf5, 0xf5, 0xf5));
  p.setColor(QPalette::Base, Qt::white);
  for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText, QPalette::ToolTipText})
    p.setColor(role, QColor(0x10, 0x10, 0x10));
  p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xdc));
  p.setColor(QPalette::Highlight, QColor(0x30, 0x8c, 0xc6));
  return p;
}

// The planner's pieces as the window links them: the stage timeline above the
// decisions table.
struct LinkedPanels {
  QWidget window;
  ChartPanel* timeline = nullptr;
  GatePanel* gates = nullptr;

  explicit LinkedPanels(const RunReport& report) {
    auto* layout = new QVBoxLayout(&window);
    timeline = new ChartPanel(QStringLiteral("timeline"), &window);
    gates = new GatePanel(&window);
    layout->addWidget(timeline, 3);
    layout->addWidget(gates, 2);
    QObject::connect(gates, &GatePanel::event_selected, timeline, &ChartPanel::mark_event);
    QObject::connect(timeline, &ChartPanel::event_clicked, gates, &GatePanel::select_event);
    window.resize(1200, 900);
    timeline->set_data(ota::gui::timeline_chart(report, nullptr));
    gates->set_report(&report);
  }

  bool show() {
    window.show();
    window.activateWindow();
    return QTest::qWaitForWindowExposed(&window) && QTest::qWaitForWindowActive(&window);
  }
};

// Where a decision's dot is drawn, in the view's viewport, worked out from
// the chart's own axes (not from the panel's event_position).
QPoint decision_in_viewport(ChartPanel* panel, const RunReport& report, int index) {
  const double t_h = report.rollout.events[static_cast<std::size_t>(index)].t_s / 3600.0;
  double y = 50;
  for (const ota::gui::SeriesData& s : panel->data().series)
    for (std::size_t i = 0; i < s.event_index.size(); ++i)
      if (s.kind == ota::gui::SeriesKind::Events && static_cast<int>(s.event_index[i]) == index) y = s.y[i];
  QAbstractSeries* on_left = panel->chart()->series().front();  // "offered", on the time and left axes
  const QPointF in_chart = panel->chart()->mapToPosition(QPointF(t_h, y), on_left);
  return panel->view()->mapFromScene(panel->chart()->mapToScene(in_chart));
}

// Pixels of `colour` (within a tolerance) in the column band around `x`,
// over the plot's height, in `image` of the panel's frame.
int pixels_like(const QImage& image, const QColor& colour, int x, int top, int bottom) {
  int n = 0;
  for (int y = top; y <= bottom; ++y)
    for (int dx = -2; dx <= 2; ++dx) {
      const QColor c = image.pixelColor(x + dx, y);
      if (std::abs(c.red() - colour.red()) + std::abs(c.green() - colour.green()) +
              std::abs(c.blue() - colour.blue()) <= 30) {
        ++n;
        break;  // one per row
      }
    }
  return n;
}

// The application's palette back as it was when the test ends, passed or not.
struct PaletteRestored {
  QPalette saved = QApplication::palette();
  ~PaletteRestored() { QApplication::setPalette(saved); }
};

QWidget* visible_tooltip() {
  for (QWidget* w : QApplication::topLevelWidgets())
    if (w->inherits("QTipLabel") && w->isVisible()) return w;
  return nullptr;
}

}  // namespace

class GatePanelTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { std::setlocale(LC_NUMERIC, "C"); }

  // Every decision, in the report's order, with its time, stage, action,
  // reason and evidence as the report holds them.
  void table_lists_every_decision() {
    for (const RunReport* report : {&crash_report(), &ramp_report()}) {
      const std::vector<RolloutEvent>& events = report->rollout.events;
      QVERIFY(events.size() >= 3);
      GatePanel panel;
      panel.set_report(report);
      QTableWidget* table = panel.table();
      QCOMPARE(table->rowCount(), static_cast<int>(events.size()));
      QCOMPARE(table->columnCount(), 5);
      QCOMPARE(table->horizontalHeaderItem(GatePanel::kReason)->text(), QStringLiteral("Reason"));
      for (int row = 0; row < table->rowCount(); ++row) {
        const RolloutEvent& e = events[static_cast<std::size_t>(row)];
        auto cell = [&](int column) { return table->item(row, column)->text(); };
        QCOMPARE(cell(GatePanel::kTime), QString::fromStdString(ota::models::human_duration(e.t_s)));
        QCOMPARE(table->item(row, GatePanel::kTime)->data(Qt::UserRole).toDouble(), e.t_s);
        QCOMPARE(cell(GatePanel::kStage), QStringLiteral("S%1").arg(e.stage + 1));
        QCOMPARE(table->item(row, GatePanel::kAction)->data(Qt::UserRole).toString(), QString::fromStdString(e.kind));
        QCOMPARE(cell(GatePanel::kReason), QString::fromStdString(e.reason));
        auto count = [](double v) { return QString::fromStdString(ota::models::with_commas(v)); };
        QCOMPARE(cell(GatePanel::kEvidence),
                 QStringLiteral("offered %1, reports %2, failures %3, rollbacks %4, crashes %5 in %6 device-days")
                     .arg(count(static_cast<double>(e.offered)), count(static_cast<double>(e.reports)),
                          count(static_cast<double>(e.failures)), count(static_cast<double>(e.rollbacks)),
                          count(e.crashes), count(e.exposure_days)));
        const std::map<std::string, QString> words = {{"stage_open", "stage opened"}, {"gate_pass", "gate passed"},
                                                      {"rollback", "rollback"},       {"abort", "abort"},
                                                      {"ramp", "rate raised"},        {"completed", "completed"}};
        if (words.count(e.kind)) QCOMPARE(cell(GatePanel::kAction), words.at(e.kind));
        if (row > 0) QVERIFY(e.t_s >= events[static_cast<std::size_t>(row - 1)].t_s);
      }
    }
    // The decision the issue is about reads in full, not in a tooltip.
    const RunReport& r = crash_report();
    const int rollback = index_of_kind(r, "rollback");
    QVERIFY(rollback > 0);
    GatePanel panel;
    panel.set_report(&r);
    const QString reason = panel.table()->item(rollback, GatePanel::kReason)->text();
    QVERIFY2(reason.startsWith("crash rate ") && reason.contains("per device-day (limit 0.1)"), qPrintable(reason));
    QVERIFY(panel.table()->item(rollback, GatePanel::kAction)->font().bold());  // a stop stands out
    QVERIFY(!panel.table()->item(0, GatePanel::kAction)->font().bold());
    QVERIFY2(panel.summary()->text().contains("rolled back"), qPrintable(panel.summary()->text()));

    // A run still going: rows are added, the selection stays, nothing is emitted.
    QSignalSpy selected(&panel, &GatePanel::event_selected);
    RunReport partial = r;
    partial.rollout.events.resize(2);
    panel.set_report(&partial);
    QCOMPARE(panel.table()->rowCount(), 2);
    panel.select_event(1);
    QCOMPARE(panel.selected_event(), 1);
    panel.set_report(&r);
    QCOMPARE(panel.table()->rowCount(), static_cast<int>(r.rollout.events.size()));
    QCOMPARE(panel.selected_event(), 1);
    QCOMPARE(panel.table()->item(rollback, GatePanel::kReason)->text(), reason);
    // Another run's decisions replace the rows; none stays selected.
    panel.set_report(&ramp_report());
    QCOMPARE(panel.table()->rowCount(), static_cast<int>(ramp_report().rollout.events.size()));
    QCOMPARE(panel.selected_event(), -1);
    panel.set_report(nullptr);
    QCOMPARE(panel.table()->rowCount(), 0);
    QCOMPARE(panel.selected_event(), -1);
    panel.select_event(3);  // no such row: nothing selected, no crash
    QCOMPARE(panel.selected_event(), -1);
    QCOMPARE(selected.count(), 0);
  }

  // A click on a row marks that decision on the timeline: the chart says so
  // and draws it (a line in the highlight colour at the decision's time).
  void clicking_a_row_marks_the_timeline() {
    const RunReport& r = crash_report();
    LinkedPanels ui(r);
    QVERIFY(ui.show());
    ChartPanel* chart = ui.timeline;
    QTableWidget* table = ui.gates->table();
    const int rollback = index_of_kind(r, "rollback");
    QVERIFY(chart->shows_event(rollback));
    QCOMPARE(chart->marked_event(), -1);

    // The drawn mark's colour, and where the decision is, from the chart's axes.
    const QColor highlight = chart->palette().color(QPalette::Highlight);
    const QPoint at = decision_in_viewport(chart, r, rollback);
    const std::optional<QPointF> reported = chart->event_position(rollback);
    QVERIFY(reported);
    QVERIFY(std::fabs(chart->view()->mapFromScene(*reported).x() - at.x()) <= 1);
    const QRectF plot = chart->chart()->plotArea();
    const QPoint in_frame = chart->view()->viewport()->mapTo(chart->frame(), at);
    const int top = chart->view()->viewport()->mapTo(chart->frame(), chart->view()->mapFromScene(plot.topLeft())).y() + 3;
    const int bottom = top + static_cast<int>(plot.height()) - 6;
    const int unmarked = pixels_like(chart->image(1.0), highlight, in_frame.x(), top, bottom);

    QSignalSpy selected(ui.gates, &GatePanel::event_selected);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(table->model()->index(rollback, GatePanel::kAction)).center());
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.front().at(0).toInt(), rollback);
    QCOMPARE(ui.gates->selected_event(), rollback);
    QCOMPARE(chart->marked_event(), rollback);
    QApplication::processEvents();
    const int marked = pixels_like(chart->image(1.0), highlight, in_frame.x(), top, bottom);
    const int rows = bottom - top + 1;
    QVERIFY2(marked > rows * 8 / 10 && unmarked < rows / 10,
             qPrintable(QStringLiteral("highlight in %1 of %2 rows marked, %3 unmarked").arg(marked).arg(rows).arg(unmarked)));

    // The keyboard moves the selection and the mark with it.
    table->setFocus();
    QTest::keyClick(table, Qt::Key_Up);
    QCOMPARE(ui.gates->selected_event(), rollback - 1);
    QCOMPARE(chart->marked_event(), rollback - 1);

    // A decision outside the span shown is brought into view.
    chart->set_time_range(30, 40);
    QSignalSpy range(chart, &ChartPanel::time_range_changed);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(table->model()->index(1, GatePanel::kTime)).center());
    QCOMPARE(chart->marked_event(), 1);
    const double t1 = r.rollout.events[1].t_s / 3600.0;
    const auto [lo, hi] = chart->time_range();
    QVERIFY2(lo <= t1 && t1 <= hi, qPrintable(QStringLiteral("%1 not in %2..%3").arg(t1).arg(lo).arg(hi)));
    QVERIFY(std::fabs((hi - lo) - 10.0) < 1e-9);  // the span's width kept
    QCOMPARE(range.count(), 1);

    // -1 clears the mark; the line is gone.
    chart->mark_event(-1);
    QCOMPARE(chart->marked_event(), -1);
    chart->fit_activity();
    QApplication::processEvents();
    QVERIFY(pixels_like(chart->image(1.0), highlight, in_frame.x(), top, bottom) < rows / 10);
  }

  // A click on a decision's marker selects its row; decisions drawn on the
  // same spot are reached by clicking again.
  void clicking_a_marker_selects_the_row() {
    const RunReport& r = crash_report();
    LinkedPanels ui(r);
    QVERIFY(ui.show());
    ChartPanel* chart = ui.timeline;
    QWidget* viewport = chart->view()->viewport();
    const int rollback = index_of_kind(r, "rollback");
    // The rollback came as the third stage's gate judged, when it opened.
    std::vector<int> same_spot;
    for (std::size_t i = 0; i < r.rollout.events.size(); ++i)
      if (r.rollout.events[i].t_s == r.rollout.events[static_cast<std::size_t>(rollback)].t_s)
        same_spot.push_back(static_cast<int>(i));
    QVERIFY(same_spot.size() >= 2);
    QCOMPARE(same_spot.back(), rollback);

    QSignalSpy clicked(chart, &ChartPanel::event_clicked);
    QSignalSpy selected(ui.gates, &GatePanel::event_selected);
    const QPoint at = decision_in_viewport(chart, r, rollback);
    QTest::mouseMove(viewport, at);
    QTest::mouseClick(viewport, Qt::LeftButton, {}, at + QPoint(2, 1));  // near is enough
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.front().at(0).toInt(), rollback);  // the latest decision there
    QCOMPARE(ui.gates->selected_event(), rollback);
    QCOMPARE(ui.gates->table()->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(chart->marked_event(), rollback);
    QCOMPARE(selected.count(), 0);  // the window already knows: no echo back to the chart

    // Clicking again steps back through the decisions drawn there.
    for (auto it = same_spot.rbegin() + 1; it != same_spot.rend(); ++it) {
      QTest::mouseClick(viewport, Qt::LeftButton, {}, at);
      QCOMPARE(clicked.back().at(0).toInt(), *it);
      QCOMPARE(ui.gates->selected_event(), *it);
      QCOMPARE(chart->marked_event(), *it);
    }
    QTest::mouseClick(viewport, Qt::LeftButton, {}, at);
    QCOMPARE(ui.gates->selected_event(), rollback);  // round again

    // A decision alone on its spot: the first stage opening at 0 h is at the
    // plot's left edge; the first gate a quarter of the way.
    const int first_gate = index_of_kind(r, "gate_pass");
    const QPoint gate_at = decision_in_viewport(chart, r, first_gate);
    QTest::mouseClick(viewport, Qt::LeftButton, {}, gate_at - QPoint(3, 0));
    const int picked = clicked.back().at(0).toInt();
    QVERIFY(r.rollout.events[static_cast<std::size_t>(picked)].t_s == r.rollout.events[static_cast<std::size_t>(first_gate)].t_s);
    QCOMPARE(ui.gates->selected_event(), picked);

    // A click away from any decision changes nothing (and does not zoom).
    const int clicks = static_cast<int>(clicked.count());
    const auto range = chart->time_range();
    const QPoint empty((at.x() + gate_at.x()) / 2, at.y() - 30);
    QVERIFY(chart->event_near(chart->view()->mapToScene(empty)) < 0);
    QTest::mouseClick(viewport, Qt::LeftButton, {}, empty);
    QCOMPARE(clicked.count(), clicks);
    QCOMPARE(ui.gates->selected_event(), picked);
    QCOMPARE(chart->time_range(), range);
  }

  // The value tip stays while the mouse rests on the plot (it used to vanish
  // after about 0.7 s), follows the mouse, and goes when the mouse leaves.
  void value_tooltip_stays_while_hovering() {
    const RunReport& r = crash_report();
    LinkedPanels ui(r);
    QVERIFY(ui.show());
    ChartPanel* chart = ui.timeline;
    QWidget* viewport = chart->view()->viewport();
    const int rollback = index_of_kind(r, "rollback");
    const QPoint at = decision_in_viewport(chart, r, rollback);
    QTest::mouseMove(viewport, at);
    QTRY_VERIFY(QToolTip::isVisible());
    const QString text = QToolTip::text();
    QVERIFY2(text.contains("t = ") && text.contains("rollback (crash rate"), qPrintable(text));
    QTest::qWait(2000);  // past Qt's tooltip wake-up (0.7 s), without moving
    QVERIFY(QToolTip::isVisible());
    QCOMPARE(QToolTip::text(), text);

    // Moving along the plot: the tip follows with the values there.
    const QRectF plot = chart->chart()->plotArea();
    const QPoint elsewhere(static_cast<int>(plot.left() + 0.8 * plot.width()), static_cast<int>(plot.center().y()));
    QTest::mouseMove(viewport, elsewhere);
    QTRY_VERIFY(QToolTip::isVisible() && QToolTip::text() != text);
    QVERIFY(!QToolTip::text().contains("rollback"));
    const QString moved = QToolTip::text();
    QTest::qWait(2000);
    QVERIFY(QToolTip::isVisible());
    QCOMPARE(QToolTip::text(), moved);

    // Off the plot (over the axis labels), then off the chart: hidden.
    QTest::mouseMove(viewport, QPoint(static_cast<int>(plot.left()) - 15, static_cast<int>(plot.center().y())));
    QTRY_VERIFY(!QToolTip::isVisible());
    QTest::mouseMove(viewport, elsewhere);
    QTRY_VERIFY(QToolTip::isVisible());
    QTest::mouseMove(ui.gates->summary(), QPoint(20, 5));  // a label without a tip of its own
    QTRY_VERIFY(!QToolTip::isVisible());
    QTest::qWait(1000);
    QVERIFY(!QToolTip::isVisible());
  }

  // Dark and light palettes: the legend, axes, marker labels and value tip
  // read on their background (with a dark palette the legend was white on
  // white), and the charts follow a palette changed while they are shown.
  void charts_follow_dark_and_light_palettes() {
    const PaletteRestored restore;
    const RunReport& r = crash_report();
    LinkedPanels ui(r);
    QVERIFY(ui.show());
    ChartPanel* chart = ui.timeline;
    const int rollback = index_of_kind(r, "rollback");
    ui.gates->select_event(rollback);
    chart->mark_event(rollback);
    for (const bool dark : {true, false, true}) {
      QApplication::setPalette(dark ? dark_palette() : light_palette());
      QApplication::processEvents();
      const QString which = dark ? QStringLiteral("dark") : QStringLiteral("light");
      QCOMPARE(chart->marked_event(), rollback);  // redrawn in the new colours, still marked

      const QImage image = chart->image(1.0);
      const auto [legend_background, legend_text] = background_and_text_pixels(image, chart->legend()->geometry());
      QVERIFY2(dark == (relative_luminance(legend_background) < 0.2), qPrintable(which));
      QVERIFY2(legend_text > 150, qPrintable(QStringLiteral("%1: %2 legend text pixels").arg(which).arg(legend_text)));

      // The chart's own text: title, axes, the stage and stop labels.
      const QColor background = chart->chart()->backgroundBrush().color();
      QCOMPARE(background, legend_background);
      QVERIFY(contrast_ratio(chart->chart()->titleBrush().color(), background) >= 4.5);
      for (QAbstractAxis* axis : chart->chart()->axes()) {
        QVERIFY2(contrast_ratio(axis->labelsBrush().color(), background) >= 4.5, qPrintable(which));
        QVERIFY2(contrast_ratio(axis->titleBrush().color(), background) >= 4.5, qPrintable(which));
        QVERIFY(contrast_ratio(axis->gridLineColor(), background) > 1.1);
      }
      int labels = 0;
      for (QGraphicsItem* item : chart->chart()->scene()->items())
        if (auto* text = dynamic_cast<QGraphicsSimpleTextItem*>(item)) {
          ++labels;
          QVERIFY2(contrast_ratio(text->brush().color(), background) >= 4.5,
                   qPrintable(QStringLiteral("%1: label %2 in %3").arg(which, text->text(), text->brush().color().name())));
        }
      QVERIFY(labels >= 3);  // S1, S2, S3, rollback
      // The plot itself is on the palette's background: the pixel just
      // inside the plot's top-left corner.
      const QRectF plot = chart->chart()->plotArea();
      const QPoint corner = chart->view()->viewport()->mapTo(
          chart->frame(), chart->view()->mapFromScene(plot.topLeft() + QPointF(plot.width() * 0.97, 30)));
      QVERIFY2(dark == (relative_luminance(image.pixelColor(corner)) < 0.2), qPrintable(which));

      // The value tip: its text stands out from its background.
      QTest::mouseMove(chart->view()->viewport(), decision_in_viewport(chart, r, rollback));
      QTRY_VERIFY(visible_tooltip());
      QWidget* tip = visible_tooltip();
      const QImage tip_image = tip->grab().toImage();
      const auto [tip_background, tip_text] = background_and_text_pixels(tip_image, tip_image.rect());
      QVERIFY2(tip_text > 40, qPrintable(QStringLiteral("%1: %2 tip text pixels").arg(which).arg(tip_text)));
      // Series names in colour: readable on the tip's background.
      const QRegularExpression colour_style(QStringLiteral("color:(#[0-9a-f]{6})"));
      int coloured = 0;
      for (const QRegularExpressionMatch& m : colour_style.globalMatch(QToolTip::text())) {
        ++coloured;
        QVERIFY2(contrast_ratio(QColor(m.captured(1)), tip->palette().color(QPalette::ToolTipBase)) >= 4.5,
                 qPrintable(which + ": " + m.captured(1)));
      }
      QVERIFY(coloured >= 1);
      QTest::mouseMove(ui.gates->summary(), QPoint(20, 5));
      QTRY_VERIFY(!QToolTip::isVisible());
    }
  }

  // Rebuilds (a new run, a partial report, a palette change) while the mouse
  // moves over a marked chart: the mark, the hover line and the tip belong to
  // the chart being replaced and must not outlive it.
  void hovering_and_marking_across_rebuilds() {
    const PaletteRestored restore;
    const RunReport& r = crash_report();
    LinkedPanels ui(r);
    QVERIFY(ui.show());
    ChartPanel* chart = ui.timeline;
    QWidget* viewport = chart->view()->viewport();
    const auto hover = [&] {
      const QRectF plot = chart->chart()->plotArea();
      for (double f : {0.1, 0.4, 0.7, 0.95})
        QTest::mouseMove(viewport, QPoint(static_cast<int>(plot.left() + f * plot.width()),
                                          static_cast<int>(plot.center().y())));
      viewport->repaint();
    };
    const int rollback = index_of_kind(r, "rollback");
    chart->mark_event(rollback);
    hover();
    chart->set_data(ota::gui::timeline_chart(r, nullptr));  // the same run again
    QCOMPARE(chart->marked_event(), rollback);
    hover();
    QApplication::setPalette(dark_palette());
    hover();
    chart->set_data(ota::gui::timeline_chart(r, &ramp_report()));  // with a baseline
    QCOMPARE(chart->marked_event(), rollback);
    hover();
    // A partial report without the decision: the mark goes.
    RunReport partial = r;
    partial.rollout.events.resize(2);
    chart->set_data(ota::gui::timeline_chart(partial, nullptr));
    ui.gates->set_report(&partial);
    QCOMPARE(chart->marked_event(), -1);
    QVERIFY(!chart->shows_event(rollback));
    hover();
    chart->mark_event(rollback);  // not plotted: nothing marked
    QCOMPARE(chart->marked_event(), -1);
    chart->clear(QStringLiteral("timeline"));
    hover();
    QTRY_VERIFY(!QToolTip::isVisible());  // nothing to show over an empty chart
    chart->set_data(ota::gui::timeline_chart(r, nullptr));
    hover();
    // Charts without decisions: nothing to mark or click.
    ChartPanel adoption(QStringLiteral("adoption"));
    adoption.set_data(ota::gui::adoption_chart(r, nullptr));
    adoption.mark_event(0);
    QCOMPARE(adoption.marked_event(), -1);
  }
};

OTA_GUI_TEST(GatePanelTest);
#include "test_gate_panel.moc"
