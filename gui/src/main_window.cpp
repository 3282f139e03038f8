#include "ota/gui/main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>

#include "ota/gui/chart_panel.hpp"
#include "ota/gui/compare_table.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/models/report/report.hpp"
#include "ota/version.hpp"

namespace ota::gui {

namespace {

const char* const kChartTitles[] = {
    "Adoption by version and state", "Stage timeline and gate decisions", "Failures, rollbacks, bricks",
    "Server requests, queue and wait", "Bandwidth and cumulative cost",   "Battery deferrals",
};
static_assert(std::size(kChartTitles) == kChartCount);

QString hours(double s) { return QLocale().toString(s / 3600.0, 'f', 0) + QStringLiteral(" h"); }

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  qRegisterMetaType<ota::gui::RunEnd>("ota::gui::RunEnd");
  setWindowTitle(tr("otasim planner[*]"));
  build_actions();
  build_layout();
  json_timer_.setSingleShot(true);
  json_timer_.setInterval(350);
  connect(&json_timer_, &QTimer::timeout, this, &MainWindow::apply_json_view);
  connect(&runner_, &RunController::progress, this, [this](double f) {
    progress_->setValue(static_cast<int>(f * 1000));
    if (!runner_.running()) return;
    QString text = tr("Running… %1 % of the horizon").arg(QLocale().toString(100 * f, 'f', 1));
    if (replications_->value() > 1)
      text += tr(" (%1 replications: the charts and the table come at the end)").arg(replications_->value());
    set_status(text);
  });
  connect(&runner_, &RunController::partial, this, &MainWindow::on_partial);
  connect(&runner_, &RunController::finished, this, &MainWindow::on_run_finished);
  update_actions();
  set_status(tr("Open a scenario (File ▸ Open) to start"));
  resize(1600, 1000);
}

MainWindow::~MainWindow() = default;

QString MainWindow::export_all_charts(const QString& dir, double png_scale) {
  const QDir out(dir);
  if (!out.exists()) return tr("Cannot export into %1: no such folder").arg(dir);
  for (ChartPanel* panel : charts_) {
    const QString base = out.filePath(QString::fromStdString(panel->data().id.empty() ? "chart" : panel->data().id));
    for (const QString& err : {panel->export_png(base + QStringLiteral(".png"), png_scale),
                               panel->export_svg(base + QStringLiteral(".svg")),
                               panel->export_csv(base + QStringLiteral(".csv"))})
      if (!err.isEmpty()) return err;
  }
  return {};
}

void MainWindow::build_actions() {
  QToolBar* bar = addToolBar(tr("Planner"));
  bar->setObjectName(QStringLiteral("planner_toolbar"));
  bar->setMovable(false);
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  QStyle* st = style();
  open_action_ = bar->addAction(st->standardIcon(QStyle::SP_DialogOpenButton), tr("Open…"), this,
                                &MainWindow::open_dialog);
  open_action_->setShortcut(QKeySequence::Open);
  save_action_ = bar->addAction(st->standardIcon(QStyle::SP_DialogSaveButton), tr("Save"), this, [this] {
    if (file_.isEmpty()) return save_as_dialog();
    const QString err = save_file(file_);
    set_status(err.isEmpty() ? tr("Saved %1").arg(file_) : err);
  });
  save_action_->setShortcut(QKeySequence::Save);
  save_as_action_ = bar->addAction(tr("Save as…"), this, &MainWindow::save_as_dialog);
  // Explicit: QKeySequence::SaveAs is empty where no desktop theme maps it.
  save_as_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
  bar->addSeparator();
  run_action_ = bar->addAction(st->standardIcon(QStyle::SP_MediaPlay), tr("Run"), this, [this] { start_run(); });
  run_action_->setShortcut(Qt::CTRL | Qt::Key_R);
  run_action_->setToolTip(tr("Run the scenario as edited (Ctrl+R)"));
  cancel_action_ = bar->addAction(st->standardIcon(QStyle::SP_MediaStop), tr("Cancel"), this, &MainWindow::cancel_run);
  cancel_action_->setShortcut(Qt::Key_Escape);
  bar->addSeparator();
  baseline_action_ = bar->addAction(tr("Keep as baseline"), this, [this] { keep_as_baseline(); });
  baseline_action_->setShortcut(Qt::CTRL | Qt::Key_B);
  baseline_action_->setToolTip(tr("Compare the next runs with this one: dashed on every chart, side by side in "
                                  "the totals"));
  clear_baseline_action_ = bar->addAction(tr("Clear baseline"), this, &MainWindow::clear_baseline);
  bar->addSeparator();
  export_all_action_ = bar->addAction(tr("Export charts…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export all charts into"));
    if (dir.isEmpty()) return;
    const QString err = export_all_charts(dir);
    set_status(err.isEmpty() ? tr("Exported %1 charts (PNG at 2×, SVG, CSV) into %2").arg(charts_.size()).arg(dir)
                             : err);
  });
  export_all_action_->setShortcut(Qt::CTRL | Qt::SHIFT | Qt::Key_E);
  export_all_action_->setToolTip(tr("Every chart as PNG (twice the screen size), SVG and CSV into one folder (Ctrl+Shift+E)"));
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Replications ")));
  replications_ = new QSpinBox;
  replications_->setRange(1, 1000);
  replications_->setValue(1);
  replications_->setToolTip(tr("More than one: the table shows means with 95 % confidence intervals, and the "
                               "charts show replication 1 (the scenario's seed)"));
  bar->addWidget(replications_);
  build_menus();
}

