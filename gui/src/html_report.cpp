#include "ota/gui/html_report.hpp"

#include <QApplication>
#include <QBuffer>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFileInfo>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QProcess>
#include <QScatterSeries>
#include <QStandardPaths>
#include <QSvgGenerator>
#include <QTemporaryDir>
#include <QUrl>
#include <QValueAxis>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "ota/gui/chart_panel.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/text.hpp"

namespace ota::gui {

namespace {

using models::MetricSummary;
using models::RunReport;
using models::Scenario;

// ---- Qt without a display ------------------------------------------------

// A QApplication for the duration of a render when the process has none (the
// command-line tools). The offscreen platform unless the user chose one.
class HeadlessQt {
 public:
  HeadlessQt() {
    if (QCoreApplication::instance()) return;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // The offscreen platform's notes about windows it does not have are noise
    // on a command line; errors still show.
    previous_ = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& text) {
      if (type == QtCriticalMsg || type == QtFatalMsg) std::fprintf(stderr, "otasim: Qt: %s\n", qPrintable(text));
    });
    app_ = std::make_unique<QApplication>(argc_, argv_);
  }
  ~HeadlessQt() {
    if (!app_) return;
    app_.reset();
    qInstallMessageHandler(previous_);
  }
  HeadlessQt(const HeadlessQt&) = delete;
  HeadlessQt& operator=(const HeadlessQt&) = delete;

 private:
  QtMessageHandler previous_ = nullptr;
  static inline int argc_ = 1;
  static inline char name_[] = "otasim";
  static inline char* argv_[] = {name_, nullptr};
  std::unique_ptr<QApplication> app_;
};

// The <svg> element of an SVG document, without the XML prolog, ready to
// inline in HTML.
std::string esc(std::string_view s);

std::string inline_svg(const QByteArray& document, const std::string& label, std::size_t index) {
  const std::string missing = "<p class=\"missing\">(the chart " + esc(label) + " could not be drawn)</p>";
  const qsizetype start = document.indexOf("<svg");
  if (start < 0) return missing;
  std::string svg = document.mid(start).toStdString();
  // Qt names its gradients gradient1, gradient2, ... in every document: in one
  // page they would collide (every chart filled with the first chart's
  // gradient). Each inlined chart gets its own prefix, from its place in the page.
  const std::string prefix = "c" + std::to_string(index) + "-";
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"id=\"", "id=\"" + prefix},
                                 {"url(#", "url(#" + prefix},
                                 {"href=\"#", "href=\"#" + prefix}}) {
    for (std::size_t at = svg.find(from); at != std::string::npos; at = svg.find(from, at + to.size()))
      svg.replace(at, from.size(), to);
  }
  std::size_t open_end = svg.find('>');
  if (open_end == std::string::npos) return missing;
  // Qt sizes the drawing in millimetres, which HTML does not allow on <svg>:
  // the viewBox and the style sheet size it instead.
  for (const char* attribute : {" width=\"", " height=\""}) {
    const std::size_t at = svg.find(attribute);
    if (at == std::string::npos || at > open_end) continue;
    const std::size_t close = svg.find('"', at + std::strlen(attribute));
    if (close == std::string::npos || close > open_end) continue;
    svg.erase(at, close + 1 - at);
    open_end = svg.find('>');
  }
  svg.insert(open_end, " role=\"img\" class=\"chart\"");
  return svg;
}

QByteArray render_view_svg(QWidget& widget, const QString& title) {
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setSize(widget.size());
  svg.setViewBox(QRect(QPoint(0, 0), widget.size()));
  svg.setTitle(title);
  svg.setDescription(QStringLiteral("otasim chart"));
  QPainter painter;
  if (!painter.begin(&svg)) return {};
  widget.render(&painter);
  if (!painter.end()) return {};
  return buffer.data();
}

// ---- Text ----------------------------------------------------------------

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\t': case '\n': case '\r': out += c; break;
      default:
        // Control characters cannot appear in HTML text.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += "\xEF\xBF\xBD";  // U+FFFD
        else out += c;
    }
  }
  return out;
}

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string fmt_count(double v) {
  if (!std::isfinite(v)) return v > 0 ? "never" : "n/a";
  if (std::fabs(v) < 1e15 && v == std::floor(v)) return models::with_commas(v);
  return printf_str("%.4g", v);
}

std::string fmt_num(double v) {
  if (!std::isfinite(v)) return v > 0 ? "∞" : "n/a";
  if (v == 0) return "0";
  if (std::fabs(v) >= 1e6) return fmt_count(std::round(v));
  return printf_str("%.4g", v);
}

std::string fmt_usd(double v) {
  if (!std::isfinite(v)) return "n/a";
  const std::string whole = printf_str("%.2f", std::fabs(v));
  const std::size_t dot = whole.find('.');
  return std::string(v < 0 ? "-" : "") + "$" + models::with_commas(std::stod(whole.substr(0, dot))) + whole.substr(dot);
}

std::string fmt_bytes(double v) {
  if (!std::isfinite(v)) return "n/a";
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  double x = v;
  while (std::fabs(x) >= 1000 && u < 5) {
    x /= 1000;
    ++u;
  }
  return u == 0 ? fmt_count(v) + " B" : printf_str("%.3g", x) + " " + units[u];
}

