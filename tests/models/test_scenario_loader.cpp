// Tests of the scenario loader (models/include/ota/models/scenario/scenario_loader.hpp):
// scenarios/default.json lands field by field in the Scenario with its units
// converted; every kind of bad input gives an error at the right JSON path that
// names the value and the expectation; errors are collected, not stopped at the
// first; overrides; exact apportionment of devices over classes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/links.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

using namespace ota::models;
using Json = nlohmann::json;

namespace {

const std::string kDefaultScenario = std::string(OTA_SOURCE_DIR) + "/scenarios/default.json";

// The smallest valid scenario: every required field and nothing else.
const char* const kMinimal = R"({
  "format": "otasim-scenario/1",
  "name": "minimal",
  "horizon_h": 48,
  "fleet": {
    "devices": 1000,
    "classes": [
      { "name": "bat", "share": 0.5, "hardware": "revA", "link": "nbiot", "power": "battery",
        "battery": { "capacity_mah": 3000, "voltage_v": 3 } },
      { "name": "mains", "share": 0.5, "hardware": "revB", "link": "wifi", "power": "mains" }
    ]
  },
  "hardware": [ { "name": "revA", "hardware_id": 1 }, { "name": "revB", "hardware_id": 2 } ],
  "release": { "from_version": "1.0.0", "to_version": "1.1.0", "full_kb": 500 }
})";

std::string errors_of(const LoadResult& r) { return format_errors(r.errors); }

// Loads text that must be valid; fails the test with the errors otherwise.
Scenario load_ok(const std::string& text, const std::string& base_dir = ".") {
  const LoadResult r = parse_scenario(text, base_dir);
  INFO(errors_of(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.scenario.has_value());
  return *r.scenario;
}

const ScenarioError* find_error(const LoadResult& r, const std::string& path) {
  for (const auto& e : r.errors)
    if (e.path == path) return &e;
  return nullptr;
}

// A scratch directory, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("otasim-scenario-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, std::size_t bytes) const {
    std::ofstream out(path / name, std::ios::binary);
    out << std::string(bytes, 'x');
    return (path / name).string();
  }
};

std::size_t link_named(const Scenario& s, const std::string& name) {
  for (std::size_t i = 0; i < s.links.size(); ++i)
    if (s.links[i].name == name) return i;
  FAIL("no link profile " << name);
  return 0;
}

}  // namespace

TEST_CASE("default.json loads and every field lands in the struct in SI units", "[scenario]") {
  const LoadResult r = load_scenario_file(kDefaultScenario);
  INFO(errors_of(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.scenario.has_value());
  const Scenario& s = *r.scenario;

  CHECK(s.name == "default");
  CHECK_FALSE(s.description.empty());
  CHECK(s.seed == 1);
  CHECK(s.horizon_s == Approx(336 * 3600.0));
  CHECK(s.bin_s == Approx(3600));
  CHECK(s.devices == 100000);

  REQUIRE(s.hardware.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const Hardware& h = s.hardware[i];
    CHECK(h.name == (i == 0 ? "revA" : "revB"));
    CHECK(h.hardware_id == i + 1);
    CHECK(h.trial_boot_limit == 3);
    CHECK(h.boot_s == Approx(5));
    CHECK(h.flash.sector_bytes == 4096);
    CHECK(h.flash.erase_s_per_sector == Approx(0.045));   // 45 ms
    CHECK(h.flash.program_s_per_kb == Approx(0.0016));    // 1.6 ms
    CHECK(h.flash.write_watts == Approx(0.06));  // 60 mW
    CHECK(h.flash.slot_bytes == 1536u * 1024u);
  }

  // No "links" block: the built-in profiles, unchanged.
  REQUIRE(s.links.size() == builtin_link_profiles().size());
  CHECK(s.links[link_named(s, "nbiot")].median_bps == builtin_link_profile("nbiot")->median_bps);

  REQUIRE(s.regions == std::vector<std::string>{"eu", "us"});
  REQUIRE(s.classes.size() == 3);
  const DeviceClass& nb = s.classes[0];
  CHECK(nb.name == "nbiot-battery");
  CHECK(nb.devices == 40000);
  CHECK(s.hardware[nb.hardware].name == "revA");
  CHECK(s.links[nb.link].name == "nbiot");
  CHECK(s.regions[nb.region] == "eu");
  CHECK(nb.power == PowerSource::Battery);
  CHECK(nb.partitioning == Partitioning::AB);
  CHECK(nb.power_loss_per_hour == 0);
  REQUIRE(nb.battery.has_value());
  CHECK(nb.battery->capacity_j == Approx(3000 * 3.6 * 3.0));   // 32.4 kJ
  CHECK(nb.battery->voltage_v == 3.0);
  CHECK(nb.battery->soc_mean == Approx(0.7));
  CHECK(nb.battery->soc_stddev == Approx(0.15));
  CHECK(nb.battery->idle_watts == Approx(0.05e-3));
  CHECK(nb.battery->recharge_watts == 0);
  CHECK(nb.battery->update_margin == Approx(1.5));
  CHECK(nb.battery->min_soc == Approx(0.2));
  CHECK(nb.battery->brownout_soc == Approx(0.02));

  const DeviceClass& wifi = s.classes[1];
  CHECK(wifi.name == "wifi-mains");
  CHECK(wifi.devices == 35000);
  CHECK(s.hardware[wifi.hardware].name == "revB");
  CHECK(s.links[wifi.link].name == "wifi");
  CHECK(wifi.power == PowerSource::Mains);
  CHECK_FALSE(wifi.battery.has_value());
  CHECK(wifi.power_loss_per_hour == Approx(1.3e-4));

  const DeviceClass& ltem = s.classes[2];
  CHECK(ltem.devices == 25000);
  CHECK(s.links[ltem.link].name == "ltem");
  CHECK(s.regions[ltem.region] == "us");
  CHECK(nb.devices + wifi.devices + ltem.devices == s.devices);

  const Release& rel = s.release;
  CHECK(rel.from_version == Version{2, 4, 0});
  CHECK(rel.to_version == Version{2, 5, 0});
  CHECK(rel.from_security_counter == 1);
  CHECK(rel.to_security_counter == 2);
  CHECK(rel.payload == Payload::Full);
  CHECK(rel.full_bytes == 1'000'000);   // 1000 KB of 1000 bytes
  CHECK(rel.delta_bytes == 0);
  CHECK_FALSE(rel.old_image_file.has_value());
  CHECK_FALSE(rel.new_image_file.has_value());
  CHECK(rel.corruption_per_transfer == 0);
  CHECK(rel.tamper_per_transfer == 0);
  REQUIRE(rel.behaviour.size() == 2);
  CHECK(rel.behaviour[0].boot_failure_probability == 0);
  CHECK(rel.behaviour[1].crash_per_day == 0);

  CHECK(s.polling.interval_s == Approx(3600));
  CHECK(s.polling.jitter == Approx(0.1));
  CHECK(s.polling.backoff_initial_s == Approx(60));
  CHECK(s.polling.backoff_factor == Approx(2));
  CHECK(s.polling.backoff_max_s == Approx(3600));
  CHECK(s.polling.idle_polls == IdlePollMode::Aggregate);
  CHECK_FALSE(s.polling.synchronized_start);

  CHECK(s.server.max_requests_per_s == 0);
  CHECK(s.server.max_concurrent_downloads == 0);
  CHECK(s.server.bandwidth_bps == 0);
  CHECK(s.server.queue_limit == 0);
  CHECK(s.server.usd_per_gb == Approx(0.09));

  CHECK(s.rollout.start_s == 0);
  REQUIRE(s.rollout.stages.size() == 4);
  const double fractions[] = {0.01, 0.05, 0.25, 1.0};
  const double soak_h[] = {6, 12, 24, 168};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(s.rollout.stages[i].fraction == Approx(fractions[i]));
    CHECK(s.rollout.stages[i].soak_s == Approx(soak_h[i] * 3600));
  }

  CHECK(s.prices.service_call_usd == Approx(200));
  CHECK(s.prices.bytes_per_mb == Approx(1e6));
  CHECK(s.health.report_after_s == Approx(600));
}

