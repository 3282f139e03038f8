#include "ota/gui/sweep_panel.hpp"

#include <QBuffer>
#include <QCategoryAxis>
#include <QChart>
#include <QEvent>
#include <QChartView>
#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QMetaObject>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <functional>
#include <new>
#include <set>
#include <system_error>

#include "ota/models/batch/sweep_run.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/json_pointer.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::gui {

namespace {

// The panel's messages name the sweep like the CLI names its command.
constexpr const char* kSource = "sweep";

std::optional<double> as_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

QString save_atomically(const QString& path, const std::function<bool(QIODevice&)>& write) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  if (!write(file)) {
    file.cancelWriting();
    return QObject::tr("cannot write %1").arg(path);
  }
  if (!file.commit()) return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  return {};
}

QLabel* error_label(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QPalette pal = label->palette();
  pal.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
  label->setPalette(pal);
  label->hide();
  return label;
}

void show_error(QLabel* label, const QString& text) {
  label->setText(text);
  label->setVisible(!text.isEmpty());
}

}  // namespace

// ---- SweepResult -----------------------------------------------------------

const models::MetricSummary* SweepResult::summary(std::size_t p, const std::string& metric) const {
  if (p >= summaries.size()) return nullptr;
  const auto it = std::find(metric_names.begin(), metric_names.end(), metric);
  if (it == metric_names.end()) return nullptr;
  return &summaries[p][static_cast<std::size_t>(it - metric_names.begin())];
}

std::string SweepResult::csv(const std::vector<std::string>& metrics) const {
  const std::vector<std::string> wanted = metrics.empty() ? models::default_sweep_metrics() : metrics;
  std::vector<std::string> names;
  std::vector<std::vector<models::MetricSummary>> picked(points.size());
  for (const std::string& m : wanted) {
    if (!summary(0, m)) continue;
    names.push_back(m);
    for (std::size_t p = 0; p < points.size(); ++p) picked[p].push_back(*summary(p, m));
  }
  return models::sweep_csv({param}, points, names, picked);
}

// ---- SweepPanel --------------------------------------------------------------

// What one sweep runs with, copied at start() so that edits during the run
// change nothing.
struct SweepPanel::Request {
  std::string text, base_dir, name;
  models::SweepParam param;
  std::size_t replications = 1;
  std::size_t threads = 0;
  std::optional<std::uint64_t> devices;
};

