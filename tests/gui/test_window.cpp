// Widget tests of the planner's window as a document editor and a comparison
// a planner can read: undo and redo, the start page, sessions, the grouped
// comparison with its "what changed" list and "changed only" filter, one
// number format, palettes and screen sizes. Driven with real mouse and key
// events under the offscreen platform.
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QLineEdit>
#include <QListWidget>
#include <QTableWidget>
#include <QTabWidget>
#include <QTimer>
#include <QMenu>
#include <QProcess>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/chart_panel.hpp"
#include "ota/gui/compare_table.hpp"
#include "ota/gui/gate_panel.hpp"
#include "ota/gui/main_window.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/gui/sweep_panel.hpp"
#include "ota/models/report/metrics.hpp"

using ota::gui::CompareTable;
using ota::gui::MainWindow;
using ota::gui::RunEnd;
using namespace ota::gui::testing;

namespace {

QByteArray read_all(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// WCAG relative luminance and contrast ratio.
double luminance(QColor c) {
  auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
}
double contrast(QColor a, QColor b) {
  const double la = luminance(a), lb = luminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// The contrast between a widget's background (its most common colour) and
// the pixel farthest from it in luminance: how well its text reads.
double text_contrast(QWidget* widget) {
  const QImage image = widget->grab().toImage().convertToFormat(QImage::Format_RGB32);
  std::map<QRgb, int> counts;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) ++counts[image.pixel(x, y)];
  QRgb background = 0;
  int most = -1;
  for (const auto& [rgb, n] : counts)
    if (n > most) most = n, background = rgb;
  double best = 1;
  for (const auto& [rgb, n] : counts) best = std::max(best, contrast(QColor(background), QColor(rgb)));
  return best;
}

QPalette dark_palette() {
  QPalette p;
  const QColor window(0x20, 0x20, 0x20), base(0x2a, 0x2a, 0x2a), text(0xf0, 0xf0, 0xf0);
  for (auto group : {QPalette::Active, QPalette::Inactive}) {
    p.setColor(group, QPalette::Window, window);
    p.setColor(group, QPalette::WindowText, text);
    p.setColor(group, QPalette::Base, base);
    p.setColor(group, QPalette::AlternateBase, QColor(0x33, 0x33, 0x33));
    p.setColor(group, QPalette::Text, text);
    p.setColor(group, QPalette::Button, QColor(0x30, 0x30, 0x30));
    p.setColor(group, QPalette::ButtonText, text);
    p.setColor(group, QPalette::ToolTipBase, base);
    p.setColor(group, QPalette::ToolTipText, text);
    p.setColor(group, QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
  }
  p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
  return p;
}

// A copy of cellular-cost-full.json with 2,000 devices (fast runs) in `dir`.
QString small_cellular(const QTemporaryDir& dir) {
  QByteArray text = read_all(source_path("scenarios/cellular-cost-full.json"));
  text.replace("\"devices\": 10000", "\"devices\": 2000");
  const QString path = dir.filePath("cellular.json");
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly)) return {};
  out.write(text);
  return path;
}

}  // namespace

class WindowTest : public QObject {
  Q_OBJECT

 private slots:
  void init() {
    // Each test starts without recent files (settings are in Qt's test folder).
    QSettings(QStringLiteral("otasim"), QStringLiteral("planner")).remove(QStringLiteral("recent_files"));
  }

  // Typing in two fields, then Ctrl+Z twice and Ctrl+Shift+Z, as keys on the
  // window: each field's typing is one step, the document and the form follow,
  // and undoing back to the file leaves the window unmodified.
  void undo_redo_of_form_edits() {
    QTemporaryDir dir;
    const QString path = small_cellular(dir);
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(path), QString());
    const std::string original = w.document().text();
    type_into(w, "/release/full_kb", "400");
    type_into(w, "/polling/interval_min", "30");
    QCOMPARE(w.document().value_text("/release/full_kb").value_or(""), std::string("400"));
    QCOMPARE(w.document().value_text("/polling/interval_min").value_or(""), std::string("30"));
    QVERIFY(w.isWindowModified());
    QCOMPARE(w.undo_stack()->count(), 2);  // "400" is three keys, one step

