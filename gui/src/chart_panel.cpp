#include "ota/gui/chart_panel.hpp"

#include <QApplication>
#include <QAreaSeries>
#include <QBuffer>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QFileDialog>
#include <QImage>
#include <QInputDialog>
#include <QEvent>
#include <QGraphicsEllipseItem>
#include <QGraphicsLineItem>
#include <QGraphicsSimpleTextItem>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPalette>
#include <QPainter>
#include <QSaveFile>
#include <QScatterSeries>
#include <QSvgGenerator>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <memory>

#include "ota/models/report/report.hpp"

namespace ota::gui {

namespace {

QColor color_of(unsigned rgb) { return QColor::fromRgb(static_cast<QRgb>(rgb)); }

// WCAG's relative luminance and contrast ratio (1: none, 21: black on white).
double luminance(const QColor& c) {
  auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast(const QColor& a, const QColor& b) {
  const double la = luminance(a), lb = luminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

QColor mix(const QColor& a, const QColor& b, double share_of_b) {
  auto blend = [&](double x, double y) { return x + (y - x) * share_of_b; };
  return QColor::fromRgbF(static_cast<float>(blend(a.redF(), b.redF())), static_cast<float>(blend(a.greenF(), b.greenF())),
                          static_cast<float>(blend(a.blueF(), b.blueF())), a.alphaF());
}

// Text on a chart: 4.5:1 (WCAG AA); lines, dots and swatches: 2:1, enough to
// see them without repainting the light theme's pale fills.
constexpr double kTextContrast = 4.5;
constexpr double kGraphicContrast = 2.0;

// `c` moved towards white on a dark background (black on a light one) until
// it stands out from `background` by `min_ratio`. Colours that already do are
// kept: the light palette looks as designed.
QColor readable(QColor c, const QColor& background, double min_ratio) {
  const QColor away = contrast(background, Qt::white) > contrast(background, Qt::black) ? QColor(Qt::white)
                                                                                          : QColor(Qt::black);
  for (int i = 0; i < 24 && contrast(c, background) < min_ratio; ++i) c = mix(c, away, 0.15);
  return c;
}

// What a chart is drawn on and with: the palette's base and text colours
// (Window and WindowText are for a widget's frame; a chart reads like a page).
struct ChartColours {
  QColor background, text, grid, axis_line, highlight;
};

ChartColours chart_colours(const QPalette& palette) {
  ChartColours c;
  c.background = palette.color(QPalette::Base);
  c.text = palette.color(QPalette::Text);
  c.grid = mix(c.background, c.text, 0.16);
  c.axis_line = mix(c.background, c.text, 0.45);
  c.highlight = readable(palette.color(QPalette::Highlight), c.background, 3.0);
  return c;
}

QString format_value(double v) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  if (v == std::floor(v) && std::fabs(v) < 1e15) return QLocale().toString(static_cast<qlonglong>(v));
  if (std::fabs(v) >= 100) return QLocale().toString(v, 'f', 1);
  return QLocale().toString(v, 'g', 4);
}

QList<QPointF> points_of(const SeriesData& s, const std::vector<double>& y) {
  QList<QPointF> pts;
  pts.reserve(static_cast<qsizetype>(s.x.size()));
  for (std::size_t i = 0; i < s.x.size() && i < y.size(); ++i) pts.append(QPointF(s.x[i], y[i]));
  return pts;
}

QList<QPointF> step_points(const SeriesData& s) {
  QList<QPointF> pts;
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (i > 0) pts.append(QPointF(s.x[i], s.y[i - 1]));
    pts.append(QPointF(s.x[i], s.y[i]));
  }
  return pts;
}

QPen series_pen(const SeriesData& s, double width, const QColor& background) {
  QPen pen(readable(color_of(s.color), background, kGraphicContrast));
  pen.setWidthF(s.baseline ? width * 0.8 : width);
  if (s.baseline) pen.setStyle(Qt::DashLine);
  return pen;
}

void style_axis(QValueAxis* axis, const QString& title, const ChartColours& colours) {
  axis->setTitleText(title);
  axis->setLabelsBrush(colours.text);
  axis->setTitleBrush(colours.text);
  axis->setGridLineColor(colours.grid);
  axis->setMinorGridLineColor(colours.grid);
  axis->setLinePenColor(colours.axis_line);
  QFont f = axis->labelsFont();
  f.setPointSizeF(8);
  axis->setLabelsFont(f);
  QFont t = axis->titleFont();
  t.setPointSizeF(8);
  t.setBold(false);
  axis->setTitleFont(t);
}

// A round step of about `span` / `parts`: 1, 2, 2.5 or 5 times a power of ten.
double nice_step(double span, int parts) {
  const double raw = span / parts;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

// [0, a round number just above `max`] with a tick at every step.
void fit_value_axis(QValueAxis* axis, double max) {
  if (!(max > 0) || !std::isfinite(max)) max = 1;
  const double step = nice_step(max * 1.02, 5);
  const double top = std::ceil(max * 1.02 / step) * step;
  axis->setRange(0, top);
  axis->setTickCount(static_cast<int>(std::lround(top / step)) + 1);
  // As many decimals as the step has: 2.5 -> 1, 0.25 -> 2, 500 -> 0.
  int decimals = 0;
  while (decimals < 6 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-9)
    ++decimals;
  axis->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
}

// Time ticks at whole hours, days or weeks where the span allows.
void fit_time_ticks(QValueAxis* axis, double lo, double hi) {
  const double span = hi - lo;
  if (!(span > 0)) return;
  static const double steps[] = {0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160, 4320, 8760};
  double step = steps[std::size(steps) - 1];
  for (double candidate : steps)
    if (span / candidate <= 7) {
      step = candidate;
      break;
    }
  if (span / step > 7) step = nice_step(span, 6);
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(0);
  axis->setTickInterval(step);
  axis->setLabelFormat(step < 1 ? QStringLiteral("%.2f") : QStringLiteral("%.0f"));
}

// The legend entry's swatch: a block for areas, a dot for markers, a line otherwise.
QString swatch(const SeriesData& s, const QColor& background) {
  const QString colour = readable(color_of(s.color), background, kGraphicContrast).name();
  switch (s.kind) {
    case SeriesKind::Area: return QStringLiteral("<span style='color:%1'>■</span>").arg(colour);
    case SeriesKind::Events: return QStringLiteral("<span style='color:%1'>●</span>").arg(colour);
    case SeriesKind::Marker: return QStringLiteral("<span style='color:%1'>┊</span>").arg(colour);
    default: return QStringLiteral("<span style='color:%1'><b>━</b></span>").arg(colour);
  }
}

bool all_zero(const SeriesData& s) {
  return std::all_of(s.y.begin(), s.y.end(), [](double v) { return v == 0; });
}

}  // namespace

// The chart view with the planner's mouse handling: drag zooms (the rubber
// band), wheel zooms around the cursor, right or middle drag pans, double
// click resets, hovering shows the values under the cursor, a click on a
// decision names it.
class PlannerChartView : public QChartView {
 public:
  PlannerChartView(ChartPanel* panel, QChart* chart) : QChartView(chart, panel), panel_(panel) {
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::HorizontalRubberBand);
    setMouseTracking(true);
    setMinimumSize(260, 150);  // three rows and the gate panel fit 800 px (1000 px at 125 %)
  }

