// The table of bad inputs (tests/bad_inputs.json): every case exits with its
// status (2) and message, and leaves its directory exactly as it was.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "shell.hpp"

namespace fs = std::filesystem;
using ota::models::testing::Outcome;
using ota::models::testing::sh;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string quoted(const std::string& s) { return "'" + replace_all(s, "'", "'\\''") + "'"; }

// Every file under `dir` with its size and contents' first bytes: what "the
// directory as it was" means here.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string what = e.is_directory() ? "dir" : std::to_string(e.file_size());
    if (e.is_regular_file() && e.file_size() < 4096) what += ":" + ota::models::testing::read_file(e.path());
    out[fs::relative(e.path(), dir).string()] = what;
  }
  return out;
}

}  // namespace

TEST_CASE("bad inputs: every case of tests/bad_inputs.json exits 2 with its message and writes nothing",
          "[cli][bad-input]") {
  const std::string src = OTA_SOURCE_DIR;
  const nlohmann::json table =
      nlohmann::json::parse(ota::models::testing::read_file(src + "/tests/bad_inputs.json"));
  const nlohmann::json& cases = table.at("cases");
  REQUIRE(cases.size() >= 100);
  std::set<std::string> commands;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json& c = cases[i];
    const fs::path tmp = ota::models::testing::fresh_path("otasim-bad-input-" + std::to_string(i), true);
    const auto fill = [&](std::string s) {
      s = replace_all(s, "{scenario}", (tmp / "s.json").string());
      s = replace_all(s, "{out}", (tmp / "out").string());
      s = replace_all(s, "{tmp}", tmp.string());
      return replace_all(s, "{src}", src);
    };
    if (c.contains("files"))
      for (const auto& [name, text] : c["files"].items()) std::ofstream(tmp / name, std::ios::binary) << text.get<std::string>();
    if (c.contains("sparse"))
      for (const auto& [name, size] : c["sparse"].items()) {
        std::ofstream(tmp / name).close();
        fs::resize_file(tmp / name, size.get<std::uintmax_t>());
      }
    if (c.contains("keygen"))
      REQUIRE(sh(std::string(OTA_BIN_DIR) + "/otasign keygen --seed 1 --out " + quoted((tmp / c["keygen"].get<std::string>()).string()))
                  .status == 0);
    if (c.contains("chmod"))
      for (const auto& [name, mode] : c["chmod"].items())
        REQUIRE(::chmod((tmp / name).c_str(), static_cast<mode_t>(std::stoul(mode.get<std::string>(), nullptr, 8))) == 0);
    if (c.contains("scenario")) {
      nlohmann::json s = nlohmann::json::parse(
          ota::models::testing::read_file(src + "/scenarios/" + c["scenario"]["base"].get<std::string>()));
      for (const auto& [pointer, value] : c["scenario"]["set"].items()) s[nlohmann::json::json_pointer(pointer)] = value;
      std::ofstream(tmp / "s.json") << s.dump(1);
    }
    std::string cmd = std::string(OTA_BIN_DIR) + "/" + c["args"][0].get<std::string>();
    for (std::size_t a = 1; a < c["args"].size(); ++a) cmd += " " + quoted(fill(c["args"][a].get<std::string>()));
    commands.insert(c["args"][0].get<std::string>() + " " + c["args"][1].get<std::string>());
    const auto before = snapshot(tmp);
    const Outcome o = sh(cmd + " </dev/null");
    const std::string want = fill(c["message"].get<std::string>());
    INFO("case " << i << ": " << cmd << "\n" << o.out);
    CHECK(o.status == c["status"].get<int>());
    CHECK(o.out.find(want) != std::string::npos);
    CHECK(snapshot(tmp) == before);
    fs::remove_all(tmp);
  }
  // The table covers every command a user types.
  for (const char* command : {"otasim run", "otasim sweep", "otasim check", "otasign sign", "otasign verify",
                              "otasign keygen", "otasign delta"})
    CHECK(commands.count(command) == 1);
}
