#include "ota/gui/main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QStackedWidget>
#include <QUndoCommand>
#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "ota/gui/chart_panel.hpp"
#include "ota/gui/compare_table.hpp"
#include "ota/gui/gate_panel.hpp"
#include "ota/gui/sweep_panel.hpp"
#include "ota/gui/html_report.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/models/report/report.hpp"
#include "ota/version.hpp"
#include "ota_gui_paths.hpp"

namespace ota::gui {

namespace {

const char* const kChartTitles[] = {
    "Adoption by version and state", "Stage timeline and gate decisions", "Failures, rollbacks, bricks",
    "Server requests, queue and wait", "Bandwidth and cumulative cost",   "Battery deferrals",
};
static_assert(std::size(kChartTitles) == kChartCount);

QString hours(double s) { return QLocale().toString(s / 3600.0, 'f', 0) + QStringLiteral(" h"); }

constexpr int kMaxRecent = 10;
constexpr qint64 kMaxSessionBytes = 64 << 20;  // a session holds two scenario texts

// One edit of the scenario's text (a field typed in, the JSON view applied,
// a stage added). Typing on in the same field extends the step.
class TextEdit : public QUndoCommand {
 public:
  TextEdit(std::function<void(const std::string&)> restore, std::string before, std::string after,
           std::string pointer)
      : QUndoCommand(pointer.empty() ? QObject::tr("edit the JSON")
                                     : QObject::tr("edit %1").arg(QString::fromStdString(pointer))),
        restore_(std::move(restore)), before_(std::move(before)), after_(std::move(after)),
        pointer_(std::move(pointer)) {}
  int id() const override { return 1; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* o = static_cast<const TextEdit*>(other);
    if (pointer_.empty() || o->pointer_ != pointer_) return false;
    after_ = o->after_;
    return true;
  }
  void undo() override { restore_(before_); }
  void redo() override {
    if (first_) {  // pushed after the edit was made
      first_ = false;
      return;
    }
    restore_(after_);
  }

 private:
  std::function<void(const std::string&)> restore_;
  std::string before_, after_, pointer_;
  bool first_ = true;
};

}  // namespace

struct MainWindow::PendingSession {
  std::string text, base_dir;
  QString path;
  int replications = 1;
};

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
  connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { setWindowModified(!clean); });
  update_actions();
  set_status(tr("Open a scenario: a recent file, a shipped example, or File ▸ Open (Ctrl+O)"));
  fit_to(screen() ? screen()->availableGeometry() : QRect(0, 0, 1600, 1000));
}

MainWindow::~MainWindow() = default;

void MainWindow::fit_to(const QRect& available) {
  const int w = std::min(1600, available.width() * 94 / 100);
  const int h = std::min(1000, available.height() * 94 / 100);
  resize(w, h);
  move(available.x() + (available.width() - w) / 2, available.y() + (available.height() - h) / 2);
  split_->setSizes({w * 25 / 100, w * 46 / 100, w - w * 25 / 100 - w * 46 / 100});
}

QString MainWindow::scenarios_dir() {
  const QString env = qEnvironmentVariable("OTASIM_SCENARIOS");
  if (!env.isEmpty()) return env;
  const QDir app(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {app.filePath(QStringLiteral("../share/otasim/scenarios")),
                                   app.filePath(QStringLiteral("../../scenarios")),
                                   QStringLiteral(OTA_SCENARIOS_SOURCE_DIR)})
    if (QFileInfo::exists(candidate + QStringLiteral("/default.json"))) return QDir(candidate).canonicalPath();
  return {};
}

QStringList MainWindow::recent_files() {
  QSettings settings(QStringLiteral("otasim"), QStringLiteral("planner"));
  return settings.value(QStringLiteral("recent_files")).toStringList();
}

