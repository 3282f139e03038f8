// The per-device record and the device phase table.
#include <catch2/catch.hpp>

#include <set>
#include <string_view>

#include "ota/models/fleet/device.hpp"

using namespace ota::models;

TEST_CASE("device phases: a table with one distinct name per phase", "[models][device]") {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kPhaseCount; ++i) {
    const auto p = static_cast<Phase>(i);
    INFO(to_string(p));
    CHECK(info(p).phase == p);
    CHECK_FALSE(to_string(p).empty());
    names.insert(to_string(p));
    // A device in progress has not finished; a finished one is not in progress.
    CHECK_FALSE((is_terminal(p) && info(p).in_progress));
  }
  CHECK(names.size() == kPhaseCount);
  // The campaign ends in exactly these phases, and only bricked and dead
  // devices stop checking in.
  const std::set<Phase> terminal = {Phase::Updated,        Phase::RolledBack, Phase::Bricked, Phase::Refused,
                                    Phase::BatteryBlocked, Phase::Dead,       Phase::Reverted};
  for (std::size_t i = 0; i < kPhaseCount; ++i) {
    const auto p = static_cast<Phase>(i);
    INFO(to_string(p));
    CHECK(is_terminal(p) == (terminal.count(p) == 1));
    CHECK(polls_when_done(p) == (p != Phase::Bricked && p != Phase::Dead));
    CHECK(info(p).in_progress == (!is_terminal(p) && p != Phase::Idle));
  }
}

TEST_CASE("device record: named fields keep their values independently", "[models][device]") {
  Device d;
  CHECK(d.phase == Phase::Idle);
  CHECK(d.version == RunningVersion::Old);
  CHECK(d.revert == Revert::None);
  d.phase = Phase::Reverted;  // the largest phase fits its bit-field
  d.boot_action = ota::agent::BootActionKind::Bricked;
  d.version = RunningVersion::None;
  d.revert = Revert::Done;
  d.seeder = true;
  d.attempts = 255;
  d.offered_s = 0xffffffffu;
  CHECK(d.phase == Phase::Reverted);
  CHECK(d.boot_action == ota::agent::BootActionKind::Bricked);
  CHECK(d.version == RunningVersion::None);
  CHECK(d.revert == Revert::Done);
  CHECK(d.seeder);
  CHECK_FALSE(d.offered);
  CHECK_FALSE(d.recovery);
  CHECK(d.attempts == 255);
  CHECK(d.offered_s == 0xffffffffu);
}
