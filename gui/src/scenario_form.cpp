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

#include <nlohmann/json.hpp>

#include "ota/models/scenario/json_pointer.hpp"

// The stand-in entries name only the members they set, as the table does.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ota::gui {

namespace mf = models::fields;

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

// One key as a JSON Pointer token (RFC 6901: ~0, ~1). Writing only: pointers
// are read by the loader's parser (ScenarioDocument, mf::find).
std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

QString qs(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

// A default as the file would hold it: strings without their quotes.
QString default_shown(const mf::Field& f) {
  if (f.default_json.starts_with('"')) {
    const auto j = nlohmann::json::parse(f.default_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_string()) return QString::fromStdString(j.get<std::string>());
  }
  return qs(f.default_json);
}

bool is_combo(const mf::Field* f) { return f && (f->type == mf::Type::Boolean || !f->choices.empty()); }

// The section of the "All fields" part holding `pointer`: its first token, ""
// for the document's own fields.
std::string section_of(const std::string& pointer) {
  const std::size_t second = pointer.find('/', 1);
  return second == std::string::npos ? std::string() : pointer.substr(1, second - 1);
}

void visit(std::span<const mf::Field> table, const ScenarioDocument& document, const mf::Field& entry,
           const std::string& pointer, std::vector<FieldRow>& out);

// The rows under the container `entry` (table path entry.path) at `pointer`.
void instantiate_children(std::span<const mf::Field> table, const ScenarioDocument& document, const mf::Field& entry,
                          const std::string& pointer, std::vector<FieldRow>& out) {
  const std::string prefix = std::string(entry.path) + "/";
  std::set<std::string> named;
  const mf::Field* any = nullptr;
  for (const mf::Field& f : table) {
    if (f.path.size() <= prefix.size() || !f.path.starts_with(prefix)) continue;
    const std::string_view key = f.path.substr(prefix.size());
    if (key.find('/') != std::string_view::npos) continue;
    if (key == "*") {
      if (!any) any = &f;
      continue;
    }
    named.emplace(key);
    visit(table, document, f, pointer + "/" + escape_token(key), out);
  }
  if (!any) return;
  if (entry.type == mf::Type::Array) {
    for (std::size_t i = 0; i < document.array_size(pointer); ++i)
      visit(table, document, *any, pointer + "/" + std::to_string(i), out);
  } else {
    for (const std::string& key : document.object_keys(pointer))
      if (!named.count(key)) visit(table, document, *any, pointer + "/" + escape_token(key), out);
  }
}

void visit(std::span<const mf::Field> table, const ScenarioDocument& document, const mf::Field& entry,
           const std::string& pointer, std::vector<FieldRow>& out) {
  if (entry.is_container()) instantiate_children(table, document, entry, pointer, out);
  else if (entry.type != mf::Type::Const) out.push_back(FieldRow{pointer, &entry});
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

std::vector<FieldRow> instantiate_fields(std::span<const mf::Field> table, const ScenarioDocument& document) {
  std::vector<FieldRow> out;
  if (!document.well_formed()) return out;
  static const mf::Field kRoot = [] {  // for a table without a root entry
    mf::Field f;
    f.type = mf::Type::Object;
    return f;
  }();
  const mf::Field* root = &kRoot;
  for (const mf::Field& f : table)
    if (f.path.empty()) root = &f;
  instantiate_children(table, document, *root, "", out);
  return out;
}

QString field_placeholder(const mf::Field* field) {
  if (!field) return {};
  if (!field->default_json.empty()) return default_shown(*field);
  if (!field->default_note.empty()) return qs(field->default_note);
  if (field->required) return QObject::tr("required");
  return {};
}

QString field_tooltip(const std::string& pointer, const mf::Field* field) {
  QString tip = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(pointer).toHtmlEscaped());
  if (!field) return tip;
  if (!field->description.empty()) tip += "<br>" + qs(field->description).toHtmlEscaped();
  const std::string range = field->range_text();
  if (field->type == mf::Type::Choice || (!field->choices.empty() && field->type != mf::Type::Boolean)) {
    QStringList values;
    for (const std::string_view c : field->choice_list()) values << qs(c);
    tip += "<br>" + QObject::tr("One of: %1").arg(values.join(QStringLiteral(", ")).toHtmlEscaped());
  } else if (!range.empty()) {
    tip += "<br>" + QObject::tr("Range: %1").arg(QString::fromStdString(range).toHtmlEscaped());
  } else if (field->type == mf::Type::Version || field->type == mf::Type::Name) {
    tip += "<br>" + QObject::tr("Expected: %1").arg(QString::fromStdString(field->expected()).toHtmlEscaped());
  }
  if (range.empty() && !field->unit.empty()) tip += "<br>" + QObject::tr("Unit: %1").arg(qs(field->unit).toHtmlEscaped());
  if (field->nullable) tip += "<br>" + QObject::tr("null is allowed");
  if (!field->default_json.empty())
    tip += "<br>" + QObject::tr("Default: %1").arg(default_shown(*field).toHtmlEscaped());
  else if (!field->default_note.empty())
    tip += "<br>" + QObject::tr("Default: %1").arg(qs(field->default_note).toHtmlEscaped());
  else if (field->required)
    tip += "<br>" + QObject::tr("Required");
  if (!field->source.empty()) tip += "<br>" + QObject::tr("Source: %1").arg(qs(field->source).toHtmlEscaped());
  return tip;
}

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
  // What decides the form's rows: classes, stages, ramp or stages, links used,
  // and the table's fields as the document instantiates them.
  std::string s = std::to_string(document_->array_size("/fleet/classes")) + "|" +
                  std::to_string(document_->array_size("/rollout/stages")) + "|" +
                  (document_->value_text("/rollout/ramp") ? "ramp" : "stages") + "|";
  for (std::size_t i = 0; i < document_->array_size("/fleet/classes"); ++i) {
    s += document_->value_text(at("/fleet/classes", i, "/name")).value_or("?") + ",";
    s += document_->value_text(at("/fleet/classes", i, "/link")).value_or("?") + ",";
    s += document_->value_text(at("/fleet/classes", i, "/power")).value_or("?") + ";";
  }
  for (const std::string& k : document_->object_keys("/links")) s += k + ",";
  s += "|";
  for (const FieldRow& r : instantiate_fields(mf::all(), *document_)) s += r.pointer + "|";
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

QWidget* ScenarioForm::make_editor(const std::string& pointer, bool generated) {
  Field f;
  f.pointer = pointer;
  f.entry = mf::find(pointer);  // null until the table has the field: a plain line edit, no hint
  f.generated = generated;
  if (generated) f.section = section_of(pointer);
  const QString tip = field_tooltip(pointer, f.entry);
  const std::string p = pointer;
  if (is_combo(f.entry)) {
    // The table's choices, values as the file writes them; first the loader's default (no key).
    QString default_label;
    if (!f.entry->default_json.empty()) {
      QString shown = default_shown(*f.entry);
      if (f.entry->type == mf::Type::Boolean) shown = shown == QLatin1String("true") ? tr("yes") : tr("no");
      default_label = tr("(default: %1)").arg(shown);
    } else if (f.entry->required) {
      default_label = tr("(required)");
    } else if (!f.entry->default_note.empty()) {
      default_label = tr("(default)");
    } else {
      default_label = tr("(not set)");
    }
    f.choices.push_back(Choice{default_label, QString()});
    if (f.entry->type == mf::Type::Boolean) {
      f.choices.push_back(Choice{tr("no"), QStringLiteral("false")});
      f.choices.push_back(Choice{tr("yes"), QStringLiteral("true")});
    } else {
      for (const std::string_view c : f.entry->choice_list()) f.choices.push_back(Choice{qs(c), qs(c)});
    }
    auto* combo = new QComboBox;
    combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    combo->setMinimumContentsLength(3);
    for (const Choice& c : f.choices) combo->addItem(c.label, c.value);
    const bool quote = f.entry->type == mf::Type::Choice;  // names are strings, even "true" or "1"
    connect(combo, &QComboBox::activated, this, [this, p, combo, quote](int index) {
      QString value = combo->itemData(index).toString();
      if (quote && !value.isEmpty()) value = QString::fromStdString(nlohmann::json(value.toStdString()).dump());
      for (const Field& field : fields_)
        if (field.pointer == p) return apply(field, value);
    });
    f.editor = combo;
  } else {
    auto* edit = new QLineEdit;
    edit->setPlaceholderText(field_placeholder(f.entry));
    edit->setMinimumWidth(30);
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
    f.editor = edit;
  }
  f.editor->setObjectName(QString::fromStdString(pointer));
  f.editor->setToolTip(tip);
  QWidget* box = wrap(f);
  fields_.push_back(std::move(f));
  return box;
}

QWidget* ScenarioForm::add_row(QGridLayout* grid, int row, int column, const QString& label,
                               const std::string& pointer) {
  auto* name = new QLabel(label);
  grid->addWidget(name, row, column, Qt::AlignTop);
  grid->addWidget(make_editor(pointer), row, column + 1);
  name->setToolTip(fields_.back().editor->toolTip());
  return fields_.back().editor;
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
  // The field being typed in keeps the focus (and its cursor) across the
  // rebuild an edit may cause (a new map key, a ramp instead of stages).
  std::string focused;
  int cursor = -1;
  for (const Field& f : fields_) {
    if (!f.editor->hasFocus()) continue;
    focused = f.pointer;
    if (auto* edit = qobject_cast<QLineEdit*>(f.editor)) cursor = edit->cursorPosition();
  }
  rebuild_rows();
  fit_width();
  if (focused.empty()) return;
  for (const Field& f : fields_) {
    if (f.pointer != focused) continue;
    if (f.generated) set_section_expanded(f.section, true);
    f.editor->setFocus(Qt::OtherFocusReason);
    if (auto* edit = qobject_cast<QLineEdit*>(f.editor); edit && cursor >= 0) edit->setCursorPosition(cursor);
  }
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
  // Labels and layout are the form's; placeholders, tooltips, ranges and
  // choices come from the field table (make_editor).
  QGridLayout* g = nullptr;

  // --- Scenario
  sections_->addWidget(section(tr("Scenario"), g));
  add_row(g, 0, 0, tr("Name"), "/name");
  add_row(g, 0, 2, tr("Seed"), "/seed");
  add_row(g, 1, 0, tr("Horizon (h)"), "/horizon_h");
  add_row(g, 1, 2, tr("Bin (min)"), "/bin_minutes");

  // --- Fleet
  sections_->addWidget(section(tr("Fleet"), g));
  int row = 0;
  add_row(g, row++, 0, tr("Devices"), "/fleet/devices");
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
    add_row(g, row, 0, tr("Share"), base + "/share");
    add_row(g, row++, 2, tr("Partitions"), base + "/partitioning");
    add_row(g, row, 0, tr("Delivery"), base + "/notify");
    add_row(g, row++, 2, tr("Source"), base + "/source");
    add_row(g, row++, 0, tr("Power loss/h"), base + "/power_loss_per_hour");
  }

  // --- Release
  sections_->addWidget(section(tr("Release"), g));
  add_row(g, 0, 0, tr("Payload"), "/release/payload");
  add_row(g, 0, 2, tr("Full (KB)"), "/release/full_kb");
  add_row(g, 1, 0, tr("Delta (KB)"), "/release/delta_kb");
  add_row(g, 1, 2, tr("Boot failure p"), "/release/behaviour/default/boot_failure_probability");
  add_row(g, 2, 0, tr("Crashes/day"), "/release/behaviour/default/crash_per_day");
  add_row(g, 2, 2, tr("Failing share"), "/release/behaviour/default/failing_device_share");
  add_row(g, 3, 0, tr("Corruption p"), "/release/corruption_per_transfer");

  // --- Delivery
  sections_->addWidget(section(tr("Delivery and server"), g));
  add_row(g, 0, 0, tr("Poll (min)"), "/polling/interval_min");
  add_row(g, 0, 2, tr("Jitter"), "/polling/jitter");
  add_row(g, 1, 0, tr("Synchronised"), "/polling/synchronized_start");
  add_row(g, 1, 2, tr("Push online"), "/delivery/push/connected_share");
  add_row(g, 2, 0, tr("Requests/s"), "/server/max_requests_per_s");
  add_row(g, 2, 2, tr("Downloads"), "/server/max_concurrent_downloads");
  add_row(g, 3, 0, tr("Queue limit"), "/server/queue_limit");
  add_row(g, 3, 2, tr("Mbit/s"), "/server/bandwidth_mbps");

  // --- Rollout
  sections_->addWidget(section(tr("Rollout"), g));
  row = 0;
  if (document_->value_text("/rollout/ramp")) {
    add_row(g, row, 0, tr("Base/min"), "/rollout/ramp/base_per_minute");
    add_row(g, row++, 2, tr("Factor"), "/rollout/ramp/increment_factor");
    add_row(g, row, 0, tr("Every N ok"), "/rollout/ramp/increase_every_successes");
    add_row(g, row++, 2, tr("Max/min"), "/rollout/ramp/max_per_minute");
  } else {
    auto* stages = new QWidget;
    auto* sg = new QGridLayout(stages);
    sg->setContentsMargins(0, 0, 0, 0);
    sg->setHorizontalSpacing(4);
    sg->setVerticalSpacing(2);
    const QStringList heads = {tr("#"), tr("%"), tr("soak h"), tr("fail ≤"), tr("rollb. ≤"), tr("breach"), {}};
    // The columns' tooltips are the table's, for the fields of any stage.
    const std::vector<std::string> head_fields = {"",
                                                  "/rollout/stages/*/percent",
                                                  "/rollout/stages/*/soak_h",
                                                  "/rollout/stages/*/gate/max_failure_rate",
                                                  "/rollout/stages/*/gate/max_rollback_rate",
                                                  "/rollout/stages/*/gate/on_breach",
                                                  ""};
    for (int c = 0; c < heads.size(); ++c) {
      auto* h = new QLabel(QStringLiteral("<span style='color:%1'>%2</span>").arg(muted_colour(palette()), heads[c]));
      const std::string& path = head_fields[static_cast<std::size_t>(c)];
      h->setToolTip(path.empty() ? QString() : field_tooltip(path, mf::find(path)));
      sg->addWidget(h, 0, c);
    }
    const std::size_t n = document_->array_size("/rollout/stages");
    for (std::size_t i = 0; i < n; ++i) {
      const std::string base = at("/rollout/stages", i, "");
      const int r = static_cast<int>(i) + 1;
      sg->addWidget(new QLabel(QString::number(r)), r, 0, Qt::AlignTop);
      // Stage rows have no labels of their own: the header names the columns.
      sg->addWidget(make_editor(base + "/percent"), r, 1);
      sg->addWidget(make_editor(base + "/soak_h"), r, 2);
      sg->addWidget(make_editor(base + "/gate/max_failure_rate"), r, 3);
      sg->addWidget(make_editor(base + "/gate/max_rollback_rate"), r, 4);
      sg->addWidget(make_editor(base + "/gate/on_breach"), r, 5);
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
  add_row(g, row, 0, tr("Max fail rate"), "/rollout/gate/max_failure_rate");
  add_row(g, row++, 2, tr("Max rollb. rate"), "/rollout/gate/max_rollback_rate");
  add_row(g, row, 0, tr("Min reports"), "/rollout/gate/min_reports");
  add_row(g, row++, 2, tr("Mode"), "/rollout/gate/mode");
  add_row(g, row, 0, tr("On breach"), "/rollout/gate/on_breach");
  add_row(g, row++, 2, tr("Timeout (h)"), "/rollout/device_timeout_h");

  // --- Prices
  sections_->addWidget(section(tr("Prices"), g));
  row = 0;
  add_row(g, row, 0, tr("Service call $"), "/prices/service_call_usd");
  add_row(g, row++, 2, tr("Egress $/GB"), "/server/usd_per_gb");
  add_row(g, row++, 0, tr("1 MB ="), "/prices/bytes_per_mb");
  int column = 0;
  for (const std::string& link : links_used) {
    add_row(g, row, column, QString::fromStdString(link) + tr(" $/MB"), "/links/" + escape_token(link) + "/usd_per_mb");
    if (column == 2) ++row;
    column = 2 - column;
  }

  add_all_fields();
  sections_->addStretch(1);
  refresh();
}

void ScenarioForm::add_all_fields() {
  // Every other field of the table, one row each, by top-level section.
  std::set<std::string> shown;
  for (const Field& f : fields_) shown.insert(f.pointer);
  std::vector<std::pair<std::string, std::vector<FieldRow>>> groups;
  for (FieldRow& r : instantiate_fields(mf::all(), *document_)) {
    if (shown.count(r.pointer)) continue;
    const std::string key = section_of(r.pointer);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), {key, {}});
    it->second.push_back(std::move(r));
  }
  if (groups.empty()) return;
  auto* heading = new QLabel(tr("<b>All fields</b> <span style='color:%1'>— every other field of the scenario "
                                "file (blank: the default in grey; hover for what it means)</span>")
                                 .arg(muted_colour(palette())));
  heading->setObjectName(QStringLiteral("all_fields"));
  heading->setWordWrap(true);
  sections_->addWidget(heading);
  for (const auto& [key, rows] : groups) {
    auto* box = new QGroupBox;
    box->setObjectName(QString::fromStdString("all_fields:" + key));
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(6, 2, 6, 4);
    v->setSpacing(2);
    const bool is_open = expanded_.count(key) > 0;
    auto* toggle = new QToolButton;
    toggle->setObjectName(QString::fromStdString("all_fields_toggle:" + key));
    toggle->setCheckable(true);
    toggle->setChecked(is_open);
    toggle->setAutoRaise(true);
    toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toggle->setArrowType(is_open ? Qt::DownArrow : Qt::RightArrow);
    const QString title = key.empty() ? tr("scenario") : QString::fromStdString(key);
    toggle->setText(rows.size() == 1 ? tr("%1 (1 field)").arg(title) : tr("%1 (%2 fields)").arg(title).arg(rows.size()));
    const mf::Field* top = key.empty() ? nullptr : mf::find("/" + key);
    toggle->setToolTip(top ? field_tooltip("/" + key, top) : tr("The document's own fields"));
    v->addWidget(toggle);
    auto* body = new QWidget;
    auto* grid = new QGridLayout(body);
    grid->setContentsMargins(14, 0, 0, 0);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(3);
    grid->setColumnStretch(1, 1);
    int r = 0;
    for (const FieldRow& row : rows) {
      // The label is the pointer below the section: "classes/0/battery/capacity_mah".
      const std::string rel = key.empty() ? row.pointer.substr(1) : row.pointer.substr(key.size() + 2);
      auto* name = new QLabel(QString::fromStdString(rel));
      grid->addWidget(name, r, 0, Qt::AlignTop);
      grid->addWidget(make_editor(row.pointer, /*generated=*/true), r, 1);
      name->setToolTip(fields_.back().editor->toolTip());
      auto* range = new QLabel(QString::fromStdString(row.field->range_text()));
      range->setStyleSheet(QStringLiteral("color: %1;").arg(muted_colour(palette())));
      range->setWordWrap(true);
      grid->addWidget(range, r, 2, Qt::AlignTop);
      ++r;
    }
    body->setVisible(is_open);
    v->addWidget(body);
    connect(toggle, &QToolButton::toggled, this, [this, key, body, toggle](bool on) {
      toggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
      body->setVisible(on);
      if (on) expanded_.insert(key);
      else expanded_.erase(key);
      fit_width();
    });
    sections_->addWidget(box);
  }
}

void ScenarioForm::set_section_expanded(const std::string& section, bool expanded) {
  if (auto* toggle = content_->findChild<QToolButton*>(QString::fromStdString("all_fields_toggle:" + section))) {
    toggle->setChecked(expanded);  // toggled() keeps expanded_
    return;
  }
  if (expanded) expanded_.insert(section);
  else expanded_.erase(section);
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
  if (best->generated) set_section_expanded(best->section, true);
  if (auto* scroll = findChild<QScrollArea*>()) scroll->ensureWidgetVisible(best->editor);
  best->editor->setFocus(Qt::OtherFocusReason);
}

}  // namespace ota::gui