std::string fmt_percent(double share) {
  if (!std::isfinite(share)) return "n/a";
  const double p = 100 * share;
  if (p != 0 && std::fabs(p) < 0.01) return printf_str("%.2g", p) + " %";
  return printf_str("%.2f", p) + " %";
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A metric's value as a person reads it, by the unit its name carries.
std::string fmt_metric(const std::string& name, double v) {
  // A flag: yes or no for one run; over replications its mean is the share of
  // runs where it held.
  if (name == "stopped") return v == 0 ? "no" : v == 1 ? "yes" : fmt_percent(v) + " of runs";
  if (!std::isfinite(v) && v > 0 && (ends_with(name, "_h") || ends_with(name, "_s"))) return "never";
  if (ends_with(name, "_share")) return fmt_percent(v);
  if (ends_with(name, "_usd")) return fmt_usd(v);
  if (ends_with(name, "_bytes")) return fmt_bytes(v);
  if (ends_with(name, "_h")) return printf_str("%.1f", v) + " h";
  if (ends_with(name, "_s")) return models::human_duration(v);
  if (ends_with(name, "_j")) return fmt_num(v) + " J";
  if (ends_with(name, "_per_s")) return fmt_num(v) + "/s";
  return fmt_count(v);
}

std::string fmt_interval(const std::string& name, const MetricSummary& m) {
  if (m.n <= 1 || !std::isfinite(m.mean)) return "";
  return "[" + fmt_metric(name, m.ci_low) + ", " + fmt_metric(name, m.ci_high) + "]";
}

// ---- Scenario words ------------------------------------------------------

std::string version_text(const models::Version& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

const char* partitioning_text(models::Partitioning p) {
  switch (p) {
    case models::Partitioning::AB: return "A/B";
    case models::Partitioning::SingleWithRecovery: return "single + recovery";
    case models::Partitioning::SingleNoRecovery: return "single, no recovery";
  }
  return "?";
}

const char* action_text(models::GateAction a) {
  switch (a) {
    case models::GateAction::Continue: return "continue";
    case models::GateAction::Pause: return "pause";
    case models::GateAction::Abort: return "abort";
    case models::GateAction::Rollback: return "roll back";
  }
  return "?";
}

const char* mode_text(models::GateMode m) {
  switch (m) {
    case models::GateMode::Threshold: return "threshold";
    case models::GateMode::Bayes: return "Bayes";
    case models::GateMode::Sprt: return "SPRT";
  }
  return "?";
}

std::string rate_text(double bps) {
  if (bps <= 0) return "unlimited";
  if (bps >= 1e6) return printf_str("%.3g", bps / 1e6) + " Mbit/s";
  if (bps >= 1e3) return printf_str("%.3g", bps / 1e3) + " kbit/s";
  return printf_str("%.3g", bps) + " bit/s";
}

std::string gate_text(const models::Gate& g) {
  if (g.empty()) return "none (always passes)";
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : "; ") + part; };
  if (g.max_failure_rate) add("failure rate ≤ " + fmt_percent(*g.max_failure_rate));
  if (g.max_rollback_rate) add("rollback rate ≤ " + fmt_percent(*g.max_rollback_rate));
  if (g.max_crash_rate_per_day) add("crashes ≤ " + fmt_num(*g.max_crash_rate_per_day) + " per device-day");
  if (g.max_deferral_rate) add("battery deferrals ≤ " + fmt_percent(*g.max_deferral_rate));
  if (g.max_failures) add("failures ≤ " + fmt_count(static_cast<double>(*g.max_failures)));
  if (g.max_rollbacks) add("rollbacks ≤ " + fmt_count(static_cast<double>(*g.max_rollbacks)));
  s += "; " + std::string(mode_text(g.mode));
  if (g.mode == models::GateMode::Bayes) s += " at " + fmt_percent(g.confidence);
  if (g.mode == models::GateMode::Sprt)
    s += " (α " + fmt_num(g.sprt_alpha) + ", β " + fmt_num(g.sprt_beta) + ")";
  if (g.min_reports > 0) s += ", after " + fmt_count(static_cast<double>(g.min_reports)) + " reports";
  s += "; on breach: " + std::string(action_text(g.on_breach));
  return s;
}

// ---- Page ----------------------------------------------------------------