TEST_CASE("a minimal scenario gets the documented defaults", "[scenario]") {
  const Scenario s = load_ok(kMinimal);
  CHECK(s.seed == 1);
  CHECK(s.bin_s == Approx(3600));
  CHECK(s.horizon_s == Approx(48 * 3600.0));
  CHECK(s.regions == std::vector<std::string>{"default"});
  REQUIRE(s.classes.size() == 2);
  CHECK(s.classes[0].partitioning == Partitioning::AB);
  CHECK(s.classes[0].power_loss_per_hour == 0);          // battery: brownout instead
  CHECK(s.classes[1].power_loss_per_hour == Approx(1.3e-4));  // mains: figures.md derived hazard
  REQUIRE(s.classes[0].battery.has_value());
  const Battery& b = *s.classes[0].battery;
  CHECK(b.capacity_j == Approx(32400));
  CHECK(b.soc_mean == Approx(0.7));
  CHECK(b.soc_stddev == Approx(0.15));
  CHECK(b.idle_watts == Approx(0.05e-3));
  CHECK(b.recharge_watts == 0);
  CHECK(b.update_margin == Approx(1.5));
  CHECK(b.min_soc == Approx(0.2));
  CHECK(b.brownout_soc == Approx(0.02));
  for (const Hardware& h : s.hardware) {
    CHECK(h.trial_boot_limit == 3);
    CHECK(h.boot_s == Approx(5));
    CHECK(h.flash.sector_bytes == 4096);
    CHECK(h.flash.erase_s_per_sector == Approx(0.045));
    CHECK(h.flash.program_s_per_kb == Approx(0.0016));
    CHECK(h.flash.slot_bytes == 1536u * 1024u);
  }
  CHECK(s.release.from_security_counter == 1);
  CHECK(s.release.to_security_counter == 2);
  CHECK(s.release.payload == Payload::Full);
  CHECK(s.release.full_bytes == 500'000);
  REQUIRE(s.release.behaviour.size() == 2);
  CHECK(s.release.behaviour[1].boot_failure_probability == 0);
  CHECK(s.polling.interval_s == Approx(3600));
  CHECK(s.polling.jitter == Approx(0.1));
  CHECK(s.polling.idle_polls == IdlePollMode::Aggregate);
  CHECK(s.server.usd_per_gb == Approx(0.09));
  REQUIRE(s.rollout.stages.size() == 1);
  CHECK(s.rollout.stages[0].fraction == 1.0);
  CHECK(s.rollout.stages[0].soak_s == 0);
  CHECK(s.prices.service_call_usd == Approx(200));
  CHECK(s.prices.bytes_per_mb == Approx(1e6));
  CHECK(s.health.report_after_s == Approx(600));
}

TEST_CASE("optional sections convert their units", "[scenario]") {
  Json doc = Json::parse(kMinimal);
  doc["bin_minutes"] = 30;
  doc["seed"] = 18446744073709551615ull;
  doc["links"] = Json::parse(R"({
    "nbiot": { "median_kbps": 12, "usd_per_mb": 0.03 },
    "nbiot-poor": { "base": "nbiot", "median_kbps": 3, "min_kbps": 1, "rx_mw": 100, "poll_mj": 500 },
    "wifi": { "usd_per_mb": 0 }
  })");
  doc["fleet"]["classes"][1]["link"] = "nbiot-poor";
  doc["fleet"]["classes"][1]["partitioning"] = "single";
  doc["fleet"]["classes"][1]["region"] = "apac";
  doc["fleet"]["classes"][0]["partitioning"] = "single_recovery";
  doc["fleet"]["classes"][0]["battery"]["idle_mw"] = 0.2;
  doc["release"]["payload"] = "delta";
  doc["release"]["delta_kb"] = 15;
  doc["release"]["behaviour"] = Json::parse(R"({
    "default": { "crash_per_day": 0.1 }, "revB": { "boot_failure_probability": 0.02 } })");
  doc["hardware"][1]["flash"] = Json::parse(R"({ "sector_bytes": 65536, "erase_ms_per_sector": 2000, "write_mw": 50, "slot_kb": 4096 })");
  doc["hardware"][1]["trial_boot_limit"] = 1;
  doc["server"] = Json::parse(R"({ "max_requests_per_s": 500, "max_concurrent_downloads": 200, "bandwidth_mbps": 100, "queue_limit": 1000, "usd_per_gb": 0.085 })");
  doc["polling"] = Json::parse(R"({ "interval_min": 1440, "jitter": 0, "backoff": { "initial_s": 30, "factor": 1, "max_s": 30 }, "idle_polls": "events", "synchronized_start": true })");
  doc["rollout"] = Json::parse(R"({ "start_h": 2, "stages": [ { "percent": 10, "soak_h": 0.5 }, { "percent": 100 } ] })");
  doc["prices"] = Json::parse(R"({ "service_call_usd": 1000, "bytes_per_mb": 1048576 })");
  doc["health"] = Json::parse(R"({ "report_after_min": 5 })");
  const Scenario s = load_ok(doc.dump());

  CHECK(s.bin_s == Approx(1800));
  CHECK(s.seed == 18446744073709551615ull);
  const LinkProfile& nb = s.links[link_named(s, "nbiot")];
  CHECK(nb.median_bps == Approx(12e3));
  CHECK(nb.usd_per_mb == Approx(0.03));
  CHECK(nb.latency_s == builtin_link_profile("nbiot")->latency_s);  // not overridden
  const LinkProfile& poor = s.links[link_named(s, "nbiot-poor")];
  CHECK(poor.median_bps == Approx(3e3));
  CHECK(poor.min_bps == Approx(1e3));
  CHECK(poor.usd_per_mb == Approx(0.03));   // from nbiot as this scenario sets it
  CHECK(poor.rx_watts == Approx(0.1));
  CHECK(poor.poll_joules == Approx(0.5));
  CHECK(poor.metered);
  CHECK_FALSE(s.links[link_named(s, "wifi")].metered);
  CHECK(s.links[s.classes[1].link].name == "nbiot-poor");
  CHECK(s.classes[0].partitioning == Partitioning::SingleWithRecovery);
  CHECK(s.classes[1].partitioning == Partitioning::SingleNoRecovery);
  CHECK(s.regions == std::vector<std::string>{"default", "apac"});
  CHECK(s.classes[1].region == 1);
  CHECK(s.classes[0].battery->idle_watts == Approx(0.2e-3));

  CHECK(s.release.payload == Payload::Delta);
  CHECK(s.release.delta_bytes == 15'000);
  REQUIRE(s.release.behaviour.size() == 2);
  CHECK(s.release.behaviour[0].boot_failure_probability == 0);
  CHECK(s.release.behaviour[0].crash_per_day == Approx(0.1));
  CHECK(s.release.behaviour[1].boot_failure_probability == Approx(0.02));
  CHECK(s.release.behaviour[1].crash_per_day == Approx(0.1));   // inherited from default

  const FlashTiming& fl = s.hardware[1].flash;
  CHECK(fl.sector_bytes == 65536);
  CHECK(fl.erase_s_per_sector == Approx(2.0));
  CHECK(fl.program_s_per_kb == Approx(0.0016));   // default kept
  CHECK(fl.write_watts == Approx(0.05));
  CHECK(fl.slot_bytes == 4096u * 1024u);
  CHECK(s.hardware[1].trial_boot_limit == 1);

  CHECK(s.server.max_requests_per_s == Approx(500));
  CHECK(s.server.max_concurrent_downloads == 200);
  CHECK(s.server.bandwidth_bps == Approx(100e6));
  CHECK(s.server.queue_limit == 1000);
  CHECK(s.server.usd_per_gb == Approx(0.085));
  CHECK(s.polling.interval_s == Approx(86400));
  CHECK(s.polling.jitter == 0);
  CHECK(s.polling.backoff_initial_s == Approx(30));
  CHECK(s.polling.backoff_factor == Approx(1));
  CHECK(s.polling.backoff_max_s == Approx(30));
  CHECK(s.polling.idle_polls == IdlePollMode::Events);
  CHECK(s.polling.synchronized_start);
  CHECK(s.rollout.start_s == Approx(7200));
  REQUIRE(s.rollout.stages.size() == 2);
  CHECK(s.rollout.stages[0].fraction == Approx(0.1));
  CHECK(s.rollout.stages[0].soak_s == Approx(1800));
  CHECK(s.rollout.stages[1].soak_s == 0);
  CHECK(s.prices.service_call_usd == Approx(1000));
  CHECK(s.prices.bytes_per_mb == Approx(1048576));
  CHECK(s.health.report_after_s == Approx(300));
}