  // The chart is about to be replaced (and deleted): the hover line belongs
  // to it and goes with it.
  void chart_replaced() {
    crosshair_ = nullptr;
    pressed_event_ = -1;
    QToolTip::hideText();
  }

  // The time under a scene position, or NaN outside the plot area.
  double time_at(QPointF scene_pos) const {
    const QRectF plot = chart()->plotArea();
    const auto [lo, hi] = panel_->time_range();
    if (plot.width() <= 0 || scene_pos.x() < plot.left() || scene_pos.x() > plot.right()) return std::nan("");
    return lo + (scene_pos.x() - plot.left()) / plot.width() * (hi - lo);
  }

 protected:
  bool viewportEvent(QEvent* event) override {
    // Qt's tooltip timer sends a ToolTip event some 0.7 s after the mouse
    // stops; QGraphicsView hands it to the scene, whose items have no tooltip,
    // and the scene hides whatever tip shows: the value tip vanished while the
    // mouse was still on the point. Answer it with the values instead.
    if (event->type() == QEvent::ToolTip) {
      const auto* help = static_cast<QHelpEvent*>(event);
      show_values(QPointF(help->pos()), help->globalPos());
      return true;
    }
    return QChartView::viewportEvent(event);
  }

  void wheelEvent(QWheelEvent* event) override {
    const double t = time_at(mapToScene(event->position().toPoint()));
    if (std::isnan(t) || event->angleDelta().y() == 0) return QChartView::wheelEvent(event);
    panel_->zoom_time(event->angleDelta().y() > 0 ? 0.8 : 1.25, t);
    event->accept();
  }

  void mousePressEvent(QMouseEvent* event) override {
    if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
      panning_ = true;
      last_pan_ = event->position();
      setCursor(Qt::ClosedHandCursor);
      event->accept();
      return;
    }
    // A press on a decision is a click on it, not the start of a zoom drag.
    if (event->button() == Qt::LeftButton) {
      pressed_event_ = panel_->event_near(mapToScene(event->position().toPoint()));
      if (pressed_event_ >= 0) {
        event->accept();
        return;
      }
    }
    QChartView::mousePressEvent(event);
  }