void MainWindow::remember_recent(const QString& path) {
  QSettings settings(QStringLiteral("otasim"), QStringLiteral("planner"));
  QStringList list = settings.value(QStringLiteral("recent_files")).toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  list.removeAll(absolute);
  list.prepend(absolute);
  while (list.size() > kMaxRecent) list.removeLast();
  settings.setValue(QStringLiteral("recent_files"), list);
  fill_start_page();
}

QWidget* MainWindow::start_page() const { return start_page_; }
bool MainWindow::start_page_shown() const { return pages_->currentWidget() == start_page_; }

void MainWindow::show_editor() { pages_->setCurrentWidget(split_); }

void MainWindow::fill_start_page() {
  recent_list_->clear();
  for (const QString& path : recent_files()) {
    if (!QFileInfo::exists(path)) continue;
    auto* item = new QListWidgetItem(QStringLiteral("%1 — %2").arg(QFileInfo(path).fileName(), QFileInfo(path).absolutePath()));
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
    recent_list_->addItem(item);
  }
  if (recent_list_->count() == 0) {
    auto* none = new QListWidgetItem(tr("(none yet: files you open or save appear here)"));
    none->setFlags(Qt::NoItemFlags);
    recent_list_->addItem(none);
  }
  shipped_list_->clear();
  const QString dir = scenarios_dir();
  if (dir.isEmpty()) return;
  QStringList names = QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
  names.removeAll(QStringLiteral("scenario.schema.json"));
  if (names.removeAll(QStringLiteral("default.json")) > 0) names.prepend(QStringLiteral("default.json"));
  for (const QString& name : names) {
    const QString path = QDir(dir).filePath(name);
    QString description;
    QFile file(path);
    if (file.size() < (1 << 20) && file.open(QIODevice::ReadOnly)) {
      const nlohmann::json j = nlohmann::json::parse(file.readAll().toStdString(), nullptr, false);
      if (j.is_object() && j.contains("description") && j["description"].is_string())
        description = QString::fromStdString(j["description"].get<std::string>());
    }
    auto* item = new QListWidgetItem(description.isEmpty() ? name : QStringLiteral("%1 — %2").arg(name, description));
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
    shipped_list_->addItem(item);
  }
}

void MainWindow::restore_text(const std::string& text) {
  document_.set_text(text);
  last_text_ = text;
  syncing_json_ = true;
  const int scroll = json_view_->verticalScrollBar()->value();
  json_view_->setPlainText(QString::fromStdString(text));
  json_view_->verticalScrollBar()->setValue(scroll);
  syncing_json_ = false;
  json_timer_.stop();
  form_->refresh();
  validate();
}

void MainWindow::record_edit(const std::string& pointer) {
  if (document_.text() == last_text_) return;
  undo_.push(new TextEdit([this](const std::string& text) { restore_text(text); }, last_text_, document_.text(),
                          pointer));
  last_text_ = document_.text();
}

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
  QAction* open_session = file->addAction(tr("Open session…"), this, &MainWindow::open_session_dialog);
  open_session->setToolTip(tr("A scenario and its baseline, saved together; the baseline runs again"));
  file->addAction(tr("Save session…"), this, &MainWindow::save_session_dialog);
  QAction* start = file->addAction(tr("Start page"), this, [this] {
    fill_start_page();
    pages_->setCurrentWidget(start_page_);
  });
  start->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_H));
  file->addSeparator();
  file->addAction(export_all_action_);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  undo_action_ = undo_.createUndoAction(this, tr("&Undo"));
  undo_action_->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Z)});
  redo_action_ = undo_.createRedoAction(this, tr("&Redo"));
  redo_action_->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
  edit->addAction(undo_action_);
  edit->addAction(redo_action_);
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(run_action_);
  run->addAction(cancel_action_);
  run->addSeparator();
  run->addAction(baseline_action_);
  run->addAction(clear_baseline_action_);
  run->addSeparator();
  QAction* sweep = run->addAction(tr("&Sweep a field…"), this, [this] { sweep_field(QString()); });
  sweep->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));
  sweep->setToolTip(tr("Run the scenario over several values of one field (or right-click a field: Sweep this…)"));
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
  view->addSeparator();
  QAction* decisions = view->addAction(tr("&Gate decisions"), this, [this] {
    show_editor();
    gates_->table()->setFocus();
  });
  decisions->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
  decisions->setToolTip(tr("The decisions table: arrow keys move through the decisions, each marked on the timeline"));
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About otasim"), this, [this] {
    QMessageBox::about(this, tr("About otasim"),
                       tr("<b>otasim planner</b> %1<br>What will this firmware rollout do to my fleet?<br>"
                          "Scenario format: scenarios/README.md; command line: <code>otasim --help</code>.")
                           .arg(QString::fromUtf8(ota::build_version()).toHtmlEscaped()));
  });
}

