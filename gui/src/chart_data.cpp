#include "ota/gui/chart_data.hpp"

#include <algorithm>
#include <cstdint>
#include <charconv>
#include <functional>
#include <sstream>

namespace ota::gui {

namespace {

using models::RunReport;
using models::Series;

constexpr double kHour = 3600.0;

// The end of each bin, in hours: levels are the value at the bin's end and
// counts are what happened by then.
std::vector<double> bin_ends_h(const Series& s) {
  std::vector<double> x;
  x.reserve(s.t_s.size());
  for (double t : s.t_s) x.push_back((t + s.bin_s) / kHour);
  return x;
}

template <typename T>
std::vector<double> as_doubles(const std::vector<T>& v, double scale = 1.0) {
  std::vector<double> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(static_cast<double>(x) * scale);
  return out;
}

template <typename T>
std::vector<double> cumulative(const std::vector<T>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  double sum = 0;
  for (const T& x : v) out.push_back(sum += static_cast<double>(x));
  return out;
}

// Adds the series `make` builds for the current run and, if there is one, for
// the baseline (same colour; drawn dashed).
void add_pair(ChartData& chart, const RunReport& current, const RunReport* baseline,
              const std::function<SeriesData(const RunReport&)>& make) {
  chart.series.push_back(make(current));
  if (baseline) {
    SeriesData b = make(*baseline);
    b.baseline = true;
    b.name = "baseline: " + b.name;
    b.labels.clear();  // the baseline's markers stay unlabelled: the current run's labels are the ones read
    b.event_index.clear();  // and are not the current run's decisions
    chart.series.push_back(std::move(b));
  }
}

SeriesData line(std::string name, unsigned color, std::vector<double> x, std::vector<double> y,
                SeriesKind kind = SeriesKind::Line, Axis axis = Axis::Left) {
  SeriesData s;
  s.name = std::move(name);
  s.kind = kind;
  s.axis = axis;
  s.color = color;
  s.x = std::move(x);
  s.y = std::move(y);
  return s;
}

double horizon_h(const RunReport& current, const RunReport* baseline) {
  auto end = [](const RunReport& r) {
    const Series& s = r.series;
    return s.t_s.empty() ? 0.0 : (s.t_s.back() + s.bin_s) / kHour;
  };
  return std::max(end(current), baseline ? end(*baseline) : 0.0);
}

ChartData make_chart(std::string id, std::string title, std::string left, std::string right,
                     const RunReport& current, const RunReport* baseline) {
  ChartData c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.left_label = std::move(left);
  c.right_label = std::move(right);
  c.x_max = horizon_h(current, baseline);
  const double active = std::max(activity_end_h(current), baseline ? activity_end_h(*baseline) : 0.0);
  // Show the active span with some of the calm after it; a run that is busy
  // to its end is shown whole.
  c.x_active = std::min(c.x_max, std::max(active * 1.25, std::min(c.x_max, 4 * current.series.bin_s / kHour)));
  if (c.x_active >= 0.8 * c.x_max) c.x_active = c.x_max;
  return c;
}

// The offered share at time t_h (the level at the first bin ending at or after it).
double offered_percent_at(const RunReport& r, double t_h) {
  const Series& s = r.series;
  if (s.t_s.empty() || r.totals.devices == 0) return 0;
  std::size_t i = 0;
  while (i + 1 < s.t_s.size() && (s.t_s[i] + s.bin_s) / kHour < t_h) ++i;
  return 100.0 * static_cast<double>(s.offered[i]) / static_cast<double>(r.totals.devices);
}

std::string event_label(const models::RolloutEvent& e) {
  std::ostringstream out;
  out << "stage " << (e.stage + 1) << ": " << e.kind;
  if (!e.reason.empty()) out << " (" << e.reason << ")";
  out << "; offered " << e.offered << ", reports " << e.reports << ", failures " << e.failures << ", rollbacks "
      << e.rollbacks;
  return out.str();
}

bool is_stop(const std::string& kind) { return kind == "pause" || kind == "abort" || kind == "rollback"; }

}  // namespace

double activity_end_h(const RunReport& r) {
  const Series& s = r.series;
  double end = 0;
  for (std::size_t i = 0; i < s.t_s.size(); ++i) {
    bool active = s.bytes_per_s[i] > 0 || s.updates[i] > 0 || s.failures[i] > 0 || s.rollbacks[i] > 0 ||
                  s.bricks[i] > 0 || s.battery_deferrals[i] > 0 || s.downloading[i] > 0 || s.installing[i] > 0 ||
                  s.rebooting[i] > 0 || s.queue_length_peak[i] > 0;
    if (i > 0) {
      for (const auto* level : {&s.offered, &s.updated, &s.idle, &s.waiting, &s.rolled_back, &s.bricked, &s.refused,
                                &s.battery_blocked})
        active = active || (*level)[i] != (*level)[i - 1];
    }
    if (active) end = (s.t_s[i] + s.bin_s) / kHour;
  }
  for (const models::RolloutEvent& e : r.rollout.events) end = std::max(end, e.t_s / kHour);
  return end;
}

ChartData adoption_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("adoption", "Adoption by version and state", "devices", "", current, baseline);
  // Bottom to top: the new version first, then the old version's states, then
  // devices with nothing bootable.
  struct Layer {
    const char* name;
    unsigned color;
    const std::vector<std::uint64_t> Series::*values;
  };
  static const Layer layers[] = {
      {"updated (new)", 0x2e7d32, &Series::updated},
      {"rebooting", 0x9ccc65, &Series::rebooting},
      {"installing", 0x26a69a, &Series::installing},
      {"downloading", 0x1e88e5, &Series::downloading},
      {"waiting", 0x90caf9, &Series::waiting},
      {"idle (old)", 0xbdbdbd, &Series::idle},
      {"rolled back (old)", 0xfb8c00, &Series::rolled_back},
      {"refused (old)", 0x8e24aa, &Series::refused},
      {"battery blocked (old)", 0x6d4c41, &Series::battery_blocked},
      {"bricked (none)", 0xc62828, &Series::bricked},
  };
  for (const Layer& layer : layers) {
    add_pair(c, current, baseline, [&](const RunReport& r) {
      return line(layer.name, layer.color, bin_ends_h(r.series), as_doubles(r.series.*layer.values), SeriesKind::Area);
    });
  }
  return c;
}

