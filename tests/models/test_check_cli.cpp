// `otasim run --replications`, `otasim sweep` and `otasim check` as a user
// meets them: exit codes, messages, files written (whole) or not at all.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "shell.hpp"

using ota::models::testing::Outcome;
using ota::models::testing::otasim;
using ota::models::testing::sh;

namespace fs = std::filesystem;

namespace {

std::string scenario(const std::string& name) { return std::string(OTA_SOURCE_DIR) + "/scenarios/" + name; }

fs::path fresh_dir(const std::string& name) {
  return ota::models::testing::fresh_path("otasim-batch-test-" + name, true);
}

std::string read(const fs::path& p) { return ota::models::testing::read_file(p); }

// scenarios/default.json at 300 devices, with one persistent boot failure share
// and the given "check" block, written to dir/name.
fs::path write_check_scenario(const fs::path& dir, const std::string& name, const nlohmann::json& check,
                              double failing_share = 0.2) {
  nlohmann::json doc = nlohmann::json::parse(read(scenario("default.json")));
  doc["fleet"]["devices"] = 300;
  doc["release"]["behaviour"]["default"]["failing_device_share"] = failing_share;
  if (!check.is_null()) doc["check"] = check;
  const fs::path p = dir / name;
  std::ofstream(p) << doc.dump(2);
  return p;
}

nlohmann::json expectation(const std::string& metric, const std::string& op, double value, double share,
                           const std::string& description) {
  return {{"metric", metric}, {"op", op}, {"value", value}, {"share", share}, {"description", description}};
}

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

bool no_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string()[0] == '.') return false;
  return true;
}

}  // namespace

TEST_CASE("otasim run --replications: summary and per-replication CSV, identical for 1 and 2 threads",
          "[models][cli][batch]") {
  const fs::path a = fresh_dir("rep-a"), b = fresh_dir("rep-b");
  const std::string base = otasim() + " run " + scenario("default.json") + " --devices 300 --replications 5 --seed 4";
  const Outcome oa = sh(base + " --threads 1 --out " + a.string());
  INFO(oa.out);
  REQUIRE(oa.status == 0);
  CHECK(oa.out.find("updated_share") != std::string::npos);
  CHECK(oa.out.find("95% CI") != std::string::npos);
  REQUIRE(sh(base + " --threads 2 --out " + b.string()).status == 0);
  for (const char* f : {"summary.json", "replications.csv", "report.json", "series.csv"}) CHECK(fs::exists(a / f));
  const std::string summary = read(a / "summary.json");
  CHECK(summary == read(b / "summary.json"));
  CHECK(read(a / "replications.csv") == read(b / "replications.csv"));
  CHECK(lines(read(a / "replications.csv")) == 6);  // header + 5 replications
  const nlohmann::json j = nlohmann::json::parse(summary);
  CHECK(j["replications"] == 5);
  CHECK(j["base_seed"] == 4);
  CHECK(j["metrics"]["devices"]["mean"] == 300.0);
  CHECK(j["metrics"]["updated_share"]["ci_low"].get<double>() <= j["metrics"]["updated_share"]["mean"].get<double>());
  CHECK(no_temporaries(a));

  // A different seed gives a different summary.
  const fs::path c = fresh_dir("rep-c");
  REQUIRE(sh(otasim() + " run " + scenario("default.json") +
             " --devices 300 --replications 5 --seed 5 --out " + c.string()).status == 0);
  CHECK(read(c / "replications.csv") != read(a / "replications.csv"));
  for (const fs::path& d : {a, b, c}) fs::remove_all(d);
}