void MainWindow::build_layout() {
  auto* split = new QSplitter(Qt::Horizontal);
  split->setChildrenCollapsible(false);
  split_ = split;

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
  errors_->setStyleSheet(QStringLiteral("QListWidget { color: %1; }").arg(ScenarioForm::error_colour(palette())));
  errors_->setVisible(false);
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
  // Under the charts: the gate decisions, linked to the stage timeline.
  gates_ = new GatePanel;
  gates_->setObjectName(QStringLiteral("gates"));
  ChartPanel* timeline = charts_.at(1);
  connect(gates_, &GatePanel::event_selected, timeline, [this, timeline](int index) {
    result_tabs_->setCurrentIndex(0);  // the timeline shows the decision chosen
    timeline->mark_event(index);
  });
  connect(timeline, &ChartPanel::event_clicked, gates_, &GatePanel::select_event);
  sweep_ = new SweepPanel;
  sweep_->setObjectName(QStringLiteral("sweep"));
  connect(sweep_, &SweepPanel::status_message, this, &MainWindow::set_status);
  connect(form_, &ScenarioForm::sweep_requested, this, &MainWindow::sweep_field);
  result_tabs_ = new QTabWidget;
  result_tabs_->setObjectName(QStringLiteral("result_tabs"));
  result_tabs_->addTab(grid_host, tr("Run"));
  result_tabs_->addTab(sweep_, tr("Sweep"));
  // The gate decisions stay in view under either tab.
  auto* middle = new QSplitter(Qt::Vertical);
  middle->setChildrenCollapsible(false);
  middle->addWidget(result_tabs_);
  middle->addWidget(gates_);
  middle->setStretchFactor(0, 1);
  middle->setStretchFactor(1, 0);
  middle->setSizes({800, 170});
  split->addWidget(middle);

  // Right: the totals.
  auto* right = new QWidget;
  auto* rv = new QVBoxLayout(right);
  rv->setContentsMargins(0, 4, 4, 4);
  totals_title_ = new QLabel(tr("<b>Totals</b>"));
  totals_title_->setWordWrap(true);
  rv->addWidget(totals_title_);
  changes_ = new QListWidget;
  changes_->setObjectName(QStringLiteral("changes"));
  changes_->setMaximumHeight(96);
  changes_->setToolTip(tr("What changed: the scenario values that differ from the baseline's"));
  changes_->setVisible(false);
  rv->addWidget(changes_);
  changed_only_ = new QCheckBox(tr("Changed only"));
  changed_only_->setObjectName(QStringLiteral("changed_only"));
  changed_only_->setToolTip(tr("Show only the metrics whose value differs from the baseline"));
  changed_only_->setEnabled(false);
  connect(changed_only_, &QCheckBox::toggled, this, [this](bool on) { totals_->set_changed_only(on); });
  rv->addWidget(changed_only_);
  totals_ = new CompareTable;
  totals_->setObjectName(QStringLiteral("totals"));
  rv->addWidget(totals_, 1);
  split->addWidget(right);

  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 0);
  split->setSizes({400, 740, 460});

  // The start page, until a scenario is open.
  start_page_ = new QWidget;
  start_page_->setObjectName(QStringLiteral("start_page"));
  auto* sv = new QVBoxLayout(start_page_);
  sv->setContentsMargins(24, 18, 24, 18);
  auto* welcome = new QLabel(tr("<h2>otasim planner</h2><p>What will this firmware rollout do to my fleet? Open a "
                                "scenario, edit it, run it, keep a run as the baseline and compare.</p>"));
  welcome->setWordWrap(true);
  sv->addWidget(welcome);
  auto* buttons = new QHBoxLayout;
  auto* open_button = new QPushButton(tr("Open…"));
  connect(open_button, &QPushButton::clicked, this, &MainWindow::open_dialog);
  auto* session_button = new QPushButton(tr("Open session…"));
  connect(session_button, &QPushButton::clicked, this, &MainWindow::open_session_dialog);
  buttons->addWidget(open_button);
  buttons->addWidget(session_button);
  buttons->addStretch(1);
  sv->addLayout(buttons);
  sv->addWidget(new QLabel(tr("<b>Recent files</b>")));
  recent_list_ = new QListWidget;
  recent_list_->setObjectName(QStringLiteral("recent_files"));
  recent_list_->setMaximumHeight(180);
  sv->addWidget(recent_list_);
  sv->addWidget(new QLabel(tr("<b>Shipped scenarios</b> (double-click or Enter to open)")));
  shipped_list_ = new QListWidget;
  shipped_list_->setObjectName(QStringLiteral("shipped_scenarios"));
  shipped_list_->setWordWrap(true);
  sv->addWidget(shipped_list_, 1);
  for (QListWidget* list : {recent_list_, shipped_list_})
    connect(list, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
      const QString path = item->data(Qt::UserRole).toString();
      if (path.isEmpty() || !confirm_discard()) return;
      if (const QString err = open_file(path); !err.isEmpty()) set_status(err);
    });
  pages_ = new QStackedWidget;
  pages_->addWidget(start_page_);
  pages_->addWidget(split);
  setCentralWidget(pages_);
  fill_start_page();

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
  last_text_ = document_.text();
  undo_.clear();
  setWindowModified(false);
  validate();
  show_editor();
  remember_recent(path);
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
  undo_.setClean();
  setWindowModified(false);
  remember_recent(path);
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
  record_edit(form_->last_edited());
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
  record_edit({});
  form_->refresh();
  validate();
}

