// main_window.hpp — the planner's window: the scenario (form and raw JSON),
// the run (worker thread, progress, cancel), the charts and the totals table,
// and the baseline to compare against. While a single-replication run goes,
// the charts and the table show its partial reports.
#pragma once

#include <QMainWindow>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUndoStack>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ota/gui/run_controller.hpp"
#include "ota/gui/scenario_document.hpp"

class QAction;
class QCheckBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QSpinBox;
class QSplitter;
class QStackedWidget;
class QTabWidget;

namespace ota::gui {

class ChartPanel;
class CompareTable;
class GatePanel;
class SweepPanel;
class ScenarioForm;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Reads a scenario file into the editor. Returns an empty string, or why the
  // file could not be read. A file that reads but does not validate is opened:
  // its errors are shown at their fields.
  QString open_file(const QString& path);
  // Writes the editor's text to `path` atomically (temporary file + rename).
  // Returns an empty string or the error.
  QString save_file(const QString& path);

  // A session: the scenario as edited (with its file's path) and the
  // baseline's scenario text and replications, in one JSON file
  // ("otasim-session/1"). Opening one runs the baseline again (same text, same
  // seeds: the same numbers) and then shows the scenario. Both return an empty
  // string or the error, naming the file.
  QString save_session(const QString& path);
  QString open_session(const QString& path);
  // True while open_session's baseline run goes.
  bool restoring_session() const { return pending_session_ != nullptr; }

  // Sizes the window to fit `available` (a screen's available geometry, in
  // device-independent pixels): at most 1600 × 1000 and 94 % of the screen,
  // the three panes shared in proportion. The constructor calls it with the
  // window's screen.
  void fit_to(const QRect& available);

  // The start page (shown until a scenario is open): recent files and the
  // shipped scenarios with their descriptions; activating an entry opens it.
  QWidget* start_page() const;
  bool start_page_shown() const;
  QListWidget* recent_list() const { return recent_list_; }
  QListWidget* shipped_list() const { return shipped_list_; }
  // The folder of the shipped scenarios: $OTASIM_SCENARIOS, the installed
  // share/otasim/scenarios next to the program, or the source tree's.
  static QString scenarios_dir();
  // Recent files, most recent first (QSettings; at most 10).
  static QStringList recent_files();

  // Starts a run of the scenario as edited. False (and why, in the status bar)
  // when the scenario does not validate or a run is going.
  bool start_run();
  void cancel_run();
  // The current run becomes the baseline every chart and the table compare with.
  bool keep_as_baseline();
  void clear_baseline();

  // Writes every chart into `dir` as ID.png (at `png_scale` times its size on
  // screen), ID.svg (the span shown) and ID.csv. Returns an empty string or
  // the first error, naming the file.
  QString export_all_charts(const QString& dir, double png_scale = 2.0);

  bool running() const;
  bool scenario_valid() const { return valid_; }
  std::shared_ptr<const RunResult> current_result() const { return current_; }
  std::shared_ptr<const RunResult> baseline_result() const { return baseline_; }
  // The partial report on show while a run goes (null otherwise), and how
  // many partial reports this run has drawn.
  std::shared_ptr<const RunResult> partial_result() const { return partial_; }
  int partial_draws() const { return partial_draws_; }

