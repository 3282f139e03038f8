// `otasim run` as a user meets it: exit codes, messages, files written or not.
#include <catch2/catch.hpp>

#include "ota/models/report/report.hpp"
#include "shell.hpp"
#include "../../cli/run_guard.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using ota::models::testing::Outcome;
using ota::models::testing::otasim;
using ota::models::testing::sh;

namespace fs = std::filesystem;

namespace {

std::string scenario(const std::string& name) { return std::string(OTA_SOURCE_DIR) + "/scenarios/" + name; }

fs::path fresh_dir(const std::string& name) {
  return ota::models::testing::fresh_path("otasim-cli-test-" + name, false);
}

std::string read(const fs::path& p) { return ota::models::testing::read_file(p); }

// The report without the two figures that measure the machine.
std::string without_timing(const std::string& json) {
  std::istringstream in(json);
  std::string line, out;
  while (std::getline(in, line))
    if (line.find("\"wall_s\"") == std::string::npos && line.find("\"peak_rss_bytes\"") == std::string::npos)
      out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("otasim run writes report.json and series.csv", "[models][cli]") {
  const fs::path out = fresh_dir("good");
  const Outcome o = sh(otasim() + " run " + scenario("cellular-cost-delta.json") + " --devices 300 --out " + out.string());
  INFO(o.out);
  REQUIRE(o.status == 0);
  CHECK(o.out.find("updated") != std::string::npos);
  CHECK(fs::exists(out / "report.json"));
  CHECK(fs::exists(out / "series.csv"));
  const std::string csv = read(out / "series.csv");
  CHECK(csv.rfind("t_s,offered,on_old,on_new", 0) == 0);
  // No temporary files left behind.
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().filename().string()[0] != '.');
  fs::remove_all(out);
}

TEST_CASE("otasim run: same seed, byte-identical report; --json prints it", "[models][cli]") {
  const fs::path a = fresh_dir("seed-a"), b = fresh_dir("seed-b");
  const std::string base = otasim() + " run " + scenario("fleet-1m.json") + " --devices 2000 --seed 9 --out ";
  REQUIRE(sh(base + a.string()).status == 0);
  const Outcome ob = sh(base + b.string() + " --json");
  REQUIRE(ob.status == 0);
  const std::string ra = read(a / "report.json");
  CHECK(without_timing(ra) == without_timing(read(b / "report.json")));
  CHECK(without_timing(ob.out) == without_timing(ra));
  CHECK(ra.find("\"time_to_95pct_s\"") != std::string::npos);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("bad scenario input: status 2, the JSON path named, nothing written", "[models][cli]") {
  const fs::path dir = fresh_dir("bad");
  fs::create_directories(dir);
  const fs::path bad = dir / "bad.json";
  std::string text = read(scenario("cellular-cost-full.json"));
  const std::string from = "\"power_loss_per_hour\": 0";
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  text.replace(pos, from.size(), "\"power_loss_per_hour\": -3");
  std::ofstream(bad) << text;
  const fs::path out = dir / "out";
  const Outcome o = sh(otasim() + " run " + bad.string() + " --out " + out.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("/fleet/classes/0/power_loss_per_hour") != std::string::npos);
  CHECK(o.out.find("-3") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  const Outcome missing = sh(otasim() + " run " + (dir / "nope.json").string() + " --out " + out.string());
  CHECK(missing.status == 2);
  CHECK(missing.out.find("nope.json") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  const Outcome flag = sh(otasim() + " run " + scenario("cellular-cost-full.json") + " --devices 0 --out " + out.string());
  CHECK(flag.status == 2);
  CHECK(flag.out.find("--devices") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  fs::remove_all(dir);
}

TEST_CASE("otasim run: a failed write keeps the previous result set whole", "[cli][output]") {
  const fs::path out = fresh_dir("keep-previous");
  const std::string base = otasim() + " run " + scenario("cellular-cost-full.json") + " --devices 300 --out " +
                           out.string();
  REQUIRE(sh(base + " --seed 1 --format md").status == 0);
  const std::string report = read(out / "report.json"), series = read(out / "series.csv"),
                    cost = read(out / "cost.md");
  REQUIRE_FALSE(report.empty());
  REQUIRE_FALSE(series.empty());
  // The next run cannot write report.json (a directory where its temporary
  // file goes): every file of the first run stays as it was.
  fs::create_directory(out / ".report.json.tmp");
  for (const std::string& more : {std::string(" --seed 2"), std::string(" --seed 2 --format md"),
                                  std::string(" --seed 2 --replications 3 --threads 1")}) {
    INFO(more);
    const Outcome o = sh(base + more);
    CHECK(o.status == 1);
    CHECK(o.out.find("report.json") != std::string::npos);
    CHECK(o.out.find("previous results") != std::string::npos);
    CHECK(read(out / "report.json") == report);
    CHECK(read(out / "series.csv") == series);
    CHECK(read(out / "cost.md") == cost);
    CHECK_FALSE(fs::exists(out / "summary.json"));
    CHECK_FALSE(fs::exists(out / ".series.csv.tmp"));
    CHECK_FALSE(fs::exists(out / ".summary.json.tmp"));
  }
  // Unblocked, the next run replaces the whole set.
  fs::remove(out / ".report.json.tmp");
  REQUIRE(sh(base + " --seed 2 --replications 3 --threads 1").status == 0);
  CHECK(read(out / "report.json") != report);
  CHECK(fs::exists(out / "summary.json"));
  CHECK(fs::exists(out / "replications.csv"));
  CHECK_FALSE(fs::exists(out / "cost.md"));  // the first run's, not part of this set
  CHECK(ota::models::verify_result_files(out.string()).empty());
  // And back: a single run's set has no summary of replications.
  REQUIRE(sh(base + " --seed 3").status == 0);
  CHECK_FALSE(fs::exists(out / "summary.json"));
  CHECK_FALSE(fs::exists(out / "replications.csv"));
  CHECK(read(out / "results.json").find("\"seed\": 3") != std::string::npos);
  CHECK(ota::models::verify_result_files(out.string()).empty());
  fs::remove_all(out);
}

TEST_CASE("otasim: numbers on the command line are read strictly, never wrapped", "[cli][numbers]") {
  const fs::path out = fresh_dir("strict-numbers");
  const std::string sc = scenario("default.json");
  const std::string reg = std::string(OTA_SOURCE_DIR) + "/scenarios/regression/good-release.json";
  struct Case {
    std::string args, flag;
  };
  const std::vector<Case> cases = {
      {"run " + sc + " --seed -1", "--seed"},
      {"run " + sc + " --seed 18446744073709551616", "--seed"},
      {"run " + sc + " --seed 1.5", "--seed"},
      {"run " + sc + " --seed 12x", "--seed"},
      {"run " + sc + " --devices -1", "--devices"},
      {"run " + sc + " --devices -18446744073709551615", "--devices"},
      {"run " + sc + " --devices +5", "--devices"},
      {"analyze " + sc + " --devices -1", "--devices"},
      {"sweep " + sc + " --param /seed=1,2 --seed -3", "--seed"},
      {"check " + reg + " --seed -1", "--seed"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const bool writes = c.args.rfind("run ", 0) == 0;  // analyze and check take no --out
    const Outcome o = sh(otasim() + " " + c.args + (writes ? " --out " + out.string() : std::string()));
    CHECK(o.status == 2);
    CHECK(o.out.find("'" + c.flag + "'") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "report.json"));
  }
  // The largest seed is a seed like any other.
  const Outcome ok = sh(otasim() + " run " + sc + " --seed 18446744073709551615 --devices 50 --out " + out.string());
  CHECK(ok.status == 0);
  CHECK(ok.out.find("seed 18446744073709551615, 50 devices") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("otasim run: --out is checked and locked before the simulation", "[cli][output]") {
  const fs::path out = fresh_dir("out-lock");
  const std::string run = otasim() + " run " + scenario("default.json") + " --devices 200 --out ";
  // A file where the directory should be: exit 2 at once, the file untouched.
  { std::ofstream(out) << "keep me"; }
  Outcome o = sh(run + out.string());
  CHECK(o.status == 2);
  CHECK(o.out.find("is not a directory") != std::string::npos);
  CHECK(o.out.find("updated") == std::string::npos);  // nothing was simulated
  CHECK(read(out) == "keep me");
  fs::remove(out);
  // Another run holds the directory: refused, naming it; released, the run goes on.
  fs::create_directories(out);
  const int fd = ::open((out / ".otasim.lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  o = sh(run + out.string());
  CHECK(o.status == 2);
  CHECK(o.out.find("another run is writing its results to '" + out.string() + "'") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "report.json"));
  ::close(fd);
  o = sh(run + out.string());
  CHECK(o.status == 0);
  CHECK(fs::exists(out / "report.json"));
  fs::remove_all(out);
}

TEST_CASE("otasim run: --progress chooses bar, lines or none; a pipe gets no bar", "[cli][progress]") {
  const fs::path out = fresh_dir("progress");
  const std::string run = otasim() + " run " + scenario("default.json") + " --devices 300 --out " + out.string();
  Outcome o = sh(run + " --progress lines");
  CHECK(o.status == 0);
  CHECK(o.out.find("otasim run: started\n") != std::string::npos);
  CHECK(o.out.find("otasim run: 100% done in ") != std::string::npos);
  o = sh(run);  // auto, not a terminal: a short run prints no progress
  CHECK(o.status == 0);
  CHECK(o.out.find("started") == std::string::npos);
  CHECK(o.out.find('\r') == std::string::npos);
  o = sh(run + " --progress none");
  CHECK(o.out.find("done in") == std::string::npos);
  o = sh(run + " --progress bar");
  CHECK(o.out.find("\r[") != std::string::npos);
  CHECK(o.out.find("done in") != std::string::npos);
  for (const std::string& command : {std::string("run"), std::string("sweep --param /seed=1")}) {
    o = sh(otasim() + " " + command + " " + scenario("default.json") + " --progress sometimes --out " + out.string());
    INFO(command);
    CHECK(o.status == 2);
    CHECK(o.out.find("'--progress'") != std::string::npos);
  }
  o = sh(otasim() + " check " + std::string(OTA_SOURCE_DIR) + "/scenarios/regression/good-release.json --progress x");
  CHECK(o.status == 2);
  CHECK(o.out.find("'--progress'") != std::string::npos);
  fs::remove_all(out);
}

namespace {

// Starts `otasim run` on fleet-1m into `out` (stdout and stderr to a pipe),
// waits for its "started" line, sends `sig`, and returns the exit status and
// everything it printed.
std::pair<int, std::string> interrupt_run(const fs::path& out, int sig) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  // The child starts with default dispositions whatever Catch installed here.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  const std::string bin = otasim(), sc = scenario("fleet-1m.json"), dir = out.string();
  const char* argv[] = {bin.c_str(), "run", sc.c_str(), "--seed", "2", "--progress", "lines", "--out", dir.c_str(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, &attr, const_cast<char* const*>(argv), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  bool signalled = false;
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<std::size_t>(n));
    if (!signalled && text.find("otasim run: started\n") != std::string::npos) {
      ::kill(pid, sig);
      signalled = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), text};
}

}  // namespace

TEST_CASE("otasim run: SIGINT or SIGTERM stops with a message, the previous results kept whole", "[cli][output]") {
  const fs::path out = fresh_dir("interrupted");
  REQUIRE(sh(otasim() + " run " + scenario("default.json") + " --devices 300 --seed 7 --out " + out.string()).status ==
          0);
  const std::string report = read(out / "report.json"), manifest = read(out / "results.json");
  for (const int sig : {SIGINT, SIGTERM}) {
    INFO("signal " << sig);
    const auto [status, text] = interrupt_run(out, sig);
    CHECK(status == 128 + sig);
    CHECK(text.find(sig == SIGINT ? "otasim run: interrupted (SIGINT)" : "otasim run: interrupted (SIGTERM)") !=
          std::string::npos);
    CHECK(text.find("the previous results in '" + out.string() + "' are kept") != std::string::npos);
    CHECK(read(out / "report.json") == report);
    CHECK(read(out / "results.json") == manifest);
    CHECK(ota::models::verify_result_files(out.string()).empty());
    CHECK_FALSE(fs::exists(out / ".otasim.lock"));
  }
  fs::remove_all(out);
}

TEST_CASE("otasim run: a fleet beyond any machine is refused at once, with the estimate", "[cli][estimate]") {
  const fs::path out = fresh_dir("estimate-huge");
  const Outcome o = sh(otasim() + " run " + scenario("default.json") + " --devices 2000000000 --out " + out.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("/fleet/devices: 2000000000 is out of range") != std::string::npos);
  CHECK(o.out.find("estimate: this run needs about 240.0 GB of memory (2,000,000,000 devices x ") !=
        std::string::npos);
  CHECK(o.out.find("the largest fleet that fits is about ") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("otasim run: a run of 10^12 events is refused before it starts, --force named", "[cli][estimate]") {
  // The case: 1,000 devices polling every 60 ms, each poll an event, for ten years.
  const fs::path dir = fresh_dir("estimate-polls");
  fs::create_directories(dir);
  nlohmann::json j = nlohmann::json::parse(read(scenario("default.json")));
  j["fleet"]["devices"] = 1000;
  j["horizon_h"] = 87600;
  j["polling"]["interval_min"] = 0.001;
  j["polling"]["idle_polls"] = "events";
  std::ofstream(dir / "polls.json") << j.dump();
  const fs::path out = dir / "out";
  const Outcome o = sh(otasim() + " run " + (dir / "polls.json").string() + " --out " + out.string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("otasim run: estimate: about 5,256,") != std::string::npos);
  CHECK(o.out.find("idle polls as events, one every 0.06 s per device") != std::string::npos);
  CHECK(o.out.find("--force runs it anyway") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  // The same refusal in sweep and check, before any job runs.
  const Outcome sw = sh(otasim() + " sweep " + (dir / "polls.json").string() + " --param /seed=1,2 --replications 1");
  CHECK(sw.status == 2);
  CHECK(sw.out.find("otasim sweep: estimate: about 10,512,") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("run guard: refuses beyond memory with the largest fleet that fits, --force goes on", "[cli][estimate]") {
  using ota::cli::GuardInput;
  using ota::cli::judge_run;
  GuardInput in;
  in.devices = 100'000'000;
  in.memory_per_device = 120;
  in.memory_fixed = 24e6;
  in.memory_bytes = in.memory_fixed + 120.0 * 100'000'000;
  in.events = 4e8;
  const auto refused = judge_run(in, 6e9, false);
  CHECK(refused.refuse);
  // (6e9 - 24e6) / 120 = 49,800,000 devices fit.
  CHECK(refused.message.find("the largest fleet that fits is about 49,800,000 devices") != std::string::npos);
  const auto forced = judge_run(in, 6e9, true);
  CHECK_FALSE(forced.refuse);
  CHECK(forced.message.find("going on (--force)") != std::string::npos);
  // Enough memory: 4e8 events is only a notice.
  const auto notice = judge_run(in, 64e9, false);
  CHECK_FALSE(notice.refuse);
  CHECK(notice.message.find("about 400,000,000 events") != std::string::npos);
  // Two runs at once need twice the memory; the fleet that fits is per run.
  in.at_once = 2;
  in.memory_bytes *= 2;
  const auto two = judge_run(in, 6e9, false);
  CHECK(two.refuse);
  CHECK(two.message.find("about 24,800,000 devices per run (or use fewer --threads)") != std::string::npos);
  // Unknown memory (0): only events decide.
  in.events = 2e9;
  CHECK(judge_run(in, 0, false).refuse);
  in.events = 1e7;
  CHECK(judge_run(in, 0, false).message.empty());
}

TEST_CASE("version: --version names the build, and every report says which build wrote it", "[cli][version]") {
  const Outcome v = sh(otasim() + " --version");
  REQUIRE(v.status == 0);
  REQUIRE(v.out.rfind("otasim 0.", 0) == 0);
  const std::string version = v.out.substr(7, v.out.find('\n') - 7);
  const Outcome s = sh(std::string(OTA_BIN_DIR) + "/otasign --version");
  CHECK(s.status == 0);
  CHECK(s.out == "otasign " + version + "\n");
  const fs::path out = fresh_dir("version");
  REQUIRE(sh(otasim() + " run " + scenario("default.json") + " --devices 100 --progress none --out " + out.string())
              .status == 0);
  const nlohmann::json report = nlohmann::json::parse(read(out / "report.json"));
  CHECK(report["run"]["version"] == version);
  fs::remove_all(out);
}