TEST_CASE("integers may be written as integral floats; documentation keys are ignored", "[scenario]") {
  Json doc = Json::parse(kMinimal);
  doc["fleet"]["devices"] = 1e3;
  doc["hardware"][0]["hardware_id"] = 7.0;
  doc["_comment"] = "top";
  doc["_comment_more"] = {1, 2, 3};
  doc["$schema"] = "./scenario.schema.json";
  doc["fleet"]["classes"][0]["_comment"] = "class";
  doc["fleet"]["classes"][0]["battery"]["_comment"] = "battery";
  doc["release"]["behaviour"] = {{"_comment", "hardware names or default"}, {"revA", {{"crash_per_day", 1}}}};
  doc["links"] = {{"_comment", "profiles"}};
  const Scenario s = load_ok(doc.dump());
  CHECK(s.devices == 1000);
  CHECK(s.hardware[0].hardware_id == 7);
  CHECK(s.release.behaviour[0].crash_per_day == Approx(1));
  CHECK(s.links.size() == builtin_link_profiles().size());
}

TEST_CASE("release images: real files, resolved against the scenario's directory", "[scenario]") {
  TempDir dir;
  dir.write("old.bin", 70000);
  dir.write("new.bin", 72000);
  Json doc = Json::parse(kMinimal);
  doc["release"].erase("full_kb");
  doc["release"]["payload"] = "delta";
  doc["release"]["images"] = {{"old", "old.bin"}, {"new", "new.bin"}};

  SECTION("found relative to base_dir") {
    const Scenario s = load_ok(doc.dump(), dir.path.string());
    REQUIRE(s.release.new_image_file.has_value());
    REQUIRE(s.release.old_image_file.has_value());
    CHECK(std::filesystem::equivalent(*s.release.new_image_file, dir.path / "new.bin"));
    CHECK(std::filesystem::equivalent(*s.release.old_image_file, dir.path / "old.bin"));
    CHECK(s.release.full_bytes == 0);   // measured at set-up
    CHECK(s.release.delta_bytes == 0);
  }
  SECTION("and relative to the file's directory when loaded from a file") {
    std::ofstream(dir.path / "s.json") << doc.dump();
    const LoadResult r = load_scenario_file((dir.path / "s.json").string());
    INFO(errors_of(r));
    REQUIRE(r.scenario.has_value());
    CHECK(std::filesystem::equivalent(*r.scenario->release.new_image_file, dir.path / "new.bin"));
  }
  SECTION("a missing file is an error naming the path") {
    doc["release"]["images"]["new"] = "does-not-exist.bin";
    const LoadResult r = parse_scenario(doc.dump(), dir.path.string());
    REQUIRE_FALSE(r.scenario.has_value());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/release/images/new");
    CHECK_THAT(r.errors[0].message, Catch::Contains("does-not-exist.bin") && Catch::Contains("cannot be read"));
  }
  SECTION("the slot must hold the new image") {
    doc["hardware"][1]["flash"] = {{"slot_kb", 64}};   // 65536 bytes < 72000
    const LoadResult r = parse_scenario(doc.dump(), dir.path.string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/hardware/1/flash/slot_kb");
    CHECK_THAT(r.errors[0].message, Catch::Contains("72000 bytes") && Catch::Contains("slot_kb >= 71"));
  }
  SECTION("sizes and images are exclusive") {
    doc["release"]["full_kb"] = 500;
    const LoadResult r = parse_scenario(doc.dump(), dir.path.string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/release/full_kb");
    CHECK_THAT(r.errors[0].message, Catch::Contains("500") && Catch::Contains("images"));
  }
  SECTION("a delta needs the old image") {
    doc["release"]["images"].erase("old");
    const LoadResult r = parse_scenario(doc.dump(), dir.path.string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/release/images/old");
    CHECK_THAT(r.errors[0].message, Catch::Contains("missing required field"));
  }
  SECTION("a full release needs only the new image, and the run uses it") {
    doc["release"]["payload"] = "full";
    doc["release"]["images"].erase("old");
    const Scenario s = load_ok(doc.dump(), dir.path.string());
    CHECK_FALSE(s.release.old_image_file.has_value());
    const ReleaseArtifacts a = prepare_artifacts(s);  // was: "/release/full_kb: ... must be positive"
    CHECK(a.image_bytes == 72000);
  }
}

namespace {

struct BadCase {
  const char* what;
  std::function<void(Json&)> mutate;
  const char* path;
  std::vector<const char*> mentions;   // substrings the message must contain
};

}  // namespace

TEST_CASE("each bad input gives one error at its path naming the value and the expectation", "[scenario]") {
  // clang-format off
  const std::vector<BadCase> cases = {
    {"unknown key", [](Json& d) { d["release"]["frobnicate"] = 1; },
     "/release/frobnicate", {"unknown key", "expected one of", "full_kb", "behaviour"}},
    {"unknown key in a class", [](Json& d) { d["fleet"]["classes"][0]["colour"] = "red"; },
     "/fleet/classes/0/colour", {"unknown key", "share"}},
    {"unknown top-level key", [](Json& d) { d["fleet_size"] = 5; },
     "/fleet_size", {"unknown key", "horizon_h"}},
    {"key needing pointer escapes", [](Json& d) { d["a/b~c"] = 5; },
     "/a~1b~0c", {"unknown key"}},
    {"wrong type: string for number", [](Json& d) { d["polling"] = {{"interval_min", "60"}}; },
     "/polling/interval_min", {"\"60\"", "wrong type", "expected a number"}},
    {"wrong type: boolean for number", [](Json& d) { d["horizon_h"] = true; },
     "/horizon_h", {"true", "wrong type", "a number in (0, 87600]", "hours"}},
    {"wrong type: number for object", [](Json& d) { d["fleet"] = 5; },
     "/fleet", {"5", "wrong type", "an object"}},
    {"wrong type: string for boolean", [](Json& d) { d["polling"] = {{"synchronized_start", "yes"}}; },
     "/polling/synchronized_start", {"\"yes\"", "true or false"}},
    {"share above 1", [](Json& d) { d["fleet"]["classes"][1]["share"] = 1.4; },
     "/fleet/classes/1/share", {"1.4", "not a probability", "(0, 1]"}},
    {"share of zero", [](Json& d) { d["fleet"]["classes"][1]["share"] = 0; },
     "/fleet/classes/1/share", {"0", "not a probability", "(0, 1]"}},
    {"negative probability", [](Json& d) { d["release"]["corruption_per_transfer"] = -0.1; },
     "/release/corruption_per_transfer", {"-0.1", "not a probability", "[0, 1]"}},
    {"boot failure above 1", [](Json& d) { d["release"]["behaviour"] = {{"revB", {{"boot_failure_probability", 2}}}}; },
     "/release/behaviour/revB/boot_failure_probability", {"2", "not a probability"}},
    {"negative size", [](Json& d) { d["release"]["full_kb"] = -500; },
     "/release/full_kb", {"-500", "out of range", "(0, 4294967]"}},
    {"negative slot", [](Json& d) { d["hardware"][0]["flash"] = {{"slot_kb", -1}}; },
     "/hardware/0/flash/slot_kb", {"-1", "out of range", "an integer in [1,"}},
    {"negative power", [](Json& d) { d["fleet"]["classes"][0]["battery"]["idle_mw"] = -1; },
     "/fleet/classes/0/battery/idle_mw", {"-1", "out of range", "[0, 1000000000]", "milliwatts"}},
    {"missing devices", [](Json& d) { d["fleet"].erase("devices"); },
     "/fleet/devices", {"missing required field", "an integer in [1, 200000000]"}},
    {"missing name", [](Json& d) { d.erase("name"); },
     "/name", {"missing required field", "non-empty string"}},
    {"missing release", [](Json& d) { d.erase("release"); },
     "/release", {"missing required field", "an object"}},
    {"missing full_kb", [](Json& d) { d["release"].erase("full_kb"); },
     "/release/full_kb", {"missing required field", "unless images"}},
    {"missing delta_kb for a delta", [](Json& d) { d["release"]["payload"] = "delta"; },
     "/release/delta_kb", {"missing required field", "delta"}},
    {"missing battery capacity", [](Json& d) { d["fleet"]["classes"][0]["battery"].erase("capacity_mah"); },
     "/fleet/classes/0/battery/capacity_mah", {"missing required field", "mAh"}},
    {"non-increasing stages", [](Json& d) { d["rollout"] = {{"stages", {{{"percent", 10}}, {{"percent", 5}}, {{"percent", 100}}}}}; },
     "/rollout/stages/1/percent", {"5", "stage 0", "10", "increase strictly"}},
    {"repeated stage", [](Json& d) { d["rollout"] = {{"stages", {{{"percent", 5}}, {{"percent", 5}}, {{"percent", 100}}}}}; },
     "/rollout/stages/1/percent", {"5 does not exceed stage 0's 5"}},
    {"stage percent above 100", [](Json& d) { d["rollout"] = {{"stages", {{{"percent", 50}}, {{"percent", 150}}}}}; },
     "/rollout/stages/1/percent", {"150", "out of range", "(0, 100]"}},
    {"last stage short of 100", [](Json& d) { d["rollout"] = {{"stages", {{{"percent", 1}}, {{"percent", 50}}}}}; },
     "/rollout/stages/1/percent", {"50", "not 100"}},
    {"negative soak", [](Json& d) { d["rollout"] = {{"stages", {{{"percent", 100}, {"soak_h", -1}}}}}; },
     "/rollout/stages/0/soak_h", {"-1", "out of range"}},
    {"rollout starting after the horizon", [](Json& d) { d["rollout"] = {{"start_h", 48}}; },
     "/rollout/start_h", {"48", "horizon_h = 48"}},
    {"shares not summing to 1", [](Json& d) { d["fleet"]["classes"][1]["share"] = 0.4; },
     "/fleet/classes", {"0.9", "expected 1 within 1e-06"}},
    {"dangling hardware", [](Json& d) { d["fleet"]["classes"][0]["hardware"] = "revC"; },
     "/fleet/classes/0/hardware", {"\"revC\"", "names no hardware", "defined: revA, revB"}},
    {"dangling link", [](Json& d) { d["fleet"]["classes"][1]["link"] = "lorawan"; },
     "/fleet/classes/1/link", {"\"lorawan\"", "names no link profile", "nbiot", "ethernet"}},
    {"behaviour for unknown hardware", [](Json& d) { d["release"]["behaviour"] = {{"revZ", {{"crash_per_day", 1}}}}; },
     "/release/behaviour/revZ", {"\"revZ\"", "names no hardware", "revA, revB"}},
    {"battery block on a mains class", [](Json& d) { d["fleet"]["classes"][1]["battery"] = {{"capacity_mah", 3000}, {"voltage_v", 3}}; },
     "/fleet/classes/1/battery", {"mains", "battery"}},
    {"battery class without a battery", [](Json& d) { d["fleet"]["classes"][0].erase("battery"); },
     "/fleet/classes/0/battery", {"missing required field", "capacity_mah"}},
    {"brownout above min_soc", [](Json& d) { d["fleet"]["classes"][0]["battery"]["brownout_soc"] = 0.3; },
     "/fleet/classes/0/battery/brownout_soc", {"0.3", "min_soc 0.2"}},
    {"update margin below 1", [](Json& d) { d["fleet"]["classes"][0]["battery"]["update_margin"] = 0.9; },
     "/fleet/classes/0/battery/update_margin", {"0.9", "[1, 1000]"}},
    {"images that are not an object", [](Json& d) { d["release"].erase("full_kb"); d["release"]["images"] = "new.bin"; },
     "/release/images", {"\"new.bin\"", "wrong type", "an object"}},
    {"vanishing battery", [](Json& d) { d["fleet"]["classes"][0]["battery"]["capacity_mah"] = 1e-300; },
     "/fleet/classes/0/battery/capacity_mah", {"1e-300", "[0.001, 1000000000]"}},
    {"vanishing poll interval", [](Json& d) { d["polling"] = {{"interval_min", 1e-9}}; },
     "/polling/interval_min", {"1e-09", "[0.001,"}},
    {"non-integer devices", [](Json& d) { d["fleet"]["devices"] = 1000.5; },
     "/fleet/devices", {"1000.5", "not an integer"}},
    {"astronomical devices", [](Json& d) { d["fleet"]["devices"] = 1e300; },
     "/fleet/devices", {"1e+300", "out of range", "200000000"}},
    {"too many devices", [](Json& d) { d["fleet"]["devices"] = 200000001; },
     "/fleet/devices", {"200000001", "out of range"}},
    {"negative seed", [](Json& d) { d["seed"] = -1; },
     "/seed", {"-1", "out of range", "18446744073709551615"}},
    {"hardware id beyond u32", [](Json& d) { d["hardware"][0]["hardware_id"] = 4294967296ull; },
     "/hardware/0/hardware_id", {"4294967296", "4294967295"}},
    {"trial boot limit 0", [](Json& d) { d["hardware"][0]["trial_boot_limit"] = 0; },
     "/hardware/0/trial_boot_limit", {"0", "[1, 255]"}},
    {"duplicate hardware name", [](Json& d) { d["hardware"][1]["name"] = "revA"; d["fleet"]["classes"][1]["hardware"] = "revA"; },
     "/hardware/1/name", {"\"revA\"", "/hardware/0", "unique"}},
    {"duplicate hardware id", [](Json& d) { d["hardware"][1]["hardware_id"] = 1; },
     "/hardware/1/hardware_id", {"1", "/hardware/0", "unique"}},
    {"duplicate class name", [](Json& d) { d["fleet"]["classes"][1]["name"] = "bat"; },
     "/fleet/classes/1/name", {"\"bat\"", "/fleet/classes/0", "unique"}},
    {"sector not a power of two", [](Json& d) { d["hardware"][0]["flash"] = {{"sector_bytes", 5000}}; },
     "/hardware/0/flash/sector_bytes", {"5000", "power of two"}},
    {"slot smaller than the image", [](Json& d) { d["hardware"][0]["flash"] = {{"slot_kb", 256}}; },
     "/hardware/0/flash/slot_kb", {"256 KiB", "500000 bytes", "slot_kb >= 489"}},
    {"wrong format", [](Json& d) { d["format"] = "otasim-scenario/2"; },
     "/format", {"\"otasim-scenario/2\"", "\"otasim-scenario/1\""}},
    {"bad version", [](Json& d) { d["release"]["to_version"] = "1.1"; },
     "/release/to_version", {"\"1.1\"", "MAJOR.MINOR.PATCH"}},
    {"version out of range", [](Json& d) { d["release"]["to_version"] = "256.0.0"; },
     "/release/to_version", {"\"256.0.0\"", "MAJOR.MINOR.PATCH like 2.5.0, MAJOR and MINOR in 0..255, PATCH in 0..65535"}},
    {"bad choice", [](Json& d) { d["fleet"]["classes"][1]["partitioning"] = "dual"; },
     "/fleet/classes/1/partitioning", {"\"dual\"", "\"ab\"", "\"single_recovery\"", "\"single\""}},
    {"jitter of 1", [](Json& d) { d["polling"] = {{"jitter", 1}}; },
     "/polling/jitter", {"1", "[0, 1)"}},
    {"backoff max below initial", [](Json& d) { d["polling"] = {{"backoff", {{"initial_s", 600}, {"max_s", 60}}}}; },
     "/polling/backoff/max_s", {"60", "initial_s 600"}},
    {"too many bins", [](Json& d) { d["horizon_h"] = 87600; d["bin_minutes"] = 1; },
     "/bin_minutes", {"5256000", "at most 100000"}},
    {"unsupported megabyte", [](Json& d) { d["prices"] = {{"bytes_per_mb", 1024}}; },
     "/prices/bytes_per_mb", {"1024", "1000000 or 1048576"}},
    {"new link without base", [](Json& d) { d["links"] = {{"nbiot-poor", {{"median_kbps", 3}}}}; },
     "/links/nbiot-poor/base", {"missing required field", "nbiot"}},
    {"new link on an unknown base", [](Json& d) { d["links"] = {{"mesh", {{"base", "zigbee"}}}}; },
     "/links/mesh/base", {"\"zigbee\"", "names no built-in profile"}},
    {"base on a built-in", [](Json& d) { d["links"] = {{"nbiot", {{"base", "ltem"}}}}; },
     "/links/nbiot/base", {"\"ltem\"", "built-in"}},
    {"link throughput out of order", [](Json& d) { d["links"] = {{"nbiot", {{"min_kbps", 50}}}}; },
     "/links/nbiot", {"min_kbps 50", "median_kbps 9", "min_kbps <= median_kbps <= max_kbps"}},
    {"empty classes", [](Json& d) { d["fleet"]["classes"] = Json::array(); },
     "/fleet/classes", {"empty", "at least one"}},
    {"class that is not an object", [](Json& d) { d["fleet"]["classes"][1] = "mains"; },
     "/fleet/classes/1", {"\"mains\"", "wrong type", "an object"}},
    {"too many hardware entries", [](Json& d) { for (int i = 0; i < 7; ++i) d["hardware"].push_back({{"name", "x" + std::to_string(i)}, {"hardware_id", 10 + i}}); },
     "/hardware", {"9", "at most 8"}},
  };
  // clang-format on
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      Json doc = Json::parse(kMinimal);
      c.mutate(doc);
      const LoadResult r = parse_scenario(doc.dump());
      INFO(errors_of(r));
      CHECK_FALSE(r.scenario.has_value());
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].path == c.path);
      for (const char* m : c.mentions) CHECK_THAT(r.errors[0].message, Catch::Contains(m));
    }
  }
}

