// chart_panel.hpp — one planner chart: a Qt Charts view of a ChartData with
// value tooltips, zoom and pan on the time axis, and export as PNG, SVG and CSV.
//
// Mouse: drag to zoom into a time span, wheel to zoom around the cursor, right
// or middle drag to pan, double-click to see the whole run. Hovering shows the
// value of every series at that time, for as long as the mouse stays over the
// plot. The panel reports its time range so the window can keep every chart on
// the same span.
//
// Gate decisions: a chart whose data has decision series (Events and Marker
// series with event_index, e.g. timeline_chart's) can mark one decision
// (mark_event), and a click on or next to a decision says which one it was
// (event_clicked). Decisions are named by their position in the report's
// rollout.events, as GatePanel's rows are.
//
// Colours follow the widget's palette (light or dark): background, title, axes,
// grid, legend and marker labels; series colours too dark or too light for the
// background are shifted until they read.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QString>
#include <QWidget>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "ota/gui/chart_data.hpp"

class QChart;
class QChartView;
class QGraphicsEllipseItem;
class QGraphicsLineItem;
class QGraphicsSimpleTextItem;
class QLabel;
class QLineSeries;
class QValueAxis;
class QXYSeries;

namespace ota::gui {

class ChartPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ChartPanel(const QString& title, QWidget* parent = nullptr);

  // Draws `data`, replacing what was drawn. Keeps nothing of the previous data.
  void set_data(ChartData data);
  // Back to an empty chart with this title (no run yet).
  void clear(const QString& title);
  const ChartData& data() const { return data_; }

  QChart* chart() const;
  QChartView* view() const { return view_; }
  // What the exports show: the chart with its legend.
  QWidget* frame() const { return frame_; }
  QLabel* legend() const { return legend_; }

  // Exports. Each writes through a temporary file renamed into place and
  // returns an empty string or an error message naming the file.
  // PNG: the frame at `scale` times its size on screen (2: twice as many
  // pixels each way, for slides and print).
  QString export_png(const QString& path, double scale = 2.0) const;
  // SVG: the frame as vectors, only the time span shown (clipped to the plot).
  QString export_svg(const QString& path) const;
  // The picture export_png writes, and the document export_svg writes (empty
  // when painting failed).
  QImage image(double scale) const;
  QByteArray svg_document() const;
  QString export_csv(const QString& path) const;

  // The visible time span, hours.
  std::pair<double, double> time_range() const;
  // Shows [min_h, max_h] without emitting time_range_changed.
  void set_time_range(double min_h, double max_h);
  // The whole run.
  void reset_time_range();
  // The span where the runs change (what set_data shows first).
  void fit_activity();
  // Zooms the time axis by `factor` (< 1: in) around `centre_h`, as the wheel does.
  void zoom_time(double factor, double centre_h);

  // The hover text at time `t_h` (HTML): every series' value at the nearest
  // point, and the events within `tolerance_h`.
  QString tooltip_at(double t_h, double tolerance_h) const;

  // Draws decision `index` (a position in the report's rollout.events) marked:
  // a thick line across the plot and a ring round its dot, in the palette's
  // highlight colour. -1, or a decision this chart does not plot, clears the
  // mark. A decision outside the span shown is brought into view (the span
  // moves to centre it and time_range_changed is emitted, as for a pan).
  // Emits nothing else: the window may call it from a table's selection
  // without a loop. The mark stays across set_data while the new data still
  // plots that decision (a run's partial reports only add decisions).
  void mark_event(int index);
  // The decision marked, or -1.
  int marked_event() const { return marked_event_; }
  // Whether this chart plots decision `index` (so it can be marked or clicked).
  bool shows_event(int index) const { return event_points_.count(index) > 0; }
  // Where decision `index` is drawn, in scene coordinates (the chart's and the
  // view's scene): x of its time, y of its dot if it has one, else the plot's
  // middle. Empty if the chart does not plot it or it is outside the span shown.
  std::optional<QPointF> event_position(int index) const;
  // The decision a click at `scene_pos` (scene coordinates) picks, or -1: of
  // the decisions drawn within `max_px` pixels of it horizontally, those
  // nearest (their line, then their dot); of several drawn on the same spot
  // (a gate passed and the next stage opened at once), the latest, or, if the
  // marked one is among them, the one before it: clicks step through them.
  int event_near(QPointF scene_pos, double max_px = 5.0) const;

 signals:
  void time_range_changed(double min_h, double max_h);  // by the user (zoom, pan, reset)
  void status_message(const QString& text);
  // The user clicked on or within a few pixels of decision `index` (the chart
  // has already marked it).
  void event_clicked(int index);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  // A decision as this chart draws it; `dots` is the chart's series holding
  // its dot (null if only a vertical marker shows it), replaced with the chart.
  struct EventPoint {
    double t_h = 0;
    double y = 0;
    QXYSeries* dots = nullptr;
  };

  void rebuild();
  void update_legend();
  void place_mark();
  void place_marker_labels();
  void on_x_range_changed(double min_h, double max_h);
  void ask_and_export(const QString& kind);

  friend class PlannerChartView;
  ChartData data_;
  QWidget* frame_ = nullptr;
  QLabel* legend_ = nullptr;
  QChartView* view_ = nullptr;
  QValueAxis* x_axis_ = nullptr;
  QValueAxis* left_axis_ = nullptr;
  // Items of the current chart (it owns them): reset in rebuild, which replaces it.
  struct MarkerLabel {
    QGraphicsSimpleTextItem* item;
    QPointF at;
  };
  std::vector<MarkerLabel> marker_labels_;
  QXYSeries* label_anchor_ = nullptr;  // a series on the left axis, to map marker labels
  QGraphicsLineItem* mark_line_ = nullptr;
  QGraphicsEllipseItem* mark_ring_ = nullptr;
  std::map<int, EventPoint> event_points_;  // by position in rollout.events
  int marked_event_ = -1;
  bool applying_range_ = false;
};

}  // namespace ota::gui