  void mouseMoveEvent(QMouseEvent* event) override {
    if (panning_) {
      const double dx = event->position().x() - last_pan_.x();
      last_pan_ = event->position();
      const QRectF plot = chart()->plotArea();
      const auto [lo, hi] = panel_->time_range();
      if (plot.width() > 0) {
        const double shift = -dx / plot.width() * (hi - lo);
        panel_->set_time_range(lo + shift, hi + shift);
        emit panel_->time_range_changed(lo + shift, hi + shift);
      }
      event->accept();
      return;
    }
    QChartView::mouseMoveEvent(event);
    if (event->buttons() == Qt::NoButton) show_values(event->position(), event->globalPosition().toPoint());
  }

  void mouseReleaseEvent(QMouseEvent* event) override {
    if (panning_ && (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton)) {
      panning_ = false;
      unsetCursor();
      event->accept();
      return;
    }
    if (pressed_event_ >= 0 && event->button() == Qt::LeftButton) {
      const int pressed = std::exchange(pressed_event_, -1);
      if (panel_->event_near(mapToScene(event->position().toPoint())) == pressed) {
        panel_->mark_event(pressed);
        emit panel_->event_clicked(pressed);
      }
      event->accept();
      return;
    }
    QChartView::mouseReleaseEvent(event);
  }

  void mouseDoubleClickEvent(QMouseEvent* event) override {
    panel_->reset_time_range();
    event->accept();
  }

  void leaveEvent(QEvent* event) override {
    if (crosshair_) crosshair_->hide();
    QToolTip::hideText();
    QChartView::leaveEvent(event);
  }

 private:
  // The values at the time under `pos` (viewport coordinates), shown until the
  // mouse leaves the plot or another time's values replace them.
  void show_values(QPointF pos, QPoint global_pos) {
    const QPointF scene_pos = mapToScene(pos.toPoint());
    const double t = time_at(scene_pos);
    if (std::isnan(t) || panel_->data().series.empty()) {
      if (crosshair_) crosshair_->hide();
      QToolTip::hideText();
      if (!panning_) unsetCursor();
      return;
    }
    const QRectF plot = chart()->plotArea();
    if (!crosshair_) {
      crosshair_ = new QGraphicsLineItem(chart());
      crosshair_->setZValue(50);
    }
    QColor line_colour = palette().color(QPalette::Text);
    line_colour.setAlpha(110);
    crosshair_->setPen(QPen(line_colour, 1, Qt::DotLine));
    crosshair_->setLine(QLineF(scene_pos.x(), plot.top(), scene_pos.x(), plot.bottom()));
    crosshair_->show();
    if (!panning_) {
      if (panel_->event_near(scene_pos) >= 0) setCursor(Qt::PointingHandCursor);
      else unsetCursor();
    }
    const auto [lo, hi] = panel_->time_range();
    const double tolerance = 6.0 / std::max(1.0, plot.width()) * (hi - lo);
    // Shown for as long as the mouse stays over the plot (Qt's default hides
    // a tip after 10 s or so); leaving the rectangle hides it.
    constexpr int kShownMs = 24 * 3600 * 1000;
    const QRect plot_in_viewport = mapFromScene(plot).boundingRect();
    QToolTip::showText(global_pos, panel_->tooltip_at(t, tolerance), viewport(), plot_in_viewport, kShownMs);
  }

  ChartPanel* panel_;
  bool panning_ = false;
  QPointF last_pan_;
  int pressed_event_ = -1;
  QGraphicsLineItem* crosshair_ = nullptr;
};

ChartPanel::ChartPanel(const QString& title, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 0, 4, 0);
  bar->setSpacing(2);
  bar->addStretch(1);
  auto add_button = [&](const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton(this);
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    QFont f = b->font();
    f.setPointSizeF(8);
    b->setFont(f);
    connect(b, &QToolButton::clicked, this, slot);
    bar->addWidget(b);
    return b;
  };
  add_button(tr("Active span"), tr("Show the span where the runs change"), [this] { fit_activity(); });
  add_button(tr("Whole run"), tr("Show the whole run (or double-click the chart)"), [this] { reset_time_range(); });
  add_button(tr("PNG"), tr("Export this chart as a PNG image"), [this] { ask_and_export(QStringLiteral("png")); });
  add_button(tr("SVG"), tr("Export this chart as an SVG drawing"), [this] { ask_and_export(QStringLiteral("svg")); });
  add_button(tr("CSV"), tr("Export the data of this chart as CSV"), [this] { ask_and_export(QStringLiteral("csv")); });
  layout->addLayout(bar);
  // The frame is what exports show: the chart and its legend, not the buttons.
  frame_ = new QWidget(this);
  frame_->setAutoFillBackground(true);  // in the chart's background colour: see rebuild
  auto* frame_layout = new QVBoxLayout(frame_);
  frame_layout->setContentsMargins(0, 0, 0, 2);
  frame_layout->setSpacing(0);
  view_ = new PlannerChartView(this, new QChart);
  view_->setParent(frame_);
  frame_layout->addWidget(view_, 1);
  legend_ = new QLabel(frame_);
  legend_->setWordWrap(true);
  legend_->setTextFormat(Qt::RichText);
  legend_->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
  legend_->setContentsMargins(6, 0, 6, 0);
  QFont legend_font = legend_->font();
  legend_font.setPointSizeF(7.5);
  legend_->setFont(legend_font);
  frame_layout->addWidget(legend_);
  layout->addWidget(frame_, 1);
  clear(title);
}