TEST_CASE("malformed JSON gives one error with line and column", "[scenario]") {
  SECTION("syntax error") {
    const LoadResult r = parse_scenario("{\n  \"name\": \"x\",\n  \"format\" \"otasim-scenario/1\"\n}");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path.empty());
    CHECK_THAT(r.errors[0].message, Catch::StartsWith("malformed JSON at line 3, column 30:"));
    CHECK_THAT(r.errors[0].message, Catch::Contains("expected ':'"));
  }
  SECTION("number overflow") {
    const LoadResult r = parse_scenario("{\"horizon_h\":\n 1e999}");
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].message, Catch::Contains("line 2") && Catch::Contains("1e999"));
  }
  SECTION("empty input, trailing garbage, comments") {
    for (const char* text : {"", "   ", "{} x", "{} // comment", "[1,]", "{\"a\":1,}", "\xff"}) {
      const LoadResult r = parse_scenario(text);
      CAPTURE(text);
      REQUIRE(r.errors.size() == 1);
      CHECK_THAT(r.errors[0].message, Catch::StartsWith("malformed JSON at line 1"));
    }
  }
  SECTION("a document that is not an object") {
    const LoadResult r = parse_scenario("[1, 2]");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path.empty());
    CHECK_THAT(r.errors[0].message, Catch::Contains("[1,2]") && Catch::Contains("expected an object"));
  }
  SECTION("deep nesting is refused without recursion trouble") {
    const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    const LoadResult r = parse_scenario(deep);
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].message, Catch::Contains("nesting deeper than 64"));
  }
  SECTION("duplicate keys") {
    std::string text = kMinimal;
    text.replace(text.find("\"horizon_h\": 48"), 15, "\"horizon_h\": 48, \"horizon_h\": 72");
    const LoadResult r = parse_scenario(text);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/horizon_h");
    CHECK_THAT(r.errors[0].message, Catch::Contains("duplicate key \"horizon_h\""));
  }
  SECTION("from a file, the error names the file") {
    TempDir dir;
    const auto path = dir.path / "broken.json";
    std::ofstream(path) << "{\"name\": }";
    const LoadResult r = load_scenario_file(path.string());
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].message, Catch::Contains("broken.json") && Catch::Contains("line 1"));
  }
}