ChartData failures_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("failures", "Failures, rollbacks, bricks", "devices / attempts / crashes", "", current,
                           baseline);
  // Devices that failed for good (refused, or gave up after max_attempts): the
  // table's "failed". Failed attempts that were retried are another count
  // (transfer drops, rejected transfers) and carry their own name.
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("failed devices", 0xe53935, bin_ends_h(r.series), as_doubles(r.series.refused), SeriesKind::Step);
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("failed attempts (retried)", 0xef9a9a, bin_ends_h(r.series), cumulative(r.series.failures));
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("rollbacks", 0xfb8c00, bin_ends_h(r.series), cumulative(r.series.rollbacks));
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("bricks", 0x6a1b9a, bin_ends_h(r.series), cumulative(r.series.bricks));
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("crashes", 0x546e7a, bin_ends_h(r.series), cumulative(r.series.crashes));
  });
  return c;
}

ChartData server_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("server", "Server requests, queue and wait", "requests/s", "queue, downloads / wait (s)",
                           current, baseline);
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("requests/s", 0x1e88e5, bin_ends_h(r.series), r.series.requests_per_s);
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("queue length (peak)", 0xef6c00, bin_ends_h(r.series), r.series.queue_length_peak, SeriesKind::Line,
                Axis::Right);
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("downloads in flight (peak)", 0x00897b, bin_ends_h(r.series), r.series.downloads_in_flight_peak,
                SeriesKind::Line, Axis::Right);
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("mean wait (s)", 0x8e24aa, bin_ends_h(r.series), r.series.wait_mean_s, SeriesKind::Line, Axis::Right);
  });
  return c;
}

std::vector<double> cumulative_cost_usd(const RunReport& report) {
  const Series& s = report.series;
  const models::Totals& t = report.totals;
  double total_bytes = 0;
  for (double b : s.bytes_per_s) total_bytes += b * s.bin_s;
  const double traffic_usd = t.data_cost_usd + t.server_egress_cost_usd + t.cdn_cost_usd;
  const double per_call_usd = t.service_calls > 0 ? t.service_cost_usd / static_cast<double>(t.service_calls) : 0.0;
  // Service calls: one per bricked device, charged when it bricked.
  double bricks_in_series = 0;
  for (auto b : s.bricks) bricks_in_series += static_cast<double>(b);
  const double per_brick_usd = bricks_in_series > 0 ? t.service_cost_usd / bricks_in_series : per_call_usd;
  std::vector<double> out;
  out.reserve(s.t_s.size());
  double bytes = 0, bricks = 0;
  for (std::size_t i = 0; i < s.t_s.size(); ++i) {
    bytes += s.bytes_per_s[i] * s.bin_s;
    bricks += static_cast<double>(s.bricks[i]);
    const double share = total_bytes > 0 ? bytes / total_bytes : 0.0;
    out.push_back(traffic_usd * share + per_brick_usd * bricks);
  }
  return out;
}

ChartData bandwidth_cost_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("bandwidth", "Bandwidth and cumulative cost", "Mbit/s", "USD", current, baseline);
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("bandwidth (Mbit/s)", 0x3949ab, bin_ends_h(r.series), as_doubles(r.series.bytes_per_s, 8e-6));
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("cumulative cost (USD)", 0x2e7d32, bin_ends_h(r.series), cumulative_cost_usd(r), SeriesKind::Line,
                Axis::Right);
  });
  return c;
}