  // Parts, for the tests and the screenshot.
  ScenarioDocument& document() { return document_; }
  ScenarioForm* form() const { return form_; }
  QPlainTextEdit* json_view() const { return json_view_; }
  // Applies the JSON view's text now instead of after the typing pause.
  void apply_json_view();
  CompareTable* totals() const { return totals_; }
  // The rollout's decisions (time, stage, action, reason, evidence), linked to
  // the stage timeline chart.
  GatePanel* gates() const { return gates_; }
  ChartPanel* timeline_chart() const { return charts_.at(1); }
  // A sweep of one field (the form's "Sweep this…"), in its own tab beside the charts.
  SweepPanel* sweep() const { return sweep_; }
  QTabWidget* result_tabs() const { return result_tabs_; }
  // Opens the sweep tab on the scenario as edited, sweeping `pointer`.
  void sweep_field(const QString& pointer);
  const std::vector<ChartPanel*>& charts() const { return charts_; }
  QProgressBar* progress_bar() const { return progress_; }
  QSpinBox* replications_box() const { return replications_; }
  QAction* run_action() const { return run_action_; }
  QAction* cancel_action() const { return cancel_action_; }
  QAction* baseline_action() const { return baseline_action_; }
  QString status_text() const;
  QListWidget* error_list() const { return errors_; }
  QUndoStack* undo_stack() { return &undo_; }
  QAction* undo_action() const { return undo_action_; }
  QAction* redo_action() const { return redo_action_; }
  // "What changed": the scenario values that differ between the baseline's
  // run and the current one (pointer: baseline → current).
  QListWidget* changes_list() const { return changes_; }
  QCheckBox* changed_only_box() const { return changed_only_; }

 signals:
  // After the window has shown the outcome of a run.
  void run_finished(ota::gui::RunEnd end);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_actions();
  void build_menus();
  void build_layout();
  void on_form_edited();
  void on_json_typed();
  void validate();
  void on_run_finished(RunEnd end, std::shared_ptr<const RunResult> result, const QString& message);
  void on_partial(std::shared_ptr<const RunResult> partial);
  void show_results();
  void update_actions();
  void set_status(const QString& text);
  void set_file(const QString& path);
  bool confirm_discard();
  void open_dialog();
  void save_as_dialog();
  void open_session_dialog();
  void save_session_dialog();
  // Puts `text` in the document (undo, redo, a session) and refreshes the views.
  void restore_text(const std::string& text);
  void record_edit(const std::string& pointer);
  void show_changes();
  void fill_start_page();
  void remember_recent(const QString& path);
  void show_editor();

  ScenarioDocument document_;
  RunController runner_;
  std::shared_ptr<const RunResult> current_, baseline_;
  std::shared_ptr<const RunResult> partial_;  // while a run goes
  int partial_draws_ = 0;
  std::optional<std::pair<double, double>> live_range_;  // a time span the user chose during the run
  bool valid_ = false;
  bool syncing_json_ = false;
  QUndoStack undo_;
  std::string last_text_;      // the document's text as the undo stack last saw it
  std::string run_text_;       // the text of the run going
  std::string current_text_;   // the text of current_'s run
  std::string baseline_text_;  // the text of baseline_'s run
  std::string run_base_dir_, current_base_dir_, baseline_base_dir_;  // where their image paths resolve
  struct PendingSession;
  std::unique_ptr<PendingSession> pending_session_;
  QString file_;
  QTimer json_timer_;

  ScenarioForm* form_ = nullptr;
  QPlainTextEdit* json_view_ = nullptr;
  QTabWidget* editor_tabs_ = nullptr;
  QListWidget* errors_ = nullptr;
  QLabel* verdict_ = nullptr;
  CompareTable* totals_ = nullptr;
  GatePanel* gates_ = nullptr;
  SweepPanel* sweep_ = nullptr;
  QTabWidget* result_tabs_ = nullptr;
  QLabel* totals_title_ = nullptr;
  std::vector<ChartPanel*> charts_;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QSpinBox* replications_ = nullptr;
  QAction* open_action_ = nullptr;
  QAction* save_action_ = nullptr;
  QAction* save_as_action_ = nullptr;
  QAction* run_action_ = nullptr;
  QAction* cancel_action_ = nullptr;
  QAction* baseline_action_ = nullptr;
  QAction* clear_baseline_action_ = nullptr;
  QAction* export_all_action_ = nullptr;
  QAction* undo_action_ = nullptr;
  QAction* redo_action_ = nullptr;
  QStackedWidget* pages_ = nullptr;
  QSplitter* split_ = nullptr;
  QWidget* start_page_ = nullptr;
  QListWidget* recent_list_ = nullptr;
  QListWidget* shipped_list_ = nullptr;
  QListWidget* changes_ = nullptr;
  QCheckBox* changed_only_ = nullptr;
};

}  // namespace ota::gui