TEST_CASE("a file that cannot be read is an error naming it", "[scenario]") {
  const LoadResult r = load_scenario_file("/nonexistent/otasim/nowhere.json");
  CHECK_FALSE(r.scenario.has_value());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].path.empty());
  CHECK_THAT(r.errors[0].message, Catch::Contains("/nonexistent/otasim/nowhere.json"));
  const LoadResult dir = load_scenario_file(OTA_SOURCE_DIR);
  REQUIRE(dir.errors.size() == 1);
  CHECK_THAT(dir.errors[0].message, Catch::Contains("it is a directory"));
  const LoadResult dev = load_scenario_file("/dev/zero");  // would never end if read
  REQUIRE(dev.errors.size() == 1);
  CHECK_THAT(dev.errors[0].message, Catch::Contains("/dev/zero") && Catch::Contains("not a regular file"));
  // A sparse 1 GiB file: refused from its size, before a byte is read.
  const std::filesystem::path big = std::filesystem::temp_directory_path() / "otasim-test-huge-scenario.json";
  {
    std::ofstream(big) << "{";
  }
  std::filesystem::resize_file(big, std::uintmax_t{1} << 30);
  const LoadResult huge = load_scenario_file(big.string());
  std::filesystem::remove(big);
  REQUIRE(huge.errors.size() == 1);
  CHECK_THAT(huge.errors[0].message, Catch::Contains("1073741824 bytes, more than a scenario can be"));
}