const char* const kStyle = R"(
:root { color-scheme: light; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1d2430; margin: 0; background: #f4f6f9; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 8px; border-top: 1px solid #d9dee7; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.sub { color: #5a6473; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 6px 0 12px; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e9f0; vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.why { font-size: 12px; color: #3b4452; }
.verdict { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.tile { flex: 1 1 170px; border: 1px solid #d9dee7; border-radius: 6px; padding: 8px 12px; }
.tile b { display: block; font-size: 20px; }
.tile span { color: #5a6473; font-size: 12px; }
.pass { color: #116b2e; } .fail { color: #b3261e; }
.banner { font-size: 20px; font-weight: 700; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.banner.pass { background: #e3f4e8; } .banner.fail { background: #fbe4e2; }
.up { color: #b3261e; } .down { color: #116b2e; } .same { color: #5a6473; }
figure { margin: 10px 0 18px; break-inside: avoid; }
figcaption { font-size: 12px; color: #5a6473; }
svg.chart { width: 100%; height: auto; display: block; }
.bar { display: inline-block; height: 10px; background: #3b74c4; vertical-align: middle; }
details summary { cursor: pointer; color: #27508f; }
code { font-size: 12px; background: #f0f3f7; padding: 1px 4px; border-radius: 3px; }
footer { margin-top: 36px; font-size: 12px; color: #5a6473; }
@media print { body { background: #fff; } main { padding: 0; max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
)";

class Page {
 public:
  Page(const std::string& title, const std::string& subtitle) {
    out_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<meta name=\"generator\" content=\"otasim\">\n";
    out_ += "<title>" + esc(title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<main>\n";
    out_ += "<h1>" + esc(title) + "</h1>\n<p class=\"sub\">" + subtitle + "</p>\n";
  }
  void raw(const std::string& html) { out_ += html; }
  void h2(const std::string& text, const std::string& id) {
    out_ += "<h2 id=\"" + id + "\">" + esc(text) + "</h2>\n";
  }
  void h3(const std::string& text) { out_ += "<h3>" + esc(text) + "</h3>\n"; }
  void p(const std::string& html) { out_ += "<p>" + html + "</p>\n"; }
  std::string finish(const std::string& command, const std::string& version) {
    out_ += "<footer>Made by otasim " + esc(version) + " with <code>" + esc(command) +
            "</code>. Every number here comes from that command; the same scenario and seed give the same report "
            "apart from the wall time and the build version.</footer>\n</main>\n</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  std::string out_;
};

struct Table {
  std::string html = "<table>\n";
  explicit Table(const std::vector<std::pair<std::string, bool>>& head) {
    if (head.empty()) {
      html += "<tbody>\n";
      return;
    }
    html += "<thead><tr>";
    for (const auto& [text, numeric] : head) html += std::string(numeric ? "<th class=\"n\">" : "<th>") + esc(text) + "</th>";
    html += "</tr></thead>\n<tbody>\n";
  }
  // Cells are HTML; `numeric` right-aligns.
  void row(const std::vector<std::pair<std::string, bool>>& cells, const std::string& cls = "") {
    html += cls.empty() ? "<tr>" : "<tr class=\"" + cls + "\">";
    for (const auto& [cell, numeric] : cells) html += std::string(numeric ? "<td class=\"n\">" : "<td>") + cell + "</td>";
    html += "</tr>\n";
  }
  std::string done() { return html + "</tbody>\n</table>\n"; }
};

std::string tile(const std::string& value, const std::string& label, const std::string& cls = "") {
  return "<div class=\"tile\"><b" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + ">" + value +
         "</b><span>" + esc(label) + "</span></div>";
}

// "+12.3 %" coloured by whether the change is for the worse (`higher_is_worse`).
// The change from `base` to `now`, coloured by which direction is better
// (uncoloured when neither is).
std::string change_text(double base, double now, models::Better better) {
  auto span_class = [better](bool worse) {
    return better == models::Better::Neither ? "neutral" : worse ? "up" : "down";
  };
  const bool higher_is_worse = better == models::Better::Lower;
  if (!std::isfinite(base) || !std::isfinite(now)) {
    if (std::isfinite(base) == std::isfinite(now)) return "<span class=\"same\">—</span>";
    const bool worse = higher_is_worse ? !std::isfinite(now) : std::isfinite(now);
    return std::string("<span class=\"") + span_class(worse) + "\">" +
           (std::isfinite(now) ? "now reached" : "no longer reached") + "</span>";
  }
  if (base == now) return "<span class=\"same\">same</span>";
  const double d = now - base;
  const bool worse = higher_is_worse ? d > 0 : d < 0;
  std::string s = d > 0 ? "+" : "−";
  if (base != 0) s += printf_str("%.3g", std::fabs(100 * d / base)) + " %";
  else s += fmt_num(std::fabs(d));
  return std::string("<span class=\"") + span_class(worse) + "\">" + s + "</span>";
}


const models::MetricInfo* metric_info(const std::string& name) {
  for (const models::MetricInfo& m : models::metrics())
    if (m.name == name) return &m;
  return nullptr;
}

double value_of(const RunReport& r, const std::string& name) { return models::metric_value(r, name).value_or(NAN); }

const MetricSummary* summary_of(const std::vector<MetricSummary>& all, const std::string& name) {
  for (const MetricSummary& m : all)
    if (m.metric == name) return &m;
  return nullptr;
}

// ---- Run report sections -------------------------------------------------

std::string scenario_section(const Scenario& s, const std::string& path) {
  std::string h;
  if (!s.description.empty()) h += "<p>" + esc(s.description) + "</p>\n";
  h += "<p><b>" + fmt_count(static_cast<double>(s.devices)) + " devices</b> from <code>" + esc(path) +
       "</code>; seed " + std::to_string(s.seed) + "; horizon " + models::human_duration(s.horizon_s) + " in bins of " +
       models::human_duration(s.bin_s) + ".</p>\n";

  Table fleet({{"Class", false}, {"Devices", true}, {"Hardware", false}, {"Link", false}, {"Region", false},
               {"Power", false}, {"Flash", false}, {"Learns by", false}, {"Downloads from", false}});
  for (const models::DeviceClass& c : s.classes) {
    std::string power = c.power == models::PowerSource::Battery ? "battery" : "mains";
    if (c.battery)
      power += " (" + fmt_num(c.battery->capacity_j) + " J, charge " + fmt_percent(c.battery->soc_mean) + ")";
    fleet.row({{esc(c.name), false},
               {fmt_count(static_cast<double>(c.devices)), true},
               {esc(c.hardware < s.hardware.size() ? s.hardware[c.hardware].name : "?"), false},
               {esc(c.link < s.links.size() ? s.links[c.link].name : "?"), false},
               {esc(c.region < s.regions.size() ? s.regions[c.region] : "?"), false},
               {esc(power), false},
               {partitioning_text(c.partitioning), false},
               {c.notify == models::Notify::Push ? "push" : "poll", false},
               {c.source == models::Source::Cdn ? "CDN" : c.source == models::Source::P2p ? "peers" : "origin",
                false}});
  }
  h += "<h3>Fleet</h3>\n" + fleet.done();

  Table links({{"Link", false}, {"Median rate", true}, {"Latency", true}, {"Drops per MB", true},
               {"Price per MB", true}, {"Reachable", false}});
  for (const models::LinkProfile& l : s.links)
    links.row({{esc(l.name), false},
               {rate_text(l.median_bps), true},
               {models::human_duration(l.latency_s), true},
               {fmt_num(l.drop_per_mb), true},
               {l.metered ? fmt_usd(l.usd_per_mb) : "unmetered", true},
               {l.wake_interval_s > 0 ? "wakes every " + models::human_duration(l.wake_interval_s) : "always", false}});
  h += "<h3>Links</h3>\n" + links.done();

  const models::Release& r = s.release;
  h += "<h3>Release</h3>\n<p>" + version_text(r.from_version) + " → " + version_text(r.to_version) + ", " +
       (r.payload == models::Payload::Delta ? "delta patch of " + fmt_bytes(static_cast<double>(r.delta_bytes)) +
                                                  " (full image " + fmt_bytes(static_cast<double>(r.full_bytes)) + ")"
                                            : "full image of " + fmt_bytes(static_cast<double>(r.full_bytes))) +
       (r.new_image_file ? ", from the image file <code>" + esc(*r.new_image_file) + "</code>" : std::string()) +
       "; corrupted transfers " + fmt_percent(r.corruption_per_transfer) + ", tampered " +
       fmt_percent(r.tamper_per_transfer) + ".</p>\n";
  Table behaviour({{"Hardware", false}, {"Trial boot fails", true}, {"Never boots", true}, {"Crashes per day", true}});
  for (std::size_t i = 0; i < r.behaviour.size() && i < s.hardware.size(); ++i)
    behaviour.row({{esc(s.hardware[i].name), false},
                   {fmt_percent(r.behaviour[i].boot_failure_probability), true},
                   {fmt_percent(r.behaviour[i].failing_device_share), true},
                   {fmt_num(r.behaviour[i].crash_per_day), true}});
  h += behaviour.done();

  std::string delivery = "Polling every " + models::human_duration(s.polling.interval_s) + " (±" +
                         fmt_percent(s.polling.jitter) + "), retries back off from " +
                         models::human_duration(s.polling.backoff_initial_s) + " to " + models::human_duration(s.polling.backoff_max_s) +
                         (s.polling.synchronized_start ? "; every device's first poll at the start" : "") +
                         ". Origin server: " +
                         (s.server.max_requests_per_s > 0 ? fmt_num(s.server.max_requests_per_s) + " requests/s"
                                                          : std::string("unlimited requests")) +
                         ", " +
                         (s.server.max_concurrent_downloads > 0
                              ? fmt_count(s.server.max_concurrent_downloads) + " downloads at once"
                              : std::string("unlimited downloads")) +
                         ", bandwidth " + rate_text(s.server.bandwidth_bps) + ", egress " +
                         fmt_usd(s.server.usd_per_gb) + "/GB.";
  if (s.delivery.cdn) delivery += " CDN edges in front of the origin.";
  if (s.delivery.p2p) delivery += " Peer-to-peer sharing between devices.";
  h += "<h3>Delivery</h3>\n<p>" + esc(delivery) + "</p>\n";

  const models::Rollout& ro = s.rollout;
  h += "<h3>Rollout policy</h3>\n";
  if (ro.ramp)
    h += "<p>" +
         esc("Rate ramp from " + fmt_num(ro.ramp->base_per_minute) + " devices/min, x" +
             fmt_num(ro.ramp->increment_factor) + " every " +
             fmt_count(static_cast<double>(ro.ramp->increase_every_successes)) + " successes" +
             (ro.ramp->max_per_minute > 0 ? ", at most " + fmt_num(ro.ramp->max_per_minute) + "/min" : "")) +
         ".</p>\n";
  Table stages({{"Stage", true}, {"Offered", false}, {"Soak", true}, {"Gate", false}});
  for (std::size_t i = 0; i < ro.stages.size(); ++i) {
    const models::Stage& st = ro.stages[i];
    std::string offered = fmt_percent(st.fraction) + " of the fleet";
    if (!st.groups.empty()) {
      offered = "groups";
      for (std::size_t g : st.groups) offered += " " + (g < s.groups.size() ? s.groups[g] : "?");
    }
    stages.row({{std::to_string(i + 1), true},
                {esc(offered), false},
                {models::human_duration(st.soak_s), true},
                {esc(gate_text(st.gate)), false}});
  }
  h += stages.done();
  std::string more = "Canary devices chosen ";
  more += ro.selection == models::CanarySelection::Stratified ? "stratified by hardware and region" : "at random";
  more += "; gates evaluated every " + models::human_duration(ro.evaluate_every_s);
  if (ro.device_timeout_s > 0) more += "; a device silent for " + models::human_duration(ro.device_timeout_s) + " counts failed";
  if (ro.max_attempts > 0) more += "; devices give up after " + std::to_string(ro.max_attempts) + " failed attempts";
  if (ro.on_pause)
    more += "; after a pause the operator decides to " + std::string(action_text(ro.on_pause->action)) + " after " +
            models::human_duration(ro.on_pause->after_s);
  h += "<p>" + esc(more) + ".</p>\n";
  return h;
}

std::string totals_section(const RunHtmlInput& in) {
  const bool replicated = in.replications > 1;
  const bool base = in.baseline != nullptr;
  std::vector<std::pair<std::string, bool>> head = {{"Metric", false}};
  head.push_back({replicated ? "Mean" : "Value", true});
  if (replicated) head.push_back({"95 % interval", true});
  if (base) {
    head.push_back({replicated ? "Baseline mean" : "Baseline", true});
    if (replicated) head.push_back({"Baseline interval", true});
    head.push_back({"Change", true});
  }
  head.push_back({"What it counts", false});
  auto table_of = [&](const std::vector<std::string>& names) {
    Table t(head);
    for (const std::string& name : names) {
      const models::MetricInfo* info = metric_info(name);
      if (!info) continue;
      std::vector<std::pair<std::string, bool>> cells = {{"<code>" + esc(name) + "</code>", false}};
      double now = 0, before = 0;
      if (replicated) {
        const MetricSummary* m = summary_of(in.summaries, name);
        now = m ? m->mean : NAN;
        cells.push_back({m ? fmt_metric(name, m->mean) : "n/a", true});
        cells.push_back({m ? fmt_interval(name, *m) : "", true});
      } else {
        now = value_of(*in.report, name);
        cells.push_back({fmt_metric(name, now), true});
      }
      if (base) {
        if (replicated) {
          const MetricSummary* m = summary_of(in.baseline_summaries, name);
          before = m ? m->mean : NAN;
          cells.push_back({m ? fmt_metric(name, m->mean) : "n/a", true});
          cells.push_back({m ? fmt_interval(name, *m) : "", true});
        } else {
          before = value_of(*in.baseline, name);
          cells.push_back({fmt_metric(name, before), true});
        }
        cells.push_back({change_text(before, now, models::metric_presentation(name).better), true});
      }
      cells.push_back({esc(info->description), false});
      t.row(cells);
    }
    return t.done();
  };
  const std::vector<std::string>& headline = models::headline_metrics();
  std::vector<std::string> rest;
  for (const models::MetricInfo& m : models::metrics())
    if (std::find(headline.begin(), headline.end(), m.name) == headline.end()) rest.push_back(m.name);
  std::string h;
  if (replicated)
    h += "<p>" + std::to_string(in.replications) +
         " replications; the interval is the two-sided Student-t 95 % interval of the mean.</p>\n";
  h += table_of(headline);
  h += "<details><summary>Every metric (" + std::to_string(models::metrics().size()) + ")</summary>\n" +
       table_of(rest) + "</details>\n";
  return h;
}

std::string cost_section(const models::CostReport& c, const models::CostReport* b) {
  std::vector<std::pair<std::string, bool>> head = {{"Item", false}, {"Data", true}, {"Cost", true}, {"Share", false}};
  if (b) {
    head.push_back({"Baseline cost", true});
    head.push_back({"Change", true});
  }
  Table t(head);
  const double total = c.total_usd;
  auto share_bar = [&](double usd) {
    const double f = total > 0 ? std::clamp(usd / total, 0.0, 1.0) : 0.0;
    return "<div class=\"bar\" style=\"width:" + printf_str("%.0f", 160 * f) + "px\"></div> " + fmt_percent(f);
  };
  auto row = [&](const std::string& item, const std::string& data, double usd, std::optional<double> base_usd) {
    std::vector<std::pair<std::string, bool>> cells = {
        {esc(item), false}, {data, true}, {fmt_usd(usd), true}, {share_bar(usd), false}};
    if (b) {
      cells.push_back({base_usd ? fmt_usd(*base_usd) : "—", true});
      cells.push_back({base_usd ? change_text(*base_usd, usd, models::Better::Lower) : "", true});
    }
    t.row(cells);
  };
  for (const models::LinkTotals& l : c.data_by_link) {
    std::optional<double> base_usd;
    if (b)
      for (const models::LinkTotals& bl : b->data_by_link)
        if (bl.link == l.link) base_usd = bl.cost_usd;
    row("data over " + l.link, fmt_bytes(static_cast<double>(l.bytes)), l.cost_usd, base_usd);
  }
  row("CDN edge egress", "", c.cdn_cost_usd, b ? std::optional(b->cdn_cost_usd) : std::nullopt);
  row("origin egress", "", c.server_egress_cost_usd, b ? std::optional(b->server_egress_cost_usd) : std::nullopt);
  row("service calls (" + fmt_count(static_cast<double>(c.service_calls)) + " bricked devices x " +
          fmt_usd(c.service_call_usd) + ")",
      "", c.service_cost_usd, b ? std::optional(b->service_cost_usd) : std::nullopt);
  std::vector<std::pair<std::string, bool>> total_cells = {
      {"<b>total</b>", false}, {"", true}, {"<b>" + fmt_usd(c.total_usd) + "</b>", true}, {"", false}};
  if (b) {
    total_cells.push_back({fmt_usd(b->total_usd), true});
    total_cells.push_back({change_text(b->total_usd, c.total_usd, models::Better::Lower), true});
  }
  t.row(total_cells);
  std::string h = t.done();
  h += "<p>Energy drawn for the update: " + fmt_num(c.energy_j) + " J (" + fmt_num(c.energy_mah) +
       " mAh from batteries; not priced)" +
       (b ? ", baseline " + fmt_num(b->energy_j) + " J" : std::string()) + ".</p>\n";
  if (c.delta) {
    const models::DeltaBreakEven& d = *c.delta;
    h += "<p>Delta break-even: " + fmt_usd(d.annual_cost_full_usd) + " a year with full images, " +
         fmt_usd(d.annual_cost_delta_usd) + " with deltas; " +
         (d.break_even_years ? "the development cost is paid back in " + printf_str("%.2g", *d.break_even_years) +
                                   " years"
                             : std::string("delta saves nothing")) +
         ".</p>\n";
  }
  return h;
}

std::string timeline_section(const RunReport& r) {
  const models::RolloutSummary& ro = r.rollout;
  std::string h = "<p>The rollout ended <b>" + esc(ro.state) + "</b> after " + std::to_string(ro.stages_opened) +
                  " stage" + (ro.stages_opened == 1 ? "" : "s") +
                  (ro.stopped_at_s ? "; first stopped at " + models::human_duration(*ro.stopped_at_s) : std::string()) + ".</p>\n";
  Table t({{"Time", true}, {"Stage", true}, {"Decision", false}, {"Offered", true}, {"Reports", true},
           {"Failures", true}, {"Rollbacks", true}, {"Crashes", true}, {"Evidence", false}});
  std::size_t ramps = 0;
  for (const models::RolloutEvent& e : ro.events) {
    if (e.kind == "ramp") {
      ++ramps;
      continue;
    }
    const bool stop = e.kind == "pause" || e.kind == "abort" || e.kind == "rollback";
    t.row({{printf_str("%.2f", e.t_s / 3600) + " h", true},
           {std::to_string(e.stage + 1), true},
           {std::string(stop ? "<b class=\"fail\">" : "") + esc(e.kind) + (stop ? "</b>" : ""), false},
           {fmt_count(static_cast<double>(e.offered)), true},
           {fmt_count(static_cast<double>(e.reports)), true},
           {fmt_count(static_cast<double>(e.failures)), true},
           {fmt_count(static_cast<double>(e.rollbacks)), true},
           {fmt_num(e.crashes), true},
           {e.reason.empty() ? std::string() : "<span class=\"why\">" + esc(e.reason) + "</span>", false}});
  }
  h += t.done();
  if (ramps > 0) h += "<p>" + std::to_string(ramps) + " rate-ramp steps are not listed.</p>\n";
  return h;
}

std::string changes_section(const RunHtmlInput& in) {
  std::string h = "<p>Baseline: <code>" + esc(in.baseline_path) + "</code> (" +
                  esc(in.baseline_scenario ? in.baseline_scenario->name : "") +
                  "), run with the same seeds. The cost and the totals below show it beside this plan; on the "
                  "charts it is dashed.</p>\n";
  if (in.changes.empty()) return h + "<p>The two scenario files set the same values.</p>\n";
  Table t({{"Scenario value", false}, {"Baseline", false}, {"This plan", false}});
  for (const ScenarioChange& c : in.changes)
    t.row({{"<code>" + esc(c.pointer) + "</code>", false}, {esc(c.baseline), false}, {esc(c.current), false}});
  return h + "<h3>What changed in the scenario</h3>\n" + t.done();
}

// ---- Sweep charts --------------------------------------------------------

std::optional<double> as_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

constexpr unsigned kPalette[] = {0x3b74c4, 0xd9822b, 0x2f9e5b, 0xb3261e, 0x7a4fb5, 0x6b6b6b, 0x17a2b8, 0xc2185b};

// One metric over the first swept parameter: the mean with its 95 % interval
// as error bars, one line per combination of the other parameters.
std::string sweep_chart_svg(const SweepHtmlInput& in, std::size_t metric) {
  const std::string& name = in.metric_names[metric];
  const models::SweepParam& first = in.params.front();
  std::vector<double> xs;
  bool numeric = true;
  for (const std::string& v : first.values) {
    const std::optional<double> x = as_number(v);
    numeric = numeric && x.has_value();
    xs.push_back(x.value_or(0));
  }
  if (!numeric)
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<double>(i);
  // Points sharing the values of the other parameters form one line.
  std::map<std::string, std::vector<std::size_t>> lines;
  std::vector<std::string> order;
  for (std::size_t p = 0; p < in.points.size(); ++p) {
    std::string key;
    for (std::size_t k = 1; k < in.points[p].size(); ++k)
      key += (key.empty() ? "" : ", ") + in.points[p][k].first + " = " + in.points[p][k].second;
    if (!lines.count(key)) order.push_back(key);
    lines[key].push_back(p);
  }
  const std::size_t values = first.values.size();
  auto* chart = new QChart;
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setTitle(QString::fromStdString(name));
  chart->legend()->setVisible(order.size() > 1);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setBackgroundRoundness(0);
  chart->setBackgroundBrush(Qt::white);
  chart->setDropShadowEnabled(false);
  double lo = INFINITY, hi = -INFINITY;
  std::size_t skipped = 0;
  std::set<QAbstractSeries*> named;  // the mean lines: the only ones in the legend
  for (std::size_t li = 0; li < order.size(); ++li) {
    const QColor color = QColor::fromRgb(static_cast<QRgb>(kPalette[li % std::size(kPalette)]));
    auto* mean = new QLineSeries;
    mean->setName(QString::fromStdString(order[li].empty() ? name : order[li]));
    QPen pen(color);
    pen.setWidthF(2);
    mean->setPen(pen);
    auto* dots = new QScatterSeries;
    dots->setColor(color);
    dots->setBorderColor(color);
    dots->setMarkerSize(7);
    std::vector<QLineSeries*> bars;
    const std::vector<std::size_t>& pts = lines[order[li]];
    for (std::size_t j = 0; j < pts.size(); ++j) {
      const MetricSummary& m = in.summaries[pts[j]][metric];
      const double x = xs[(pts[j] / std::max<std::size_t>(1, in.points.size() / values)) % values];
      if (!std::isfinite(m.mean)) {
        ++skipped;
        continue;
      }
      mean->append(x, m.mean);
      dots->append(x, m.mean);
      lo = std::min(lo, m.ci_low);
      hi = std::max(hi, m.ci_high);
      if (m.ci_high > m.ci_low) {
        auto* bar = new QLineSeries;
        QPen bpen(color);
        bpen.setWidthF(1.5);
        bar->setPen(bpen);
        bar->append(x, m.ci_low);
        bar->append(x, m.ci_high);
        bars.push_back(bar);
      }
    }
    chart->addSeries(mean);
    chart->addSeries(dots);
    for (QLineSeries* bar : bars) chart->addSeries(bar);
    named.insert(mean);
  }
  const auto markers = chart->legend()->markers();
  for (QLegendMarker* marker : markers)
    if (!named.count(marker->series())) marker->setVisible(false);
  auto* x_axis = numeric ? new QValueAxis : nullptr;
  QAbstractAxis* x = nullptr;
  if (numeric) {
    const auto [mn, mx] = std::minmax_element(xs.begin(), xs.end());
    const double pad = (*mx - *mn) * 0.05 + (*mx == *mn ? 1 : 0);
    x_axis->setRange(*mn - pad, *mx + pad);
    x_axis->applyNiceNumbers();
    x_axis->setLabelFormat("%.4g");
    x = x_axis;
  } else {
    auto* cat = new QCategoryAxis;
    cat->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    for (std::size_t i = 0; i < first.values.size(); ++i)
      cat->append(QString::fromStdString(first.values[i]), static_cast<double>(i));
    cat->setRange(-0.5, static_cast<double>(first.values.size()) - 0.5);
    x = cat;
  }
  x->setTitleText(QString::fromStdString(first.pointer));
  auto* y = new QValueAxis;
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double pad = (hi - lo) * 0.08 + (hi == lo ? std::max(1e-9, std::fabs(hi) * 0.1 + 1e-9) : 0);
  y->setRange(lo - pad, hi + pad);
  y->applyNiceNumbers();
  y->setLabelFormat("%.4g");
  y->setTitleText(QString::fromStdString(name));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (QAbstractSeries* s : chart->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
  QChartView view(chart);
  view.setRenderHint(QPainter::Antialiasing);
  view.setBackgroundBrush(Qt::white);
  view.setFrameShape(QFrame::NoFrame);
  view.resize(820, 360);
  view.setAttribute(Qt::WA_DontShowOnScreen);
  view.show();
  QCoreApplication::processEvents();
  std::string svg = inline_svg(render_view_svg(view, QString::fromStdString(name)), name, metric);
  if (skipped > 0)
    svg += "<p class=\"sub\">" + std::to_string(skipped) +
           " point(s) not drawn: the metric is infinite there (never reached in some replication).</p>";
  return svg;
}

std::string wilson_bar(double low, double high, double share, double required) {
  // 200 px = 0..100 %; the interval as a bar, the observed share as a tick,
  // the required share as a red line.
  auto px = [](double f) { return printf_str("%.1f", 200 * std::clamp(f, 0.0, 1.0)); };
  return "<svg width=\"210\" height=\"16\" viewBox=\"0 0 210 16\" role=\"img\"><title>" +
         esc(fmt_percent(share) + " satisfied, Wilson 95 % [" + fmt_percent(low) + ", " + fmt_percent(high) +
             "], required " + fmt_percent(required)) +
         "</title><rect x=\"0\" y=\"6\" width=\"200\" height=\"4\" fill=\"#e5e9f0\"/><rect x=\"" + px(low) +
         "\" y=\"3\" width=\"" + printf_str("%.1f", std::max(1.0, 200 * (high - low))) +
         "\" height=\"10\" fill=\"#9fb8de\"/><rect x=\"" + px(share) +
         "\" y=\"1\" width=\"2\" height=\"14\" fill=\"#1d2430\"/><rect x=\"" + px(required) +
         "\" y=\"0\" width=\"2\" height=\"16\" fill=\"#b3261e\"/></svg>";
}

// The chart as SVG, and the hours its time axis spans.
std::pair<std::string, double> draw_chart(const ChartData& chart, int width, int height) {
  const HeadlessQt qt;
  ChartPanel panel(QString::fromStdString(chart.title));
  panel.setAttribute(Qt::WA_DontShowOnScreen);
  panel.resize(width, height);
  panel.show();
  panel.set_data(chart);  // shows the span where the run changes, as the planner does
  QCoreApplication::processEvents();
  const double hi = panel.time_range().second;
  const QByteArray svg = panel.svg_document();  // clipped to the span shown
  return {std::string(svg.constData(), static_cast<std::size_t>(svg.size())), std::min(hi, chart.x_max)};
}

}  // namespace

std::string chart_svg(const ChartData& chart, int width, int height) { return draw_chart(chart, width, height).first; }

std::vector<ScenarioChange> scenario_changes(const std::string& baseline_json, const std::string& current_json,
                                             const std::vector<std::pair<std::string, std::string>>& overrides) {
  nlohmann::json b, c;
  try {
    b = nlohmann::json::parse(baseline_json);
    c = nlohmann::json::parse(current_json);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(e.what());
  }
  for (const auto& [pointer, text] : overrides) {
    nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
    if (v.is_discarded()) v = text;
    b[nlohmann::json::json_pointer(pointer)] = v;
    c[nlohmann::json::json_pointer(pointer)] = v;
  }
  // Keys the loader ignores ("_comment...", "$schema") are not changes.
  const auto ignored = [](const std::string& pointer) {
    return pointer.find("/_comment") != std::string::npos || pointer.rfind("/$schema", 0) == 0;
  };
  nlohmann::json fb = b.flatten(), fc = c.flatten();
  for (nlohmann::json* f : {&fb, &fc})
    for (auto it = f->begin(); it != f->end();) it = ignored(it.key()) ? f->erase(it) : std::next(it);
  std::map<std::string, std::pair<std::string, std::string>> diff;
  for (auto it = fb.begin(); it != fb.end(); ++it) {
    const auto other = fc.find(it.key());
    if (other == fc.end()) diff[it.key()] = {it.value().dump(), "(not set)"};
    else if (*other != it.value()) diff[it.key()] = {it.value().dump(), other->dump()};
  }
  for (auto it = fc.begin(); it != fc.end(); ++it)
    if (!fb.contains(it.key())) diff[it.key()] = {"(not set)", it.value().dump()};
  std::vector<ScenarioChange> out;
  for (auto& [pointer, values] : diff) out.push_back({pointer, values.first, values.second});
  return out;
}

std::string run_report_html(const RunHtmlInput& in) {
  const HeadlessQt qt;
  const Scenario& s = *in.scenario;
  const RunReport& r = *in.report;
  const models::Totals& t = r.totals;
  Page page("otasim run report: " + s.name,
            "Scenario <code>" + esc(in.scenario_path) + "</code>, seed " + std::to_string(r.run.seed) +
                (in.replications > 1 ? ", " + std::to_string(in.replications) + " replications" : std::string()) +
                (in.baseline ? ", compared with <code>" + esc(in.baseline_path) + "</code>" : std::string()) +
                ". otasim " + esc(in.version) + ".");
  const double devices = static_cast<double>(t.devices);
  const bool stopped = r.rollout.stopped_at_s.has_value();
  page.raw("<div class=\"verdict\">" +
           tile(fmt_percent(static_cast<double>(t.updated) / devices), "updated at the end") +
           tile(t.time_to_95pct_s ? models::human_duration(*t.time_to_95pct_s) : "not reached", "until 95 % updated") +
           tile(fmt_count(static_cast<double>(t.rolled_back)), "rolled back") +
           tile(fmt_count(static_cast<double>(t.bricked)), "bricked", t.bricked > 0 ? "fail" : "") +
           tile(fmt_usd(in.cost ? in.cost->total_usd : 0), "total cost") +
           tile(esc(r.rollout.state), stopped ? "rollout: stopped by a gate" : "rollout", stopped ? "fail" : "") +
           "</div>\n");
  if (in.replications > 1)
    page.p("The tiles, the charts, the cost and the timeline are replication 0 (seed " +
           std::to_string(r.run.seed) + "); the totals give every replication's mean and interval.");
  // What a reader wants first: what changed, what it costs, how it went; the
  // inputs after.
  page.raw(std::string("<p>Contents: ") +
           (in.baseline ? "<a href=\"#baseline\">comparison</a> · " : "") +
           "<a href=\"#cost\">cost</a> · <a href=\"#charts\">charts</a> · <a href=\"#timeline\">stages and "
           "gates</a> · <a href=\"#totals\">totals</a> · <a href=\"#scenario\">scenario</a> · <a "
           "href=\"#run\">run</a></p>\n");
  if (in.baseline) {
    page.h2("Comparison with the baseline", "baseline");
    page.raw(changes_section(in));
  }
  page.h2("Cost", "cost");
  if (in.cost) page.raw(cost_section(*in.cost, in.baseline_cost));
  page.h2("Charts", "charts");
  if (in.baseline) page.p("Dashed: the baseline.");
  std::size_t index = 0;
  for (const ChartData& chart : all_charts(r, in.baseline)) {
    const auto [svg, shown_h] = draw_chart(chart, 920, 430);
    const QByteArray doc = QByteArray::fromStdString(svg);
    page.raw("<figure>\n" + inline_svg(doc, chart.title, index++) + "\n<figcaption>" + esc(chart.title) +
             (shown_h > 0 && shown_h < chart.x_max - 1e-9
                  ? esc("; the time axis shows the span where the run changes, " + printf_str("%.0f", shown_h) +
                        " h of the " + printf_str("%.0f", chart.x_max) + " h simulated")
                  : std::string()) +
             ".</figcaption>\n</figure>\n");
  }
  page.h2("Stages and gate decisions", "timeline");
  page.raw(timeline_section(r));
  page.h2("Totals", "totals");
  page.raw(totals_section(in));
  page.h2("Scenario", "scenario");
  page.raw(scenario_section(s, in.scenario_path));
  page.h2("Run", "run");
  Table run({});
  run.row({{"build", false}, {esc(in.version), false}});
  run.row({{"seed", false}, {std::to_string(r.run.seed), false}});
  run.row({{"events", false}, {fmt_count(static_cast<double>(r.run.events)), false}});
  run.row({{"ended", false}, {esc(r.run.status), false}});
  run.row({{"wall time", false}, {models::human_duration(r.run.wall_s), false}});
  run.row({{"state per device", false}, {fmt_num(r.run.bytes_per_device) + " B", false}});
  page.raw(run.done());
  return page.finish(in.command, in.version);
}

std::string sweep_report_html(const SweepHtmlInput& in) {
  const HeadlessQt qt;
  const Scenario& s = *in.scenario;
  std::string params;
  for (const models::SweepParam& p : in.params) {
    std::string values;
    for (const std::string& v : p.values) values += (values.empty() ? "" : ", ") + v;
    params += (params.empty() ? "" : "; ") + std::string("<code>") + esc(p.pointer) + "</code> = " + esc(values);
  }
  Page page("otasim sweep report: " + s.name,
            "Scenario <code>" + esc(in.scenario_path) + "</code>: " + std::to_string(in.points.size()) +
                " grid points x " + std::to_string(in.replications) + " replications" +
                (in.seed ? " from seed " + std::to_string(*in.seed) : std::string(" from the scenario's seed")) +
                " (the same seeds at every point).");
  page.p("Swept: " + params + ". Each point is the mean of the replications with its Student-t 95 % interval as a "
         "bar" + std::string(in.params.size() > 1 ? "; one line per value of the other parameters" : "") + ".");
  page.h2("Metrics over the grid", "plots");
  for (std::size_t m = 0; m < in.metric_names.size(); ++m) {
    const models::MetricInfo* info = metric_info(in.metric_names[m]);
    page.raw("<figure>\n" + sweep_chart_svg(in, m) + "\n<figcaption><code>" + esc(in.metric_names[m]) + "</code>: " +
             esc(info ? info->description : "") + "</figcaption>\n</figure>\n");
  }
  page.h2("Every point", "points");
  std::vector<std::pair<std::string, bool>> head;
  for (const models::SweepParam& p : in.params) head.push_back({p.pointer, false});
  for (const std::string& m : in.metric_names) head.push_back({m, true});
  Table t(head);
  for (std::size_t p = 0; p < in.points.size(); ++p) {
    std::vector<std::pair<std::string, bool>> cells;
    for (const auto& kv : in.points[p]) cells.push_back({esc(kv.second), false});
    for (std::size_t m = 0; m < in.metric_names.size(); ++m) {
      const MetricSummary& ms = in.summaries[p][m];
      std::string cell = fmt_metric(in.metric_names[m], ms.mean);
      if (const std::string ci = fmt_interval(in.metric_names[m], ms); !ci.empty()) cell += "<br><small>" + ci + "</small>";
      if (ms.finite < ms.n)
        cell += "<br><small>" + std::to_string(ms.finite) + "/" + std::to_string(ms.n) + " finite</small>";
      cells.push_back({cell, true});
    }
    t.row(cells);
  }
  page.raw(t.done());
  page.h2("Scenario", "scenario");
  page.raw(scenario_section(s, in.scenario_path));
  return page.finish(in.command, in.version);
}

std::string check_report_html(const CheckHtmlInput& in) {
  std::size_t total = 0, failed = 0;
  for (const models::CheckedFile& f : in.files)
    for (const models::ExpectationResult& r : f.results) {
      ++total;
      if (!r.passed) ++failed;
    }
  Page page("otasim check report",
            std::to_string(in.files.size()) + " scenario file" + (in.files.size() == 1 ? "" : "s") + ", " +
                std::to_string(total) + " expectations.");
  page.raw(std::string("<div class=\"banner ") + (failed ? "fail" : "pass") + "\">" +
           (failed ? "FAIL: " + std::to_string(failed) + " of " + std::to_string(total) + " expectations do not hold"
                   : "PASS: all " + std::to_string(total) + " expectations hold") +
           "</div>\n");
  page.p("An expectation holds when the share of replications satisfying it reaches the required share. The "
         "interval of the satisfied share is Wilson's 95 % score interval; the metric's is the Student-t 95 % "
         "interval of its mean. In the bar: the interval (blue), the observed share (black), the required share "
         "(red).");
  for (std::size_t i = 0; i < in.files.size(); ++i) {
    const models::CheckedFile& f = in.files[i];
    page.h2(f.scenario + " — " + f.path, "file" + std::to_string(i));
    page.p(std::to_string(f.replications) + " replications from seed " + std::to_string(f.base_seed) + ".");
    Table t({{"", false}, {"Expectation", false}, {"Satisfied", true}, {"Wilson 95 %", true}, {"", false},
             {"Metric mean", true}, {"Description", false}});
    for (const models::ExpectationResult& r : f.results) {
      const models::Expectation& e = r.expectation;
      const std::size_t n = r.measured.n;
      const double share = n ? static_cast<double>(r.satisfied) / static_cast<double>(n) : 0;
      std::string mean = fmt_metric(e.metric, r.measured.mean);
      if (const std::string ci = fmt_interval(e.metric, r.measured); !ci.empty()) mean += "<br><small>" + ci + "</small>";
      t.row({{r.passed ? "<b class=\"pass\">PASS</b>" : "<b class=\"fail\">FAIL</b>", false},
             {"<code>" + esc(e.metric) + " " + esc(models::to_string(e.op)) + " " + esc(models::format_number(e.value)) +
                  "</code> in ≥ " + fmt_percent(e.share) + " of runs",
              false},
             {std::to_string(r.satisfied) + "/" + std::to_string(n) + " = " + fmt_percent(share) + "<br><small>needs " +
                  std::to_string(r.required) + "</small>",
              true},
             {"[" + fmt_percent(r.share_low) + ", " + fmt_percent(r.share_high) + "]", true},
             {wilson_bar(r.share_low, r.share_high, share, e.share), false},
             {mean, true},
             {esc(e.description), false}},
            r.passed ? "" : "failed");
    }
    page.raw(t.done());
  }
  return page.finish(in.command, in.version);
}

std::string find_chromium() {
  if (const char* env = std::getenv("OTASIM_CHROMIUM"); env && *env)
    return QFileInfo(QString::fromLocal8Bit(env)).isExecutable() ? std::string(env) : std::string();
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    const QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
    if (!path.isEmpty()) return path.toStdString();
  }
  return {};
}

std::string print_pdf(const std::string& html, const std::string& pdf_path) {
  const HeadlessQt qt;  // QProcess needs an application's event dispatcher
  const std::string chromium = find_chromium();
  if (chromium.empty())
    return "--pdf: no Chromium found (install Debian's chromium package, or set OTASIM_CHROMIUM to the browser)";
  QTemporaryDir dir;
  if (!dir.isValid()) return "--pdf: cannot create a temporary directory: " + dir.errorString().toStdString();
  const QString html_path = dir.filePath(QStringLiteral("report.html"));
  if (const std::string err = models::write_file_atomically(html_path.toStdString(), html); !err.empty())
    return "--pdf: " + err;
  const QFileInfo target(QString::fromStdString(pdf_path));
  const QString tmp_pdf = target.absoluteDir().filePath(QStringLiteral(".") + target.fileName() +
                                                        QStringLiteral(".otasim-tmp.pdf"));
  QProcess browser;
  browser.setProcessChannelMode(QProcess::MergedChannels);
  const QStringList args = {QStringLiteral("--headless"), QStringLiteral("--no-sandbox"),
                            QStringLiteral("--disable-gpu"), QStringLiteral("--no-pdf-header-footer"),
                            QStringLiteral("--user-data-dir=") + dir.filePath(QStringLiteral("profile")),
                            QStringLiteral("--print-to-pdf=") + tmp_pdf,
                            QUrl::fromLocalFile(html_path).toString()};
  browser.start(QString::fromStdString(chromium), args);
  if (!browser.waitForStarted(30000)) return "--pdf: cannot start " + chromium;
  if (!browser.waitForFinished(180000)) {
    browser.kill();
    QFile::remove(tmp_pdf);
    return "--pdf: " + chromium + " did not finish printing within 180 s";
  }
  const QFileInfo printed(tmp_pdf);
  if (browser.exitStatus() != QProcess::NormalExit || browser.exitCode() != 0 || !printed.exists() ||
      printed.size() == 0) {
    QFile::remove(tmp_pdf);
    return "--pdf: " + chromium + " failed to print (exit " + std::to_string(browser.exitCode()) +
           "): " + browser.readAll().left(600).toStdString();
  }
  if (std::rename(tmp_pdf.toLocal8Bit().constData(), pdf_path.c_str()) != 0) {
    QFile::remove(tmp_pdf);
    return "--pdf: cannot write " + pdf_path;
  }
  return {};
}

}  // namespace ota::gui