void MainWindow::validate() {
  // The sweep tab sweeps the scenario as edited now (a sweep going keeps its own copy).
  if (sweep_)
    sweep_->set_scenario(document_.text(), document_.base_dir(),
                         document_.value_text("/name").value_or(QFileInfo(file_).completeBaseName().toStdString()));
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
  run_text_ = document_.text();
  run_base_dir_ = document_.base_dir();
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
      current_text_ = run_text_;
      current_base_dir_ = run_base_dir_;
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
  if (pending_session_) {
    // A session's baseline ran: keep it, then show the session's scenario.
    const std::unique_ptr<PendingSession> session = std::move(pending_session_);
    if (end == RunEnd::Completed) keep_as_baseline();
    document_.set_text(session->text, session->base_dir);
    restore_text(session->text);
    set_file(session->path);
    undo_.clear();
    QFile on_disk(session->path);
    setWindowModified(!(on_disk.open(QIODevice::ReadOnly) && on_disk.readAll().toStdString() == session->text));
    replications_->setValue(session->replications);
    current_.reset();
    show_results();
    show_editor();
    set_status(end == RunEnd::Completed
                   ? tr("Session restored: %1 is the baseline again; run the scenario to compare").arg(baseline_->label)
                   : tr("Session restored without its baseline: its run did not complete"));
  }
  emit run_finished(end);
}

