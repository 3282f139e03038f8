// The project's own rollout-policy regression suite (scenarios/regression/)
// through `otasim check`, as a team would run it in CI: it passes, and it can
// fail — remove the first stage's gate and the bad-release expectation fails.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "shell.hpp"

using ota::models::testing::otasim;
using ota::models::testing::sh;

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) { return ota::models::testing::read_file(p); }

fs::path fresh_dir(const std::string& name) {
  return ota::models::testing::fresh_path("otasim-regression-test-" + name, true);
}

const std::string kRegression = std::string(OTA_SOURCE_DIR) + "/scenarios/regression";

}  // namespace

TEST_CASE("otasim check scenarios/regression/*.json passes and writes JUnit", "[models][regression][slow]") {
  const fs::path dir = fresh_dir("suite");
  const auto o = sh(otasim() + " check " + kRegression + "/*.json --threads 2 --junit " + (dir / "junit.xml").string());
  INFO(o.out);
  CHECK(o.status == 0);
  CHECK(o.out.find("FAIL") == std::string::npos);
  const std::string junit = read(dir / "junit.xml");
  for (const char* suite : {"good-release", "revision-boot-failure", "crash-regression", "bricking-release",
                            "anti-rollback"})
    CHECK(junit.find(suite) != std::string::npos);
  CHECK(junit.find("<failure") == std::string::npos);
}

TEST_CASE("otasim check fails when the first stage's gate is removed", "[models][regression]") {
  const fs::path dir = fresh_dir("no-first-gate");
  nlohmann::json doc = nlohmann::json::parse(read(kRegression + "/revision-boot-failure.json"));
  doc["rollout"]["stages"][0]["gate"] = nullptr;  // no gate at the 1 % stage
  doc["$schema"] = "../scenario.schema.json";
  std::ofstream(dir / "no-first-gate.json") << doc.dump(2);
  const auto o = sh(otasim() + " check " + (dir / "no-first-gate.json").string() + " --replications 10 --junit " +
                    (dir / "junit.xml").string());
  INFO(o.out);
  CHECK(o.status == 1);
  CHECK(o.out.find("FAIL  stages_opened == 1") != std::string::npos);
  const std::string junit = read(dir / "junit.xml");
  CHECK(junit.find("<failure") != std::string::npos);
  CHECK(junit.find("stopped at the first stage") != std::string::npos);
}
