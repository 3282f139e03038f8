// Cost report: the reference's delta break-even, run costs, renderings, CLI.
#include <catch2/catch.hpp>

#include "shell.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "fleet_fixture.hpp"
#include "ota/models/economics/cost_report.hpp"

using namespace ota::models;
using namespace ota::models::testing;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& s) { return text.find(s) != std::string::npos; }

std::string read(const fs::path& p) { return ota::models::testing::read_file(p); }

fs::path fresh_dir(const std::string& name) {
  return ota::models::testing::fresh_path("otasim-cost-test-" + name, false);
}

DeltaBreakEvenInput reference_input() {
  DeltaBreakEvenInput in;
  in.devices = 10000;
  in.updates_per_year = 12;
  in.full_bytes = 512 * 1000;   // 512 KB, KB = 1000 B
  in.delta_bytes = 50 * 1000;   // 50 KB
  in.usd_per_mb = 0.50;
  in.bytes_per_mb = 1e6;
  in.development_cost_usd = 15000;
  return in;
}

}  // namespace

TEST_CASE("delta break-even reproduces the reference example", "[models][cost]") {
  const DeltaBreakEven d = delta_break_even(reference_input());
  // The reference rounds 512 KB to 0.5 MB: 10,000 x 12 x 0.5 MB x $0.50 = $30,000.
  // Unrounded, 512 KB is 0.512 MB: $30,720. Delta: 0.05 MB -> $3,000 exactly.
  CHECK(d.annual_cost_delta_usd == Approx(3000.0).epsilon(1e-12));
  CHECK(d.annual_cost_full_usd == Approx(30720.0).epsilon(1e-12));
  CHECK(d.annual_saving_usd == Approx(27720.0).epsilon(1e-12));
  REQUIRE(d.break_even_years);
  CHECK(*d.break_even_years == Approx(15000.0 / 27720.0).epsilon(1e-12));
  CHECK(*d.break_even_years == Approx(0.5411).margin(0.00005));  // not the reference's 0.56: see below

  // With the reference's own rounding (0.5 MB per full image), every figure matches exactly.
  DeltaBreakEvenInput in = reference_input();
  in.full_bytes = 500 * 1000;
  const DeltaBreakEven r = delta_break_even(in);
  CHECK(r.annual_cost_full_usd == Approx(30000.0).epsilon(1e-12));
  CHECK(r.annual_cost_delta_usd == Approx(3000.0).epsilon(1e-12));
  CHECK(r.annual_saving_usd == Approx(27000.0).epsilon(1e-12));
  REQUIRE(r.break_even_years);
  CHECK(*r.break_even_years == Approx(15000.0 / 27000.0).epsilon(1e-12));
  CHECK(*r.break_even_years == Approx(0.5556).margin(0.00005));
  CHECK(*r.break_even_years * 12 == Approx(6.67).margin(0.005));  // "7 months", rounded up
  // Year 1: $3,000 + $15,000 = $18,000, saving $12,000.
  CHECK(r.annual_cost_full_usd - (r.annual_cost_delta_usd + in.development_cost_usd) == Approx(12000.0));

  // No saving: no break-even.
  in.delta_bytes = in.full_bytes;
  CHECK_FALSE(delta_break_even(in).break_even_years);
}

TEST_CASE("cost report of the full-image cellular scenario: $1,000 on cellular-020", "[models][cost]") {
  const Scenario s = load("cellular-cost-full.json");
  const RunReport r = run(s);
  REQUIRE(r.totals.updated == 10000);
  // Full payload: no break-even even when asked.
  const CostReport c = make_cost_report(r, s, BreakEvenOptions{12, 15000});
  CHECK_FALSE(c.delta);
  REQUIRE(c.data_by_link.size() == 1);
  CHECK(c.data_by_link[0].link == "cellular-020");
  CHECK(c.data_by_link[0].bytes == 10000ull * 500000ull);
  CHECK(c.data_by_link[0].cost_usd == Approx(1000.0).epsilon(1e-12));
  CHECK(c.data_cost_usd == Approx(1000.0).epsilon(1e-12));
  CHECK(c.service_calls == 0);
  CHECK(c.total_usd == Approx(1000.0 + r.totals.cdn_cost_usd + r.totals.server_egress_cost_usd));

  const std::string md = render_cost_report(c, CostFormat::Markdown);
  CHECK(has(md, "`cellular-020`"));
  CHECK(has(md, "| 1000.00 |"));
  const std::string csv = render_cost_report(c, CostFormat::Csv);
  CHECK(csv.rfind("category,name,quantity,unit,usd\n", 0) == 0);
  CHECK(has(csv, "data,cellular-020,5000000000,bytes,1000.00\n"));
  const auto j = nlohmann::json::parse(render_cost_report(c, CostFormat::Json));
  CHECK(j["data_by_link"][0]["link"] == "cellular-020");
  CHECK(j["data_by_link"][0]["cost_usd"].get<double>() == Approx(1000.0));
  CHECK(j["total_usd"].get<double>() == Approx(c.total_usd));
  CHECK_FALSE(j.contains("delta_break_even"));
}

