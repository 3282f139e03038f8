// scenario_loader.hpp — read a scenario file (format "otasim-scenario/1") into a
// validated Scenario.
//
// The format is documented field by field in scenarios/scenario.schema.json and
// scenarios/README.md. Loading either yields a complete Scenario (every default
// filled in, every reference resolved to an index, every unit converted to SI)
// or a list of errors, never both and never neither:
//
//   * Every error found is reported, not only the first: one entry per problem,
//     in document order where the order is meaningful.
//   * Each error carries the JSON Pointer of the field (RFC 6901, e.g.
//     "/fleet/classes/2/share"; "" for the document itself or the file) and a
//     message that names the offending value and what was expected.
//   * Unknown keys are errors everywhere, except keys starting with "_comment"
//     and keys equal to "$schema", which are allowed anywhere for documentation.
//   * Duplicate keys in one object are errors (JSON would silently keep the
//     last one).
//   * Malformed JSON gives one error with its line and column.
//
// No input makes these functions throw or crash (they are fuzzed by
// tests/fuzz/fuzz_scenario.cpp). Loading is pure apart from reading the file and
// checking that the release's image files exist; calling again with the same
// input gives the same result, so a caller may simply retry after a fix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// The exact value required in a scenario's "format" field.
inline constexpr std::string_view kScenarioFormat = "otasim-scenario/1";

// Limits the loader guarantees, so that the fleet model can index compactly.
inline constexpr std::uint64_t kMaxFleetDevices = 200'000'000;
inline constexpr std::size_t kMaxDeviceClasses = 256;   // so a class index fits in a byte
inline constexpr std::size_t kMaxLinkProfiles = 256;    // built-ins included
// At most as many hardware entries as one signed manifest can list
// (ota::agent::kMaxHardwareIds): the release targets every hardware entry.
inline constexpr std::size_t kMaxHardwareEntries = 8;
inline constexpr std::uint32_t kMaxTimeSeriesBins = 100'000;  // horizon / bin width
inline constexpr int kMaxJsonDepth = 64;                // deeper nesting is refused

struct ScenarioError {
  std::string path;     // JSON Pointer of the offending field; "" = document or file
  std::string message;  // names the value and what was expected
};

struct LoadResult {
  std::optional<Scenario> scenario;   // set iff errors is empty
  std::vector<ScenarioError> errors;
};

// Reads and validates the file at `path`, after applying `overrides` as
// parse_scenario_with_overrides does. Relative image paths in the file are
// resolved against the file's directory. If the file cannot be read, or is not
// well-formed JSON, the error message names the file.
LoadResult load_scenario_file(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides = {});

// Validates scenario JSON text. `base_dir` resolves relative image paths
// (release.images); it is not otherwise used.
LoadResult parse_scenario(std::string_view json_text, const std::string& base_dir = ".");

// As parse_scenario, after setting each (JSON Pointer, value) pair in the
// document, in order — for `otasim run --devices N` ("/fleet/devices", "N") and
// `otasim sweep --param /path=value`. A value is read as JSON if it parses as
// JSON ("500", "0.25", "true", "\"x\"", "{...}") and as a plain string
// otherwise ("delta"). Missing intermediate objects are created (so an optional
// block can be set that the file leaves out); array elements must exist (no
// appending). A pointer that cannot be applied is an error at that pointer and
// the scenario is not loaded. Overridden values are validated like any other.
LoadResult parse_scenario_with_overrides(
    std::string_view json_text,
    const std::vector<std::pair<std::string, std::string>>& pointer_value_pairs,
    const std::string& base_dir = ".");

// One line per error, each "SOURCE: /path: message" ("SOURCE: message" when
// the path is empty), joined with '\n' and ending with one. With `file`,
// "SOURCE: FILE: /path: message" (FILE left out where the message names it):
// the CLI passes its command and the scenario file, so every line names both.
std::string format_errors(const std::vector<ScenarioError>& errors, const std::string& source = "scenario",
                          const std::string& file = {});

}  // namespace ota::models