void MainWindow::show_results() {
  // While a run goes, its latest partial report; otherwise the last finished run.
  const RunResult* shown = partial_ ? partial_.get() : current_.get();
  totals_->set_running(partial_ != nullptr);
  if (!shown) {
    for (std::size_t i = 0; i < charts_.size(); ++i) charts_[i]->clear(tr(kChartTitles[i]));
    totals_->show_runs(nullptr, nullptr);
    gates_->set_report(nullptr);
    totals_title_->setText(tr("<b>Totals</b>"));
    show_changes();
    return;
  }
  const models::RunReport* base = baseline_ ? &baseline_->first() : nullptr;
  std::vector<ChartData> drawn = partial_ ? live_charts(shown->first(), base) : all_charts(shown->first(), base);
  for (std::size_t i = 0; i < charts_.size() && i < drawn.size(); ++i) {
    charts_[i]->set_data(std::move(drawn[i]));
    if (partial_ && live_range_) charts_[i]->set_time_range(live_range_->first, live_range_->second);
  }
  totals_->show_runs(baseline_.get(), shown);
  gates_->set_report(&shown->first());
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
  show_changes();
}

void MainWindow::show_changes() {
  const bool have = baseline_ && (partial_ || current_);
  changes_->clear();
  changes_->setVisible(have);
  changed_only_->setEnabled(have);
  if (!have) return;
  const std::string& shown = partial_ ? run_text_ : current_text_;
  try {
    std::vector<ScenarioChange> changes = scenario_changes(baseline_text_, shown, {});
    // Parameters only: a scenario's name and description are its labels.
    std::erase_if(changes, [](const ScenarioChange& c) { return c.pointer == "/name" || c.pointer == "/description"; });
    for (const ScenarioChange& c : changes) {
      auto* item = new QListWidgetItem(QStringLiteral("%1: %2 → %3")
                                           .arg(QString::fromStdString(c.pointer), QString::fromStdString(c.baseline),
                                                QString::fromStdString(c.current)));
      item->setData(Qt::UserRole, QString::fromStdString(c.pointer));
      item->setToolTip(item->text());
      changes_->addItem(item);
    }
    if (changes.empty()) changes_->addItem(tr("No scenario value differs from the baseline's"));
  } catch (const std::exception& e) {
    changes_->addItem(tr("Cannot compare the scenarios: %1").arg(QString::fromUtf8(e.what())));
  }
}