TEST_CASE("all errors are collected, not only the first", "[scenario]") {
  Json doc = Json::parse(kMinimal);
  doc["release"]["frobnicate"] = 1;
  doc["polling"] = {{"interval_min", "60"}};
  doc["fleet"]["classes"][1]["share"] = 1.4;
  doc["fleet"]["classes"][0]["hardware"] = "revC";
  doc["hardware"][1].erase("hardware_id");
  doc["rollout"] = {{"stages", {{{"percent", 50}}, {{"percent", 20}}}}};
  const LoadResult r = parse_scenario(doc.dump());
  INFO(errors_of(r));
  CHECK_FALSE(r.scenario.has_value());
  for (const char* path : {"/release/frobnicate", "/polling/interval_min", "/fleet/classes/1/share",
                           "/fleet/classes/0/hardware", "/hardware/1/hardware_id", "/rollout/stages/1/percent"})
    CHECK(find_error(r, path) != nullptr);
  // The last stage is both not above the previous and not 100: two errors.
  CHECK(r.errors.size() == 7);

  const std::string text = format_errors(r.errors);
  CHECK(std::count(text.begin(), text.end(), '\n') == 7);
  CHECK_THAT(text, Catch::Contains("scenario: /fleet/classes/1/share: 1.4 is not a probability (expected a number in (0, 1])\n"));
}