    // Focus out of the fields (a click on the totals), then Ctrl+Z on the window.
    QTest::mouseClick(w.totals()->viewport(), Qt::LeftButton);
    QTest::keyClick(&w, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(w.document().value_text("/polling/interval_min").value_or(""), std::string("60"));
    QCOMPARE(line_field(w, "/polling/interval_min")->text(), QStringLiteral("60"));
    QCOMPARE(w.document().value_text("/release/full_kb").value_or(""), std::string("400"));
    QTest::keyClick(&w, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(w.document().text(), original);
    QVERIFY(!w.isWindowModified());
    QVERIFY(!w.undo_action()->isEnabled());

    QTest::keyClick(&w, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(w.document().value_text("/release/full_kb").value_or(""), std::string("400"));
    QCOMPARE(line_field(w, "/release/full_kb")->text(), QStringLiteral("400"));
    QVERIFY(w.isWindowModified());
    // The JSON view shows what the document holds.
    QVERIFY(w.json_view()->toPlainText().contains("400"));

    // The Edit menu names the step.
    QVERIFY2(w.undo_action()->text().contains("/release/full_kb"), qPrintable(w.undo_action()->text()));
  }

  // First launch: the start page, no error box and no error list; the shipped
  // scenarios with their descriptions; a double-click opens one, and it is then
  // the first recent file on the next start page.
  void start_page_opens_shipped_and_recent_files() {
    const QString shipped = QFileInfo(source_path("scenarios/default.json")).canonicalFilePath();
    {
      MainWindow w;
      w.show();
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      QVERIFY(w.start_page_shown());
      QVERIFY(w.start_page()->isVisible());
      QVERIFY(!w.error_list()->isVisible());
      QVERIFY(QApplication::activeModalWidget() == nullptr);
      QVERIFY(!w.run_action()->isEnabled());

      QListWidget* list = w.shipped_list();
      QVERIFY(list->count() >= 10);
      QListWidgetItem* first = list->item(0);
      QCOMPARE(QFileInfo(first->data(Qt::UserRole).toString()).fileName(), QStringLiteral("default.json"));
      const nlohmann::json j = nlohmann::json::parse(read_all(shipped).toStdString());
      QVERIFY(first->text().contains(QString::fromStdString(j["description"].get<std::string>())));
      QVERIFY(w.recent_list()->item(0)->flags() == Qt::NoItemFlags);  // "(none yet …)"

      const QRect rect = list->visualItemRect(first);
      QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, rect.center());
      QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, rect.center());
      QTRY_VERIFY(!w.start_page_shown());
      QCOMPARE(QString::fromStdString(w.document().text()), QString::fromUtf8(read_all(shipped)));
      QVERIFY(w.scenario_valid());
      QVERIFY(w.run_action()->isEnabled());
    }
    MainWindow again;
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QListWidget* recent = again.recent_list();
    QCOMPARE(QFileInfo(recent->item(0)->data(Qt::UserRole).toString()).canonicalFilePath(), shipped);
    // Keyboard: select it and press Enter.
    recent->setFocus();
    recent->setCurrentRow(0);
    QTest::keyClick(recent, Qt::Key_Return);
    QTRY_VERIFY(!again.start_page_shown());
    QCOMPARE(QString::fromStdString(again.document().text()), QString::fromUtf8(read_all(shipped)));
  }

