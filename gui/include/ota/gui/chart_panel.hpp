// chart_panel.hpp — one planner chart: a Qt Charts view of a ChartData with
// value tooltips, zoom and pan on the time axis, and export as PNG, SVG and CSV.
//
// Mouse: drag to zoom into a time span, wheel to zoom around the cursor, right
// or middle drag to pan, double-click to see the whole run. Hovering shows the
// value of every series at that time. The panel reports its time range so the
// window can keep every chart on the same span.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QString>
#include <QWidget>

#include <utility>
#include <vector>

#include "ota/gui/chart_data.hpp"

class QChart;
class QChartView;
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

 signals:
  void time_range_changed(double min_h, double max_h);  // by the user (zoom, pan, reset)
  void status_message(const QString& text);

 private:
  void rebuild();
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
  std::vector<std::pair<QGraphicsSimpleTextItem*, QPointF>> marker_labels_;
  QXYSeries* label_anchor_ = nullptr;  // a series on the left axis, to map marker labels
  bool applying_range_ = false;
};

}  // namespace ota::gui
