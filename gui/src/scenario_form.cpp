#include "ota/gui/scenario_form.hpp"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

namespace ota::gui {

namespace {

bool dark(const QPalette& palette) { return palette.color(QPalette::Base).lightness() < 128; }

// A field in error: a red border and a tinted background, the text in the
// palette's own colour so it reads in light and dark themes alike.
QString error_style(const QPalette& palette) {
  return dark(palette) ? QStringLiteral("border: 2px solid #ef5350; background: #4a1f1f; color: %1;")
                             .arg(palette.color(QPalette::Text).name())
                       : QStringLiteral("border: 2px solid #d32f2f; background: #fff5f5; color: %1;")
                             .arg(palette.color(QPalette::Text).name());
}

std::string at(const std::string& base, std::size_t index, const std::string& rest) {
  return base + "/" + std::to_string(index) + rest;
}

// JSON Pointer escaping of one key (RFC 6901).
std::string escape_key(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

QGroupBox* section(const QString& title, QGridLayout*& grid) {
  auto* box = new QGroupBox(title);
  grid = new QGridLayout(box);
  grid->setContentsMargins(6, 4, 6, 6);
  grid->setHorizontalSpacing(6);
  grid->setVerticalSpacing(3);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);
  return box;
}

}  // namespace

QString ScenarioForm::error_colour(const QPalette& palette) {
  return dark(palette) ? QStringLiteral("#ef9a9a") : QStringLiteral("#c62828");
}

QString ScenarioForm::muted_colour(const QPalette& palette) {
  return dark(palette) ? QStringLiteral("#a8a8a8") : QStringLiteral("#5f5f5f");
}

ScenarioForm::ScenarioForm(ScenarioDocument* document, QWidget* parent) : QWidget(parent), document_(document) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  // The pane is kept at least as wide as the form (fit_width); should it
  // still be narrower, the form scrolls rather than losing its right column.
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  scroll_ = scroll;
  outer->addWidget(scroll);
  content_ = new QWidget;
  sections_ = new QVBoxLayout(content_);
  sections_->setContentsMargins(4, 4, 4, 4);
  sections_->setSpacing(6);
  scroll->setWidget(content_);
  rebuild();
}

std::string ScenarioForm::structure() const {
  // What decides the form's rows: classes, stages, ramp or stages, links used.
  std::string s = std::to_string(document_->array_size("/fleet/classes")) + "|" +
                  std::to_string(document_->array_size("/rollout/stages")) + "|" +
                  (document_->value_text("/rollout/ramp") ? "ramp" : "stages") + "|";
  for (std::size_t i = 0; i < document_->array_size("/fleet/classes"); ++i) {
    s += document_->value_text(at("/fleet/classes", i, "/name")).value_or("?") + ",";
    s += document_->value_text(at("/fleet/classes", i, "/link")).value_or("?") + ";";
  }
  for (const std::string& k : document_->object_keys("/links")) s += k + ",";
  s += document_->well_formed() ? "ok" : "bad";
  return s;
}

QWidget* ScenarioForm::wrap(Field& f) {
  auto* box = new QWidget;
  auto* v = new QVBoxLayout(box);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(1);
  v->addWidget(f.editor);
  f.editor->setProperty("ota_tip", f.editor->toolTip());  // restored when an error clears
  f.error = new QLabel(box);
  f.error->setWordWrap(true);
  f.error->setStyleSheet(QStringLiteral("color: %1; font-size: 8pt;").arg(error_colour(palette())));
  f.error->setVisible(false);
  v->addWidget(f.error);
  return box;
}

