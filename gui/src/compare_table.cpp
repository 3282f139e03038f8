#include "ota/gui/compare_table.hpp"

#include <QHeaderView>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ota/models/report/metrics.hpp"

namespace ota::gui {

namespace {

constexpr int kKeyRole = Qt::UserRole;  // metric column: the row's metric name
constexpr int kIntervalLowRole = Qt::UserRole + 1;
constexpr int kIntervalHighRole = Qt::UserRole + 2;
constexpr int kGroupRole = Qt::UserRole + 3;    // metric column: true on a group heading
constexpr int kVerdictRole = Qt::UserRole + 4;  // metric column: +1 better, -1 worse, 0 neither
constexpr int kChangedRole = Qt::UserRole + 5;  // metric column: the value differs from the baseline

// What a planner looks at first, in each group.
const char* const kHeadline[] = {
    "updated",          "updated_share",     "time_to_50pct_h", "time_to_90pct_h",   "time_to_95pct_h",
    "time_to_99pct_h",  "total_cost_usd",    "data_cost_usd",   "server_egress_cost_usd", "cdn_cost_usd",
    "service_cost_usd", "data_bytes",        "failed",          "rolled_back",       "bricked",
    "deferred_battery", "battery_blocked",   "server_requests", "refused_requests",  "stages_opened",
    "completed",        "stopped_at_h",      "energy_j",
};

bool is_usd(const std::string& m) { return m.ends_with("_usd"); }
bool is_time(const std::string& m) { return m.ends_with("_h") || m.ends_with("_s"); }
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

// One row of the table: a metric, or the data or cost over one link profile.
struct RowSpec {
  std::string key;    // metric name, or link:<profile>:data_bytes / :cost_usd
  std::string group;
  QString label;      // with its unit
  QString tooltip;
  models::Better better = models::Better::Lower;
  std::function<double(const models::RunReport&)> value;
};

std::vector<double> values_of(const RunResult& run, const RowSpec& row) {
  std::vector<double> v;
  v.reserve(run.reports.size());
  for (const models::RunReport& r : run.reports) v.push_back(row.value(r));
  return v;
}

// The cell for `row` over the reports of `run`.
Cell cell_of(const RunResult& run, const RowSpec& row) {
  Cell c;
  if (run.replications() == 1) {
    c.value = row.value(run.first());
    return c;
  }
  const models::MetricSummary s = models::summarize(row.key, values_of(run, row));
  c.value = s.mean;
  c.has_interval = true;
  c.low = s.ci_low;
  c.high = s.ci_high;
  return c;
}

Cell difference_of(const RunResult& baseline, const RunResult& current, const RowSpec& row) {
  Cell c;
  const std::vector<double> b = values_of(baseline, row);
  const std::vector<double> a = values_of(current, row);
  if (a.size() > 1 && a.size() == b.size()) {
    // Paired by replication seed: the difference's own interval.
    std::vector<double> d(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
    const models::MetricSummary s = models::summarize(row.key, d);
    c.value = s.mean;
    c.has_interval = std::isfinite(s.ci_low) && std::isfinite(s.ci_high);
    c.low = s.ci_low;
    c.high = s.ci_high;
    return c;
  }
  c.value = cell_of(current, row).value - cell_of(baseline, row).value;
  return c;
}

QString unit_suffix(const std::string& unit) {
  if (unit.empty() || unit == "share of fleet") return QString();
  if (unit == "bytes") return QStringLiteral(" (MB)");
  if (unit == "J") return QStringLiteral(" (kJ)");
  return QStringLiteral(" (%1)").arg(QString::fromStdString(unit));
}

// The rows in display order: the groups in order, headline metrics first in
// each, then the rest in the metric list's order; the Cost group ends with the
// data and cost per link profile of either run.
std::vector<RowSpec> row_specs(const RunResult* baseline, const RunResult* current) {
  std::vector<RowSpec> rows;
  std::map<std::string, std::string> descriptions;
  for (const models::MetricInfo& m : models::metrics()) descriptions[m.name] = m.description;
  std::vector<std::string> links;
  for (const RunResult* run : {current, baseline})
    if (run)
      for (const models::LinkTotals& l : run->first().totals.by_link)
        if (std::find(links.begin(), links.end(), l.link) == links.end()) links.push_back(l.link);
  for (const std::string& name : CompareTable::metric_order()) {
    const models::MetricPresentation p = models::metric_presentation(name);
    RowSpec r;
    r.key = name;
    r.group = p.group;
    r.label = QString::fromStdString(p.label) + (p.unit == "share of fleet" ? QStringLiteral(" (%)") : unit_suffix(p.unit));
    r.tooltip = QStringLiteral("%1 — %2").arg(QString::fromStdString(name), QString::fromStdString(descriptions[name]));
    r.better = p.better;
    r.value = [name](const models::RunReport& report) { return models::metric_value(report, name).value_or(std::nan("")); };
    rows.push_back(std::move(r));
  }
  // Per link, after the Cost group's metrics.
  auto last_cost = std::find_if(rows.rbegin(), rows.rend(), [](const RowSpec& r) { return r.group == "Cost"; }).base();
  std::vector<RowSpec> per_link;
  for (const std::string& link : links) {
    auto find = [link](const models::RunReport& report) -> const models::LinkTotals* {
      for (const models::LinkTotals& l : report.totals.by_link)
        if (l.link == link) return &l;
      return nullptr;
    };
    RowSpec bytes;
    bytes.key = "link:" + link + ":data_bytes";
    bytes.group = "Cost";
    bytes.label = QStringLiteral("data over %1 (MB)").arg(QString::fromStdString(link));
    bytes.tooltip = QStringLiteral("bytes downloaded over link profile %1, all attempts").arg(QString::fromStdString(link));
    bytes.value = [find](const models::RunReport& report) {
      const models::LinkTotals* l = find(report);
      return l ? static_cast<double>(l->bytes) : 0.0;
    };
    RowSpec cost = bytes;
    cost.key = "link:" + link + ":cost_usd";
    cost.label = QStringLiteral("data cost over %1 (USD)").arg(QString::fromStdString(link));
    cost.tooltip = QStringLiteral("cost of the data over link profile %1, USD").arg(QString::fromStdString(link));
    cost.value = [find](const models::RunReport& report) {
      const models::LinkTotals* l = find(report);
      return l ? l->cost_usd : 0.0;
    };
    per_link.push_back(std::move(bytes));
    per_link.push_back(std::move(cost));
  }
  rows.insert(last_cost, std::make_move_iterator(per_link.begin()), std::make_move_iterator(per_link.end()));
  return rows;
}

bool dark_palette(const QPalette& palette) { return palette.color(QPalette::Base).lightness() < 128; }

}  // namespace

CompareTable::CompareTable(QWidget* parent) : QTableWidget(parent) {
  setColumnCount(kColumnCount);
  setHorizontalHeaderLabels({tr("Metric"), tr("Baseline"), tr("Current"), tr("Difference"), tr("Change")});
  verticalHeader()->setVisible(false);
  verticalHeader()->setDefaultSectionSize(20);
  // Every column as wide as its widest text (a name is never cut to
  // "tim…t_h"); the table scrolls sideways when the panel is narrow.
  for (int c = kMetric; c < kColumnCount; ++c)
    horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  horizontalHeader()->setStretchLastSection(true);
  setTextElideMode(Qt::ElideNone);
  setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
  setAlternatingRowColors(true);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setSelectionBehavior(QAbstractItemView::SelectRows);
  QFont f = font();
  f.setPointSizeF(8.5);
  setFont(f);
  show_runs(nullptr, nullptr);
}

std::vector<std::string> CompareTable::metric_order() {
  std::vector<std::string> order;
  const auto& all = models::metrics();
  auto known = [&](const std::string& name) {
    return std::any_of(all.begin(), all.end(), [&](const models::MetricInfo& m) { return m.name == name; });
  };
  for (const std::string& group : models::metric_groups()) {
    for (const char* name : kHeadline)
      if (known(name) && models::metric_presentation(name).group == group) order.emplace_back(name);
    for (const models::MetricInfo& m : all)
      if (models::metric_presentation(m.name).group == group &&
          std::find(order.begin(), order.end(), m.name) == order.end())
        order.push_back(m.name);
  }
  return order;
}

QString CompareTable::format(const std::string& metric, double v) {
  if (std::isnan(v)) return QString();
  if (std::isinf(v)) {
    if (v < 0) return QStringLiteral("−∞");
    // A time to reach something that was not reached; any other +inf is a mean over nothing.
    return metric.starts_with("time_to_") || metric == "stopped_at_h" ? tr("never") : tr("n/a");
  }
  const QLocale locale;
  const QString sign = v < 0 ? QStringLiteral("−") : QString();
  const double a = std::fabs(v);
  if (is_usd(metric)) return sign + QStringLiteral("$") + locale.toString(a, 'f', a >= 1000 ? 0 : 2);
  if (is_share(metric)) return sign + locale.toString(100.0 * a, 'f', 2) + QStringLiteral(" %");
  if (is_bytes(metric)) return sign + locale.toString(a / 1e6, 'f', a >= 1e8 ? 0 : 2) + QStringLiteral(" MB");
  if (metric == "energy_j") return sign + locale.toString(a / 1e3, 'f', 1) + QStringLiteral(" kJ");
  if (is_time(metric))
    return sign + locale.toString(a, 'f', a >= 100 ? 0 : 2) + (metric.ends_with("_h") ? QStringLiteral(" h")
                                                                                       : QStringLiteral(" s"));
  if (a == std::floor(a) && a < 1e15) return sign + locale.toString(static_cast<qlonglong>(a));
  if (a >= 100) return sign + locale.toString(a, 'f', 0);
  return sign + locale.toString(a, 'g', 3);
}

QString CompareTable::format_interval(const std::string& metric, double value, double low, double high) {
  QString text = format(metric, value);
  if (low != high) text += QStringLiteral(" [%1, %2]").arg(format(metric, low), format(metric, high));
  return text;
}

void CompareTable::show_runs(const RunResult* baseline, const RunResult* current) {
  const std::vector<RowSpec> specs = row_specs(baseline, current);
  has_baseline_ = baseline != nullptr && current != nullptr;
  clearSpans();
  // Rows: a heading for each group, then its metrics.
  std::vector<const RowSpec*> rows;
  std::vector<std::string> headings;
  for (const RowSpec& r : specs) {
    if (rows.empty() || (rows.back() == nullptr ? headings.back() : rows.back()->group) != r.group) {
      rows.push_back(nullptr);
      headings.push_back(r.group);
    }
    rows.push_back(&r);
  }
  setRowCount(static_cast<int>(rows.size()));
  setColumnHidden(kBaseline, baseline == nullptr);
  setColumnHidden(kDifference, baseline == nullptr);
  setColumnHidden(kChange, baseline == nullptr);
  // Short headers keep the numbers readable; the tooltips name the runs.
  horizontalHeaderItem(kCurrent)->setToolTip(current ? current->label : QString());
  horizontalHeaderItem(kBaseline)->setToolTip(baseline ? baseline->label : QString());
  const bool dark = dark_palette(palette());
  const QColor good = dark ? QColor(0x81, 0xc7, 0x84) : QColor(0x2e, 0x7d, 0x32);
  const QColor bad = dark ? QColor(0xef, 0x9a, 0x9a) : QColor(0xc6, 0x28, 0x28);

  auto value_item = [](const std::string& metric, const Cell& c) {
    QTableWidgetItem* item =
        number_item(c.has_interval ? format_interval(metric, c.value, c.low, c.high) : format(metric, c.value), c.value);
    if (c.has_interval) {
      item->setData(kIntervalLowRole, c.low);
      item->setData(kIntervalHighRole, c.high);
      item->setToolTip(tr("mean and 95 % confidence interval over the replications"));
    }
    return item;
  };

  std::size_t heading = 0;
  for (int row = 0; row < static_cast<int>(rows.size()); ++row) {
    const RowSpec* spec = rows[static_cast<std::size_t>(row)];
    if (!spec) {
      auto* head = new QTableWidgetItem(tr(headings[heading++].c_str()));
      QFont f = head->font();
      f.setBold(true);
      head->setFont(f);
      head->setData(kGroupRole, true);
      head->setData(kKeyRole, QString());
      head->setFlags(Qt::ItemIsEnabled);
      setItem(row, kMetric, head);
      for (int c = kBaseline; c < kColumnCount; ++c) setItem(row, c, new QTableWidgetItem);
      setSpan(row, kMetric, 1, kColumnCount);
      continue;
    }
    const std::string& metric = spec->key;
    auto* name = new QTableWidgetItem(spec->label);
    name->setData(kKeyRole, QString::fromStdString(metric));
    name->setData(kGroupRole, false);
    name->setData(kVerdictRole, 0);
    name->setData(kChangedRole, false);
    name->setToolTip(spec->tooltip);
    name->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    setItem(row, kMetric, name);
    // Per-link rows format as their unit's metric does.
    const std::string unit_key = metric.starts_with("link:") ? metric.substr(metric.rfind(':') + 1) : metric;
    for (int c = kBaseline; c < kColumnCount; ++c) setItem(row, c, number_item(QString(), std::nan("")));
    if (current) setItem(row, kCurrent, value_item(unit_key, cell_of(*current, *spec)));
    if (baseline) setItem(row, kBaseline, value_item(unit_key, cell_of(*baseline, *spec)));
    if (baseline && current) {
      const Cell d = difference_of(*baseline, *current, *spec);
      QTableWidgetItem* diff = value_item(unit_key, d);
      if (std::isfinite(d.value) && d.value > 0) diff->setText("+" + diff->text());
      setItem(row, kDifference, diff);
      const double b = cell_of(*baseline, *spec).value;
      const double change = (std::isfinite(b) && b != 0 && std::isfinite(d.value)) ? d.value / std::fabs(b) : std::nan("");
      QTableWidgetItem* pct =
          number_item(std::isnan(change) ? QString() : QStringLiteral("%1%2 %").arg(change > 0 ? "+" : "").arg(
                                                           QLocale().toString(100 * change, 'f', 1)),
                      change);
      setItem(row, kChange, pct);
      const double before = b, now = cell_of(*current, *spec).value;
      const bool changed = std::isfinite(d.value) ? d.value != 0 : !(before == now || (std::isnan(before) && std::isnan(now)));
      name->setData(kChangedRole, changed);
      // A real difference: nonzero, and with replications an interval clear of zero.
      const bool real = changed && (!d.has_interval || d.low > 0 || d.high < 0);
      int verdict = 0;
      if (real && spec->better != models::Better::Neither) {
        const double direction = std::isfinite(d.value) ? d.value : (std::isinf(now) ? 1.0 : -1.0);
        verdict = (direction > 0) == (spec->better == models::Better::Higher) ? 1 : -1;
      }
      name->setData(kVerdictRole, verdict);
      if (!real && changed && d.has_interval)
        diff->setToolTip(tr("paired difference over the replications; its 95 % interval includes 0, so the "
                            "change may be noise"));
      if (verdict != 0) {
        const QColor colour = verdict > 0 ? good : bad;
        diff->setForeground(colour);
        pct->setForeground(colour);
      }
      // Differences stand out: a run that changed this metric is what the planner came for.
      if (changed) {
        for (int c = kMetric; c < kColumnCount; ++c) {
          QFont f = item(row, c)->font();
          f.setBold(true);
          item(row, c)->setFont(f);
        }
      }
    }
  }
  apply_filter();
  if (running_) style_running();
}

void CompareTable::set_changed_only(bool on) {
  changed_only_ = on;
  apply_filter();
}

void CompareTable::apply_filter() {
  const bool filter = changed_only_ && has_baseline_;
  int heading = -1;
  bool any_in_group = false;
  for (int row = 0; row < rowCount(); ++row) {
    if (is_group_row(row)) {
      if (heading >= 0) setRowHidden(heading, filter && !any_in_group);
      heading = row;
      any_in_group = false;
      continue;
    }
    const QTableWidgetItem* name = item(row, kMetric);
    const bool show = !filter || (name && name->data(kChangedRole).toBool());
    setRowHidden(row, !show);
    any_in_group = any_in_group || show;
  }
  if (heading >= 0) setRowHidden(heading, filter && !any_in_group);
}

void CompareTable::set_running(bool running) {
  running_ = running;
  horizontalHeaderItem(kCurrent)->setText(running ? tr("Current (running…)") : tr("Current"));
  style_running();
}

void CompareTable::style_running() {
  const QBrush grey = palette().brush(QPalette::Disabled, QPalette::Text);
  for (int row = 0; row < rowCount(); ++row)
    for (int c = kCurrent; c < kColumnCount; ++c)
      if (QTableWidgetItem* it = item(row, c); it && !is_group_row(row))
        it->setForeground(running_ ? grey : QBrush());
}

std::string CompareTable::metric_at(int row) const {
  const QTableWidgetItem* it = item(row, kMetric);
  return it ? it->data(kKeyRole).toString().toStdString() : std::string();
}

bool CompareTable::is_group_row(int row) const {
  const QTableWidgetItem* it = item(row, kMetric);
  return it && it->data(kGroupRole).toBool();
}

int CompareTable::verdict(int row) const {
  const QTableWidgetItem* it = item(row, kMetric);
  return it ? it->data(kVerdictRole).toInt() : 0;
}

int CompareTable::row_of(const std::string& name) const {
  for (int row = 0; row < rowCount(); ++row)
    if (!is_group_row(row) && metric_at(row) == name) return row;
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