TEST_CASE("otasim run --replications: bad values are refused before anything runs", "[models][cli][batch]") {
  const fs::path out = fresh_dir("rep-bad");
  const std::string base = otasim() + " run " + scenario("default.json") + " --devices 100 --out " + out.string();
  Outcome o = sh(base + " --replications 0");
  CHECK(o.status == 2);
  CHECK(o.out.find("--replications") != std::string::npos);
  o = sh(base + " --replications 3 --threads 0");
  CHECK(o.status == 2);
  CHECK(o.out.find("--threads") != std::string::npos);
  o = sh(base + " --replications 3 --format md");
  CHECK(o.status == 2);
  CHECK(fs::is_empty(out));
  fs::remove_all(out);
}

TEST_CASE("otasim sweep: one row per grid point, the swept value shows in the metric", "[models][cli][batch]") {
  const fs::path dir = fresh_dir("sweep");
  const std::string base = otasim() + " sweep " + scenario("default.json") +
                           " --param /fleet/devices=200,400 --param /seed=1,2 --replications 3"
                           " --metrics devices,updated,exposed_share";
  const Outcome o1 = sh(base + " --threads 1 --out " + (dir / "a.csv").string());
  INFO(o1.out);
  REQUIRE(o1.status == 0);
  REQUIRE(sh(base + " --threads 2 --out " + (dir / "b.csv").string()).status == 0);
  const std::string csv = read(dir / "a.csv");
  CHECK(csv == read(dir / "b.csv"));
  std::istringstream in(csv);
  std::string header, row;
  std::getline(in, header);
  CHECK(header ==
        "/fleet/devices,/seed,devices_mean,devices_ci_low,devices_ci_high,updated_mean,updated_ci_low,"
        "updated_ci_high,exposed_share_mean,exposed_share_ci_low,exposed_share_ci_high");
  std::vector<std::string> rows;
  while (std::getline(in, row)) rows.push_back(row);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].rfind("200,1,200,200,200,", 0) == 0);
  CHECK(rows[1].rfind("200,2,200,200,200,", 0) == 0);
  CHECK(rows[2].rfind("400,1,400,400,400,", 0) == 0);
  CHECK(rows[3].rfind("400,2,400,400,400,", 0) == 0);
  for (const std::string& r : rows) CHECK(std::count(r.begin(), r.end(), ',') == 10);
  CHECK(no_temporaries(dir));
  fs::remove_all(dir);
}

