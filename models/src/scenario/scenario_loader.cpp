// scenario_loader.cpp — JSON text -> validated Scenario (format "otasim-scenario/1").
//
// Three stages, each unable to throw past this file:
//   1. parse: nlohmann's SAX parser feeding our own DOM builder, which refuses
//      duplicate keys and deep nesting and turns a syntax error into one
//      line/column message (json_input.cpp);
//   2. overrides: (JSON Pointer, value) pairs set in the DOM (json_input.cpp);
//   3. validate + convert: one reader per section (scenario_reader.hpp, with the
//      field readers of fields.hpp). Readers record every problem and carry on
//      with a placeholder, so one run reports all errors.
#include "ota/models/scenario/scenario_loader.hpp"

#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "json_input.hpp"
#include "ota/agent/manifest.hpp"
#include "scenario_reader.hpp"

namespace ota::models {

static_assert(kMaxHardwareEntries == ota::agent::kMaxHardwareIds,
              "one release manifest must be able to list every hardware entry");

namespace {

using scenario_detail::apply_override;
using scenario_detail::Diagnostics;
using scenario_detail::json_quoted;
using scenario_detail::Json;
using scenario_detail::parse_json;
using scenario_detail::ScenarioReader;
using scenario_detail::valid_utf8;

LoadResult finish(Diagnostics& diag, Scenario&& s) {
  LoadResult out;
  if (diag.empty()) out.scenario = std::move(s);
  out.errors = diag.take();
  return out;
}

LoadResult load(std::string_view json_text, const std::vector<std::pair<std::string, std::string>>& overrides,
                const std::string& base_dir) {
  Diagnostics diag;
  try {
    Json root;
    if (!parse_json(json_text, diag, root)) return finish(diag, Scenario{});
    for (const auto& [pointer, value] : overrides) apply_override(root, pointer, value, diag);
    if (!diag.empty()) return finish(diag, Scenario{});
    ScenarioReader reader(diag, base_dir);
    Scenario s = reader.read(root);
    return finish(diag, std::move(s));
  } catch (const std::exception& e) {
    // Not expected: every reader checks types before reading. Kept so that a
    // defect here still reports instead of terminating the program.
    diag.add("", std::string("internal error while loading the scenario: ") + e.what());
    return finish(diag, Scenario{});
  }
}

}  // namespace

LoadResult parse_scenario(std::string_view json_text, const std::string& base_dir) {
  return load(json_text, {}, base_dir);
}

LoadResult parse_scenario_with_overrides(std::string_view json_text,
                                         const std::vector<std::pair<std::string, std::string>>& pointer_value_pairs,
                                         const std::string& base_dir) {
  return load(json_text, pointer_value_pairs, base_dir);
}

LoadResult load_scenario_file(const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& overrides) {
  const auto file_error = [&](const std::string& why) {
    LoadResult out;
    out.errors.push_back({"", valid_utf8("cannot read scenario file " + json_quoted(path) + ": " + why)});
    return out;
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return file_error(ec ? ec.message() : "no such file");
  if (std::filesystem::is_directory(status)) return file_error("it is a directory");
  if (!std::filesystem::is_regular_file(status)) return file_error("not a regular file");
  // A scenario is a few kilobytes; far beyond that it cannot be one, and it is
  // refused before it is read.
  constexpr std::uintmax_t kMaxScenarioBytes = 16 * 1024 * 1024;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxScenarioBytes)
    return file_error(std::to_string(size) + " bytes, more than a scenario can be (at most " +
                      std::to_string(kMaxScenarioBytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error("cannot be opened for reading");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return file_error("read error");
  const std::string text = std::move(buf).str();
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  LoadResult out = load(text, overrides, base_dir);
  for (auto& e : out.errors)
    if (e.path.empty() && e.message.rfind("malformed JSON", 0) == 0) e.message = valid_utf8(path) + ": " + e.message;
  return out;
}

std::string format_errors(const std::vector<ScenarioError>& errors, const std::string& source,
                          const std::string& file) {
  std::string out;
  for (const auto& e : errors) {
    out += source + ": ";
    if (!file.empty() && e.message.find(file) == std::string::npos) out += file + ": ";
    if (!e.path.empty()) out += e.path + ": ";
    out += e.message;
    out += '\n';
  }
  return out;
}

}  // namespace ota::models