SweepPanel::SweepPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* grid = new QGridLayout;
  int row = 0;
  pointer_ = new QLineEdit(this);
  pointer_->setPlaceholderText(tr("/json/pointer of a number, e.g. /polling/interval_min"));
  pointer_->setToolTip(tr("The scenario field to sweep, as a JSON Pointer (right-click a field: Sweep this…)"));
  pointer_error_ = error_label(this);
  grid->addWidget(new QLabel(tr("Field"), this), row, 0);
  grid->addWidget(pointer_, row++, 1, 1, 3);
  grid->addWidget(pointer_error_, row++, 1, 1, 3);
  values_ = new QLineEdit(this);
  values_->setPlaceholderText(tr("1,2,4  or  10..50 step 10  or  10..50 n=5"));
  values_->setToolTip(tr("The values: a list separated by commas, or a range FROM..TO step S or FROM..TO n=N "
                         "(both ends included)"));
  values_error_ = error_label(this);
  grid->addWidget(new QLabel(tr("Values"), this), row, 0);
  grid->addWidget(values_, row++, 1, 1, 3);
  grid->addWidget(values_error_, row++, 1, 1, 3);

  replications_ = new QSpinBox(this);
  replications_->setRange(1, 1'000'000);
  replications_->setValue(3);
  replications_->setToolTip(tr("Runs at every value, each with its own seed (the same seeds at every value)"));
  threads_ = new QSpinBox(this);
  threads_->setRange(0, 1024);
  threads_->setValue(0);
  threads_->setSpecialValueText(tr("all cores"));
  threads_->setToolTip(tr("Worker threads; the results are the same for any number"));
  devices_ = new QSpinBox(this);
  devices_->setRange(0, static_cast<int>(models::kMaxFleetDevices));
  devices_->setValue(0);
  devices_->setSpecialValueText(tr("as in the scenario"));
  devices_->setToolTip(tr("Fleet size for the sweep (as otasim sweep --devices)"));
  grid->addWidget(new QLabel(tr("Replications"), this), row, 0);
  grid->addWidget(replications_, row, 1);
  grid->addWidget(new QLabel(tr("Threads"), this), row, 2);
  grid->addWidget(threads_, row++, 3);
  grid->addWidget(new QLabel(tr("Devices"), this), row, 0);
  grid->addWidget(devices_, row++, 1);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);
  layout->addLayout(grid);

  auto* controls = new QHBoxLayout;
  run_ = new QPushButton(tr("Run sweep"), this);
  cancel_ = new QPushButton(tr("Cancel"), this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  controls->addWidget(run_);
  controls->addWidget(cancel_);
  controls->addWidget(progress_, 1);
  layout->addLayout(controls);
  status_label_ = new QLabel(this);
  status_label_->setWordWrap(true);
  status_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(status_label_);

  auto* chart_bar = new QHBoxLayout;
  chart_bar->addWidget(new QLabel(tr("Metric"), this));
  metric_ = new QComboBox(this);
  for (const models::MetricInfo& m : models::metrics()) metric_->addItem(QString::fromStdString(m.name));
  const QString first_metric = QString::fromStdString(models::default_sweep_metrics().front());
  metric_->setCurrentIndex(std::max(0, metric_->findText(first_metric)));
  metric_->setToolTip(tr("The metric plotted: its mean over the replications with the 95 % interval"));
  chart_bar->addWidget(metric_, 1);
  const auto add_export = [&](const QString& text, const QString& tip, const QString& kind) {
    auto* b = new QPushButton(text, this);
    b->setToolTip(tip);
    connect(b, &QPushButton::clicked, this, [this, kind] { ask_and_export(kind); });
    chart_bar->addWidget(b);
    export_buttons_.push_back(b);
  };
  add_export(tr("PNG"), tr("Export the chart as a PNG image at twice its size on screen"), QStringLiteral("png"));
  add_export(tr("SVG"), tr("Export the chart as an SVG drawing"), QStringLiteral("svg"));
  add_export(tr("CSV"), tr("Export the sweep as otasim sweep's CSV"), QStringLiteral("csv"));
  layout->addLayout(chart_bar);

  auto* chart = new QChart;
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setBackgroundRoundness(0);
  chart->setDropShadowEnabled(false);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setBackgroundBrush(Qt::white);
  view_ = new QChartView(chart, this);
  view_->setRenderHint(QPainter::Antialiasing);
  view_->setBackgroundBrush(Qt::white);
  view_->setFrameShape(QFrame::NoFrame);
  view_->setMinimumHeight(240);
  layout->addWidget(view_, 1);

  connect(run_, &QPushButton::clicked, this, [this] { start(); });
  connect(values_, &QLineEdit::returnPressed, this, [this] { start(); });
  connect(cancel_, &QPushButton::clicked, this, [this] { cancel(); });
  connect(values_, &QLineEdit::textEdited, this, [this] { show_error(values_error_, {}); });
  connect(pointer_, &QLineEdit::textEdited, this, [this] { show_error(pointer_error_, {}); });
  connect(metric_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  update_buttons();
  redraw();
}

SweepPanel::~SweepPanel() {
  cancel_requested_ = true;
  join();
}

void SweepPanel::join() {
  if (worker_.joinable()) worker_.join();
}

QChart* SweepPanel::chart() const { return view_->chart(); }

void SweepPanel::set_scenario(std::string text, std::string base_dir, std::string name) {
  text_ = std::move(text);
  base_dir_ = base_dir.empty() ? std::string(".") : std::move(base_dir);
  name_ = std::move(name);
}

void SweepPanel::set_parameter(const std::string& pointer) {
  pointer_->setText(QString::fromStdString(pointer));
  show_error(pointer_error_, {});
  values_->setFocus();
  values_->selectAll();
}

QString SweepPanel::metric() const { return metric_->currentText(); }

void SweepPanel::set_metric(const QString& name) {
  const int index = metric_->findText(name);
  if (index >= 0) metric_->setCurrentIndex(index);
}

QString SweepPanel::input_error() const { return input_error_; }
QString SweepPanel::status_text() const { return status_; }

void SweepPanel::set_status(const QString& text) {
  status_ = text;
  status_label_->setText(text);
  emit status_message(text);
}

void SweepPanel::update_buttons() {
  run_->setEnabled(!running_);
  cancel_->setEnabled(running_);
  for (QPushButton* b : export_buttons_) b->setEnabled(result_ != nullptr);
}

std::string SweepPanel::csv() const { return result_ ? result_->csv() : std::string(); }

bool SweepPanel::start() {
  input_error_.clear();
  show_error(pointer_error_, {});
  show_error(values_error_, {});
  const auto refuse = [this](QLabel* where, const QString& why) {
    input_error_ = why;
    if (where) show_error(where, why);
    set_status(why);
    return false;
  };
  if (running_) return refuse(nullptr, tr("A sweep is running: cancel it or wait for it to end"));
  if (text_.empty()) return refuse(nullptr, tr("No scenario to sweep"));
  const std::string pointer = pointer_->text().trimmed().toStdString();
  // The loader's own pointer parser, so the field is refused here as `otasim sweep --param` refuses it.
  if (std::string why; !models::split_pointer(pointer, why))
    return refuse(pointer_error_, tr("Field: %1").arg(QString::fromStdString(why)));
  std::string error;
  std::optional<std::vector<std::string>> values = models::parse_sweep_values(values_->text().toStdString(), error);
  if (!values) return refuse(values_error_, QString::fromStdString(error));

  auto request = std::make_shared<Request>();
  request->text = text_;
  request->base_dir = base_dir_;
  request->name = name_;
  request->param = models::SweepParam{pointer, std::move(*values)};
  request->replications = static_cast<std::size_t>(replications_->value());
  request->threads = static_cast<std::size_t>(threads_->value());
  if (devices_->value() > 0) request->devices = static_cast<std::uint64_t>(devices_->value());

  join();  // the previous worker has posted its end already; reap it
  running_ = true;
  cancel_requested_ = false;
  posted_fraction_ = -1;
  posted_at_ = {};
  progress_->setValue(0);
  update_buttons();
  set_status(tr("Sweeping %1 at %2 values × %3 replications…")
                 .arg(QString::fromStdString(pointer))
                 .arg(request->param.values.size())
                 .arg(request->replications));
  emit started();
  emit progress(0);
  std::shared_ptr<const Request> shared = std::move(request);
  worker_ = std::thread([this, shared] { run_worker(shared); });
  return true;
}

void SweepPanel::cancel() {
  if (!running_) return;
  cancel_requested_ = true;
  set_status(tr("Cancelling the sweep…"));
}

void SweepPanel::post_progress(double fraction) {
  // Runs on the worker: at most every 1/2 % or 100 ms, whichever is rarer, so
  // many short runs do not flood the event loop.
  const auto now = std::chrono::steady_clock::now();
  if (fraction < 1 && fraction - posted_fraction_ < 0.005 && now - posted_at_ < std::chrono::milliseconds(100)) return;
  if (fraction < 1 && now - posted_at_ < std::chrono::milliseconds(30)) return;
  posted_fraction_ = fraction;
  posted_at_ = now;
  QMetaObject::invokeMethod(
      this,
      [this, fraction] {
        if (!running_) return;  // a late post after the end
        progress_->setValue(static_cast<int>(std::lround(fraction * 1000)));
        emit progress(fraction);
      },
      Qt::QueuedConnection);
}

void SweepPanel::run_worker(std::shared_ptr<const Request> request) {
  // Runs on the worker thread: touches only `request`, the cancel flag and
  // the progress throttle; everything else reaches the panel by a post.
  auto result = std::make_shared<SweepResult>();
  RunEnd end = RunEnd::Completed;
  QString message;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    models::SweepPoint base_overrides;
    if (request->devices) base_overrides.emplace_back("/fleet/devices", std::to_string(*request->devices));
    const models::SweepLoad load =
        models::load_sweep_text(request->text, request->base_dir, {request->param}, base_overrides);
    if (!load.ok()) {
      end = RunEnd::Failed;
      message = QString::fromStdString(models::format_sweep_errors(load, kSource, request->name)).trimmed();
    } else if (cancel_requested_) {
      end = RunEnd::Cancelled;
    } else {
      const std::vector<models::BatchJob> jobs = models::sweep_jobs(load, request->replications);
      models::BatchOptions options;
      options.threads = request->threads;
      options.on_progress = [this](double f) { post_progress(f); };
      options.cancel = &cancel_requested_;
      options.keep_series = false;  // as otasim sweep: only totals are summarised
      const std::optional<std::vector<models::RunReport>> reports = models::run_batch(jobs, options);
      if (!reports || cancel_requested_) {
        end = RunEnd::Cancelled;
      } else {
        result->scenario_name = request->name;
        result->param = load.params.front();
        result->points = load.points;
        result->replications = request->replications;
        result->devices = request->devices;
        for (const models::MetricInfo& m : models::metrics()) result->metric_names.push_back(m.name);
        result->summaries =
            models::summarize_sweep(*reports, load.points.size(), request->replications, result->metric_names);
      }
    }
  } catch (const models::ArtifactError& e) {
    end = RunEnd::Failed;
    message = QString::fromStdString(e.what());
  } catch (const std::bad_alloc&) {
    end = RunEnd::Failed;
    message = tr("out of memory (about %1 bytes per device per concurrent run): try fewer threads or devices")
                  .arg(static_cast<qulonglong>(models::bytes_per_device()));
  } catch (const std::exception& e) {
    end = RunEnd::Failed;
    message = tr("internal error: %1").arg(QString::fromStdString(e.what()));
  }
  result->wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::shared_ptr<const SweepResult> done;
  if (end == RunEnd::Completed) done = std::move(result);
  QMetaObject::invokeMethod(
      this,
      [this, end, done, message] {
        running_ = false;
        switch (end) {
          case RunEnd::Completed:
            result_ = done;
            progress_->setValue(1000);
            emit progress(1);
            set_status(tr("Swept %1 at %2 values × %3 replications in %4 s")
                           .arg(QString::fromStdString(done->param.pointer))
                           .arg(done->points.size())
                           .arg(done->replications)
                           .arg(done->wall_s, 0, 'f', 1));
            redraw();  // after the status: it may add that some points are not drawn
            break;
          case RunEnd::Cancelled:
            progress_->setValue(0);
            set_status(result_ ? tr("Sweep cancelled: the chart still shows the previous sweep")
                               : tr("Sweep cancelled"));
            break;
          case RunEnd::Failed:
            progress_->setValue(0);
            input_error_ = message;
            show_error(values_error_, message);
            set_status(tr("The sweep did not run: %1").arg(message));
            break;
        }
        update_buttons();
        emit finished(end, message);
      },
      Qt::QueuedConnection);
}