QChart* ChartPanel::chart() const { return view_->chart(); }

void ChartPanel::clear(const QString& title) {
  ChartData empty;
  empty.title = title.toStdString();
  set_data(std::move(empty));
}

void ChartPanel::set_data(ChartData data) {
  data_ = std::move(data);
  rebuild();
}

void ChartPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  // A new palette (the system's turned dark, or the window set one): redraw
  // in its colours, on the same span.
  if (event->type() == QEvent::PaletteChange && view_) {
    const auto [lo, hi] = time_range();
    rebuild();
    set_time_range(lo, hi);
  }
}

void ChartPanel::rebuild() {
  const ChartColours colours = chart_colours(palette());
  // The frame (what exports show) and the legend in the chart's colours.
  QPalette frame_palette;
  frame_palette.setColor(QPalette::Window, colours.background);
  frame_palette.setColor(QPalette::WindowText, colours.text);
  frame_->setPalette(frame_palette);

  QChart* old = view_->chart();
  auto* chart = new QChart;
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setBackgroundBrush(colours.background);
  chart->setBackgroundPen(Qt::NoPen);
  chart->setDropShadowEnabled(false);
  chart->setPlotAreaBackgroundVisible(false);
  chart->setTitleBrush(colours.text);
  chart->setTitle(QString::fromStdString(data_.title));
  QFont title_font = chart->titleFont();
  title_font.setPointSizeF(10);
  title_font.setBold(true);
  chart->setTitleFont(title_font);
  chart->setMargins(QMargins(4, 2, 4, 2));
  chart->legend()->hide();  // the panel's own legend wraps; Qt's truncates
  // The items of the old chart go with it.
  marker_labels_.clear();
  label_anchor_ = nullptr;
  mark_line_ = nullptr;
  mark_ring_ = nullptr;
  event_points_.clear();

  x_axis_ = new QValueAxis;
  style_axis(x_axis_, tr("time (h)"), colours);
  chart->addAxis(x_axis_, Qt::AlignBottom);
  left_axis_ = new QValueAxis;
  style_axis(left_axis_, QString::fromStdString(data_.left_label), colours);
  chart->addAxis(left_axis_, Qt::AlignLeft);
  QValueAxis* right_axis = nullptr;
  if (!data_.right_label.empty()) {
    right_axis = new QValueAxis;
    style_axis(right_axis, QString::fromStdString(data_.right_label), colours);
    chart->addAxis(right_axis, Qt::AlignRight);
  }

  auto attach = [&](QAbstractSeries* series, const SeriesData& s) {
    chart->addSeries(series);
    series->attachAxis(x_axis_);
    series->attachAxis(s.axis == Axis::Right && right_axis ? right_axis : left_axis_);
  };

  // Stacks: one for the current run, one for the baseline.
  std::vector<double> stack_current, stack_baseline;
  double left_max = 0, right_max = 0;
  std::vector<const SeriesData*> markers;

  for (const SeriesData& s : data_.series) {
    const QString name = QString::fromStdString(s.name);
    double& axis_max = (s.axis == Axis::Right && right_axis) ? right_max : left_max;
    switch (s.kind) {
      case SeriesKind::Area: {
        if (all_zero(s)) break;  // adds nothing to the stack but a line along its top
        std::vector<double>& stack = s.baseline ? stack_baseline : stack_current;
        if (stack.size() < s.y.size()) stack.resize(s.y.size(), 0.0);
        std::vector<double> lower(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(s.y.size()));
        for (std::size_t i = 0; i < s.y.size(); ++i) stack[i] += s.y[i];
        std::vector<double> upper(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(s.y.size()));
        for (double v : upper) axis_max = std::max(axis_max, v);
        if (s.baseline) {
          auto* edge = new QLineSeries;
          edge->setName(name);
          edge->append(points_of(s, upper));
          edge->setPen(series_pen(s, 1.6, colours.background));
          attach(edge, s);
        } else {
          auto* up = new QLineSeries;
          up->append(points_of(s, upper));
          auto* low = new QLineSeries;
          low->append(points_of(s, lower));
          auto* area = new QAreaSeries(up, low);
          up->setParent(area);
          low->setParent(area);
          area->setName(name);
          QColor fill = color_of(s.color);
          fill.setAlpha(200);
          area->setBrush(fill);
          area->setPen(QPen(readable(color_of(s.color).darker(115), colours.background, kGraphicContrast), 0.8));
          attach(area, s);
          if (!label_anchor_) label_anchor_ = up;
        }
        break;
      }
      case SeriesKind::Line:
      case SeriesKind::Step: {
        auto* line = new QLineSeries;
        line->setName(name);
        line->append(s.kind == SeriesKind::Step ? step_points(s) : points_of(s, s.y));
        line->setPen(series_pen(s, 2.0, colours.background));
        for (double v : s.y)
          if (std::isfinite(v)) axis_max = std::max(axis_max, v);
        attach(line, s);
        if (s.axis == Axis::Left && !label_anchor_) label_anchor_ = line;
        break;
      }
      case SeriesKind::Events: {
        if (s.x.empty()) break;  // no such decision: keep the legend short
        auto* dots = new QScatterSeries;
        dots->setName(name);
        dots->append(points_of(s, s.y));
        dots->setMarkerSize(s.baseline ? 8 : 10);
        dots->setMarkerShape(s.baseline ? QScatterSeries::MarkerShapeRectangle : QScatterSeries::MarkerShapeCircle);
        const QColor colour = readable(color_of(s.color), colours.background, kGraphicContrast);
        if (s.baseline) {
          dots->setBrush(Qt::NoBrush);
          dots->setPen(QPen(colour, 1.2, Qt::DashLine));
        } else {
          dots->setBrush(colour);
          dots->setPen(QPen(colours.background, 1));
        }
        attach(dots, s);
        for (std::size_t i = 0; i < s.event_index.size() && i < s.x.size() && i < s.y.size(); ++i)
          event_points_[static_cast<int>(s.event_index[i])] = EventPoint{s.x[i], s.y[i], dots};
        break;
      }
      case SeriesKind::Marker:
        markers.push_back(&s);
        break;
    }
  }

  if (data_.left_fixed_max > 0) {
    left_axis_->setRange(0, data_.left_fixed_max);
    left_axis_->setTickCount(5);
    left_axis_->setLabelFormat(QStringLiteral("%.0f"));
  } else {
    fit_value_axis(left_axis_, left_max);
  }
  if (right_axis) fit_value_axis(right_axis, right_max);

  // Vertical markers span the left axis; labels sit at their top.
  for (const SeriesData* s : markers) {
    for (std::size_t i = 0; i < s->x.size(); ++i) {
      auto* vline = new QLineSeries;
      vline->setName(QString::fromStdString(s->name));
      vline->append(s->x[i], left_axis_->min());
      vline->append(s->x[i], left_axis_->max());
      const QColor colour = readable(color_of(s->color), colours.background, kGraphicContrast);
      QPen pen(s->baseline ? mix(colour, colours.background, 0.4) : colour, s->baseline ? 1.0 : 1.2,
               s->baseline ? Qt::DashLine : Qt::DotLine);
      vline->setPen(pen);
      attach(vline, *s);
      if (!label_anchor_) label_anchor_ = vline;
      if (i < s->labels.size() && !s->labels[i].empty()) {
        auto* text = new QGraphicsSimpleTextItem(QString::fromStdString(s->labels[i]), chart);
        QFont f = text->font();
        f.setPointSizeF(7.5);
        text->setFont(f);
        text->setBrush(readable(color_of(s->color), colours.background, kTextContrast));
        text->setZValue(20);
        marker_labels_.push_back(MarkerLabel{text, QPointF(s->x[i], left_axis_->max())});
      }
      // A decision with a dot is found by its dot; one with only this line, here.
      if (i < s->event_index.size()) event_points_.try_emplace(static_cast<int>(s->event_index[i]), EventPoint{s->x[i], 0, nullptr});
    }
  }

  update_legend();

  const double shown = data_.x_active > 0 ? data_.x_active : (data_.x_max > 0 ? data_.x_max : 1);
  x_axis_->setRange(0, shown);
  fit_time_ticks(x_axis_, 0, shown);
  connect(x_axis_, &QValueAxis::rangeChanged, this, &ChartPanel::on_x_range_changed);
  connect(chart, &QChart::plotAreaChanged, this, [this] { place_marker_labels(); });

  // The decision's mark: over the series and labels, under the hover line.
  const QPen mark_pen(colours.highlight, 3.0);
  mark_line_ = new QGraphicsLineItem(chart);
  mark_line_->setPen(mark_pen);
  mark_line_->setZValue(40);
  mark_line_->hide();
  mark_ring_ = new QGraphicsEllipseItem(chart);
  mark_ring_->setPen(mark_pen);
  mark_ring_->setBrush(Qt::NoBrush);
  mark_ring_->setZValue(41);
  mark_ring_->hide();
  if (!shows_event(marked_event_)) marked_event_ = -1;

  static_cast<PlannerChartView*>(view_)->chart_replaced();
  view_->setChart(chart);
  delete old;
  place_marker_labels();
}