// The menu bar holds every toolbar action (the same QAction objects, so one
// shortcut each) and what a toolbar has no room for.
void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(open_action_);
  file->addAction(save_action_);
  file->addAction(save_as_action_);
  file->addSeparator();
  file->addAction(export_all_action_);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(run_action_);
  run->addAction(cancel_action_);
  run->addSeparator();
  run->addAction(baseline_action_);
  run->addAction(clear_baseline_action_);
  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* active = view->addAction(tr("&Active span"), this, [this] {
    for (ChartPanel* c : charts_) c->fit_activity();
  });
  active->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
  active->setToolTip(tr("Every chart shows the span where the runs change"));
  QAction* whole = view->addAction(tr("&Whole run"), this, [this] {
    for (ChartPanel* c : charts_) c->reset_time_range();
  });
  whole->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About otasim"), this, [this] {
    QMessageBox::about(this, tr("About otasim"),
                       tr("<b>otasim planner</b> %1<br>What will this firmware rollout do to my fleet?<br>"
                          "Scenario format: scenarios/README.md; command line: <code>otasim --help</code>.")
                           .arg(QString::fromUtf8(ota::build_version()).toHtmlEscaped()));
  });
}

void MainWindow::build_layout() {
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->setChildrenCollapsible(false);

  // Left: the scenario.
  auto* left = new QWidget;
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(4, 4, 0, 4);
  editor_tabs_ = new QTabWidget;
  form_ = new ScenarioForm(&document_);
  editor_tabs_->addTab(form_, tr("Form"));
  json_view_ = new QPlainTextEdit;
  json_view_->setObjectName(QStringLiteral("json_view"));
  json_view_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  json_view_->setLineWrapMode(QPlainTextEdit::NoWrap);
  editor_tabs_->addTab(json_view_, tr("JSON"));
  lv->addWidget(editor_tabs_, 1);
  verdict_ = new QLabel;
  verdict_->setWordWrap(true);
  lv->addWidget(verdict_);
  errors_ = new QListWidget;
  errors_->setObjectName(QStringLiteral("errors"));
  errors_->setMaximumHeight(110);
  errors_->setWordWrap(true);
  errors_->setStyleSheet(QStringLiteral("QListWidget { color: #b71c1c; }"));
  lv->addWidget(errors_);
  connect(errors_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const std::string path = item->data(Qt::UserRole).toString().toStdString();
    if (form_->field(path) || !path.empty()) {
      editor_tabs_->setCurrentWidget(form_);
      form_->focus_error(path);
    }
  });
  connect(form_, &ScenarioForm::edited, this, &MainWindow::on_form_edited);
  connect(json_view_, &QPlainTextEdit::textChanged, this, [this] {
    if (!syncing_json_) on_json_typed();
  });
  split->addWidget(left);

  // Middle: the charts, two columns.
  auto* grid_host = new QWidget;
  auto* grid = new QGridLayout(grid_host);
  grid->setContentsMargins(2, 2, 2, 2);
  grid->setSpacing(4);
  for (std::size_t i = 0; i < kChartCount; ++i) {
    auto* panel = new ChartPanel(tr(kChartTitles[i]));
    panel->setObjectName(QStringLiteral("chart_%1").arg(i));
    grid->addWidget(panel, static_cast<int>(i / 2), static_cast<int>(i % 2));
    charts_.push_back(panel);
    connect(panel, &ChartPanel::status_message, this, &MainWindow::set_status);
    // One time axis for all: zooming or panning one chart moves them all.
    connect(panel, &ChartPanel::time_range_changed, this, [this, panel](double lo, double hi) {
      for (ChartPanel* other : charts_)
        if (other != panel) other->set_time_range(lo, hi);
      if (partial_) live_range_ = std::make_pair(lo, hi);  // the next partial keeps the user's span
    });
  }
  split->addWidget(grid_host);

  // Right: the totals.
  auto* right = new QWidget;
  auto* rv = new QVBoxLayout(right);
  rv->setContentsMargins(0, 4, 4, 4);
  totals_title_ = new QLabel(tr("<b>Totals</b>"));
  totals_title_->setWordWrap(true);
  rv->addWidget(totals_title_);
  totals_ = new CompareTable;
  totals_->setObjectName(QStringLiteral("totals"));
  rv->addWidget(totals_, 1);
  split->addWidget(right);

  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 0);
  split->setSizes({400, 740, 460});
  setCentralWidget(split);

  status_ = new QLabel;
  statusBar()->addWidget(status_, 1);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setMaximumWidth(260);
  progress_->setFormat(QStringLiteral("%p %"));
  statusBar()->addPermanentWidget(progress_);
}

