// compare_table.hpp — the totals of the current run beside the baseline's,
// with their difference.
//
// One row per metric of ota/models/report/metrics.hpp under its group
// (Outcome, Time, Cost — with data and cost per link —, Delivery, Rollout),
// with a readable label and unit. With one replication a cell is the run's
// value; with more it is the mean and its 95 % confidence interval, and the
// difference is the paired difference (both runs use the same replication
// seeds, common random numbers) with its interval. A difference is coloured
// better or worse by the metric's good direction, and only when it is real:
// nonzero with one replication, its interval clear of zero with several.
// Every value cell also holds the exact number in Qt::UserRole, so tests and
// copy-paste see what was computed, not what was rounded for display.
#pragma once

#include <QTableWidget>

#include <memory>
#include <string>
#include <vector>

#include "ota/gui/run_controller.hpp"

namespace ota::gui {

class CompareTable : public QTableWidget {
  Q_OBJECT

 public:
  enum Column { kMetric = 0, kBaseline, kCurrent, kDifference, kChange, kColumnCount };

  explicit CompareTable(QWidget* parent = nullptr);

  // Shows `current` (may be null: nothing yet) against `baseline` (may be null).
  void show_runs(const RunResult* baseline, const RunResult* current);
  // Marks the current column as a run still going (its header reads
  // "Current (running…)" and its values are greyed), or as final.
  void set_running(bool running);
  bool is_running() const { return running_; }

  // The row of metric `name`, or -1.
  int row_of(const std::string& name) const;
  // The exact value shown in (row, column), NaN when the cell holds none.
  double value(int row, int column) const;
  // The confidence interval shown in (row, column), if any.
  bool interval(int row, int column, double& low, double& high) const;

  // The row's metric name ("" for a group heading). Per-link rows are named
  // "link:<profile>:data_bytes" and "link:<profile>:cost_usd".
  std::string metric_at(int row) const;
  bool is_group_row(int row) const;

  // Whether the difference in `row` is better (+1), worse (-1), or neither /
  // not significant / no baseline (0).
  int verdict(int row) const;

  // Hides the rows whose value did not change from the baseline (and groups
  // left empty). Without a baseline every row shows.
  void set_changed_only(bool on);
  bool changed_only() const { return changed_only_; }

  // The display text of a metric value, the one number format of the planner:
  // thousands separators; integers whole; other numbers with 3 significant
  // digits below 100 and whole above; USD with cents below $1,000; hours and
  // seconds with two decimals below 100; shares as percentages; bytes in MB
  // (10^6 B); energy in kJ. +inf is "never" for a time to reach something and
  // "n/a" for a mean over nothing.
  static QString format(const std::string& metric, double value);
  // "value [low, high]" (or "value" when the interval has no width).
  static QString format_interval(const std::string& metric, double value, double low, double high);

  // The metric names in display order (within their groups).
  static std::vector<std::string> metric_order();

 private:
  void style_running();
  void apply_filter();
  bool running_ = false;
  bool changed_only_ = false;
  bool has_baseline_ = false;
};

}  // namespace ota::gui
