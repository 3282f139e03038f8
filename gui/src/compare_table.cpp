#include "ota/gui/compare_table.hpp"

#include <QHeaderView>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "ota/models/report/metrics.hpp"

namespace ota::gui {

namespace {

constexpr int kIntervalLowRole = Qt::UserRole + 1;
constexpr int kIntervalHighRole = Qt::UserRole + 2;

// What a planner looks at first.
const char* const kHeadline[] = {
    "updated",          "updated_share",     "time_to_50pct_h", "time_to_90pct_h",   "time_to_95pct_h",
    "time_to_99pct_h",  "total_cost_usd",    "data_cost_usd",   "server_egress_cost_usd", "cdn_cost_usd",
    "service_cost_usd", "data_bytes",        "failed",          "rolled_back",       "bricked",
    "deferred_battery", "battery_blocked",   "server_requests", "refused_requests",  "stages_opened",
    "completed",        "stopped_at_h",      "energy_j",
};

bool is_usd(const std::string& m) { return m.ends_with("_usd"); }
bool is_hours(const std::string& m) { return m.ends_with("_h"); }
bool is_share(const std::string& m) { return m.ends_with("_share"); }
bool is_bytes(const std::string& m) { return m.ends_with("_bytes"); }

QTableWidgetItem* number_item(const QString& text, double v) {
  auto* item = new QTableWidgetItem(text);
  item->setData(Qt::UserRole, v);
  item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  return item;
}

struct Cell {
  double value = std::numeric_limits<double>::quiet_NaN();
  bool has_interval = false;
  double low = 0, high = 0;
};

// The cell for `metric` over the reports of `run`.
Cell cell_of(const RunResult& run, const std::string& metric) {
  Cell c;
  if (run.replications() == 1) {
    c.value = models::metric_value(run.first(), metric).value_or(std::nan(""));
    return c;
  }
  const models::MetricSummary s = models::summarize(metric, models::metric_values(run.reports, metric));
  c.value = s.mean;
  c.has_interval = true;
  c.low = s.ci_low;
  c.high = s.ci_high;
  return c;
}

Cell difference_of(const RunResult& baseline, const RunResult& current, const std::string& metric) {
  Cell c;
  const std::vector<double> b = models::metric_values(baseline.reports, metric);
  const std::vector<double> a = models::metric_values(current.reports, metric);
  if (a.size() > 1 && a.size() == b.size()) {
    // Paired by replication seed: the difference's own interval.
    std::vector<double> d(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
    const models::MetricSummary s = models::summarize(metric, d);
    c.value = s.mean;
    c.has_interval = std::isfinite(s.ci_low) && std::isfinite(s.ci_high);
    c.low = s.ci_low;
    c.high = s.ci_high;
    return c;
  }
  c.value = cell_of(current, metric).value - cell_of(baseline, metric).value;
  return c;
}

}  // namespace

CompareTable::CompareTable(QWidget* parent) : QTableWidget(parent) {
  setColumnCount(kColumnCount);
  setHorizontalHeaderLabels({tr("Metric"), tr("Baseline"), tr("Current"), tr("Difference"), tr("Change")});
  verticalHeader()->setVisible(false);
  verticalHeader()->setDefaultSectionSize(20);
  // Numbers get the room; long metric names elide (their tooltip has the description).
  horizontalHeader()->setSectionResizeMode(kMetric, QHeaderView::Stretch);
  for (int c = kBaseline; c < kColumnCount; ++c)
    horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  setTextElideMode(Qt::ElideMiddle);
  setAlternatingRowColors(true);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setSelectionBehavior(QAbstractItemView::SelectRows);
  QFont f = font();
  f.setPointSizeF(8.5);
  setFont(f);
  show_runs(nullptr, nullptr);
}

std::vector<std::string> CompareTable::metric_order() {
  std::vector<std::string> order(std::begin(kHeadline), std::end(kHeadline));
  for (const models::MetricInfo& m : models::metrics())
    if (std::find(order.begin(), order.end(), m.name) == order.end()) order.push_back(m.name);
  // Only names the model knows (the headline list could outlive a rename).
  std::erase_if(order, [](const std::string& name) {
    const auto& all = models::metrics();
    return std::none_of(all.begin(), all.end(), [&](const models::MetricInfo& m) { return m.name == name; });
  });
  return order;
}

QString CompareTable::format(const std::string& metric, double v) {
  if (std::isnan(v)) return QString();
  if (std::isinf(v)) return v > 0 ? tr("never") : QStringLiteral("−∞");
  const QLocale locale;
  const QString sign = v < 0 ? QStringLiteral("−") : QString();
  const double a = std::fabs(v);
  if (is_usd(metric)) return sign + QStringLiteral("$") + locale.toString(a, 'f', a >= 1000 ? 0 : 2);
  if (is_hours(metric)) return sign + locale.toString(a, 'f', 2) + QStringLiteral(" h");
  if (is_share(metric)) return sign + locale.toString(100.0 * a, 'f', 2) + QStringLiteral(" %");
  if (is_bytes(metric)) return sign + locale.toString(a / 1e6, 'f', a >= 1e8 ? 0 : 2) + QStringLiteral(" MB");
  if (metric == "energy_j") return sign + locale.toString(a / 1e3, 'f', 1) + QStringLiteral(" kJ");
  if (a == std::floor(a) && a < 1e15) return sign + locale.toString(static_cast<qlonglong>(a));
  return sign + locale.toString(a, 'g', 6);
}

void CompareTable::show_runs(const RunResult* baseline, const RunResult* current) {
  const std::vector<std::string> order = metric_order();
  setRowCount(static_cast<int>(order.size()));
  setColumnHidden(kBaseline, baseline == nullptr);
  setColumnHidden(kDifference, baseline == nullptr);
  setColumnHidden(kChange, baseline == nullptr);
  // Short headers keep the numbers readable; the tooltips name the runs.
  horizontalHeaderItem(kCurrent)->setToolTip(current ? current->label : QString());
  horizontalHeaderItem(kBaseline)->setToolTip(baseline ? baseline->label : QString());
  std::map<std::string, std::string> descriptions;
  for (const models::MetricInfo& m : models::metrics()) descriptions[m.name] = m.description;

  auto value_item = [](const std::string& metric, const Cell& c) {
    QString text = format(metric, c.value);
    if (c.has_interval && c.low != c.high)
      text += QStringLiteral(" [%1, %2]").arg(format(metric, c.low), format(metric, c.high));
    QTableWidgetItem* item = number_item(text, c.value);
    if (c.has_interval) {
      item->setData(kIntervalLowRole, c.low);
      item->setData(kIntervalHighRole, c.high);
      item->setToolTip(tr("mean and 95 % confidence interval over the replications"));
    }
    return item;
  };

  for (int row = 0; row < static_cast<int>(order.size()); ++row) {
    const std::string& metric = order[static_cast<std::size_t>(row)];
    auto* name = new QTableWidgetItem(QString::fromStdString(metric));
    name->setData(Qt::UserRole, QString::fromStdString(metric));
    name->setToolTip(QString::fromStdString(descriptions[metric]));
    name->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    setItem(row, kMetric, name);
    for (int c = kBaseline; c < kColumnCount; ++c) setItem(row, c, number_item(QString(), std::nan("")));
    if (current) setItem(row, kCurrent, value_item(metric, cell_of(*current, metric)));
    if (baseline) setItem(row, kBaseline, value_item(metric, cell_of(*baseline, metric)));
    if (baseline && current) {
      const Cell d = difference_of(*baseline, *current, metric);
      QTableWidgetItem* diff = value_item(metric, d);
      if (std::isfinite(d.value) && d.value > 0) diff->setText("+" + diff->text());
      setItem(row, kDifference, diff);
      const double b = cell_of(*baseline, metric).value;
      const double change = (std::isfinite(b) && b != 0 && std::isfinite(d.value)) ? d.value / std::fabs(b) : std::nan("");
      QTableWidgetItem* pct =
          number_item(std::isnan(change) ? QString() : QStringLiteral("%1%2 %").arg(change > 0 ? "+" : "").arg(
                                                           QLocale().toString(100 * change, 'f', 1)),
                      change);
      setItem(row, kChange, pct);
      // Differences stand out: a run that changed this metric is what the planner came for.
      if (std::isfinite(d.value) && d.value != 0) {
        for (int c = kMetric; c < kColumnCount; ++c) {
          QFont f = item(row, c)->font();
          f.setBold(true);
          item(row, c)->setFont(f);
        }
      }
    }
  }
  if (running_) style_running();
}

void CompareTable::set_running(bool running) {
  running_ = running;
  horizontalHeaderItem(kCurrent)->setText(running ? tr("Current (running…)") : tr("Current"));
  style_running();
}

void CompareTable::style_running() {
  for (int row = 0; row < rowCount(); ++row)
    for (int c = kCurrent; c < kColumnCount; ++c)
      if (QTableWidgetItem* it = item(row, c))
        it->setForeground(running_ ? QBrush(QColor(0x75, 0x75, 0x75)) : QBrush());
}

int CompareTable::row_of(const std::string& name) const {
  for (int row = 0; row < rowCount(); ++row)
    if (item(row, kMetric) && item(row, kMetric)->data(Qt::UserRole).toString().toStdString() == name) return row;
  return -1;
}

double CompareTable::value(int row, int column) const {
  const QTableWidgetItem* it = item(row, column);
  if (!it || !it->data(Qt::UserRole).isValid()) return std::nan("");
  return it->data(Qt::UserRole).toDouble();
}

bool CompareTable::interval(int row, int column, double& low, double& high) const {
  const QTableWidgetItem* it = item(row, column);
  if (!it || !it->data(kIntervalLowRole).isValid()) return false;
  low = it->data(kIntervalLowRole).toDouble();
  high = it->data(kIntervalHighRole).toDouble();
  return true;
}

}  // namespace ota::gui
