// compare_table.hpp — the totals of the current run beside the baseline's,
// with their difference.
//
// One row per metric of ota/models/report/metrics.hpp, the planner's headline
// metrics first. With one replication a cell is the run's value; with more it
// is the mean and its 95 % confidence interval, and the difference is the
// paired difference (both runs use the same replication seeds, common random
// numbers) with its interval. Every value cell also holds the exact number in
// Qt::UserRole, so tests and copy-paste see what was computed, not what was
// rounded for display.
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

  // The display text of a metric value: thousands separators; USD, hours and
  // shares with two decimals; bytes in MB (10^6 B); "never" for +inf.
  static QString format(const std::string& metric, double value);

  // The metric names in display order.
  static std::vector<std::string> metric_order();

 private:
  void style_running();
  bool running_ = false;
};

}  // namespace ota::gui