void ChartPanel::update_legend() {
  const ChartColours colours = chart_colours(palette());
  // The legend: the current run's series that show something, then one entry
  // for the baseline's dashed lines.
  QStringList entries;
  bool has_baseline = false;
  for (const SeriesData& sd : data_.series) {
    if (sd.baseline) {
      has_baseline = true;
      continue;
    }
    if (sd.x.empty() || (sd.kind == SeriesKind::Area && all_zero(sd))) continue;
    entries << QStringLiteral("<span style='white-space:nowrap'>%1&nbsp;%2</span>")
                   .arg(swatch(sd, colours.background), QString::fromStdString(sd.name).toHtmlEscaped());
  }
  if (has_baseline)
    entries << QStringLiteral("<span style='white-space:nowrap'><span style='color:%1'>╌╌</span>&nbsp;<i>%2</i></span>")
                   .arg(colours.axis_line.name(), tr("baseline (dashed)"));
  legend_->setText(entries.join(QStringLiteral(" &nbsp; ")));
  legend_->setVisible(!entries.isEmpty());
}

void ChartPanel::mark_event(int index) {
  marked_event_ = shows_event(index) ? index : -1;
  if (marked_event_ >= 0) {
    // Bring it into view, keeping the span's width.
    const double t = event_points_.at(marked_event_).t_h;
    const auto [lo, hi] = time_range();
    if (t < lo || t > hi) {
      const double width = hi - lo;
      const double full = std::max(data_.x_max, t);
      const double new_lo = std::clamp(t - width / 2, 0.0, std::max(0.0, full - width));
      set_time_range(new_lo, new_lo + width);
      emit time_range_changed(new_lo, new_lo + width);
    }
  }
  place_mark();
}

