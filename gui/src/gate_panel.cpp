#include "ota/gui/gate_panel.hpp"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <utility>

#include "ota/models/report/text.hpp"

namespace ota::gui {

namespace {

bool is_stop(const std::string& kind) { return kind == "pause" || kind == "abort" || kind == "rollback"; }

bool same_decision(const models::RolloutEvent& a, const models::RolloutEvent& b) {
  return a.t_s == b.t_s && a.stage == b.stage && a.kind == b.kind && a.reason == b.reason && a.offered == b.offered &&
         a.reports == b.reports && a.failures == b.failures && a.rollbacks == b.rollbacks && a.crashes == b.crashes &&
         a.exposure_days == b.exposure_days;
}

QString state_text(const std::string& state) {
  if (state == "rolled_back") return QObject::tr("rolled back");
  if (state == "in_progress") return QObject::tr("in progress");
  return QString::fromStdString(state);
}

QString from(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

QString GatePanel::time_text(const models::RolloutEvent& e) { return from(models::human_duration(e.t_s)); }

QString GatePanel::stage_text(const models::RolloutEvent& e) { return QStringLiteral("S%1").arg(e.stage + 1); }

QString GatePanel::action_text(const std::string& kind) {
  // The controller's event kinds (models/src/rollout/controller.cpp) in words.
  static const std::pair<const char*, const char*> kWords[] = {
      {"stage_open", "stage opened"},      {"gate_pass", "gate passed"},   {"sprt_accept", "SPRT accepted"},
      {"awaiting_reports", "awaiting reports"}, {"breach_ignored", "breach ignored"}, {"ramp", "rate raised"},
      {"completed", "completed"},          {"pause", "pause"},             {"resume", "resume"},
      {"abort", "abort"},                  {"rollback", "rollback"},
  };
  for (const auto& [k, words] : kWords)
    if (kind == k) return tr(words);
  return from(kind);
}

QString GatePanel::evidence_text(const models::RolloutEvent& e) {
  return tr("offered %1, reports %2, failures %3, rollbacks %4, crashes %5 in %6 device-days")
      .arg(from(models::with_commas(static_cast<double>(e.offered))),
           from(models::with_commas(static_cast<double>(e.reports))),
           from(models::with_commas(static_cast<double>(e.failures))),
           from(models::with_commas(static_cast<double>(e.rollbacks))), from(models::with_commas(e.crashes)),
           from(models::with_commas(e.exposure_days)));
}

GatePanel::GatePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  summary_ = new QLabel(this);
  summary_->setContentsMargins(4, 2, 4, 0);
  layout->addWidget(summary_);
  table_ = new QTableWidget(0, kColumnCount, this);
  table_->setHorizontalHeaderLabels({tr("Time"), tr("Stage"), tr("Action"), tr("Reason"), tr("Evidence")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setAlternatingRowColors(true);
  table_->setWordWrap(false);
  table_->verticalHeader()->hide();
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(kTime, QHeaderView::ResizeToContents);
  header->setSectionResizeMode(kStage, QHeaderView::ResizeToContents);
  header->setSectionResizeMode(kAction, QHeaderView::ResizeToContents);
  header->setSectionResizeMode(kReason, QHeaderView::Stretch);
  header->setSectionResizeMode(kEvidence, QHeaderView::ResizeToContents);
  table_->horizontalHeaderItem(kTime)->setToolTip(tr("Time since the start of the run"));
  table_->horizontalHeaderItem(kStage)->setToolTip(tr("The stage concerned (S1: the first), as on the stage timeline"));
  table_->horizontalHeaderItem(kReason)->setToolTip(tr("For a stop or an ignored breach: the limit that fired"));
  table_->horizontalHeaderItem(kEvidence)->setToolTip(
      tr("What the gate had seen at that moment: devices offered, reports, failures, rollbacks, crashes and the "
         "exposure they came from"));
  layout->addWidget(table_, 1);
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &GatePanel::on_selection_changed);
  set_report(nullptr);
}

void GatePanel::set_report(const models::RunReport* current) {
  const std::vector<models::RolloutEvent> none;
  const std::vector<models::RolloutEvent>& events = current ? current->rollout.events : none;
  bool extends = events.size() >= shown_.size();
  for (std::size_t i = 0; extends && i < shown_.size(); ++i) extends = same_decision(shown_[i], events[i]);
  updating_ = true;
  std::size_t from_row = shown_.size();
  if (!extends) {
    table_->clearSelection();
    table_->setRowCount(0);
    from_row = 0;
  }
  shown_ = events;
  append_rows(from_row);
  updating_ = false;

  if (!current) {
    summary_->setText(tr("Gate decisions: no run yet"));
  } else {
    QString text = (event_count() == 1 ? tr("Gate decisions: 1 decision; rollout %1")
                                       : tr("Gate decisions: %1 decisions; rollout %2").arg(event_count()))
                       .arg(state_text(current->rollout.state));
    if (current->rollout.stopped_at_s)
      text += tr(", first stopped at %1").arg(from(models::human_duration(*current->rollout.stopped_at_s)));
    summary_->setText(text);
  }
}

void GatePanel::append_rows(std::size_t from_row) {
  table_->setRowCount(static_cast<int>(shown_.size()));
  for (std::size_t i = from_row; i < shown_.size(); ++i) {
    const models::RolloutEvent& e = shown_[i];
    const int row = static_cast<int>(i);
    const QString cells[kColumnCount] = {time_text(e), stage_text(e), action_text(e.kind), from(e.reason),
                                         evidence_text(e)};
    for (int c = 0; c < kColumnCount; ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (is_stop(e.kind)) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      item->setToolTip(cells[c]);
      table_->setItem(row, c, item);
    }
    table_->item(row, kTime)->setData(Qt::UserRole, e.t_s);
    table_->item(row, kTime)->setToolTip(
        tr("%1 s after the start (%2)").arg(from(models::with_commas(e.t_s)), time_text(e)));
    table_->item(row, kAction)->setData(Qt::UserRole, from(e.kind));
  }
  // While a run adds decisions, follow the newest unless one is selected.
  if (from_row < shown_.size() && selected_event() < 0) table_->scrollToBottom();
}

void GatePanel::select_event(int index) {
  updating_ = true;
  if (index >= 0 && index < table_->rowCount()) {
    table_->selectRow(index);
    table_->scrollTo(table_->model()->index(index, kTime));
  } else {
    table_->clearSelection();
  }
  updating_ = false;
}

int GatePanel::selected_event() const {
  const QModelIndexList rows = table_->selectionModel()->selectedRows();
  return rows.isEmpty() ? -1 : rows.front().row();
}

void GatePanel::on_selection_changed() {
  if (!updating_) emit event_selected(selected_event());
}

}  // namespace ota::gui