QString MainWindow::status_text() const { return status_->text(); }

void MainWindow::set_status(const QString& text) { status_->setText(text); }

void MainWindow::set_file(const QString& path) {
  file_ = path;
  setWindowTitle(tr("otasim planner — %1[*]").arg(path.isEmpty() ? tr("untitled") : QFileInfo(path).fileName()));
}

QString MainWindow::open_file(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return tr("cannot read %1: %2").arg(path, file.errorString());
  const QByteArray bytes = file.readAll();
  document_.set_text(bytes.toStdString(), QFileInfo(path).absolutePath().toStdString());
  syncing_json_ = true;
  json_view_->setPlainText(QString::fromStdString(document_.text()));
  syncing_json_ = false;
  json_timer_.stop();
  form_->refresh();
  set_file(QFileInfo(path).absoluteFilePath());
  setWindowModified(false);
  validate();
  // The results on show were another scenario's: gone, the baseline stays
  // (comparing this file with the last one is what a baseline is for).
  const bool had_results = current_ != nullptr;
  current_.reset();
  partial_.reset();
  show_results();
  update_actions();
  set_status(had_results ? tr("Opened %1; the previous results were cleared%2")
                               .arg(path, baseline_ ? tr(" (the baseline is kept)") : QString())
                         : tr("Opened %1").arg(path));
  return {};
}

QString MainWindow::save_file(const QString& path) {
  apply_json_view();
  const std::string err = models::write_file_atomically(path.toStdString(), document_.text());
  if (!err.empty()) return QString::fromStdString(err);
  set_file(QFileInfo(path).absoluteFilePath());
  setWindowModified(false);
  return {};
}