TEST_CASE("format_errors writes one line per error", "[scenario]") {
  CHECK(format_errors({}) == "");
  CHECK(format_errors({{"/a/0", "bad"}, {"", "file gone"}}) == "scenario: /a/0: bad\nscenario: file gone\n");
  CHECK(format_errors({{"/a/0", "bad"}}, "otasim run", "s.json") == "otasim run: s.json: /a/0: bad\n");
  CHECK(format_errors({{"", "cannot read scenario file \"s.json\": gone"}}, "otasim run", "s.json") ==
        "otasim run: cannot read scenario file \"s.json\": gone\n");
}

TEST_CASE("overrides apply before validation", "[scenario]") {
  std::string text;
  {
    std::ifstream in(kDefaultScenario);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  SECTION("--devices re-derives the class counts") {
    const LoadResult r = parse_scenario_with_overrides(text, {{"/fleet/devices", "500"}});
    INFO(errors_of(r));
    REQUIRE(r.scenario.has_value());
    CHECK(r.scenario->devices == 500);
    REQUIRE(r.scenario->classes.size() == 3);
    CHECK(r.scenario->classes[0].devices == 200);
    CHECK(r.scenario->classes[1].devices == 175);
    CHECK(r.scenario->classes[2].devices == 125);
  }
  SECTION("plain strings, JSON values, created blocks, later pairs win") {
    const LoadResult r = parse_scenario_with_overrides(
        text, {{"/release/payload", "delta"},
               {"/release/delta_kb", "15"},
               {"/links/nbiot", "{\"median_kbps\": 20}"},
               {"/links/nbiot/sigma", "0.2"},
               {"/rollout/stages/0/percent", "2"},
               {"/polling/jitter", "0.3"},
               {"/polling/jitter", "0.25"},
               {"/name", "\"quoted\""}});
    INFO(errors_of(r));
    REQUIRE(r.scenario.has_value());
    const Scenario& s = *r.scenario;
    CHECK(s.release.payload == Payload::Delta);
    CHECK(s.release.delta_bytes == 15000);
    CHECK(s.links[link_named(s, "nbiot")].median_bps == Approx(20e3));
    CHECK(s.links[link_named(s, "nbiot")].sigma == Approx(0.2));
    CHECK(s.rollout.stages[0].fraction == Approx(0.02));
    CHECK(s.polling.jitter == Approx(0.25));
    CHECK(s.name == "quoted");
  }
  SECTION("an overridden value is validated like any other") {
    const LoadResult r = parse_scenario_with_overrides(text, {{"/fleet/devices", "-3"}});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/fleet/devices");
    CHECK_THAT(r.errors[0].message, Catch::Contains("-3"));
  }
  SECTION("a misspelt key lands as an unknown key") {
    const LoadResult r = parse_scenario_with_overrides(text, {{"/polling/intervall_min", "30"}});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/polling/intervall_min");
    CHECK_THAT(r.errors[0].message, Catch::Contains("unknown key"));
  }
  SECTION("bad pointers are errors naming them") {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"fleet/devices", "JSON Pointer"},
        {"", "whole scenario"},
        {"/fleet/classes/7/share", "has 3 elements"},
        {"/fleet/classes/-/share", "has 3 elements"},
        {"/fleet/classes/01/share", "has 3 elements"},
        {"/name/first", "\"default\""},
        {"/a~2b", "'~'"},
    };
    for (const auto& [pointer, mention] : bad) {
      CAPTURE(pointer);
      const LoadResult r = parse_scenario_with_overrides(text, {{pointer, "1"}});
      CHECK_FALSE(r.scenario.has_value());
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].path == pointer);
      CHECK_THAT(r.errors[0].message, Catch::Contains("cannot override") && Catch::Contains(mention));
    }
  }
}