TEST_CASE("otasim sweep: an invalid grid point is named, exit 2, nothing written", "[models][cli][batch]") {
  const fs::path dir = fresh_dir("sweep-bad");
  const fs::path out = dir / "sweep.csv";
  Outcome o = sh(otasim() + " sweep " + scenario("default.json") +
                 " --param /fleet/devices=200,0 --replications 2 --out " + out.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("/fleet/devices=0") != std::string::npos);
  CHECK(o.out.find("grid point 1") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  o = sh(otasim() + " sweep " + scenario("default.json") + " --param /fleet/devices=200 --metrics updated,nonsense");
  CHECK(o.status == 2);
  CHECK(o.out.find("'nonsense'") != std::string::npos);
  o = sh(otasim() + " sweep " + scenario("default.json") + " --replications 2");
  CHECK(o.status == 2);
  CHECK(o.out.find("--param") != std::string::npos);
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST_CASE("otasim check: exit 0 when every expectation holds, 1 with JUnit naming the failing one",
          "[models][cli][check]") {
  const fs::path dir = fresh_dir("check");
  // 20 % of devices never boot the new image: the agent rolls them back.
  const nlohmann::json good = {
      {"replications", 8},
      {"expect",
       {expectation("rolled_back_share", ">=", 0.1, 1.0, "the agent rolls back failing devices"),
        expectation("bricked", "==", 0, 1.0, "A/B never bricks")}}};
  const fs::path pass = write_check_scenario(dir, "pass.json", good);
  const fs::path junit = dir / "junit.xml";
  Outcome o = sh(otasim() + " check " + pass.string() + " --threads 2 --junit " + junit.string());
  INFO(o.out);
  CHECK(o.status == 0);
  CHECK(o.out.find("PASS  rolled_back_share >= 0.1") != std::string::npos);
  CHECK(o.out.find("8/8 = 100.0%") != std::string::npos);
  CHECK(o.out.find("FAIL") == std::string::npos);
  REQUIRE(fs::exists(junit));
  CHECK(read(junit).find("failures=\"0\"") != std::string::npos);

  nlohmann::json bad = good;
  bad["expect"].push_back(expectation("rolled_back_share", "<=", 0.05, 0.9, "few <rollbacks> & no drama"));
  const fs::path fail = write_check_scenario(dir, "fail.json", bad);
  o = sh(otasim() + " check " + pass.string() + " " + fail.string() + " --replications 4 --junit " + junit.string());
  INFO(o.out);
  CHECK(o.status == 1);
  CHECK(o.out.find("FAIL  rolled_back_share <= 0.05") != std::string::npos);
  CHECK(o.out.find("0/4 = 0.0%") != std::string::npos);
  CHECK(o.out.find("4 of 5 expectations hold") != std::string::npos);
  const std::string xml = read(junit);
  CHECK(xml.find("tests=\"5\" failures=\"1\"") != std::string::npos);
  CHECK(xml.find("/check/expect/2: few &lt;rollbacks&gt; &amp; no drama") != std::string::npos);
  const std::size_t failure = xml.find("<failure");
  REQUIRE(failure != std::string::npos);
  CHECK(xml.rfind("few &lt;rollbacks&gt;", failure) != std::string::npos);  // inside the failing testcase
  CHECK(xml.find("<failure", failure + 1) == std::string::npos);            // and only there
  CHECK(no_temporaries(dir));
  fs::remove_all(dir);
}

TEST_CASE("otasim check: bad input is status 2, named, and writes nothing", "[models][cli][check]") {
  const fs::path dir = fresh_dir("check-bad");
  const fs::path junit = dir / "junit.xml";

  // Unknown metric: names the metric, the file and the JSON path.
  const fs::path unknown = write_check_scenario(
      dir, "unknown.json",
      {{"expect", {expectation("bricked", "==", 0, 1, ""), expectation("exposd_share", "<=", 0.01, 1, "")}}});
  Outcome o = sh(otasim() + " check " + unknown.string() + " --junit " + junit.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("'exposd_share'") != std::string::npos);
  CHECK(o.out.find("/check/expect/1/metric") != std::string::npos);
  CHECK(o.out.find(unknown.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(junit));

  // No check block.
  const fs::path none = write_check_scenario(dir, "none.json", nullptr);
  o = sh(otasim() + " check " + none.string() + " --junit " + junit.string());
  CHECK(o.status == 2);
  CHECK(o.out.find("no expectations") != std::string::npos);
  CHECK_FALSE(fs::exists(junit));

  // A scenario that does not load, beside a good one: nothing runs.
  const fs::path good = write_check_scenario(dir, "good.json", {{"expect", {expectation("bricked", "==", 0, 1, "")}}});
  const fs::path broken = dir / "broken.json";
  std::ofstream(broken) << "{ \"format\": \"otasim-scenario/1\", \"fleet\": ";
  o = sh(otasim() + " check " + good.string() + " " + broken.string() + " --junit " + junit.string());
  CHECK(o.status == 2);
  CHECK(o.out.find("broken.json") != std::string::npos);
  CHECK(o.out.find("PASS") == std::string::npos);
  CHECK_FALSE(fs::exists(junit));

  o = sh(otasim() + " check " + (dir / "missing.json").string());
  CHECK(o.status == 2);
  o = sh(otasim() + " check");
  CHECK(o.status == 2);
  o = sh(otasim() + " check " + good.string() + " --replications 0");
  CHECK(o.status == 2);

  // --list-metrics documents the names expectations may use.
  o = sh(otasim() + " check --list-metrics");
  CHECK(o.status == 0);
  CHECK(o.out.find("exposed_share") != std::string::npos);
  CHECK(o.out.find("time_to_95pct_h") != std::string::npos);
  fs::remove_all(dir);
}