  // Baseline, a what-if, and the comparison: groups in order with the cost per
  // link, readable labels with units, "what changed" naming the edited value,
  // better/worse by the metric's direction, and "Changed only" clicked.
  void comparison_groups_changes_and_filter() {
    QTemporaryDir dir;
    const QString path = small_cellular(dir);
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(path), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QVERIFY(w.keep_as_baseline());
    type_into(w, "/release/full_kb", "400");
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    CompareTable* t = w.totals();

    // Groups, in order, each a heading row.
    QStringList groups;
    for (int row = 0; row < t->rowCount(); ++row)
      if (t->is_group_row(row)) groups << t->item(row, CompareTable::kMetric)->text();
    QCOMPARE(groups, (QStringList{"Outcome", "Time", "Cost", "Delivery", "Rollout"}));
    // Every metric is in the table, under the group its presentation names.
    QString group;
    for (int row = 0; row < t->rowCount(); ++row) {
      if (t->is_group_row(row)) {
        group = t->item(row, CompareTable::kMetric)->text();
        continue;
      }
      const std::string key = t->metric_at(row);
      if (key.starts_with("link:")) {
        QCOMPARE(group, QStringLiteral("Cost"));
        continue;
      }
      QCOMPARE(group, QString::fromStdString(ota::models::metric_presentation(key).group));
    }
    for (const ota::models::MetricInfo& m : ota::models::metrics()) QVERIFY2(t->row_of(m.name) >= 0, m.name.c_str());
    QCOMPARE(t->item(t->row_of("time_to_95pct_h"), CompareTable::kMetric)->text(), QStringLiteral("time to 95 % (h)"));

    // Cost per link: 2,000 devices × 400 KB at $0.20/MB = $160 (baseline 500 KB: $200).
    const int link_cost = t->row_of("link:cellular-020:cost_usd");
    QVERIFY(link_cost >= 0);
    QCOMPARE(t->value(link_cost, CompareTable::kBaseline), 200.0);
    QCOMPARE(t->value(link_cost, CompareTable::kCurrent), 160.0);
    QCOMPARE(t->value(t->row_of("link:cellular-020:data_bytes"), CompareTable::kCurrent), 2000 * 400e3);

    // Direction: less cost is better, fewer bytes better; updated unchanged is neither.
    QCOMPARE(t->verdict(t->row_of("data_cost_usd")), 1);
    QCOMPARE(t->verdict(link_cost), 1);
    QCOMPARE(t->verdict(t->row_of("updated")), 0);
    const QColor good = t->item(t->row_of("data_cost_usd"), CompareTable::kDifference)->foreground().color();
    QVERIFY(good.green() > good.red());

    // What changed: exactly the edited value.
    QListWidget* changes = w.changes_list();
    QVERIFY(changes->isVisible());
    QCOMPARE(changes->count(), 1);
    QCOMPARE(changes->item(0)->text(), QStringLiteral("/release/full_kb: 500 → 400"));

    // "Changed only", clicked: unchanged metrics and empty groups hide, changed ones stay.
    QCheckBox* only = w.changed_only_box();
    QVERIFY(only->isEnabled());
    QTest::mouseClick(only, Qt::LeftButton, {}, QPoint(8, only->height() / 2));
    QVERIFY(only->isChecked());
    QVERIFY(!t->isRowHidden(t->row_of("data_cost_usd")));
    QVERIFY(!t->isRowHidden(link_cost));
    QVERIFY(t->isRowHidden(t->row_of("updated")));
    QVERIFY(t->isRowHidden(t->row_of("bricked")));
    for (int row = 0; row < t->rowCount(); ++row)
      if (!t->is_group_row(row) && !t->isRowHidden(row))
        QVERIFY2(t->value(row, CompareTable::kDifference) != 0, t->metric_at(row).c_str());
    QTest::mouseClick(only, Qt::LeftButton, {}, QPoint(8, only->height() / 2));
    QVERIFY(!t->isRowHidden(t->row_of("updated")));

    // A worse what-if: a bigger image costs more, coloured worse.
    type_into(w, "/release/full_kb", "600");
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QCOMPARE(t->verdict(t->row_of("data_cost_usd")), -1);
    const QColor bad = t->item(t->row_of("data_cost_usd"), CompareTable::kDifference)->foreground().color();
    QVERIFY(bad.red() > bad.green());
  }