ChartData battery_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("battery", "Battery deferrals", "deferrals per bin", "devices blocked", current, baseline);
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("battery deferrals", 0x8d6e63, bin_ends_h(r.series), as_doubles(r.series.battery_deferrals));
  });
  add_pair(c, current, baseline, [](const RunReport& r) {
    return line("battery blocked", 0x4e342e, bin_ends_h(r.series), as_doubles(r.series.battery_blocked),
                SeriesKind::Line, Axis::Right);
  });
  return c;
}

ChartData timeline_chart(const RunReport& current, const RunReport* baseline) {
  ChartData c = make_chart("timeline", "Stage timeline and gate decisions", "offered (% of fleet)", "", current,
                           baseline);
  c.left_fixed_max = 100;
  add_pair(c, current, baseline, [](const RunReport& r) {
    // The offered share from the bins, sharpened by the decisions' own counts:
    // a stage opens at its event's time, not at the end of its bin.
    const double devices = r.totals.devices ? static_cast<double>(r.totals.devices) : 1.0;
    std::vector<std::pair<double, double>> points{{0.0, 0.0}};
    const std::vector<double> ends = bin_ends_h(r.series);
    for (std::size_t i = 0; i < ends.size(); ++i)
      points.emplace_back(ends[i], 100.0 * static_cast<double>(r.series.offered[i]) / devices);
    for (const models::RolloutEvent& e : r.rollout.events)
      points.emplace_back(e.t_s / kHour, 100.0 * static_cast<double>(e.offered) / devices);
    std::stable_sort(points.begin(), points.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<double> x, y;
    for (const auto& [t, v] : points) {
      x.push_back(t);
      y.push_back(v);
    }
    return line("offered", 0x1565c0, std::move(x), std::move(y), SeriesKind::Step);
  });
  // Decisions as markers on the offered curve, one series per family.
  struct Family {
    const char* name;
    unsigned color;
    std::function<bool(const std::string&)> has;
  };
  const Family families[] = {
      {"stage opened", 0x2e7d32, [](const std::string& k) { return k == "stage_open" || k == "ramp"; }},
      {"gate passed", 0x1e88e5,
       [](const std::string& k) { return k == "gate_pass" || k == "sprt_accept" || k == "resume" || k == "completed"; }},
      {"stopped (pause/abort/rollback)", 0xc62828, [](const std::string& k) { return is_stop(k); }},
      {"waiting / ignored breach", 0x757575,
       [](const std::string& k) { return k == "awaiting_reports" || k == "breach_ignored"; }},
  };
  for (const Family& family : families) {
    add_pair(c, current, baseline, [&](const RunReport& r) {
      SeriesData s = line(family.name, family.color, {}, {}, SeriesKind::Events);
      for (std::size_t i = 0; i < r.rollout.events.size(); ++i) {
        const models::RolloutEvent& e = r.rollout.events[i];
        if (!family.has(e.kind)) continue;
        s.x.push_back(e.t_s / kHour);
        s.y.push_back(offered_percent_at(r, e.t_s / kHour));
        s.labels.push_back(event_label(e));
        s.event_index.push_back(i);
      }
      return s;
    });
  }
  // Vertical lines on the time axis where a stage opened or the rollout stopped or completed.
  add_pair(c, current, baseline, [](const RunReport& r) {
    SeriesData s = line("stage / stop", 0x37474f, {}, {}, SeriesKind::Marker);
    for (std::size_t i = 0; i < r.rollout.events.size(); ++i) {
      const models::RolloutEvent& e = r.rollout.events[i];
      std::string label;
      if (e.kind == "stage_open") label = "S" + std::to_string(e.stage + 1);
      else if (is_stop(e.kind)) label = e.kind;
      else if (e.kind == "completed") label = "done";
      else continue;
      s.x.push_back(e.t_s / kHour);
      s.y.push_back(100.0);
      s.labels.push_back(label);
      s.event_index.push_back(i);
    }
    return s;
  });
  return c;
}

std::vector<ChartData> all_charts(const RunReport& current, const RunReport* baseline) {
  return {adoption_chart(current, baseline), timeline_chart(current, baseline),
          failures_chart(current, baseline), server_chart(current, baseline),
          bandwidth_cost_chart(current, baseline), battery_chart(current, baseline)};
}

std::size_t closed_bins(const RunReport& partial) {
  const Series& s = partial.series;
  const std::size_t n = std::min({s.t_s.size(), s.on_old.size(), s.on_new.size(), s.on_none.size()});
  std::size_t b = 0;
  while (b < n && s.on_old[b] + s.on_new[b] + s.on_none[b] > 0) ++b;
  return b;
}

std::vector<ChartData> live_charts(const RunReport& partial, const RunReport* baseline) {
  const std::size_t n = closed_bins(partial);
  if (n == 0) return {};
  RunReport cut;
  cut.scenario = partial.scenario;
  cut.release = partial.release;
  cut.totals = partial.totals;
  cut.rollout = partial.rollout;
  cut.run = partial.run;
  const Series& s = partial.series;
  Series& c = cut.series;
  c.bin_s = s.bin_s;
  auto keep = [n](auto& to, const auto& from) { to.assign(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(std::min(n, from.size()))); };
  keep(c.t_s, s.t_s);
  keep(c.offered, s.offered);
  keep(c.on_old, s.on_old);
  keep(c.on_new, s.on_new);
  keep(c.on_none, s.on_none);
  keep(c.idle, s.idle);
  keep(c.waiting, s.waiting);
  keep(c.downloading, s.downloading);
  keep(c.installing, s.installing);
  keep(c.rebooting, s.rebooting);
  keep(c.updated, s.updated);
  keep(c.rolled_back, s.rolled_back);
  keep(c.bricked, s.bricked);
  keep(c.refused, s.refused);
  keep(c.battery_blocked, s.battery_blocked);
  keep(c.downloads_in_flight_peak, s.downloads_in_flight_peak);
  keep(c.queue_length_peak, s.queue_length_peak);
  keep(c.requests_per_s, s.requests_per_s);
  keep(c.bytes_per_s, s.bytes_per_s);
  keep(c.failures, s.failures);
  keep(c.rollbacks, s.rollbacks);
  keep(c.bricks, s.bricks);
  keep(c.battery_deferrals, s.battery_deferrals);
  keep(c.updates, s.updates);
  keep(c.crashes, s.crashes);
  keep(c.wait_mean_s, s.wait_mean_s);
  keep(c.transfers_active, s.transfers_active);

  std::vector<ChartData> charts = all_charts(cut, baseline);
  const double horizon = horizon_h(partial, baseline);
  const double now_h = (s.t_s[n - 1] + s.bin_s) / kHour;
  for (ChartData& chart : charts) {
    chart.x_max = std::max(chart.x_max, horizon);
    chart.x_active = std::min(chart.x_max, std::max(chart.x_active, now_h));
  }
  return charts;
}

ChartData clip_to(const ChartData& chart, double lo, double hi) {
  ChartData out = chart;
  out.x_max = hi;
  out.x_active = std::clamp(chart.x_active, lo, hi);
  for (SeriesData& s : out.series) {
    const bool continuous = s.kind == SeriesKind::Line || s.kind == SeriesKind::Area || s.kind == SeriesKind::Step;
    const std::size_t n = std::min(s.x.size(), s.y.size());
    // The value at time t, between points i-1 and i.
    auto at = [&](std::size_t i, double t) {
      if (i == 0) return s.y[0];
      if (s.kind == SeriesKind::Step || !(s.x[i] > s.x[i - 1])) return s.y[i - 1];
      return s.y[i - 1] + (s.y[i] - s.y[i - 1]) * (t - s.x[i - 1]) / (s.x[i] - s.x[i - 1]);
    };
    SeriesData kept = s;
    kept.x.clear();
    kept.y.clear();
    kept.labels.clear();
    kept.event_index.clear();
    auto push = [&](double x, double y, const std::string& label) {
      kept.x.push_back(x);
      kept.y.push_back(y);
      if (!s.labels.empty()) kept.labels.push_back(label);
    };
    for (std::size_t i = 0; i < n; ++i) {
      const std::string label = i < s.labels.size() ? s.labels[i] : std::string();
      if (s.x[i] < lo) continue;
      if (continuous && kept.x.empty() && i > 0 && s.x[i] > lo) push(lo, at(i, lo), {});
      if (s.x[i] > hi) {
        if (continuous && i > 0) push(hi, at(i, hi), {});
        break;
      }
      push(s.x[i], s.y[i], label);
      if (i < s.event_index.size()) kept.event_index.push_back(s.event_index[i]);
    }
    s = std::move(kept);
  }
  return out;
}

std::string chart_csv(const ChartData& chart) {
  auto quoted = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"') out += '"';
      out += ch;
    }
    return out + "\"";
  };
  std::string out = "series,t_h,value,label\n";
  // Shortest round-trip numbers, whatever the process locale (Qt adopts the user's).
  auto number = [](double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  };
  for (const SeriesData& s : chart.series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      out += quoted(s.name);
      out += ',' + number(s.x[i]) + ',' + number(s.y[i]) + ',';
      if (i < s.labels.size()) out += quoted(s.labels[i]);
      out += '\n';
    }
  }
  return out;
}

}  // namespace ota::gui
