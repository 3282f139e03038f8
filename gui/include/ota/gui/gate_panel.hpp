// gate_panel.hpp — the rollout's gate decisions as a table that stays on
// screen: when, at which stage, what the controller did, why, and the counts
// it judged ("rollback (crash rate … per device-day (limit 0.1))" used to be
// readable only in a chart's tooltip).
//
// Row i is the report's rollout.events[i], every event in the report's order:
// the same index ChartPanel::mark_event takes and ChartPanel::event_clicked
// gives, so the window links the two with
//
//   connect(gates, &GatePanel::event_selected, timeline, &ChartPanel::mark_event);
//   connect(timeline, &ChartPanel::event_clicked, gates, &GatePanel::select_event);
//
// without a loop: select_event and mark_event emit nothing back.
//
// The texts: times with models::human_duration, counts with
// models::with_commas (the run summary's formats); the reason is the
// controller's own words. Stops (pause, abort, rollback) are in bold.
#pragma once

#include <QString>
#include <QWidget>

#include <string>
#include <vector>

#include "ota/models/report/report.hpp"

class QLabel;
class QTableWidget;

namespace ota::gui {

class GatePanel : public QWidget {
  Q_OBJECT

 public:
  enum Column { kTime = 0, kStage, kAction, kReason, kEvidence, kColumnCount };

  explicit GatePanel(QWidget* parent = nullptr);

  // Shows the decisions of `current` (copied: the report need not outlive the
  // call); null clears the table. A partial report of a run still going is
  // fine: when its decisions extend the ones shown, rows are only added and
  // the selection and scroll position stay. A report whose decisions differ
  // replaces the rows and clears the selection. Emits nothing.
  void set_report(const models::RunReport* current);

  // Selects row `index` (scrolled into view) or, with -1 or an index past the
  // last row, none. Emits nothing: the caller already knows.
  void select_event(int index);
  // The selected row (= position in rollout.events), or -1.
  int selected_event() const;
  int event_count() const { return static_cast<int>(shown_.size()); }

  QTableWidget* table() const { return table_; }
  // The line above the table: how many decisions and how the rollout stands.
  QLabel* summary() const { return summary_; }

  // The cells' texts for one decision.
  static QString time_text(const models::RolloutEvent& e);      // "10.3 h" (human_duration)
  static QString stage_text(const models::RolloutEvent& e);     // "S2": as the timeline's markers say
  static QString action_text(const std::string& kind);          // "rollback", "stage opened", "gate passed", …
  static QString evidence_text(const models::RolloutEvent& e);  // "offered 750, reports 307, …"

 signals:
  // The user selected row `index` (click or keyboard), or cleared the
  // selection (-1). Not emitted by set_report or select_event.
  void event_selected(int index);

 private:
  void append_rows(std::size_t from);
  void on_selection_changed();

  QLabel* summary_ = nullptr;
  QTableWidget* table_ = nullptr;
  std::vector<models::RolloutEvent> shown_;
  bool updating_ = false;  // a change made here, not by the user: no signal
};

}  // namespace ota::gui