TEST_CASE("class device counts add up exactly to the fleet size", "[scenario]") {
  const auto counts_for = [](const std::vector<double>& shares, std::uint64_t devices) {
    Json doc = Json::parse(kMinimal);
    doc["fleet"]["devices"] = devices;
    doc["fleet"]["classes"] = Json::array();
    for (std::size_t i = 0; i < shares.size(); ++i)
      doc["fleet"]["classes"].push_back({{"name", "c" + std::to_string(i)}, {"share", shares[i]}, {"hardware", "revB"},
                                         {"link", "wifi"}, {"power", "mains"}});
    const LoadResult r = parse_scenario(doc.dump());
    INFO(errors_of(r));
    REQUIRE(r.scenario.has_value());
    std::vector<std::uint64_t> counts;
    for (const auto& c : r.scenario->classes) counts.push_back(c.devices);
    return counts;
  };
  const double third = 1.0 / 3;
  // round(33.3) x 3 = 99: the missing device goes to the largest class (the first of equals).
  CHECK(counts_for({third, third, third}, 100) == std::vector<std::uint64_t>{34, 33, 33});
  // round(0.67) x 3 = 3 > 2: the extra device comes off the largest class.
  CHECK(counts_for({third, third, third}, 2) == std::vector<std::uint64_t>{0, 1, 1});
  CHECK(counts_for({0.2, 0.3, 0.5}, 1) == std::vector<std::uint64_t>{0, 0, 1});
  CHECK(counts_for({0.5, 0.25, 0.25}, 3) == std::vector<std::uint64_t>{1, 1, 1});
  CHECK(counts_for(std::vector<double>(7, 1.0 / 7), 200000000) ==
        std::vector<std::uint64_t>{28571428, 28571428, 28571428, 28571429, 28571429, 28571429, 28571429});

  const std::uint64_t seed = GENERATE(1, 2, 3, 4, 5, 6, 7, 8);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> n_classes(1, 40);
  std::uniform_real_distribution<double> weight(0.001, 1.0);
  std::uniform_int_distribution<std::uint64_t> fleet(1, 200000000);
  for (int round = 0; round < 5; ++round) {
    std::vector<double> shares(n_classes(rng));
    for (auto& s : shares) s = weight(rng);
    const double total = std::accumulate(shares.begin(), shares.end(), 0.0);
    for (auto& s : shares) s /= total;
    const std::uint64_t devices = round == 0 ? 1 : fleet(rng);
    CAPTURE(seed, round, shares.size(), devices);
    const auto counts = counts_for(shares, devices);
    CHECK(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}) == devices);
    for (std::size_t i = 0; i < counts.size(); ++i)
      CHECK(std::abs(static_cast<double>(counts[i]) - shares[i] * static_cast<double>(devices)) <= 1.5);
    CHECK(counts_for(shares, devices) == counts);   // deterministic
  }
}

TEST_CASE("mangled scenario text never throws and yields a scenario or errors, never both", "[scenario]") {
  std::string text;
  {
    std::ifstream in(kDefaultScenario);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE_FALSE(text.empty());
  const std::uint64_t seed = 20240501;
  std::mt19937_64 rng(seed);
  const char alphabet[] = "{}[]\",:0123456789.eE-+truefalsnl \n\\/~_xyz";
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string t = text;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: t.erase(at, 1 + rng() % 8); break;
        default: t.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
      }
      if (t.empty()) t = "{";
    }
    CAPTURE(seed, i);
    LoadResult r;
    REQUIRE_NOTHROW(r = parse_scenario(t));
    REQUIRE(r.scenario.has_value() == r.errors.empty());
    if (r.scenario) {
      ++loaded;
      std::uint64_t sum = 0;
      for (const auto& c : r.scenario->classes) {
        sum += c.devices;
        CHECK(c.hardware < r.scenario->hardware.size());
        CHECK(c.link < r.scenario->links.size());
        CHECK(c.region < r.scenario->regions.size());
      }
      CHECK(sum == r.scenario->devices);
    }
    for (const auto& e : r.errors) CHECK_FALSE(e.message.empty());
  }
  CHECK(loaded > 0);   // some edits (inside strings, comments) leave a valid scenario
}

// The structs of scenario.hpp carry defaults too (for code that builds a
// Scenario without a file). They must be the field table's: a minimal file
// (every default from the table) loads into sections equal to the structs as
// default-constructed, field for field, to the bit.
TEST_CASE("the structs' own defaults are the field table's", "[scenario]") {
  Json doc = Json::parse(kMinimal);
  doc["delivery"]["p2p"] = Json::object();
  doc["rollout"]["ramp"] = Json{{"base_per_minute", 1}, {"increase_every_successes", 1}};
  doc["rollout"].erase("stages");
  const Scenario s = load_ok(doc.dump());
  CHECK(s.polling == Polling{});
  CHECK(s.server == Server{});
  CHECK(s.delivery.push == PushBroker{});
  REQUIRE(s.delivery.p2p);
  CHECK(*s.delivery.p2p == P2p{});
  CHECK(s.prices == Prices{});
  CHECK(s.health == Health{});
  REQUIRE(!s.rollout.stages.empty());
  CHECK(s.rollout.stages[0].gate == Gate{});
  REQUIRE(s.rollout.ramp);
  RateRamp ramp;
  ramp.base_per_minute = 1;
  ramp.increase_every_successes = 1;
  CHECK(*s.rollout.ramp == ramp);
  const Rollout r;
  CHECK(s.rollout.start_s == r.start_s);
  CHECK(s.rollout.selection == r.selection);
  CHECK(s.rollout.evaluate_every_s == r.evaluate_every_s);
  CHECK(s.rollout.device_timeout_s == r.device_timeout_s);
  CHECK(s.rollout.max_attempts == r.max_attempts);
  CHECK(s.check.replications == Check{}.replications);
  for (const Hardware& h : s.hardware) {
    FlashTiming flash;
    flash.slot_bytes = h.flash.slot_bytes;  // the struct has no slot size: it depends on the part
    CHECK(h.flash == flash);
    CHECK(h.trial_boot_limit == Hardware{}.trial_boot_limit);
    CHECK(h.boot_s == Hardware{}.boot_s);
  }
  REQUIRE(s.classes[0].battery);
  const Battery& b = *s.classes[0].battery;
  const Battery d;
  CHECK(b.soc_mean == d.soc_mean);
  CHECK(b.soc_stddev == d.soc_stddev);
  CHECK(b.idle_watts == d.idle_watts);
  CHECK(b.recharge_watts == d.recharge_watts);
  CHECK(b.update_margin == d.update_margin);
  CHECK(b.min_soc == d.min_soc);
  CHECK(b.brownout_soc == d.brownout_soc);
}