std::optional<QPointF> ChartPanel::event_position(int index) const {
  const auto it = event_points_.find(index);
  if (it == event_points_.end()) return std::nullopt;
  const QRectF plot = chart()->plotArea();
  const auto [lo, hi] = time_range();
  const EventPoint& p = it->second;
  if (plot.width() <= 0 || !(hi > lo) || p.t_h < lo || p.t_h > hi) return std::nullopt;
  const double x = plot.left() + (p.t_h - lo) / (hi - lo) * plot.width();
  const double y = p.dots ? chart()->mapToPosition(QPointF(p.t_h, p.y), p.dots).y() : plot.center().y();
  return chart()->mapToScene(QPointF(x, y));
}

int ChartPanel::event_near(QPointF scene_pos, double max_px) const {
  // The decisions drawn nearest: the nearest line (and, among lines that
  // coincide, the nearest dot), with those drawn on the same spot.
  struct Candidate {
    int index;
    double dx, dy;
  };
  std::vector<Candidate> near;
  for (const auto& [index, point] : event_points_) {
    const std::optional<QPointF> at = event_position(index);
    if (!at) continue;
    const double dx = std::fabs(at->x() - scene_pos.x());
    if (dx <= max_px) near.push_back({index, dx, point.dots ? std::fabs(at->y() - scene_pos.y()) : 1e9});
  }
  if (near.empty()) return -1;
  constexpr double kSameSpot = 0.5;  // pixels
  double min_dx = near.front().dx;
  for (const Candidate& c : near) min_dx = std::min(min_dx, c.dx);
  std::erase_if(near, [&](const Candidate& c) { return c.dx > min_dx + kSameSpot; });
  double min_dy = near.front().dy;
  for (const Candidate& c : near) min_dy = std::min(min_dy, c.dy);
  std::erase_if(near, [&](const Candidate& c) { return c.dy > min_dy + kSameSpot; });
  // In the report's order: the latest decision there first, then (the marked
  // one being among them) the one before it, round again.
  for (std::size_t i = 0; i < near.size(); ++i)
    if (near[i].index == marked_event_) return near[(i + near.size() - 1) % near.size()].index;
  return near.back().index;
}