bool MainWindow::keep_as_baseline() {
  if (!current_) return false;
  baseline_ = current_;
  baseline_text_ = current_text_;
  baseline_base_dir_ = current_base_dir_;
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

void MainWindow::sweep_field(const QString& pointer) {
  apply_json_view();
  const std::string name = document_.value_text("/name").value_or(QFileInfo(file_).completeBaseName().toStdString());
  sweep_->set_scenario(document_.text(), document_.base_dir(), name);
  show_editor();
  result_tabs_->setCurrentWidget(sweep_);
  if (!pointer.isEmpty()) sweep_->set_parameter(pointer.toStdString());  // focuses the values
  else sweep_->pointer_field()->setFocus();
  set_status(pointer.isEmpty() ? tr("Sweep: name a field and its values, then Run")
                               : tr("Sweep %1: give its values (1,2,4 or 10..50 step 10) and Run").arg(pointer));
}

QString MainWindow::save_session(const QString& path) {
  apply_json_view();
  nlohmann::ordered_json j;
  j["format"] = "otasim-session/1";
  j["scenario"] = {{"path", file_.toStdString()}, {"base_dir", document_.base_dir()}, {"text", document_.text()}};
  j["replications"] = replications_->value();
  if (baseline_)
    j["baseline"] = {{"label", baseline_->label.toStdString()},
                     {"base_dir", baseline_base_dir_},
                     {"text", baseline_text_},
                     {"replications", baseline_->replications()}};
  const std::string err = models::write_file_atomically(path.toStdString(), j.dump(2) + "\n");
  return err.empty() ? QString() : QString::fromStdString(err);
}

QString MainWindow::open_session(const QString& path) {
  if (runner_.running()) return tr("%1: a run is going; cancel it first").arg(path);
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return tr("cannot read %1: %2").arg(path, file.errorString());
  if (file.size() > kMaxSessionBytes)
    return tr("%1: %2 bytes is not a session (at most %3)").arg(path).arg(file.size()).arg(kMaxSessionBytes);
  const nlohmann::json j = nlohmann::json::parse(file.readAll().toStdString(), nullptr, false);
  if (j.is_discarded()) return tr("%1: not JSON").arg(path);
  auto bad = [&](const char* pointer, const char* expected) {
    return tr("%1: %2: expected %3").arg(path, QString::fromLatin1(pointer), QString::fromLatin1(expected));
  };
  if (!j.is_object() || j.value("format", "") != "otasim-session/1")
    return bad("/format", "\"otasim-session/1\" (a file written by File ▸ Save session)");
  const auto text_at = [&](const nlohmann::json& o, const char* key) -> const nlohmann::json* {
    return o.is_object() && o.contains(key) && o[key].is_string() ? &o[key] : nullptr;
  };
  if (!j.contains("scenario") || !text_at(j["scenario"], "text")) return bad("/scenario/text", "a string");
  if (!text_at(j["scenario"], "path")) return bad("/scenario/path", "a string");
  if (!text_at(j["scenario"], "base_dir")) return bad("/scenario/base_dir", "a string");
  if (!j.contains("replications") || !j["replications"].is_number_integer() || j["replications"].get<long long>() < 1 ||
      j["replications"].get<long long>() > 1000)
    return bad("/replications", "an integer from 1 to 1000");
  const bool has_baseline = j.contains("baseline");
  if (has_baseline) {
    const nlohmann::json& b = j["baseline"];
    if (!text_at(b, "text")) return bad("/baseline/text", "a string");
    if (!text_at(b, "base_dir")) return bad("/baseline/base_dir", "a string");
    if (!b.contains("replications") || !b["replications"].is_number_integer() ||
        b["replications"].get<long long>() < 1 || b["replications"].get<long long>() > 1000)
      return bad("/baseline/replications", "an integer from 1 to 1000");
  }
  if (!confirm_discard()) return tr("%1: not opened (unsaved changes kept)").arg(path);

  auto session = std::make_unique<PendingSession>();
  session->text = j["scenario"]["text"].get<std::string>();
  session->base_dir = j["scenario"]["base_dir"].get<std::string>();
  session->path = QString::fromStdString(j["scenario"]["path"].get<std::string>());
  session->replications = j["replications"].get<int>();
  baseline_.reset();
  current_.reset();
  partial_.reset();
  if (has_baseline) {
    // The baseline runs again: the same text and seeds give the same numbers.
    const nlohmann::json& b = j["baseline"];
    document_.set_text(b["text"].get<std::string>(), b["base_dir"].get<std::string>());
    restore_text(document_.text());
    replications_->setValue(b["replications"].get<int>());
    show_editor();
    pending_session_ = std::move(session);
    if (start_run()) {
      set_status(tr("Restoring %1: running its baseline again…").arg(path));
      return {};
    }
    session = std::move(pending_session_);
    set_status(tr("%1: the baseline does not validate any more; opened without it").arg(path));
  }
  document_.set_text(session->text, session->base_dir);
  restore_text(session->text);
  set_file(session->path);
  undo_.clear();
  replications_->setValue(session->replications);
  show_results();
  show_editor();
  update_actions();
  return {};
}

void MainWindow::open_session_dialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), QString(),
                                                    tr("otasim session (*.otasim-session.json *.json);;All files (*)"));
  if (path.isEmpty()) return;
  const QString err = open_session(path);
  if (!err.isEmpty()) set_status(err);
}

void MainWindow::save_session_dialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save session"), QString(),
                                                    tr("otasim session (*.otasim-session.json)"));
  if (path.isEmpty()) return;
  const QString err = save_session(path);
  set_status(err.isEmpty() ? tr("Saved the session (scenario and baseline) to %1").arg(path) : err);
}

}  // namespace ota::gui