TEST_CASE("cost report of the delta scenario carries the break-even", "[models][cost]") {
  const Scenario s = load("cellular-cost-delta.json", {{"/fleet/devices", "1000"}});
  const RunReport r = run(s);
  REQUIRE(r.release.patch_bytes > 0);
  CHECK_FALSE(make_cost_report(r, s).delta);  // not asked
  const CostReport c = make_cost_report(r, s, BreakEvenOptions{12, 15000});
  REQUIRE(c.delta);
  CHECK(c.delta->input.devices == 1000);
  CHECK(c.delta->input.full_bytes == static_cast<double>(r.release.image_bytes));
  CHECK(c.delta->input.delta_bytes == static_cast<double>(r.release.patch_bytes));
  CHECK(c.delta->input.usd_per_mb == Approx(0.20));  // the only link's price
  const double expected_saving =
      1000.0 * 12 * static_cast<double>(r.release.image_bytes - r.release.patch_bytes) / 1e6 * 0.20;
  CHECK(c.delta->annual_saving_usd == Approx(expected_saving));
  REQUIRE(c.delta->break_even_years);
  CHECK(*c.delta->break_even_years == Approx(15000.0 / expected_saving));
  CHECK(has(render_cost_report(c, CostFormat::Markdown), "Delta break-even"));
  CHECK(has(render_cost_report(c, CostFormat::Csv), "break_even,years,"));
  const auto j = nlohmann::json::parse(render_cost_report(c, CostFormat::Json));
  CHECK(j["delta_break_even"]["annual_saving_usd"].get<double>() == Approx(expected_saving));
}

TEST_CASE("service cost is bricked devices x $200 (single-partition thermostats)", "[models][cost]") {
  const Scenario s = load("thermostat-single-partition.json", {{"/fleet/devices", "5000"}});
  const RunReport r = run(s);
  const CostReport c = make_cost_report(r, s);
  CHECK(s.prices.service_call_usd == 200);
  CHECK(c.service_calls == r.totals.bricked);
  CHECK(r.totals.bricked > 0);  // about 0.1% of 5,000
  CHECK(c.service_cost_usd == Approx(200.0 * static_cast<double>(r.totals.bricked)).epsilon(1e-12));
  CHECK(c.service_cost_usd == Approx(r.totals.service_cost_usd));
  CHECK(c.energy_j == r.totals.energy_j);
  const std::string calls = std::to_string(r.totals.bricked);
  char cost[32];
  std::snprintf(cost, sizeof cost, "%.2f", c.service_cost_usd);
  CHECK(has(render_cost_report(c, CostFormat::Markdown), "| " + calls + " x $200.00 | " + cost + " |"));
  CHECK(has(render_cost_report(c, CostFormat::Csv), "service_calls,," + calls + ",calls," + cost + "\n"));
  const auto j = nlohmann::json::parse(render_cost_report(c, CostFormat::Json));
  CHECK(j["service_calls"].get<std::uint64_t>() == r.totals.bricked);
  CHECK(j["service_cost_usd"].get<double>() == Approx(c.service_cost_usd));
}

TEST_CASE("cost format names", "[models][cost]") {
  CHECK(parse_cost_format("md") == CostFormat::Markdown);
  CHECK(parse_cost_format("csv") == CostFormat::Csv);
  CHECK(parse_cost_format("json") == CostFormat::Json);
  CHECK_FALSE(parse_cost_format("xml"));
  CHECK_FALSE(parse_cost_format(""));
  CHECK(std::string(cost_format_extension(CostFormat::Markdown)) == "md");
}

TEST_CASE("otasim run --format csv writes cost.csv and prints it", "[models][cli][cost]") {
  const std::string otasim = std::string(OTA_BIN_DIR) + "/otasim";
  const std::string delta = scenario_path("cellular-cost-delta.json");
  const fs::path out = fresh_dir("csv");
  const Outcome o = sh(otasim + " run " + delta + " --devices 300 --format csv --updates-per-year 12 --delta-dev-cost 15000 --out " +
                       out.string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  REQUIRE(fs::exists(out / "cost.csv"));
  const std::string csv = read(out / "cost.csv");
  CHECK(csv.rfind("category,name,quantity,unit,usd\n", 0) == 0);
  CHECK(o.out == csv);  // printed instead of the summary
  CHECK(has(csv, "data,cellular-020,"));
  CHECK(has(csv, "break_even,years,"));
  CHECK(fs::exists(out / "report.json"));
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().filename().string()[0] != '.');

  // Without both break-even flags, no break-even lines.
  const fs::path out2 = fresh_dir("csv2");
  const Outcome o2 = sh(otasim + " run " + delta + " --devices 300 --format csv --updates-per-year 12 --out " + out2.string());
  REQUIRE(o2.status == 0);
  CHECK_FALSE(has(read(out2 / "cost.csv"), "break_even"));
  fs::remove_all(out);
  fs::remove_all(out2);
}

TEST_CASE("otasim run with a bad --format exits 2 and writes nothing", "[models][cli][cost]") {
  const std::string otasim = std::string(OTA_BIN_DIR) + "/otasim";
  const fs::path out = fresh_dir("bad-format");
  const Outcome o = sh(otasim + " run " + scenario_path("cellular-cost-full.json") + " --devices 100 --format xml --out " +
                       out.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(has(o.out, "--format"));
  CHECK(has(o.out, "xml"));
  CHECK_FALSE(fs::exists(out));
}
