// A result set on disk: written whole or not at all, replaced whole, and a
// directory that holds files of two runs says so.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/models/report/report.hpp"
#include "shell.hpp"

using namespace ota::models;
namespace fs = std::filesystem;
using ota::models::testing::fresh_path;
using ota::models::testing::read_file;

namespace {

struct KilledHere : std::runtime_error {
  KilledHere() : std::runtime_error("killed") {}
};

// Clears the test hook however the test case ends.
struct HookGuard {
  ~HookGuard() { set_result_rename_hook(nullptr); }
};

}  // namespace

TEST_CASE("result set: replaced whole, stale files of the previous set removed, others kept", "[report][output]") {
  const fs::path dir = fresh_path("otasim-result-set-replace", true);
  { std::ofstream(dir / "notes.txt") << "the user's own file"; }
  REQUIRE(write_result_files(dir.string(),
                             {{"summary.json", "A summary"}, {"series.csv", "A series"}, {"report.json", "A report"}},
                             ResultIdentity{"s", 11, 3})
              .empty());
  CHECK(verify_result_files(dir.string()).empty());
  const std::string manifest = read_file(dir / kResultManifest);
  CHECK(manifest.find("\"seed\": 11") != std::string::npos);
  CHECK(manifest.find("\"replications\": 3") != std::string::npos);
  CHECK(manifest.find("summary.json") != std::string::npos);

  // The next run has no summary: the old one goes with the old set.
  REQUIRE(write_result_files(dir.string(), {{"series.csv", "B series"}, {"report.json", "B report"}},
                             ResultIdentity{"s", 12, 1})
              .empty());
  CHECK(verify_result_files(dir.string()).empty());
  CHECK_FALSE(fs::exists(dir / "summary.json"));
  CHECK(read_file(dir / "report.json") == "B report");
  CHECK(read_file(dir / "notes.txt") == "the user's own file");  // never listed, never touched
  CHECK(read_file(dir / kResultManifest).find("summary.json") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("result set: a run killed between two renames leaves no manifest, so the mix shows", "[report][output]") {
  const fs::path dir = fresh_path("otasim-result-set-killed", true);
  HookGuard guard;
  REQUIRE(write_result_files(dir.string(), {{"series.csv", "seed 11 series"}, {"report.json", "seed 11 report"}},
                             ResultIdentity{"s", 11, 1})
              .empty());
  REQUIRE(verify_result_files(dir.string()).empty());
  // Killed just after the first file of the next run went into place.
  set_result_rename_hook([](const std::string& name) {
    if (name == "series.csv") throw KilledHere();
  });
  CHECK_THROWS_AS(write_result_files(dir.string(), {{"series.csv", "seed 12 series"}, {"report.json", "seed 12 report"}},
                                     ResultIdentity{"s", 12, 1}),
                  KilledHere);
  set_result_rename_hook(nullptr);
  // The mix the issue found: report.json of one run beside series.csv of another...
  CHECK(read_file(dir / "report.json") == "seed 11 report");
  CHECK(read_file(dir / "series.csv") == "seed 12 series");
  // ...but no manifest: the directory does not claim a whole result set.
  CHECK_FALSE(fs::exists(dir / kResultManifest));
  const std::string verdict = verify_result_files(dir.string());
  CHECK(verdict.find("no whole result set") != std::string::npos);
  CHECK(verdict.find(dir.string()) != std::string::npos);

  // Killed after every file but before the manifest: still no claim.
  set_result_rename_hook([](const std::string& name) {
    if (name == "report.json") throw KilledHere();
  });
  CHECK_THROWS_AS(write_result_files(dir.string(), {{"series.csv", "seed 13 series"}, {"report.json", "seed 13 report"}},
                                     ResultIdentity{"s", 13, 1}),
                  KilledHere);
  set_result_rename_hook(nullptr);
  CHECK_FALSE(verify_result_files(dir.string()).empty());

  // The next whole run makes it whole again.
  REQUIRE(write_result_files(dir.string(), {{"series.csv", "seed 14 series"}, {"report.json", "seed 14 report"}},
                             ResultIdentity{"s", 14, 1})
              .empty());
  CHECK(verify_result_files(dir.string()).empty());
  fs::remove_all(dir);
}

TEST_CASE("result set: a file another run or a person changed fails the check, naming it", "[report][output]") {
  const fs::path dir = fresh_path("otasim-result-set-changed", true);
  REQUIRE(write_result_files(dir.string(), {{"series.csv", "one"}, {"report.json", "two"}}, ResultIdentity{"s", 1, 1})
              .empty());
  { std::ofstream(dir / "series.csv") << "one!"; }
  std::string verdict = verify_result_files(dir.string());
  CHECK(verdict.find((dir / "series.csv").string()) != std::string::npos);
  // Same size, other bytes.
  { std::ofstream(dir / "series.csv") << "ONE"; }
  CHECK_FALSE(verify_result_files(dir.string()).empty());
  fs::remove(dir / "series.csv");
  verdict = verify_result_files(dir.string());
  CHECK(verdict.find("missing") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("result set: a manifest naming files outside the directory removes nothing there", "[report][output]") {
  const fs::path root = fresh_path("otasim-result-set-escape", true);
  const fs::path dir = root / "out";
  fs::create_directories(dir);
  { std::ofstream(root / "precious.txt") << "keep"; }
  { std::ofstream(dir / "sub") << "keep too"; }
  // A hand-made (or hostile) manifest listing paths that are not plain names.
  {
    std::ofstream(dir / kResultManifest)
        << R"({"format": "otasim-results/1", "files": [{"name": "../precious.txt", "bytes": 4, "sha256": "00"},)"
           R"( {"name": "/etc/hostname", "bytes": 1, "sha256": "00"}, {"name": "..", "bytes": 1, "sha256": "00"},)"
           R"( {"name": "results.json", "bytes": 1, "sha256": "00"}, {"name": 5}]})";
  }
  CHECK(verify_result_files(dir.string()).find("not a file of the set") != std::string::npos);
  REQUIRE(write_result_files(dir.string(), {{"report.json", "r"}}, ResultIdentity{"s", 1, 1}).empty());
  CHECK(read_file(root / "precious.txt") == "keep");
  CHECK(read_file(dir / "sub") == "keep too");
  CHECK(fs::exists("/etc/hostname"));
  CHECK(verify_result_files(dir.string()).empty());
  // A result set may only hold plain names.
  CHECK_THROWS_AS(write_result_files(dir.string(), {{"../x", "r"}}, ResultIdentity{}), std::logic_error);
  fs::remove_all(root);
}
