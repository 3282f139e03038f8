// --html and --pdf as a user meets them: one self-contained file whose numbers
// are the run's, the same bytes for the same scenario and seed, errors before
// anything runs. (A real browser loads the reports in scripts/check-html-report.)
#include <catch2/catch.hpp>

#include "fleet_fixture.hpp"  // scenario_path
#include "shell.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using ota::models::testing::Outcome;
using ota::models::testing::otasim;
using ota::models::testing::read_file;
using ota::models::testing::scenario_path;
using ota::models::testing::sh;

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) { return ota::models::testing::fresh_path("otasim-html-" + name, true); }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The report without the lines that may differ between two runs of the same
// scenario and seed: the wall time and the footer (which quotes the command).
std::string without_run_specifics(const std::string& html) {
  std::istringstream in(html);
  std::string line, out;
  while (std::getline(in, line))
    if (line.find(">wall time<") == std::string::npos && line.rfind("<footer>", 0) != 0) out += line + "\n";
  return out;
}

// "$1,234.56"
std::string usd(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string whole = buf, cents = whole.substr(whole.find('.'));
  whole = whole.substr(0, whole.find('.'));
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return "$" + grouped + cents;
}

}  // namespace

#if OTA_HAVE_HTML_REPORT

TEST_CASE("otasim run --html: one self-contained file with the run's own numbers", "[cli][html]") {
  const fs::path dir = fresh_dir("run");
  const Outcome o = sh(otasim() + " run " + scenario_path("regression/crash-regression.json") + " --out " +
                       (dir / "out").string() + " --html " + (dir / "r.html").string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  const std::string html = read_file(dir / "r.html");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Self-contained: no script, no external file, no address but the SVG namespaces.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  std::string rest = std::regex_replace(html, std::regex("xmlns(:xlink)?=\"http://www\\.w3\\.org/[0-9]+/(svg|xlink)\""), "");
  CHECK(rest.find("http:") == std::string::npos);
  CHECK(rest.find("https:") == std::string::npos);
  // The planner's six charts, inline, drawn by its chart code.
  CHECK(count(html, "<figure>") == 6);
  CHECK(count(html, "role=\"img\" class=\"chart\"") == 6);
  // Every id in the page is unique (Qt names each chart's gradients alike).
  std::set<std::string> ids;
  const std::regex id_attr(" id=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id_attr); it != std::sregex_iterator(); ++it)
    CHECK(ids.insert((*it)[1].str()).second);
  // The page's sections at least; the charts' own ids (Qt's gradients, when a
  // theme draws them) carry each chart's prefix and are counted above.
  CHECK(ids.size() >= 6);
  for (const char* title : {"Adoption by version and state", "Stage timeline and gate decisions",
                            "Failures, rollbacks, bricks", "Battery deferrals"})
    CHECK(html.find(title) != std::string::npos);
  // The numbers are the report's.
  const nlohmann::json report = nlohmann::json::parse(read_file(dir / "out" / "report.json"));
  const auto& t = report["totals"];
  const double total = t["data_cost_usd"].get<double>() + t["server_egress_cost_usd"].get<double>() +
                       t["cdn_cost_usd"].get<double>() + t["service_cost_usd"].get<double>();
  CHECK(html.find("<b>" + usd(total) + "</b>") != std::string::npos);
  CHECK(html.find(report["run"]["version"].get<std::string>()) != std::string::npos);
  // A rollout stopped by its gate: the decision and its evidence are in the timeline.
  REQUIRE(report["rollout"]["stopped_at_s"].is_number());
  bool found_stop = false;
  for (const auto& e : report["rollout"]["events"]) {
    const std::string kind = e["kind"], reason = e["reason"];
    if (kind == "pause" || kind == "abort" || kind == "rollback") {
      found_stop = true;
      CHECK(html.find("<b class=\"fail\">" + kind + "</b>") != std::string::npos);
      std::string escaped = std::regex_replace(reason, std::regex("&"), "&amp;");
      escaped = std::regex_replace(escaped, std::regex("<"), "&lt;");
      escaped = std::regex_replace(escaped, std::regex(">"), "&gt;");
      CHECK(html.find(escaped) != std::string::npos);
    }
  }
  CHECK(found_stop);
}

TEST_CASE("otasim run --html: the same scenario and seed give the same report", "[cli][html]") {
  const fs::path dir = fresh_dir("same");
  const std::string base = otasim() + " run " + scenario_path("default.json") + " --devices 2000 --out " + (dir / "out").string();
  REQUIRE(sh(base + " --html " + (dir / "a.html").string()).status == 0);
  REQUIRE(sh(base + " --html " + (dir / "b.html").string()).status == 0);
  const std::string a = read_file(dir / "a.html"), b = read_file(dir / "b.html");
  CHECK(without_run_specifics(a) == without_run_specifics(b));  // apart from the wall time and the footer
  // Replications: the same report for any thread count.
  const std::string reps = base + " --replications 4 --seed 9";
  REQUIRE(sh(reps + " --threads 1 --html " + (dir / "t1.html").string()).status == 0);
  REQUIRE(sh(reps + " --threads 3 --html " + (dir / "t3.html").string()).status == 0);
  CHECK(without_run_specifics(read_file(dir / "t1.html")) == without_run_specifics(read_file(dir / "t3.html")));
}

TEST_CASE("otasim run --baseline: what changed in the scenario and in the results", "[cli][html]") {
  const fs::path dir = fresh_dir("baseline");
  // This plan's description carries markup and a control character: both
  // reach the page as text (escaped, U+FFFD), never as HTML. The baseline has
  // a comment key, which the loader ignores.
  nlohmann::json delta = nlohmann::json::parse(read_file(scenario_path("cellular-cost-delta.json")));
  delta["description"] = "delta <b>patch</b> & \u0001 co";
  nlohmann::json full = nlohmann::json::parse(read_file(scenario_path("cellular-cost-full.json")));
  full["_comment_note"] = "ignored by the loader, so not a change";
  {
    std::ofstream f(dir / "full.json");
    f << full.dump(2);
    std::ofstream g(dir / "delta.json");
    g << delta.dump(2);
  }
  const Outcome o = sh(otasim() + " run " + (dir / "delta.json").string() + " --baseline " +
                       (dir / "full.json").string() + " --devices 2000 --out " + (dir / "out").string() +
                       " --html " + (dir / "cmp.html").string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  const std::string html = read_file(dir / "cmp.html");
  CHECK(html.find("What changed in the scenario") != std::string::npos);
  CHECK(html.find("<td><code>/release/payload</code></td><td>&quot;full&quot;</td><td>&quot;delta&quot;</td>") !=
        std::string::npos);
  // --devices applies to both, so the fleet size is not a change.
  CHECK(html.find("<code>/fleet/devices</code>") == std::string::npos);
  CHECK(html.find("_comment_note") == std::string::npos);
  CHECK(html.find("<p>delta &lt;b&gt;patch&lt;/b&gt; &amp; \xEF\xBF\xBD co</p>") != std::string::npos);
  CHECK(html.find("<b>patch</b>") == std::string::npos);
  CHECK(html.find('\x01') == std::string::npos);
  CHECK(html.find("Baseline cost") != std::string::npos);
  // A delta cuts the data bill: the change is shown as a fall (green).
  CHECK(std::regex_search(html, std::regex("<b>total</b>.*<span class=\"down\">−[0-9.]+ %</span>")));
  CHECK(count(html, "<figure>") == 6);
}

TEST_CASE("otasim run --html/--pdf/--baseline: bad flags are refused before anything runs", "[cli][html]") {
  const fs::path dir = fresh_dir("bad");
  const std::string base = otasim() + " run " + scenario_path("default.json") + " --devices 500 --out " + (dir / "out").string();
  Outcome o = sh(base + " --html " + (dir / "no" / "such" / "r.html").string());
  CHECK(o.status == 2);
  CHECK(o.out.find("--html") != std::string::npos);
  CHECK(o.out.find("does not exist") != std::string::npos);
  o = sh(base + " --html " + dir.string());
  CHECK(o.status == 2);
  CHECK(o.out.find("is a directory") != std::string::npos);
  o = sh(base + " --baseline " + scenario_path("default.json"));
  CHECK(o.status == 2);
  CHECK(o.out.find("--baseline compares in the HTML/PDF report") != std::string::npos);
  o = sh(base + " --html " + (dir / "r.html").string() + " --baseline " + (dir / "missing.json").string());
  CHECK(o.status == 2);
  CHECK(o.out.find((dir / "missing.json").string()) != std::string::npos);
  o = sh(base + " --html " + (dir / "r.html").string() + " --pdf " + (dir / "r.html").string());
  CHECK(o.status == 2);
  CHECK(o.out.find("same file") != std::string::npos);
  // Nothing was written by any of them.
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK_FALSE(fs::exists(dir / "r.html"));
}

TEST_CASE("otasim sweep --html: each metric plotted over the grid with intervals", "[cli][html]") {
  const fs::path dir = fresh_dir("sweep");
  const Outcome o = sh(otasim() + " sweep " + scenario_path("default.json") +
                       " --devices 1000 --param /polling/interval_min=20,60 --param /rollout/selection=random,stratified"
                       " --replications 3 --metrics time_to_95pct_h,total_cost_usd --out " +
                       (dir / "s.csv").string() + " --html " + (dir / "s.html").string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  const std::string html = read_file(dir / "s.html");
  CHECK(count(html, "<figure>") == 2);
  CHECK(count(html, "role=\"img\" class=\"chart\"") == 2);
  CHECK(html.find("/polling/interval_min") != std::string::npos);
  CHECK(html.find("/rollout/selection = stratified") != std::string::npos);  // one line per other value
  // Every point's mean is the CSV's.
  std::istringstream csv(read_file(dir / "s.csv"));
  std::string line;
  std::getline(csv, line);
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    REQUIRE(cells.size() == 8);
    char want[64];
    std::snprintf(want, sizeof want, "%.1f h", std::stod(cells[2]));
    CHECK(html.find(std::string(">") + want + "<") != std::string::npos);
  }
  CHECK(rows == 4);
  // A first parameter that is not a number: its values label the axis.
  REQUIRE(sh(otasim() + " sweep " + scenario_path("default.json") +
             " --devices 500 --param /rollout/selection=random,stratified --replications 2 --metrics "
             "stopped,updated_share --html " + (dir / "c.html").string()).status == 0);
  const std::string cat = read_file(dir / "c.html");
  CHECK(count(cat, "role=\"img\" class=\"chart\"") == 2);
  CHECK(cat.find(">stratified<") != std::string::npos);  // an axis label in the SVG
  CHECK(cat.find(">no<") != std::string::npos);          // stopped: no run stopped, as a word
}

TEST_CASE("otasim check --html: pass or fail at the top, each expectation with its Wilson interval", "[cli][html]") {
  const fs::path dir = fresh_dir("check");
  // A passing policy.
  Outcome o = sh(otasim() + " check " + scenario_path("regression/anti-rollback.json") + " --replications 4 --html " +
                 (dir / "pass.html").string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  std::string html = read_file(dir / "pass.html");
  CHECK(html.find("<div class=\"banner pass\">PASS: all 3 expectations hold</div>") != std::string::npos);
  CHECK(count(html, "<b class=\"pass\">PASS</b>") == 3);
  CHECK(html.find("[51.01 %, 100.00 %]") != std::string::npos);  // Wilson 95 % of 4/4: n / (n + z^2) = 0.5101
  // The same file with one expectation made impossible: FAIL, exit 1, report still written.
  nlohmann::json s = nlohmann::json::parse(read_file(fs::path(scenario_path("regression/anti-rollback.json"))));
  s["check"]["expect"][0]["value"] = 12345;
  s["name"] = "anti-rollback-broken";
  {
    std::ofstream f(dir / "broken.json");
    f << s.dump(2);
  }
  o = sh("cd " + std::string(OTA_SOURCE_DIR) + "/scenarios/regression && " + otasim() + " check " +
         (dir / "broken.json").string() + " --replications 4 --html " + (dir / "fail.html").string());
  INFO(o.out);
  CHECK(o.status == 1);
  html = read_file(dir / "fail.html");
  CHECK(html.find("<div class=\"banner fail\">FAIL: 1 of 3 expectations do not hold</div>") != std::string::npos);
  CHECK(count(html, "<b class=\"fail\">FAIL</b>") == 1);
  CHECK(html.find("0/4 = 0.00 %") != std::string::npos);
  CHECK(html.find("[0.00 %, 48.99 %]") != std::string::npos);  // Wilson 95 % of 0/4: z^2 / (n + z^2) = 0.4899
}

TEST_CASE("otasim run --pdf: printed by headless Chromium", "[cli][html][pdf]") {
  if (sh("command -v chromium || command -v chromium-browser || command -v google-chrome").status != 0 &&
      std::getenv("OTASIM_CHROMIUM") == nullptr) {
    WARN("no Chromium on this machine: --pdf is refused (checked below), not printed");
    const Outcome o = sh(otasim() + " run " + scenario_path("default.json") + " --devices 500 --out " +
                         (fresh_dir("nopdf") / "out").string() + " --pdf " + (fresh_dir("nopdf2") / "r.pdf").string());
    CHECK(o.status == 2);
    CHECK(o.out.find("Chromium") != std::string::npos);
    return;
  }
  const fs::path dir = fresh_dir("pdf");
  const Outcome o = sh(otasim() + " run " + scenario_path("default.json") + " --devices 1000 --out " +
                       (dir / "out").string() + " --pdf " + (dir / "r.pdf").string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  const std::string pdf = read_file(dir / "r.pdf");
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.find("otasim run report: default") != std::string::npos);  // the title, in the document info
  // Several pages: the report's sections and six charts do not fit on one.
  std::smatch pages;
  REQUIRE(std::regex_search(pdf, pages, std::regex("/Count ([0-9]+)")));
  CHECK(std::stoi(pages[1].str()) >= 3);
  // No temporary file left beside it.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);
}

#else

TEST_CASE("otasim built without the GUI refuses --html, naming how to get it", "[cli][html]") {
  const Outcome o = sh(otasim() + " run " + scenario_path("default.json") + " --devices 500 --out " +
                       (fresh_dir("nogui") / "out").string() + " --html " + (fresh_dir("nogui2") / "r.html").string());
  CHECK(o.status == 2);
  CHECK(o.out.find("-DOTA_BUILD_GUI=ON") != std::string::npos);
}

#endif