QWidget* ScenarioForm::add_line(QGridLayout* grid, int row, int column, const QString& label,
                                const std::string& pointer, const QString& default_hint, const QString& tip) {
  Field f;
  f.pointer = pointer;
  auto* edit = new QLineEdit;
  edit->setObjectName(QString::fromStdString(pointer));
  edit->setPlaceholderText(default_hint);
  edit->setToolTip(tip);
  edit->setMinimumWidth(40);
  f.editor = edit;
  auto* name = new QLabel(label);
  name->setToolTip(QString::fromStdString(pointer) + (tip.isEmpty() ? QString() : "\n" + tip));
  grid->addWidget(name, row, column, Qt::AlignTop);
  grid->addWidget(wrap(f), row, column + 1);
  const std::string p = pointer;
  // Right-click: the usual edit menu, and "Sweep this…" for the field.
  edit->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(edit, &QLineEdit::customContextMenuRequested, this, [this, edit, p](const QPoint& pos) {
    QMenu* menu = edit->createStandardContextMenu();
    menu->addSeparator();
    QAction* sweep = menu->addAction(tr("Sweep this…"));
    sweep->setObjectName(QStringLiteral("sweep_this"));
    sweep->setToolTip(tr("Run the scenario over several values of this field and plot any metric against it"));
    connect(sweep, &QAction::triggered, this, [this, p] { emit sweep_requested(QString::fromStdString(p)); });
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(edit->mapToGlobal(pos));
  });
  connect(edit, &QLineEdit::textEdited, this, [this, p](const QString& text) {
    for (const Field& field : fields_)
      if (field.pointer == p) return apply(field, text);
  });
  fields_.push_back(std::move(f));
  return edit;
}

QWidget* ScenarioForm::add_choice(QGridLayout* grid, int row, int column, const QString& label,
                                  const std::string& pointer, std::vector<Choice> choices, const QString& tip,
                                  const QString& default_label) {
  Field f;
  f.pointer = pointer;
  choices.insert(choices.begin(),
                 Choice{default_label.isEmpty() ? tr("(default)") : tr("(default: %1)").arg(default_label), QString()});
  auto* combo = new QComboBox;
  combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo->setMinimumContentsLength(4);
  combo->setObjectName(QString::fromStdString(pointer));
  combo->setToolTip(tip);
  for (const Choice& c : choices) combo->addItem(c.label, c.value);
  f.editor = combo;
  f.choices = std::move(choices);
  auto* name = new QLabel(label);
  name->setToolTip(QString::fromStdString(pointer) + (tip.isEmpty() ? QString() : "\n" + tip));
  grid->addWidget(name, row, column, Qt::AlignTop);
  grid->addWidget(wrap(f), row, column + 1);
  const std::string p = pointer;
  connect(combo, &QComboBox::activated, this, [this, p, combo](int index) {
    for (const Field& field : fields_)
      if (field.pointer == p) return apply(field, combo->itemData(index).toString());
  });
  fields_.push_back(std::move(f));
  return combo;
}

void ScenarioForm::apply(const Field& f, const QString& value) {
  const std::string err = document_->set_value(f.pointer, value.toStdString());
  if (!err.empty()) {
    for (Field& field : fields_)
      if (field.pointer == f.pointer) mark(field, QString::fromStdString(err));
    return;
  }
  last_edited_ = f.pointer;
  emit edited();
}

void ScenarioForm::rebuild() {
  rebuild_rows();
  fit_width();
}

void ScenarioForm::fit_width() {
  content_->adjustSize();
  const int needed = content_->minimumSizeHint().width() + scroll_->verticalScrollBar()->sizeHint().width() +
                     2 * scroll_->frameWidth();
  scroll_->setMinimumWidth(needed);
}