std::vector<SweepPlotPoint> SweepPanel::plotted() const {
  std::vector<SweepPlotPoint> out;
  if (!result_) return out;
  const std::string name = metric_->currentText().toStdString();
  const std::vector<std::string>& values = result_->param.values;
  bool numeric = true;
  for (const std::string& v : values) numeric = numeric && as_number(v).has_value();
  for (std::size_t p = 0; p < result_->points.size(); ++p) {
    const models::MetricSummary* s = result_->summary(p, name);
    if (!s || !std::isfinite(s->mean)) continue;
    SweepPlotPoint point;
    point.x = numeric ? *as_number(values[p]) : static_cast<double>(p);
    point.label = QString::fromStdString(values[p]);
    point.mean = s->mean;
    point.ci_low = s->ci_low;
    point.ci_high = s->ci_high;
    out.push_back(point);
  }
  return out;
}

// The chart in the window's colours (light or dark): background, title,
// axes, grid and legend from the palette.
void SweepPanel::apply_palette() {
  QChart* chart = view_->chart();
  const QPalette& p = palette();
  const QColor text = p.color(QPalette::Text);
  QColor grid = text;
  grid.setAlpha(46);
  chart->setBackgroundBrush(p.base());
  chart->setTitleBrush(text);
  chart->legend()->setLabelColor(text);
  for (QAbstractAxis* axis : chart->axes()) {
    axis->setLabelsColor(text);
    axis->setTitleBrush(text);
    axis->setLinePenColor(text);
    axis->setGridLineColor(grid);
  }
  view_->setBackgroundBrush(p.base());
}

void SweepPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange && view_) apply_palette();
}

void SweepPanel::redraw() {
  QChart* chart = view_->chart();
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  if (!result_) {
    chart->setTitle(tr("No sweep yet: choose a field and its values, then Run sweep"));
    apply_palette();
    chart->legend()->setVisible(false);
    return;
  }
  const QString name = metric_->currentText();
  const std::vector<SweepPlotPoint> points = plotted();
  const std::vector<std::string>& values = result_->param.values;
  bool numeric = true;
  for (const std::string& v : values) numeric = numeric && as_number(v).has_value();
  chart->setTitle(tr("%1 against %2 (%3, %4 replications, mean and 95 % interval)")
                      .arg(name, QString::fromStdString(result_->param.pointer),
                           QString::fromStdString(result_->scenario_name))
                      .arg(result_->replications));

  // Whisker caps: a fraction of the closest spacing of the values.
  std::vector<double> xs;
  for (const SweepPlotPoint& p : points) xs.push_back(p.x);
  std::sort(xs.begin(), xs.end());
  double gap = INFINITY;
  for (std::size_t i = 1; i < xs.size(); ++i)
    if (xs[i] > xs[i - 1]) gap = std::min(gap, xs[i] - xs[i - 1]);
  if (!std::isfinite(gap)) gap = xs.empty() || xs.front() == 0 ? 1.0 : std::fabs(xs.front()) * 0.2;
  const double cap = 0.12 * gap;

  const QColor color = QColor::fromRgb(0x3b74c4);
  auto* mean = new QLineSeries;
  mean->setName(tr("%1 (mean)").arg(name));
  QPen pen(color);
  pen.setWidthF(2);
  mean->setPen(pen);
  mean->setPointsVisible(true);
  std::vector<QLineSeries*> bars;
  double lo = INFINITY, hi = -INFINITY;
  for (const SweepPlotPoint& p : points) {
    mean->append(p.x, p.mean);
    lo = std::min({lo, p.mean, p.ci_low});
    hi = std::max({hi, p.mean, p.ci_high});
    if (!(p.ci_high > p.ci_low)) continue;
    // One I-beam per point, drawn as one line: bottom cap, up the bar, top cap.
    auto* bar = new QLineSeries;
    bar->setObjectName(QStringLiteral("ci"));
    bar->setName(tr("95 % interval"));
    QPen bpen(color.darker(120));
    bpen.setWidthF(1.5);
    bar->setPen(bpen);
    bar->append(p.x - cap, p.ci_low);
    bar->append(p.x + cap, p.ci_low);
    bar->append(p.x, p.ci_low);
    bar->append(p.x, p.ci_high);
    bar->append(p.x - cap, p.ci_high);
    bar->append(p.x + cap, p.ci_high);
    bars.push_back(bar);
  }
  chart->addSeries(mean);
  for (QLineSeries* bar : bars) chart->addSeries(bar);
  // The legend names the mean and one interval, not every bar.
  bool interval_named = false;
  for (QLegendMarker* marker : chart->legend()->markers()) {
    if (marker->series() == mean) continue;
    marker->setVisible(!interval_named);
    interval_named = true;
  }
  chart->legend()->setVisible(true);

  QAbstractAxis* x = nullptr;
  if (numeric) {
    auto* axis = new QValueAxis;
    const double mn = xs.empty() ? 0 : xs.front(), mx = xs.empty() ? 1 : xs.back();
    const double pad = (mx - mn) * 0.05 + cap + (mx == mn ? 1 : 0);
    axis->setRange(mn - pad, mx + pad);
    axis->applyNiceNumbers();
    axis->setLabelFormat("%.4g");
    x = axis;
  } else {
    auto* axis = new QCategoryAxis;
    axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    for (std::size_t i = 0; i < values.size(); ++i)
      axis->append(QString::fromStdString(values[i]), static_cast<double>(i));
    axis->setRange(-0.5, static_cast<double>(values.size()) - 0.5);
    x = axis;
  }
  x->setTitleText(QString::fromStdString(result_->param.pointer));
  auto* y = new QValueAxis;
  if (!(lo <= hi)) lo = 0, hi = 1;
  // A flat metric (or one whose interval is rounding noise) gets a range
  // around its value, not a zoom into the last bits of a double.
  const bool flat = hi - lo <= 1e-9 * std::max(std::fabs(lo), std::fabs(hi));
  const double pad = flat ? std::max(1e-9, std::fabs(hi) * 0.1) : (hi - lo) * 0.08;
  y->setRange(lo - pad, hi + pad);
  y->applyNiceNumbers();
  y->setLabelFormat("%.4g");
  y->setTitleText(name);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  apply_palette();
  for (QAbstractSeries* s : chart->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
  const std::size_t skipped = result_->points.size() - points.size();
  if (skipped > 0)
    set_status(tr("%1 of %2 points not drawn: %3 is infinite there (never reached in some replication)")
                   .arg(skipped)
                   .arg(result_->points.size())
                   .arg(name));
}

// ---- Exports -------------------------------------------------------------------

void SweepPanel::settle_chart() const {
  // Qt Charts lays a changed chart out on the next pass of the event loop: an
  // export straight after a redraw (in a finished() slot) would show the old
  // picture. Deliver the pending layout events first.
  QCoreApplication::sendPostedEvents();
}

QImage SweepPanel::image(double scale) const {
  settle_chart();
  scale = std::clamp(scale, 0.25, 8.0);
  QImage picture((QSizeF(view_->size()) * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
  picture.setDevicePixelRatio(scale);
  picture.fill(Qt::white);
  QPainter painter(&picture);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setRenderHint(QPainter::TextAntialiasing);
  // QWidget's render, not QGraphicsView's (which would fit the scene to the
  // image's device pixels and then scale it again by the device pixel ratio).
  static_cast<QWidget*>(view_)->render(&painter);
  painter.end();
  return picture;
}

QByteArray SweepPanel::svg_document() const {
  settle_chart();
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setSize(view_->size());
  svg.setViewBox(QRect(QPoint(0, 0), view_->size()));
  svg.setTitle(view_->chart()->title());
  svg.setDescription(tr("otasim planner sweep"));
  QPainter painter;
  if (!painter.begin(&svg)) return {};
  static_cast<QWidget*>(view_)->render(&painter);
  if (!painter.end()) return {};
  return buffer.data();
}

QString SweepPanel::export_png(const QString& path, double scale) const {
  if (!result_) return tr("nothing to export to %1: no sweep has run yet").arg(path);
  const QImage picture = image(scale);
  return save_atomically(path, [&](QIODevice& out) { return picture.save(&out, "PNG"); });
}

QString SweepPanel::export_svg(const QString& path) const {
  if (!result_) return tr("nothing to export to %1: no sweep has run yet").arg(path);
  const QByteArray document = svg_document();
  return save_atomically(path, [&](QIODevice& out) {
    return !document.isEmpty() && out.write(document) == document.size();
  });
}

QString SweepPanel::export_csv(const QString& path) const {
  if (!result_) return tr("nothing to export to %1: no sweep has run yet").arg(path);
  return QString::fromStdString(models::write_file_atomically(path.toStdString(), csv()));
}

void SweepPanel::ask_and_export(const QString& kind) {
  const QString filter = kind == QLatin1String("png")   ? tr("PNG image (*.png)")
                         : kind == QLatin1String("svg") ? tr("SVG drawing (*.svg)")
                                                        : tr("CSV (*.csv)");
  const QString path = QFileDialog::getSaveFileName(this, tr("Export sweep"), "sweep." + kind, filter);
  if (path.isEmpty()) return;
  const QString err = kind == QLatin1String("png")   ? export_png(path, 2.0)
                      : kind == QLatin1String("svg") ? export_svg(path)
                                                     : export_csv(path);
  set_status(err.isEmpty() ? tr("Exported %1").arg(path) : err);
}

}  // namespace ota::gui