  // In the window: the gate decisions panel under the charts lists the run's
  // decisions; a click on a row marks it on the stage timeline, a click on
  // the timeline's marker selects the row.
  void gate_panel_linked_to_the_timeline() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(source_path("scenarios/gate-threshold.json")), QString());
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    const ota::models::RunReport& r = w.current_result()->first();
    ota::gui::GatePanel* gates = w.gates();
    QVERIFY(gates->isVisible());
    QCOMPARE(gates->event_count(), static_cast<int>(r.rollout.events.size()));
    int stop = -1;
    for (std::size_t i = 0; i < r.rollout.events.size(); ++i)
      if (r.rollout.events[i].kind == "rollback" || r.rollout.events[i].kind == "abort" ||
          r.rollout.events[i].kind == "pause")
        stop = static_cast<int>(i);
    QVERIFY2(stop >= 0, "the scenario's rollout stops");
    QVERIFY(gates->table()->item(stop, ota::gui::GatePanel::kReason)->text() ==
            QString::fromStdString(r.rollout.events[static_cast<std::size_t>(stop)].reason));

    QTableWidget* table = gates->table();
    table->scrollToItem(table->item(stop, 0));
    const QRect cell = table->visualItemRect(table->item(stop, ota::gui::GatePanel::kAction));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QCOMPARE(gates->selected_event(), stop);
    ota::gui::ChartPanel* timeline = w.timeline_chart();
    QCOMPARE(timeline->marked_event(), stop);

    // Back: select another row, then click the stop's marker on the chart.
    const QRect first = table->visualItemRect(table->item(0, ota::gui::GatePanel::kAction));
    table->scrollToItem(table->item(0, 0));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualItemRect(table->item(0, 0)).center());
    Q_UNUSED(first);
    QCOMPARE(timeline->marked_event(), 0);
    const std::optional<QPointF> at = timeline->event_position(stop);
    QVERIFY(at);
    const QPoint click = timeline->view()->mapFromScene(*at);
    QTest::mouseClick(timeline->view()->viewport(), Qt::LeftButton, {}, click);
    QTRY_COMPARE(timeline->marked_event(), stop);
    QCOMPARE(gates->selected_event(), stop);
  }

  // Right-click a field, "Sweep this…": the sweep tab opens on that field;
  // values typed and Run clicked sweep the scenario as edited.
  void sweep_this_from_the_form() {
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(small_cellular(dir)), QString());
    type_into(w, "/release/full_kb", "300");  // an edit not saved: the sweep uses it
    QLineEdit* field = line_field(w, "/polling/interval_min");
    // A right click through the window, as the window system delivers it (the
    // widget overloads of QTest bypass the context-menu event).
    const QPoint at = field->mapTo(field->window(), QPoint(10, field->height() / 2));
    QTest::mouseClick(field->window()->windowHandle(), Qt::RightButton, {}, at);
    QMenu* menu = nullptr;
    QTRY_VERIFY((menu = qobject_cast<QMenu*>(QApplication::activePopupWidget())) != nullptr);
    QAction* sweep = menu->findChild<QAction*>(QStringLiteral("sweep_this"));
    QVERIFY(sweep);
    QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(sweep).center());
    QTRY_VERIFY(w.result_tabs()->currentWidget() == w.sweep());
    ota::gui::SweepPanel* panel = w.sweep();
    QCOMPARE(panel->pointer_field()->text(), QStringLiteral("/polling/interval_min"));
    QTest::keyClicks(panel->values_field(), "30,60,120");
    QSignalSpy done(panel, &ota::gui::SweepPanel::finished);
    QTest::mouseClick(panel->run_button(), Qt::LeftButton);
    QVERIFY(done.wait(kRunTimeoutMs));
    QCOMPARE(done.takeFirst().at(0).value<RunEnd>(), RunEnd::Completed);
    panel->set_metric("data_cost_usd");
    const std::vector<ota::gui::SweepPlotPoint> points = panel->plotted();
    QCOMPARE(points.size(), std::size_t{3});
    // 2,000 devices × 300 KB (the edit) at $0.20/MB, whatever the poll interval.
    for (const auto& p : points) QCOMPARE(p.mean, 120.0);
  }

  // One number format: no exponent for counts, three significant digits for
  // fractions, "never" for a time not reached and "n/a" for a mean over nothing.
  void one_number_format() {
    const QLocale saved;
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    const double inf = std::numeric_limits<double>::infinity();
    QCOMPARE(CompareTable::format("server_requests", 33573405), QStringLiteral("33,573,405"));
    QCOMPARE(CompareTable::format_interval("server_requests", 33573405, 33573300.2, 33573510.7),
             QStringLiteral("33,573,405 [33,573,300, 33,573,511]"));
    QCOMPARE(CompareTable::format("crashes", 70.1137), QStringLiteral("70.1"));
    QCOMPARE(CompareTable::format("crashes", 1234.56), QStringLiteral("1,235"));
    QCOMPARE(CompareTable::format("time_to_95pct_h", inf), QStringLiteral("never"));
    QCOMPARE(CompareTable::format("stopped_at_h", inf), QStringLiteral("never"));
    QCOMPARE(CompareTable::format("poll_delay_mean_s", inf), QStringLiteral("n/a"));
    QCOMPARE(CompareTable::format("time_to_95pct_h", 156.9579), QStringLiteral("157 h"));
    QCOMPARE(CompareTable::format("time_to_95pct_h", 43.6), QStringLiteral("43.60 h"));
    QCOMPARE(CompareTable::format("data_cost_usd", 1000), QStringLiteral("$1,000"));
    QCOMPARE(CompareTable::format("data_cost_usd", -12.5), QStringLiteral("−$12.50"));
    QCOMPARE(CompareTable::format("updated_share", 0.95), QStringLiteral("95.00 %"));
    QLocale::setDefault(saved);
  }

  // While a run goes the table's names are whole ("time to 95 % (h)", never
  // "tim…t_h"): every visible name fits its column.
  void metric_names_whole_while_running() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    QVERIFY(w.start_run());
    QTRY_VERIFY_WITH_TIMEOUT(w.partial_draws() >= 1 || !w.running(), kRunTimeoutMs);
    CompareTable* t = w.totals();
    auto check = [&] {
      const int width = t->columnWidth(CompareTable::kMetric);
      for (int row = 0; row < t->rowCount(); ++row) {
        if (t->is_group_row(row)) continue;
        const QTableWidgetItem* item = t->item(row, CompareTable::kMetric);
        const QFont font = item->data(Qt::FontRole).isValid() ? item->font() : t->font();
        const int needed = QFontMetrics(font).horizontalAdvance(item->text());
        QVERIFY2(needed <= width, qPrintable(QStringLiteral("%1 needs %2 px of %3").arg(item->text()).arg(needed).arg(width)));
      }
    };
    if (w.running()) {
      QVERIFY(t->is_running());
      check();
      w.cancel_run();
      QTRY_VERIFY_WITH_TIMEOUT(!w.running(), kRunTimeoutMs);
    }
    check();
  }

  // A session keeps the scenario as edited and the baseline: opened in a new
  // window, the baseline runs again to the same numbers and the edit is back.
  void session_keeps_scenario_and_baseline() {
    QTemporaryDir dir;
    const QString path = small_cellular(dir);
    const QString session = dir.filePath("plan.otasim-session.json");
    std::vector<double> baseline_values;
    std::string edited;
    {
      MainWindow w;
      w.show();
      QVERIFY(QTest::qWaitForWindowActive(&w));
      QCOMPARE(w.open_file(path), QString());
      QCOMPARE(run_to_end(w), RunEnd::Completed);
      QVERIFY(w.keep_as_baseline());
      for (const ota::models::MetricInfo& m : ota::models::metrics())
        baseline_values.push_back(*ota::models::metric_value(w.baseline_result()->first(), m.name));
      type_into(w, "/release/full_kb", "400");
      edited = w.document().text();
      QCOMPARE(w.save_session(session), QString());
    }
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy finished(&w, &MainWindow::run_finished);
    QCOMPARE(w.open_session(session), QString());
    QVERIFY(w.restoring_session());
    QVERIFY(finished.wait(kRunTimeoutMs));
    QVERIFY(!w.restoring_session());
    QVERIFY(w.baseline_result() != nullptr);
    std::size_t i = 0;
    for (const ota::models::MetricInfo& m : ota::models::metrics()) {
      const double again = *ota::models::metric_value(w.baseline_result()->first(), m.name);
      const double before = baseline_values[i++];
      QVERIFY2(again == before || (std::isnan(again) && std::isnan(before)), m.name.c_str());
    }
    QCOMPARE(w.document().text(), edited);
    QCOMPARE(line_field(w, "/release/full_kb")->text(), QStringLiteral("400"));
    QVERIFY(w.isWindowModified());  // the edit was never saved to the scenario file
    QVERIFY(w.windowTitle().contains("cellular.json"));
    QCOMPARE(run_to_end(w), RunEnd::Completed);
    QCOMPARE(w.changes_list()->item(0)->text(), QStringLiteral("/release/full_kb: 500 → 400"));

    // Bad sessions: an error naming the file and the place; nothing changes.
    const QString bad = dir.filePath("bad.json");
    auto write = [&](const QByteArray& bytes) {
      QFile f(bad);
      QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
      f.write(bytes);
    };
    const std::string before = w.document().text();
    write("{ not json");
    QCOMPARE(w.open_session(bad), bad + ": not JSON");
    write(R"({"format": "otasim-session/1", "scenario": {"path": "", "base_dir": ".", "text": "{}"}, "replications": 0})");
    QVERIFY2(w.open_session(bad).contains(bad + ": /replications: expected an integer from 1 to 1000"),
             qPrintable(w.open_session(bad)));
    write(R"({"format": "otasim-scenario/1"})");
    QVERIFY(w.open_session(bad).contains("/format"));
    QCOMPARE(w.document().text(), before);
    QVERIFY(w.open_session(dir.filePath("missing.json")).startsWith("cannot read " + dir.filePath("missing.json")));
  }

  // A dark palette: field text, a field in error and its message, and the
  // error list all read (WCAG contrast of text against background).
  void dark_palette_is_readable() {
    const QPalette saved = QApplication::palette();
    QApplication::setPalette(dark_palette());
    {
      QTemporaryDir dir;
      MainWindow w;
      w.show();
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      QCOMPARE(w.open_file(small_cellular(dir)), QString());
      type_into(w, "/release/full_kb", "-5");
      QTRY_VERIFY(!w.scenario_valid());
      QLineEdit* edit = line_field(w, "/release/full_kb");
      QVERIFY(!edit->styleSheet().isEmpty());  // marked in error
      const double field = text_contrast(edit);
      QVERIFY2(field >= 4.5, qPrintable(QStringLiteral("field text contrast %1").arg(field)));
      const QString message = w.form()->field_error("/release/full_kb");
      QVERIFY(!message.isEmpty());
      const QColor error_text(ota::gui::ScenarioForm::error_colour(QApplication::palette()));
      QVERIFY(contrast(error_text, QApplication::palette().color(QPalette::Window)) >= 4.5);
      QVERIFY(w.error_list()->isVisible());
      QVERIFY(contrast(error_text, QApplication::palette().color(QPalette::Base)) >= 4.5);
    }
    QApplication::setPalette(saved);
    // Light: the same colours' light variants read too.
    const QColor light_error(ota::gui::ScenarioForm::error_colour(QApplication::palette()));
    QVERIFY(contrast(light_error, QApplication::palette().color(QPalette::Base)) >= 4.5);
  }

  // 1600 × 1000 pixels at 125 %: 1280 × 800 device-independent. The window
  // fits, and the form's right column is inside its pane.
  void fits_the_screen_at_125_percent() {
    MainWindow w;
    w.fit_to(QRect(0, 0, 1280, 800));
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.open_file(source_path("scenarios/default.json")), QString());
    QApplication::processEvents();
    QVERIFY2(w.width() <= 1280 && w.height() <= 800, qPrintable(QStringLiteral("%1x%2").arg(w.width()).arg(w.height())));
    QVERIFY2(w.minimumSizeHint().width() <= 1280, qPrintable(QString::number(w.minimumSizeHint().width())));
    auto* scroll = w.form()->findChild<QScrollArea*>();
    QVERIFY(scroll);
    const int visible = scroll->viewport()->width();
    for (const std::string& p : w.form()->pointers()) {
      QWidget* field = w.form()->field(p);
      if (!field->isVisibleTo(w.form())) continue;  // in a closed "All fields" section
      const QPoint right = field->mapTo(scroll->viewport(), QPoint(field->width(), 0));
      QVERIFY2(right.x() <= visible, qPrintable(QStringLiteral("%1 ends at %2 of %3").arg(QString::fromStdString(p)).arg(right.x()).arg(visible)));
    }

    // End to end: the program on a 1600 × 1000 screen with QT_SCALE_FACTOR=1.25.
    QTemporaryDir dir;
    const QString config = dir.filePath("screen.json");
    QFile f(config);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"screens": [{"name": "s", "x": 0, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]})");
    f.close();
    QProcess gui;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen:configfile=" + config);
    env.insert("QT_SCALE_FACTOR", "1.25");
    gui.setProcessEnvironment(env);
    const QString png = dir.filePath("shot.png");
    gui.start(binary("otasim-gui"), {"--screenshot", png, source_path("scenarios/cellular-cost-full.json")});
    QVERIFY(gui.waitForFinished(120'000));
    QCOMPARE(gui.exitCode(), 0);
    const QImage shot(png);
    QVERIFY2(shot.width() <= 1600 && shot.height() <= 1000, qPrintable(QStringLiteral("%1x%2").arg(shot.width()).arg(shot.height())));
    QVERIFY(shot.width() >= 1400);  // and it uses the screen
  }
};

OTA_GUI_TEST(WindowTest);
#include "test_window.moc"