void ScenarioForm::rebuild_rows() {
  // Drop the old rows.
  fields_.clear();
  while (QLayoutItem* item = sections_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  structure_ = structure();
  if (!document_->well_formed()) {
    auto* note = new QLabel(tr("The JSON text is not well-formed: fix it in the JSON view (the error is listed "
                               "below); the form comes back when it parses."));
    note->setWordWrap(true);
    sections_->addWidget(note);
    sections_->addStretch(1);
    return;
  }
  QGridLayout* g = nullptr;

  // --- Scenario
  sections_->addWidget(section(tr("Scenario"), g));
  add_line(g, 0, 0, tr("Name"), "/name", {}, tr("Required, non-empty"));
  add_line(g, 0, 2, tr("Seed"), "/seed", QStringLiteral("1"), tr("Random seed; same seed, same report"));
  add_line(g, 1, 0, tr("Horizon (h)"), "/horizon_h", {}, tr("Simulated time, hours (0, 87600]"));
  add_line(g, 1, 2, tr("Bin (min)"), "/bin_minutes", QStringLiteral("60"), tr("Width of the time-series bins"));

  // --- Fleet
  sections_->addWidget(section(tr("Fleet"), g));
  int row = 0;
  add_line(g, row++, 0, tr("Devices"), "/fleet/devices", {}, tr("Fleet size, 1..200,000,000"));
  const std::vector<Choice> partitioning = {{tr("A/B"), "ab"},
                                            {tr("single + recovery"), "single_recovery"},
                                            {tr("single"), "single"}};
  const std::vector<Choice> notify = {{tr("poll"), "poll"}, {tr("push"), "push"}};
  const std::vector<Choice> source = {{tr("origin"), "origin"}, {tr("CDN"), "cdn"}, {tr("peer-to-peer"), "p2p"}};
  std::set<std::string> links_used;
  for (std::size_t i = 0; i < document_->array_size("/fleet/classes"); ++i) {
    const std::string base = at("/fleet/classes", i, "");
    const QString name = QString::fromStdString(document_->value_text(base + "/name").value_or("class " + std::to_string(i + 1)));
    if (const auto link = document_->value_text(base + "/link")) links_used.insert(*link);
    auto* title = new QLabel(QStringLiteral("<b>%1</b> <span style='color:%9'>(%2, %3)</span>")
                                 .arg(name.toHtmlEscaped(),
                                      QString::fromStdString(document_->value_text(base + "/link").value_or("?")),
                                      QString::fromStdString(document_->value_text(base + "/power").value_or("?")))
                                 .replace(QStringLiteral("%9"), muted_colour(palette())));
    title->setWordWrap(true);
    g->addWidget(title, row++, 0, 1, 4);
    add_line(g, row, 0, tr("Share"), base + "/share", {}, tr("Share of the fleet, (0, 1]; shares sum to 1"));
    add_choice(g, row++, 2, tr("Partitions"), base + "/partitioning", partitioning,
               tr("A/B, single slot with a recovery image, or single slot"), tr("A/B"));
    add_choice(g, row, 0, tr("Delivery"), base + "/notify", notify, tr("How devices learn of the release"),
               tr("poll"));
    add_choice(g, row++, 2, tr("Source"), base + "/source", source, tr("Where devices download from"), tr("origin"));
    add_line(g, row++, 0, tr("Power loss/h"), base + "/power_loss_per_hour", tr("mains 1.3e-4, battery 0"),
             tr("Power losses per device-hour"));
  }

  // --- Release
  sections_->addWidget(section(tr("Release"), g));
  add_choice(g, 0, 0, tr("Payload"), "/release/payload", {{tr("full image"), "full"}, {tr("delta"), "delta"}}, {},
             tr("full"));
  add_line(g, 0, 2, tr("Full (KB)"), "/release/full_kb", {}, tr("Full image size, KB = 1000 bytes"));
  add_line(g, 1, 0, tr("Delta (KB)"), "/release/delta_kb", {}, tr("Patch size, KB = 1000 bytes"));
  add_line(g, 1, 2, tr("Boot failure p"), "/release/behaviour/default/boot_failure_probability", QStringLiteral("0"),
           tr("Probability that a trial boot of the new image fails, [0, 1]"));
  add_line(g, 2, 0, tr("Crashes/day"), "/release/behaviour/default/crash_per_day", QStringLiteral("0"),
           tr("Crashes of the new image per device-day"));
  add_line(g, 2, 2, tr("Failing share"), "/release/behaviour/default/failing_device_share", QStringLiteral("0"),
           tr("Share of devices on which the new image fails, [0, 1]"));
  add_line(g, 3, 0, tr("Corruption p"), "/release/corruption_per_transfer", QStringLiteral("0"),
           tr("Chance a completed transfer arrives corrupted, [0, 1]"));

  // --- Delivery
  sections_->addWidget(section(tr("Delivery and server"), g));
  add_line(g, 0, 0, tr("Poll (min)"), "/polling/interval_min", QStringLiteral("60"));
  add_line(g, 0, 2, tr("Jitter"), "/polling/jitter", QStringLiteral("0.1"), tr("Interval x U(1 - j, 1 + j), [0, 1)"));
  add_choice(g, 1, 0, tr("Synchronised"), "/polling/synchronized_start", {{tr("no"), "false"}, {tr("yes"), "true"}},
             tr("Every device's first poll at t = 0 (thundering herd)"), tr("no"));
  add_line(g, 1, 2, tr("Push online"), "/delivery/push/connected_share", QStringLiteral("0.7"),
           tr("Share of push devices connected when notified, [0, 1]"));
  add_line(g, 2, 0, tr("Requests/s"), "/server/max_requests_per_s", tr("0 = unlimited"),
           tr("Server: most requests per second"));
  add_line(g, 2, 2, tr("Downloads"), "/server/max_concurrent_downloads", tr("0 = unlimited"),
           tr("Server: most concurrent downloads"));
  add_line(g, 3, 0, tr("Queue limit"), "/server/queue_limit", tr("0 = unlimited"),
           tr("Server: downloads waiting for a slot; beyond it, refused"));
  add_line(g, 3, 2, tr("Mbit/s"), "/server/bandwidth_mbps", tr("0 = unlimited"), tr("Server: bandwidth, Mbit/s"));

  // --- Rollout
  sections_->addWidget(section(tr("Rollout"), g));
  row = 0;
  const std::vector<Choice> on_breach = {
      {tr("continue"), "continue"}, {tr("pause"), "pause"}, {tr("abort"), "abort"}, {tr("rollback"), "rollback"}};
  if (document_->value_text("/rollout/ramp")) {
    add_line(g, row, 0, tr("Base/min"), "/rollout/ramp/base_per_minute", {});
    add_line(g, row++, 2, tr("Factor"), "/rollout/ramp/increment_factor", QStringLiteral("2"));
    add_line(g, row, 0, tr("Every N ok"), "/rollout/ramp/increase_every_successes", {});
    add_line(g, row++, 2, tr("Max/min"), "/rollout/ramp/max_per_minute", tr("0 = no cap"));
  } else {
    auto* stages = new QWidget;
    auto* sg = new QGridLayout(stages);
    sg->setContentsMargins(0, 0, 0, 0);
    sg->setHorizontalSpacing(4);
    sg->setVerticalSpacing(2);
    const QStringList heads = {tr("#"), tr("%"), tr("soak h"), tr("fail ≤"), tr("rollb. ≤"), tr("breach"), {}};
    const QStringList head_tips = {tr("Stage"),
                                   tr("Cumulative percent of the fleet offered"),
                                   tr("Soak: hours before the stage's gate decides"),
                                   tr("Gate: most failures / reports"),
                                   tr("Gate: most rollbacks / reports"),
                                   tr("Gate: what it does on a breach"),
                                   {}};
    for (int c = 0; c < heads.size(); ++c) {
      auto* h = new QLabel(QStringLiteral("<span style='color:%1'>%2</span>").arg(muted_colour(palette()), heads[c]));
      h->setToolTip(head_tips[c]);
      sg->addWidget(h, 0, c);
    }
    const std::size_t n = document_->array_size("/rollout/stages");
    for (std::size_t i = 0; i < n; ++i) {
      const std::string base = at("/rollout/stages", i, "");
      const int r = static_cast<int>(i) + 1;
      sg->addWidget(new QLabel(QString::number(r)), r, 0, Qt::AlignTop);
      // Stage rows have no labels of their own: the header names the columns.
      auto add_cell = [&](int column, const std::string& pointer, const QString& hint, const QString& tip,
                          std::vector<Choice> choices = {}) {
        Field f;
        f.pointer = pointer;
        if (choices.empty()) {
          auto* e = new QLineEdit;
          e->setPlaceholderText(hint);
          e->setMinimumWidth(30);
          f.editor = e;
          connect(e, &QLineEdit::textEdited, this, [this, pointer](const QString& text) {
            for (const Field& field : fields_)
              if (field.pointer == pointer) return apply(field, text);
          });
        } else {
          choices.insert(choices.begin(), Choice{tr("(rollout)"), QString()});
          auto* cb = new QComboBox;
          cb->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
          cb->setMinimumContentsLength(3);
          for (const Choice& c : choices) cb->addItem(c.label, c.value);
          f.editor = cb;
          f.choices = choices;
          connect(cb, &QComboBox::activated, this, [this, pointer, cb](int index) {
            for (const Field& field : fields_)
              if (field.pointer == pointer) return apply(field, cb->itemData(index).toString());
          });
        }
        f.editor->setObjectName(QString::fromStdString(pointer));
        f.editor->setToolTip(tip);
        sg->addWidget(wrap(f), r, column);
        fields_.push_back(std::move(f));
      };
      add_cell(1, base + "/percent", {}, tr("Cumulative percent of the fleet offered, (0, 100]; last = 100"));
      add_cell(2, base + "/soak_h", QStringLiteral("0"), tr("Hours before the stage's gate decides"));
      add_cell(3, base + "/gate/max_failure_rate", tr("rollout"), tr("Gate: failures / reports, [0, 1]"));
      add_cell(4, base + "/gate/max_rollback_rate", tr("rollout"), tr("Gate: rollbacks / reports, [0, 1]"));
      add_cell(5, base + "/gate/on_breach", {}, tr("What the gate does on a breach"), on_breach);
      auto* remove = new QToolButton;
      remove->setText(QStringLiteral("✕"));
      remove->setToolTip(tr("Remove stage %1").arg(r));
      remove->setEnabled(n > 1);
      remove->setAutoRaise(true);
      connect(remove, &QToolButton::clicked, this, [this, i] {
        // Queued: the edit rebuilds the rows, this button included.
        QMetaObject::invokeMethod(
            this, [this, i] {
              if (document_->remove_element("/rollout/stages", i).empty()) {
                last_edited_ = "/rollout/stages";
                emit edited();
              }
            },
            Qt::QueuedConnection);
      });
      sg->addWidget(remove, r, 6, Qt::AlignTop);
    }
    sg->setColumnStretch(1, 1);
    sg->setColumnStretch(2, 1);
    sg->setColumnStretch(3, 1);
    sg->setColumnStretch(4, 1);
    g->addWidget(stages, row++, 0, 1, 4);
    auto* add = new QPushButton(tr("Add stage"));
    add->setObjectName(QStringLiteral("add_stage"));
    add->setToolTip(tr("Insert a canary stage before the last one, halfway to 100 %"));
    connect(add, &QPushButton::clicked, this, [this] {
      // Queued: the edit rebuilds the rows, this button included.
      QMetaObject::invokeMethod(this, [this] { add_stage(); }, Qt::QueuedConnection);
    });
    g->addWidget(add, row++, 0, 1, 2);
  }
  auto* gate_title = new QLabel(tr("<b>Default gate</b> <span style='color:%9'>(every stage unless it sets its "
                                   "own)</span>").replace(QStringLiteral("%9"), muted_colour(palette())));
  gate_title->setWordWrap(true);
  g->addWidget(gate_title, row++, 0, 1, 4);
  add_line(g, row, 0, tr("Max fail rate"), "/rollout/gate/max_failure_rate", tr("none"), tr("failures / reports, [0, 1]"));
  add_line(g, row++, 2, tr("Max rollb. rate"), "/rollout/gate/max_rollback_rate", tr("none"),
           tr("rollbacks / reports, [0, 1]"));
  add_line(g, row, 0, tr("Min reports"), "/rollout/gate/min_reports", QStringLiteral("0"));
  add_choice(g, row++, 2, tr("Mode"), "/rollout/gate/mode",
             {{tr("threshold"), "threshold"}, {tr("Bayes"), "bayes"}, {tr("SPRT"), "sprt"}}, {}, tr("threshold"));
  add_choice(g, row, 0, tr("On breach"), "/rollout/gate/on_breach", on_breach, {}, tr("abort"));
  add_line(g, row++, 2, tr("Timeout (h)"), "/rollout/device_timeout_h", tr("0 = never"),
           tr("No report this long after the update started counts as a failure"));

  // --- Prices
  sections_->addWidget(section(tr("Prices"), g));
  row = 0;
  add_line(g, row, 0, tr("Service call $"), "/prices/service_call_usd", QStringLiteral("200"));
  add_line(g, row++, 2, tr("Egress $/GB"), "/server/usd_per_gb", QStringLiteral("0.09"));
  add_choice(g, row++, 0, tr("1 MB ="), "/prices/bytes_per_mb",
             {{tr("10^6 bytes"), "1000000"}, {tr("2^20 bytes"), "1048576"}}, {}, tr("10^6 B"));
  int column = 0;
  for (const std::string& link : links_used) {
    add_line(g, row, column, QString::fromStdString(link) + tr(" $/MB"), "/links/" + escape_key(link) + "/usd_per_mb",
             tr("built-in"), tr("Data price on this link"));
    if (column == 2) ++row;
    column = 2 - column;
  }

  sections_->addStretch(1);
  refresh();
}

void ScenarioForm::add_stage() {
  const std::size_t count = document_->array_size("/rollout/stages");
  double before = 0;
  if (count >= 2) {
    bool ok = false;  // QString::toDouble reads "0.5" whatever the locale; a non-number counts as 0
    before = QString::fromStdString(document_->value_text(at("/rollout/stages", count - 2, "/percent")).value_or("0"))
                 .toDouble(&ok);
    if (!ok) before = 0;
  }
  const double percent = std::max(0.01, (before + 100.0) / 2.0);
  const std::string stage = "{\"percent\": " + QString::number(percent, 'g', 6).toStdString() + ", \"soak_h\": 6}";
  const std::size_t index = count == 0 ? 0 : count - 1;
  if (count == 0) {
    if (!document_->set_value("/rollout/stages", "[" + stage + ", {\"percent\": 100}]").empty()) return;
  } else if (!document_->insert_element("/rollout/stages", index, stage).empty()) {
    return;
  }
  last_edited_ = "/rollout/stages";
  emit edited();
}

void ScenarioForm::load(Field& f, bool keep_focused) {
  if (keep_focused && f.editor->hasFocus()) return;
  const std::optional<std::string> v = document_->value_text(f.pointer);
  const QString text = v ? QString::fromStdString(*v) : QString();
  if (auto* edit = qobject_cast<QLineEdit*>(f.editor)) {
    if (edit->text() != text) edit->setText(text);
    return;
  }
  auto* combo = qobject_cast<QComboBox*>(f.editor);
  int index = combo->findData(text);
  if (index < 0) {
    // A value the form does not offer (a typo in the file): show it as it is;
    // the loader's message says what is expected.
    combo->addItem(text, text);
    index = combo->count() - 1;
  }
  combo->setCurrentIndex(index);
}

void ScenarioForm::refresh(bool keep_focused) {
  if (structure() != structure_) {
    rebuild();
    return;
  }
  for (Field& f : fields_) load(f, keep_focused);
}

void ScenarioForm::mark(Field& f, const QString& message) {
  f.editor->setProperty("ota_error", message);
  if (message.isEmpty()) {
    f.editor->setStyleSheet(QString());
    f.editor->setToolTip(f.editor->property("ota_tip").toString());
    f.error->clear();
    f.error->setVisible(false);
  } else {
    f.editor->setStyleSheet(error_style(palette()));
    f.editor->setToolTip(message);
    f.error->setText(message);
    f.error->setVisible(true);
  }
}

std::vector<models::ScenarioError> ScenarioForm::show_errors(const std::vector<models::ScenarioError>& errors) {
  std::vector<QStringList> messages(fields_.size());
  std::vector<models::ScenarioError> unowned;
  for (const models::ScenarioError& e : errors) {
    std::size_t best = fields_.size();
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (!error_belongs_to(e.path, fields_[i].pointer)) continue;
      if (best == fields_.size() || fields_[i].pointer.size() > fields_[best].pointer.size()) best = i;
    }
    if (best == fields_.size()) {
      unowned.push_back(e);
    } else {
      messages[best] << QString::fromStdString(e.message);
    }
  }
  for (std::size_t i = 0; i < fields_.size(); ++i) mark(fields_[i], messages[i].join('\n'));
  return unowned;
}

QWidget* ScenarioForm::field(const std::string& pointer) const {
  for (const Field& f : fields_)
    if (f.pointer == pointer) return f.editor;
  return nullptr;
}

QString ScenarioForm::field_error(const std::string& pointer) const {
  const QWidget* w = field(pointer);
  return w ? w->property("ota_error").toString() : QString();
}

std::vector<std::string> ScenarioForm::pointers() const {
  std::vector<std::string> out;
  for (const Field& f : fields_) out.push_back(f.pointer);
  return out;
}

void ScenarioForm::focus_error(const std::string& error_path) {
  const Field* best = nullptr;
  for (const Field& f : fields_)
    if (error_belongs_to(error_path, f.pointer) && (!best || f.pointer.size() > best->pointer.size())) best = &f;
  if (!best) return;
  if (auto* scroll = findChild<QScrollArea*>()) scroll->ensureWidgetVisible(best->editor);
  best->editor->setFocus(Qt::OtherFocusReason);
}

}  // namespace ota::gui