void ChartPanel::place_mark() {
  if (!mark_line_ || !mark_ring_) return;
  const std::optional<QPointF> at = event_position(marked_event_);
  mark_line_->setVisible(at.has_value());
  mark_ring_->setVisible(at.has_value() && event_points_.at(marked_event_).dots != nullptr);
  if (!at) return;
  const QRectF plot = chart()->plotArea();
  const QPointF local = chart()->mapFromScene(*at);
  mark_line_->setLine(QLineF(local.x(), plot.top(), local.x(), plot.bottom()));
  constexpr double kRing = 9;
  mark_ring_->setRect(QRectF(local.x() - kRing, local.y() - kRing, 2 * kRing, 2 * kRing));
}

void ChartPanel::place_marker_labels() {
  place_mark();
  if (!label_anchor_) return;
  QChart* c = chart();
  const QRectF plot = c->plotArea();
  // Left to right; a label that would overlap the one before it in its row
  // drops to the next row.
  std::vector<std::size_t> order(marker_labels_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return marker_labels_[a].at.x() < marker_labels_[b].at.x(); });
  std::vector<double> row_end;
  for (std::size_t i : order) {
    auto& [item, at] = marker_labels_[i];
    const QPointF p = c->mapToPosition(at, label_anchor_);
    const bool inside = p.x() >= plot.left() - 1 && p.x() <= plot.right() + 1;
    item->setVisible(inside);
    if (!inside) continue;
    const double width = item->boundingRect().width();
    std::size_t row = 0;
    while (row < row_end.size() && row_end[row] > p.x()) ++row;
    if (row == row_end.size()) row_end.push_back(0);
    row_end[row] = p.x() + 2 + width + 3;
    item->setPos(p.x() + 2, plot.top() + 1 + static_cast<double>(row) * (item->boundingRect().height() + 1));
  }
}

void ChartPanel::on_x_range_changed(double min_h, double max_h) {
  fit_time_ticks(x_axis_, min_h, max_h);
  place_marker_labels();
  if (!applying_range_) emit time_range_changed(min_h, max_h);
}

std::pair<double, double> ChartPanel::time_range() const { return {x_axis_->min(), x_axis_->max()}; }

void ChartPanel::set_time_range(double min_h, double max_h) {
  if (!(max_h > min_h)) return;
  applying_range_ = true;
  x_axis_->setRange(min_h, max_h);
  applying_range_ = false;
}

void ChartPanel::fit_activity() {
  const double shown = data_.x_active > 0 ? data_.x_active : (data_.x_max > 0 ? data_.x_max : 1);
  set_time_range(0, shown);
  emit time_range_changed(0, shown);
}

void ChartPanel::reset_time_range() {
  const double max = data_.x_max > 0 ? data_.x_max : 1;
  set_time_range(0, max);
  emit time_range_changed(0, max);
}

void ChartPanel::zoom_time(double factor, double centre_h) {
  const auto [lo, hi] = time_range();
  const double full = data_.x_max > 0 ? data_.x_max : 1;
  double new_lo = centre_h - (centre_h - lo) * factor;
  double new_hi = centre_h + (hi - centre_h) * factor;
  if (new_hi - new_lo >= full) {
    new_lo = 0;
    new_hi = full;
  }
  if (new_hi - new_lo < 1e-3) return;
  set_time_range(new_lo, new_hi);
  emit time_range_changed(new_lo, new_hi);
}

QString ChartPanel::tooltip_at(double t_h, double tolerance_h) const {
  // Coloured names readable on the tip's own background.
  // (QToolTip::palette() keeps the palette of the first tip; the tip itself
  // follows the application's.)
  const QColor tip_background = QApplication::palette("QTipLabel").color(QPalette::ToolTipBase);
  QString text = QStringLiteral("<b>t = %1 h</b>").arg(QLocale().toString(t_h, 'f', 2));
  int rows = 0;
  for (const SeriesData& s : data_.series) {
    if (s.x.empty() || rows >= 30) continue;
    if (s.kind == SeriesKind::Events || s.kind == SeriesKind::Marker) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (std::fabs(s.x[i] - t_h) > tolerance_h || i >= s.labels.size() || s.labels[i].empty()) continue;
        if (s.kind == SeriesKind::Marker) continue;  // the event markers say it in full
        text += QStringLiteral("<br>%1 h: %2")
                    .arg(QLocale().toString(s.x[i], 'f', 2), QString::fromStdString(s.labels[i]).toHtmlEscaped());
        ++rows;
      }
      continue;
    }
    // The nearest point, if the time is within the series' span.
    const auto it = std::lower_bound(s.x.begin(), s.x.end(), t_h);
    std::size_t i = static_cast<std::size_t>(it - s.x.begin());
    if (i == s.x.size()) i = s.x.size() - 1;
    if (i > 0 && std::fabs(s.x[i - 1] - t_h) < std::fabs(s.x[i] - t_h)) i = i - 1;
    const double spacing = s.x.size() > 1 ? (s.x.back() - s.x.front()) / static_cast<double>(s.x.size() - 1) : 1.0;
    if (std::fabs(s.x[i] - t_h) > spacing) continue;
    const QString name = QString::fromStdString(s.name).toHtmlEscaped();
    text += QStringLiteral("<br><span style='color:%1'>%2</span>: %3")
                .arg(readable(color_of(s.color), tip_background, kTextContrast).name(), s.baseline ? QStringLiteral("<i>%1</i>").arg(name) : name,
                     format_value(s.y[i]));
    ++rows;
  }
  return text;
}

