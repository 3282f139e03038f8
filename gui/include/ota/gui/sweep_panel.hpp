// sweep_panel.hpp — sweep one numeric scenario field and plot any metric
// against it, with the 95 % interval of its mean as error bars.
//
// The panel runs exactly what `otasim sweep` runs (models/batch/sweep_run.hpp):
// every value is set at the field's JSON Pointer in the scenario text, every
// point gets `replications` runs with seeds replication_seed(base, r) from the
// point's scenario seed, on models::run_batch's thread pool. So csv() is, byte
// for byte, what `otasim sweep SCENARIO --param POINTER=VALUES --replications R
// [--devices N] --out FILE` writes for the same scenario.
//
// One sweep at a time, on a worker thread; the window never blocks. Results
// reach the GUI thread through its event loop: signals are always emitted on
// the panel's thread. Cancel stops within a few thousand events of each
// running replication, keeps the previous results on screen, and the panel can
// run again at once. Destroying the panel cancels and joins a running sweep.
//
// The summaries of every metric are kept, so the metric shown can be changed
// after the run without running again.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QString>
#include <QWidget>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ota/gui/run_controller.hpp"  // RunEnd
#include "ota/models/batch/batch.hpp"

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ota::gui {

// A finished sweep: one parameter, its values, and for every point the
// summary of every metric (models::metrics() order).
struct SweepResult {
  std::string scenario_name;
  models::SweepParam param;
  std::vector<std::vector<std::pair<std::string, std::string>>> points;  // sweep_grid({param})
  std::size_t replications = 0;
  std::optional<std::uint64_t> devices;  // the devices override, if any
  std::vector<std::string> metric_names;                        // every metric
  std::vector<std::vector<models::MetricSummary>> summaries;    // [point][metric]
  double wall_s = 0;

  // The summary of `metric` at point `p` (nullptr for an unknown metric).
  const models::MetricSummary* summary(std::size_t p, const std::string& metric) const;
  // The sweep CSV (models::sweep_csv) with these metrics, in this order;
  // `otasim sweep`'s default metrics when empty. Unknown names are skipped.
  std::string csv(const std::vector<std::string>& metrics = {}) const;
};

// One point as the chart draws it.
struct SweepPlotPoint {
  double x = 0;       // the value, or its index when the values are not all numbers
  QString label;      // the value as given
  double mean = 0;
  double ci_low = 0;
  double ci_high = 0;
};

class SweepPanel : public QWidget {
  Q_OBJECT

 public:
  explicit SweepPanel(QWidget* parent = nullptr);
  ~SweepPanel() override;  // cancels and joins a sweep still going

  // The scenario to sweep: the editor's JSON text (maybe unsaved), the folder
  // relative image paths resolve against (the file's folder), and its name
  // for titles. Takes effect at the next start(); a running sweep goes on with
  // the text it started with.
  void set_scenario(std::string text, std::string base_dir, std::string name);
  // The field to sweep, as a JSON Pointer ("/polling/interval_min"): fills the
  // field line and selects the values line for typing. The form's
  // "Sweep this…" action calls this and then shows the panel.
  void set_parameter(const std::string& pointer);

  // Reads the inputs and starts the sweep. Returns false, with the reason in
  // input_error() (and under the offending field), when an input is bad, no
  // scenario is set, or a sweep is running; nothing runs then. A grid point
  // that does not load ends the sweep at once with finished(Failed, reason):
  // every point is loaded before any runs.
  bool start();
  // Asks a running sweep to stop; finished(Cancelled) follows.
  void cancel();
  bool running() const { return running_; }

  // The last completed sweep (nullptr before the first). A cancelled or failed
  // sweep leaves it as it was.
  const SweepResult* result() const { return result_.get(); }
  // result()->csv(): `otasim sweep`'s CSV with its default metrics, or "" before
  // the first sweep. This is what the CSV export writes.
  std::string csv() const;
  // The points of the chart now shown (the chosen metric of result()); points
  // whose mean is infinite are not drawn and not listed.
  std::vector<SweepPlotPoint> plotted() const;
  QString metric() const;                 // the metric shown
  void set_metric(const QString& name);   // as choosing it in the combo does

  // The reason start() refused, or why the last sweep failed ("" if neither).
  QString input_error() const;
  QString status_text() const;

  // Exports of the chart and data, each through a temporary file renamed into
  // place; they return "" or an error naming the file. PNG: the chart at
  // `scale` times its size on screen.
  QString export_png(const QString& path, double scale = 2.0) const;
  QString export_svg(const QString& path) const;
  QString export_csv(const QString& path) const;
  QImage image(double scale) const;     // what export_png writes
  QByteArray svg_document() const;      // what export_svg writes (empty on failure)

  // The widgets, for the window's layout and for tests.
  QLineEdit* pointer_field() const { return pointer_; }
  QLineEdit* values_field() const { return values_; }
  QLabel* values_error_label() const { return values_error_; }
  QSpinBox* replications_box() const { return replications_; }
  QSpinBox* threads_box() const { return threads_; }
  QSpinBox* devices_box() const { return devices_; }   // 0: the scenario's own
  QComboBox* metric_box() const { return metric_; }
  QPushButton* run_button() const { return run_; }
  QPushButton* cancel_button() const { return cancel_; }
  QProgressBar* progress_bar() const { return progress_; }
  QChartView* chart_view() const { return view_; }
  QChart* chart() const;

 protected:
  void changeEvent(QEvent* event) override;

 signals:
  void started();
  void progress(double fraction);  // of all the sweep's runs, in [0, 1]
  // Completed: result() is the new sweep. Cancelled: nothing changed.
  // Failed: `message` says why (also in input_error()).
  void finished(ota::gui::RunEnd end, QString message);
  void status_message(const QString& text);

 private:
  struct Request;
  void run_worker(std::shared_ptr<const Request> request);
  void post_progress(double fraction);
  void join();
  void set_status(const QString& text);
  void update_buttons();
  void redraw();
  void apply_palette();
  void ask_and_export(const QString& kind);
  void settle_chart() const;

  std::string text_, base_dir_, name_;
  std::shared_ptr<const SweepResult> result_;
  QString input_error_, status_;

  QLineEdit* pointer_ = nullptr;
  QLabel* pointer_error_ = nullptr;
  QLineEdit* values_ = nullptr;
  QLabel* values_error_ = nullptr;
  QSpinBox* replications_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QSpinBox* devices_ = nullptr;
  QComboBox* metric_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_label_ = nullptr;
  QChartView* view_ = nullptr;  // what the image exports show
  std::vector<QPushButton*> export_buttons_;

  std::thread worker_;
  std::atomic<bool> cancel_requested_{false};
  bool running_ = false;
  // Worker-side throttling of progress posts (touched by the worker only).
  double posted_fraction_ = -1;
  std::chrono::steady_clock::time_point posted_at_{};
};

}  // namespace ota::gui
