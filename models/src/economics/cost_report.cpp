#include "ota/models/economics/cost_report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "ota/models/report/report_fields.hpp"

namespace ota::models {

namespace {

using Json = nlohmann::ordered_json;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string usd(double v) { return fmt("%.2f", v); }
std::string num(std::uint64_t v) { return std::to_string(v); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string render_md(const CostReport& r) {
  std::string o = "# Cost report: " + r.scenario + "\n\n";
  o += "Devices: " + num(r.devices) + "\n\n";
  o += "| Item | Quantity | Cost (USD) |\n|---|---:|---:|\n";
  for (const LinkTotals& l : r.data_by_link)
    o += "| Data on link `" + l.link + "` | " + fmt("%.3f", static_cast<double>(l.bytes) / r.bytes_per_mb) +
         " MB | " + usd(l.cost_usd) + " |\n";
  o += "| Data, all links | | " + usd(r.data_cost_usd) + " |\n";
  o += "| CDN | | " + usd(r.cdn_cost_usd) + " |\n";
  o += "| Origin egress | | " + usd(r.server_egress_cost_usd) + " |\n";
  o += "| Service calls (bricked devices) | " + num(r.service_calls) + " x $" + usd(r.service_call_usd) + " | " +
       usd(r.service_cost_usd) + " |\n";
  o += "| **Total** | | **" + usd(r.total_usd) + "** |\n\n";
  o += "Energy: " + fmt("%.1f", r.energy_j) + " J (" + fmt("%.2f", r.energy_mah) + " mAh on batteries)\n";
  if (r.delta) {
    const DeltaBreakEven& d = *r.delta;
    o += "\n## Delta break-even\n\n";
    o += "| Item | Value |\n|---|---:|\n";
    o += "| Devices | " + fmt("%.0f", d.input.devices) + " |\n";
    o += "| Updates per year | " + fmt("%g", d.input.updates_per_year) + " |\n";
    o += "| Full image | " + fmt("%.0f", d.input.full_bytes) + " B |\n";
    o += "| Delta | " + fmt("%.0f", d.input.delta_bytes) + " B |\n";
    o += "| Price | $" + fmt("%.4f", d.input.usd_per_mb) + "/MB |\n";
    o += "| Annual cost, full | $" + usd(d.annual_cost_full_usd) + " |\n";
    o += "| Annual cost, delta | $" + usd(d.annual_cost_delta_usd) + " |\n";
    o += "| Annual saving | $" + usd(d.annual_saving_usd) + " |\n";
    o += "| Development cost | $" + usd(d.input.development_cost_usd) + " |\n";
    o += "| Break-even | " +
         (d.break_even_years ? fmt("%.4f", *d.break_even_years) + " years (" +
                                   fmt("%.1f", *d.break_even_years * 12) + " months)"
                             : std::string("never")) +
         " |\n";
  }
  return o;
}

std::string render_csv(const CostReport& r) {
  std::string o = "category,name,quantity,unit,usd\n";
  for (const LinkTotals& l : r.data_by_link)
    o += "data," + csv_field(l.link) + "," + num(l.bytes) + ",bytes," + usd(l.cost_usd) + "\n";
  o += "data,all,,," + usd(r.data_cost_usd) + "\n";
  o += "cdn,,,," + usd(r.cdn_cost_usd) + "\n";
  o += "origin_egress,,,," + usd(r.server_egress_cost_usd) + "\n";
  o += "energy,all," + fmt("%.3f", r.energy_j) + ",J,\n";
  o += "energy,battery," + fmt("%.3f", r.energy_mah) + ",mAh,\n";
  o += "service_calls,," + num(r.service_calls) + ",calls," + usd(r.service_cost_usd) + "\n";
  o += "total,,,," + usd(r.total_usd) + "\n";
  if (r.delta) {
    const DeltaBreakEven& d = *r.delta;
    o += "break_even,annual_cost_full,,," + usd(d.annual_cost_full_usd) + "\n";
    o += "break_even,annual_cost_delta,,," + usd(d.annual_cost_delta_usd) + "\n";
    o += "break_even,annual_saving,,," + usd(d.annual_saving_usd) + "\n";
    o += "break_even,development_cost,,," + usd(d.input.development_cost_usd) + "\n";
    o += "break_even,years," + (d.break_even_years ? fmt("%.4f", *d.break_even_years) : std::string("never")) +
         ",years,\n";
  }
  return o;
}

std::string render_json(const CostReport& r) {
  Json j;
  j["scenario"] = r.scenario;
  j["devices"] = r.devices;
  Json links = Json::array();
  for (const LinkTotals& l : r.data_by_link) {
    Json e;  // as in report.json's by_link
    visit_link(l, [&](std::string_view name, const auto& f, const FieldInfo&) { e[std::string(name)] = f; });
    links.push_back(std::move(e));
  }
  j["data_by_link"] = std::move(links);
  j["data_cost_usd"] = r.data_cost_usd;
  j["cdn_cost_usd"] = r.cdn_cost_usd;
  j["server_egress_cost_usd"] = r.server_egress_cost_usd;
  j["energy_j"] = r.energy_j;
  j["energy_mah"] = r.energy_mah;
  j["service_calls"] = r.service_calls;
  j["service_call_usd"] = r.service_call_usd;
  j["service_cost_usd"] = r.service_cost_usd;
  j["total_usd"] = r.total_usd;
  if (r.delta) {
    const DeltaBreakEven& d = *r.delta;
    Json b;
    b["devices"] = d.input.devices;
    b["updates_per_year"] = d.input.updates_per_year;
    b["full_bytes"] = d.input.full_bytes;
    b["delta_bytes"] = d.input.delta_bytes;
    b["usd_per_mb"] = d.input.usd_per_mb;
    b["bytes_per_mb"] = d.input.bytes_per_mb;
    b["development_cost_usd"] = d.input.development_cost_usd;
    b["annual_cost_full_usd"] = d.annual_cost_full_usd;
    b["annual_cost_delta_usd"] = d.annual_cost_delta_usd;
    b["annual_saving_usd"] = d.annual_saving_usd;
    b["break_even_years"] = d.break_even_years ? Json(*d.break_even_years) : Json(nullptr);
    j["delta_break_even"] = std::move(b);
  }
  return j.dump(2) + "\n";
}

}  // namespace

DeltaBreakEven delta_break_even(const DeltaBreakEvenInput& in) {
  DeltaBreakEven d;
  d.input = in;
  const double per_byte = in.bytes_per_mb > 0 ? in.usd_per_mb / in.bytes_per_mb : 0;
  const double transfers = in.devices * in.updates_per_year;
  d.annual_cost_full_usd = transfers * in.full_bytes * per_byte;
  d.annual_cost_delta_usd = transfers * in.delta_bytes * per_byte;
  d.annual_saving_usd = d.annual_cost_full_usd - d.annual_cost_delta_usd;
  if (d.annual_saving_usd > 0) d.break_even_years = in.development_cost_usd / d.annual_saving_usd;
  return d;
}

CostReport make_cost_report(const RunReport& report, const Scenario& scenario,
                            const std::optional<BreakEvenOptions>& break_even) {
  const Totals& t = report.totals;
  CostReport c;
  c.scenario = report.scenario;
  c.devices = t.devices;
  c.bytes_per_mb = scenario.prices.bytes_per_mb;
  std::uint64_t link_bytes = 0;
  for (const LinkTotals& l : t.by_link) {
    c.data_by_link.push_back(l);
    c.data_cost_usd += l.cost_usd;
    link_bytes += l.bytes;
  }
  c.cdn_cost_usd = t.cdn_cost_usd;
  c.server_egress_cost_usd = t.server_egress_cost_usd;
  c.energy_j = t.energy_j;
  c.energy_mah = t.energy_mah;
  c.service_calls = t.service_calls;
  c.service_call_usd = scenario.prices.service_call_usd;
  c.service_cost_usd = static_cast<double>(t.service_calls) * scenario.prices.service_call_usd;
  c.total_usd = c.data_cost_usd + c.cdn_cost_usd + c.server_egress_cost_usd + c.service_cost_usd;
  if (break_even && report.release.patch_bytes > 0) {
    DeltaBreakEvenInput in;
    in.devices = static_cast<double>(t.devices);
    in.updates_per_year = break_even->updates_per_year;
    in.full_bytes = static_cast<double>(report.release.image_bytes);
    in.delta_bytes = static_cast<double>(report.release.patch_bytes);
    in.bytes_per_mb = scenario.prices.bytes_per_mb;
    in.usd_per_mb = link_bytes > 0 ? c.data_cost_usd / static_cast<double>(link_bytes) * in.bytes_per_mb : 0;
    in.development_cost_usd = break_even->development_cost_usd;
    c.delta = delta_break_even(in);
  }
  return c;
}

std::optional<CostFormat> parse_cost_format(std::string_view name) {
  if (name == "md") return CostFormat::Markdown;
  if (name == "csv") return CostFormat::Csv;
  if (name == "json") return CostFormat::Json;
  return std::nullopt;
}

const char* cost_format_extension(CostFormat format) {
  switch (format) {
    case CostFormat::Markdown: return "md";
    case CostFormat::Csv: return "csv";
    case CostFormat::Json: return "json";
  }
  return "txt";
}

std::string render_cost_report(const CostReport& report, CostFormat format) {
  switch (format) {
    case CostFormat::Markdown: return render_md(report);
    case CostFormat::Csv: return render_csv(report);
    case CostFormat::Json: return render_json(report);
  }
  return {};
}

std::string write_cost_report(const std::string& text, CostFormat format, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create output directory '" + dir + "': " + ec.message();
  const std::filesystem::path path = std::filesystem::path(dir) / (std::string("cost.") + cost_format_extension(format));
  return write_file_atomically(path.string(), text);
}

}  // namespace ota::models