void MainWindow::open_dialog() {
  if (!confirm_discard()) return;
  const QString path = QFileDialog::getOpenFileName(this, tr("Open scenario"), file_.isEmpty() ? QDir::currentPath() : QFileInfo(file_).absolutePath(),
                                                    tr("Scenario (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  const QString err = open_file(path);
  if (!err.isEmpty()) set_status(err);
}

void MainWindow::save_as_dialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save scenario"), file_, tr("Scenario (*.json)"));
  if (path.isEmpty()) return;
  const QString err = save_file(path);
  set_status(err.isEmpty() ? tr("Saved %1").arg(path) : err);
}

bool MainWindow::confirm_discard() {
  if (!isWindowModified()) return true;
  const auto answer = QMessageBox::question(this, tr("Unsaved changes"),
                                            tr("The scenario has unsaved changes. Discard them?"),
                                            QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
  return answer == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!confirm_discard()) {
    event->ignore();
    return;
  }
  runner_.cancel();
  event->accept();
}

void MainWindow::on_form_edited() {
  // The form changed the document: show the new text, keep the reader's place.
  syncing_json_ = true;
  const int scroll = json_view_->verticalScrollBar()->value();
  json_view_->setPlainText(QString::fromStdString(document_.text()));
  json_view_->verticalScrollBar()->setValue(scroll);
  syncing_json_ = false;
  form_->refresh(/*keep_focused=*/true);
  setWindowModified(true);
  validate();
}

void MainWindow::on_json_typed() {
  setWindowModified(true);
  json_timer_.start();  // validate after a pause in typing, not on every key
}

void MainWindow::apply_json_view() {
  json_timer_.stop();
  const std::string text = json_view_->toPlainText().toStdString();
  if (text == document_.text()) return;
  document_.set_text(text);
  form_->refresh();
  validate();
}

void MainWindow::validate() {
  const models::LoadResult result = document_.validate();
  valid_ = result.scenario.has_value();
  form_->show_errors(result.errors);
  errors_->clear();
  for (const models::ScenarioError& e : result.errors) {
    auto* item = new QListWidgetItem(e.path.empty() ? QString::fromStdString(e.message)
                                                    : QStringLiteral("%1: %2").arg(QString::fromStdString(e.path),
                                                                                   QString::fromStdString(e.message)));
    item->setData(Qt::UserRole, QString::fromStdString(e.path));
    item->setToolTip(item->text());
    errors_->addItem(item);
  }
  errors_->setVisible(!result.errors.empty());
  if (valid_) {
    const models::Scenario& s = *result.scenario;
    verdict_->setText(tr("<span style='color:#2e7d32'>✔ valid</span> — %1 devices, %2 classes, horizon %3")
                          .arg(QLocale().toString(static_cast<qulonglong>(s.devices)))
                          .arg(s.classes.size())
                          .arg(hours(s.horizon_s)));
  } else {
    verdict_->setText(tr("<span style='color:#c62828'>✖ %n error(s)</span> — the same checks as <tt>otasim run</tt>; "
                         "double-click one to go to its field",
                         nullptr, static_cast<int>(result.errors.size())));
  }
  update_actions();
}

bool MainWindow::running() const { return runner_.running(); }

bool MainWindow::start_run() {
  if (runner_.running()) return false;
  apply_json_view();
  const models::LoadResult loaded = document_.validate();
  if (!loaded.scenario) {
    set_status(tr("The scenario does not validate: fix the fields marked in red"));
    return false;
  }
  const QString label = QString::fromStdString(loaded.scenario->name);
  const auto replications = static_cast<std::size_t>(replications_->value());
  if (!runner_.start(*loaded.scenario, replications, label)) return false;
  partial_.reset();
  partial_draws_ = 0;
  live_range_.reset();
  progress_->setValue(0);
  set_status(tr("Running %1…").arg(label));
  update_actions();
  return true;
}

void MainWindow::cancel_run() {
  if (!runner_.running()) return;
  runner_.cancel();
  set_status(tr("Cancelling…"));
}

void MainWindow::on_partial(std::shared_ptr<const RunResult> partial) {
  if (!runner_.running() || !partial) return;
  partial_ = std::move(partial);
  show_results();
  ++partial_draws_;
}

void MainWindow::on_run_finished(RunEnd end, std::shared_ptr<const RunResult> result, const QString& message) {
  // The final report (or, when the run did not complete, the previous results)
  // replaces the partial one.
  const bool drew_partial = partial_ != nullptr;
  partial_.reset();
  live_range_.reset();
  switch (end) {
    case RunEnd::Completed: {
      current_ = std::move(result);
      show_results();
      const models::RunReport& r = current_->first();
      QString text = tr("Finished %1: %2 devices, %3 simulated, seed %4, %5 events in %6 s")
                         .arg(current_->label)
                         .arg(QLocale().toString(static_cast<qulonglong>(r.totals.devices)))
                         .arg(hours(current_->scenario.horizon_s))
                         .arg(static_cast<qulonglong>(r.run.seed))
                         .arg(QLocale().toString(static_cast<qulonglong>(r.run.events)))
                         .arg(QLocale().toString(current_->wall_s, 'f', 2));
      if (current_->replications() > 1)
        text += tr(" — %1 replications; charts show the first").arg(current_->replications());
      set_status(text);
      break;
    }
    case RunEnd::Cancelled:
      if (drew_partial) show_results();
      set_status(tr("Run cancelled at %1 % of the horizon; the charts show the previous results")
                     .arg(QLocale().toString(100 * runner_.last_progress(), 'f', 0)));
      progress_->setValue(0);
      break;
    case RunEnd::Failed:
      if (drew_partial) show_results();
      set_status(tr("Run failed: %1").arg(message));
      progress_->setValue(0);
      break;
  }
  update_actions();
  emit run_finished(end);
}

void MainWindow::show_results() {
  // While a run goes, its latest partial report; otherwise the last finished run.
  const RunResult* shown = partial_ ? partial_.get() : current_.get();
  totals_->set_running(partial_ != nullptr);
  if (!shown) {
    for (std::size_t i = 0; i < charts_.size(); ++i) charts_[i]->clear(tr(kChartTitles[i]));
    totals_->show_runs(nullptr, nullptr);
    totals_title_->setText(tr("<b>Totals</b>"));
    return;
  }
  const models::RunReport* base = baseline_ ? &baseline_->first() : nullptr;
  std::vector<ChartData> drawn = partial_ ? live_charts(shown->first(), base) : all_charts(shown->first(), base);
  for (std::size_t i = 0; i < charts_.size() && i < drawn.size(); ++i) {
    charts_[i]->set_data(std::move(drawn[i]));
    if (partial_ && live_range_) charts_[i]->set_time_range(live_range_->first, live_range_->second);
  }
  totals_->show_runs(baseline_.get(), shown);
  QString title = baseline_ ? tr("<b>Totals</b> — current <b>%1</b> vs baseline <b>%2</b> (dashed on the charts)")
                                  .arg(shown->label.toHtmlEscaped(), baseline_->label.toHtmlEscaped())
                            : tr("<b>Totals</b> — %1").arg(shown->label.toHtmlEscaped());
  if (partial_) {
    const models::Series& s = shown->first().series;
    const std::size_t bins = closed_bins(shown->first());
    title += tr(" — <i>running…</i> %1 of %2 simulated; the final report replaces these")
                 .arg(hours(static_cast<double>(bins) * s.bin_s), hours(shown->scenario.horizon_s));
  }
  totals_title_->setText(title);
}

bool MainWindow::keep_as_baseline() {
  if (!current_) return false;
  baseline_ = current_;
  show_results();
  set_status(tr("%1 is the baseline: edit the scenario and run the what-if").arg(baseline_->label));
  update_actions();
  return true;
}

void MainWindow::clear_baseline() {
  baseline_.reset();
  show_results();
  update_actions();
}

void MainWindow::update_actions() {
  const bool busy = runner_.running();
  run_action_->setEnabled(valid_ && !busy);
  cancel_action_->setEnabled(busy);
  baseline_action_->setEnabled(current_ != nullptr && !busy);
  clear_baseline_action_->setEnabled(baseline_ != nullptr);
  export_all_action_->setEnabled(current_ != nullptr && !busy);  // empty charts have no names to write
  open_action_->setEnabled(!busy);
  replications_->setEnabled(!busy);
}

}  // namespace ota::gui