namespace {

QString save_atomically(const QString& path, const std::function<bool(QIODevice&)>& write) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  if (!write(file)) {
    file.cancelWriting();
    return QObject::tr("cannot write %1").arg(path);
  }
  if (!file.commit()) return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  return {};
}

}  // namespace

QImage ChartPanel::image(double scale) const {
  scale = std::clamp(scale, 0.25, 8.0);
  QImage image((QSizeF(frame_->size()) * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(scale);
  image.fill(frame_->palette().color(QPalette::Window));
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setRenderHint(QPainter::TextAntialiasing);
  frame_->render(&painter);
  painter.end();
  return image;
}

QString ChartPanel::export_png(const QString& path, double scale) const {
  const QImage picture = image(scale);
  return save_atomically(path, [&](QIODevice& out) { return picture.save(&out, "PNG"); });
}

QByteArray ChartPanel::svg_document() const {
  // SVG output does not clip what Qt paints outside the plot area: when the
  // view shows part of the run, a twin panel draws only that part.
  const auto [lo, hi] = time_range();
  const double end = data_.x_max > 0 ? data_.x_max : hi;
  std::unique_ptr<ChartPanel> twin;
  const ChartPanel* drawn = this;
  if (lo > 1e-9 || hi < end - 1e-9) {
    twin = std::make_unique<ChartPanel>(QString::fromStdString(data_.title));
    twin->setAttribute(Qt::WA_DontShowOnScreen);
    twin->resize(size());
    twin->show();
    twin->set_data(clip_to(data_, lo, hi));
    twin->set_time_range(lo, hi);
    twin->mark_event(marked_event_);  // as on screen (inside [lo, hi] or not plotted: the span stays)
    twin->frame_->resize(frame_->size());
    QCoreApplication::processEvents();
    drawn = twin.get();
  }
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setSize(drawn->frame_->size());
  svg.setViewBox(QRect(QPoint(0, 0), drawn->frame_->size()));
  svg.setTitle(QString::fromStdString(data_.title));
  svg.setDescription(tr("otasim planner chart"));
  QPainter painter;
  if (!painter.begin(&svg)) return {};
  drawn->frame_->render(&painter);
  if (!painter.end()) return {};
  return buffer.data();
}

QString ChartPanel::export_svg(const QString& path) const {
  const QByteArray document = svg_document();
  return save_atomically(path, [&](QIODevice& out) {
    return !document.isEmpty() && out.write(document) == document.size();
  });
}

QString ChartPanel::export_csv(const QString& path) const {
  const std::string err = models::write_file_atomically(path.toStdString(), chart_csv(data_));
  return QString::fromStdString(err);
}

void ChartPanel::ask_and_export(const QString& kind) {
  const QString suggested = QString::fromStdString(data_.id.empty() ? std::string("chart") : data_.id) + "." + kind;
  const QString filter = kind == QLatin1String("png")   ? tr("PNG image (*.png)")
                         : kind == QLatin1String("svg") ? tr("SVG drawing (*.svg)")
                                                        : tr("CSV (*.csv)");
  const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), suggested, filter);
  if (path.isEmpty()) return;
  double scale = 2;
  if (kind == QLatin1String("png")) {
    bool ok = false;
    scale = QInputDialog::getDouble(this, tr("Export PNG"),
                                    tr("Scale (the chart on screen is %1 × %2 pixels):")
                                        .arg(frame_->width())
                                        .arg(frame_->height()),
                                    2.0, 0.25, 8.0, 2, &ok);
    if (!ok) return;
  }
  const QString err = kind == QLatin1String("png")   ? export_png(path, scale)
                      : kind == QLatin1String("svg") ? export_svg(path)
                                                     : export_csv(path);
  emit status_message(err.isEmpty() ? tr("Exported %1").arg(path) : err);
}

}  // namespace ota::gui
