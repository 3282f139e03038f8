// Boot control: the pure decisions (table-driven chains and an exhaustive
// search over every reachable record) and the on-flash record format.
#include <catch2/catch.hpp>

#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ota/agent/boot_control.hpp"
#include "ota/agent/boot_store.hpp"
#include "strict_flash.hpp"

using namespace ota::agent;

namespace {

constexpr PackedVersion kV1 = 0x01000000;  // 1.0.0
constexpr PackedVersion kV2 = 0x02000000;  // 2.0.0
constexpr PackedVersion kV3 = 0x03000000;  // 3.0.0

std::string describe(const BootRecord& r) {
  std::ostringstream os;
  os << "A=" << to_string(r.state[0]) << "(v" << std::hex << r.version[0] << std::dec << ",sc"
     << r.security_counter[0] << ") B=" << to_string(r.state[1]) << "(v" << std::hex << r.version[1] << std::dec
     << ",sc" << r.security_counter[1] << ") active=" << to_string(r.active)
     << " boots_left=" << int{r.trial_boots_left} << " min=" << r.min_security_counter;
  return os.str();
}

// ---------------------------------------------------------------------------
// Table-driven chains: the expected record after each event.
// ---------------------------------------------------------------------------

struct Step {
  BootEvent event;
  SlotState a;
  SlotState b;
  SlotId active;
  std::uint8_t boots_left;
  std::optional<BootActionKind> action = std::nullopt;  // checked for Boot
  std::optional<std::uint32_t> min = std::nullopt;
  bool refused = false;  // the event must not apply (record unchanged)
};

struct Chain {
  const char* name;
  BootConfig config;
  std::vector<Step> steps;
};

using enum SlotState;
using enum BootEvent;
using enum BootActionKind;
constexpr SlotId kA = SlotId::A;
constexpr SlotId kB = SlotId::B;

std::vector<Chain> chains() {
  const BootConfig ab{PartitionScheme::DualSlot, 3};
  const BootConfig ab1{PartitionScheme::DualSlot, 1};
  const BootConfig ab5{PartitionScheme::DualSlot, 5};
  const BootConfig rec{PartitionScheme::SingleWithRecovery, 3};
  const BootConfig norec{PartitionScheme::SingleNoRecovery, 3};
  return {
      {"A/B: clean update, confirm raises the minimum",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {Boot, Confirmed, Pending, kA, 0, BootNormal},  // not selected yet: old image
        {SetPending, Confirmed, Pending, kB, 3},
        {Boot, Confirmed, Trial, kB, 2, BootTrial, 1},
        {ReportHealthy, Confirmed, Confirmed, kB, 0, std::nullopt, 2},
        {Boot, Confirmed, Confirmed, kB, 0, BootNormal},
        {ReportHealthy, Confirmed, Confirmed, kB, 0}}},
      {"A/B: digest mismatch invalidates the new slot, old image keeps booting",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteFailed, Confirmed, Invalid, kA, 0},
        {SetPending, Confirmed, Invalid, kA, 0, std::nullopt, std::nullopt, true},
        {Boot, Confirmed, Invalid, kA, 0, BootNormal},
        {BeginInstall, Confirmed, Writing, kA, 0}}},
      {"A/B: power loss while writing keeps the download resumable",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {PowerLoss, Confirmed, Writing, kA, 0},
        {Boot, Confirmed, Writing, kA, 0, BootNormal},
        {WriteVerified, Confirmed, Pending, kA, 0}}},
      {"A/B: a crash loop rolls back after the trial boot limit (3)",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 3},
        {Boot, Confirmed, Trial, kB, 2, BootTrial},
        {Boot, Confirmed, Trial, kB, 1, BootTrial},
        {Boot, Confirmed, Trial, kB, 0, BootTrial},
        {Boot, Confirmed, Invalid, kA, 0, RollBack, 1},
        {Boot, Confirmed, Invalid, kA, 0, BootNormal}}},
      {"A/B: unhealthy reports count down, the last one rolls back at once",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 3},
        {Boot, Confirmed, Trial, kB, 2, BootTrial},
        {ReportUnhealthy, Confirmed, Trial, kB, 2},
        {Boot, Confirmed, Trial, kB, 1, BootTrial},
        {ReportUnhealthy, Confirmed, Trial, kB, 1},
        {Boot, Confirmed, Trial, kB, 0, BootTrial},
        {ReportUnhealthy, Confirmed, Invalid, kA, 0, std::nullopt, 1},
        {ReportUnhealthy, Confirmed, Invalid, kA, 0, std::nullopt, std::nullopt, true},
        {Boot, Confirmed, Invalid, kA, 0, BootNormal}}},
      {"A/B: trial boot limit 1 gives exactly one trial boot",
       ab1,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 1},
        {Boot, Confirmed, Trial, kB, 0, BootTrial},
        {Boot, Confirmed, Invalid, kA, 0, RollBack}}},
      {"A/B: trial boot limit 5 gives five trial boots",
       ab5,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 5},
        {Boot, Confirmed, Trial, kB, 4, BootTrial},
        {Boot, Confirmed, Trial, kB, 3, BootTrial},
        {Boot, Confirmed, Trial, kB, 2, BootTrial},
        {Boot, Confirmed, Trial, kB, 1, BootTrial},
        {Boot, Confirmed, Trial, kB, 0, BootTrial},
        {Boot, Confirmed, Invalid, kA, 0, RollBack}}},
      {"A/B: a new offer replaces an untried pending image and falls back meanwhile",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 3},
        {BeginInstall, Confirmed, Writing, kA, 0},
        {Boot, Confirmed, Writing, kA, 0, BootNormal}}},
      {"A/B: no install and no set-pending while a trial runs",
       ab,
       {{BeginInstall, Confirmed, Writing, kA, 0},
        {WriteVerified, Confirmed, Pending, kA, 0},
        {SetPending, Confirmed, Pending, kB, 3},
        {Boot, Confirmed, Trial, kB, 2, BootTrial},
        {BeginInstall, Confirmed, Trial, kB, 2, std::nullopt, std::nullopt, true},
        {SetPending, Confirmed, Trial, kB, 2, std::nullopt, std::nullopt, true},
        {ReportHealthy, Confirmed, Confirmed, kB, 0},
        {BeginInstall, Writing, Confirmed, kB, 0}}},
      {"single + recovery: power loss while writing the main slot boots recovery, which downloads again",
       rec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {PowerLoss, Writing, Empty, kA, 0},
        {Boot, Writing, Empty, kA, 0, BootRecovery},
        {BeginInstall, Writing, Empty, kA, 0},
        {WriteVerified, Pending, Empty, kA, 0},
        {Boot, Trial, Empty, kA, 2, BootTrial},  // the only image: tried even if never selected
        {ReportHealthy, Confirmed, Empty, kA, 0, std::nullopt, 2},
        {Boot, Confirmed, Empty, kA, 0, BootNormal}}},
      {"single + recovery: digest mismatch boots recovery",
       rec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {WriteFailed, Invalid, Empty, kA, 0},
        {Boot, Invalid, Empty, kA, 0, BootRecovery},
        {BeginInstall, Writing, Empty, kA, 0}}},
      {"single + recovery: a failed trial cannot roll back, it boots recovery",
       rec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {WriteVerified, Pending, Empty, kA, 0},
        {SetPending, Pending, Empty, kA, 3},
        {Boot, Trial, Empty, kA, 2, BootTrial},
        {Boot, Trial, Empty, kA, 1, BootTrial},
        {Boot, Trial, Empty, kA, 0, BootTrial},
        {Boot, Invalid, Empty, kA, 0, BootRecovery}}},
      {"single, no recovery: power loss while writing the main slot bricks the device",
       norec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {PowerLoss, Writing, Empty, kA, 0},
        {Boot, Writing, Empty, kA, 0, Bricked}}},
      {"single, no recovery: a verified image boots on trial and confirms",
       norec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {WriteVerified, Pending, Empty, kA, 0},
        {SetPending, Pending, Empty, kA, 3},
        {Boot, Trial, Empty, kA, 2, BootTrial},
        {ReportHealthy, Confirmed, Empty, kA, 0, std::nullopt, 2}}},
      {"single, no recovery: an unhealthy trial ends bricked",
       norec,
       {{BeginInstall, Writing, Empty, kA, 0},
        {WriteVerified, Pending, Empty, kA, 0},
        {SetPending, Pending, Empty, kA, 3},
        {Boot, Trial, Empty, kA, 2, BootTrial},
        {Boot, Trial, Empty, kA, 1, BootTrial},
        {Boot, Trial, Empty, kA, 0, BootTrial},
        {ReportUnhealthy, Invalid, Empty, kA, 0},
        {Boot, Invalid, Empty, kA, 0, Bricked}}},
  };
}

}  // namespace

TEST_CASE("boot control: expected chain of states for each injected fault", "[boot]") {
  for (const Chain& chain : chains()) {
    SECTION(chain.name) {
      BootRecord r = factory_record(kV1, 1);
      REQUIRE(is_consistent(r, chain.config));
      int n = 0;
      for (const Step& step : chain.steps) {
        ++n;
        INFO("step " << n << ": " << to_string(step.event) << " on " << describe(r));
        std::optional<BootRecord> next;
        std::optional<BootAction> action;
        if (step.event == BeginInstall) {
          next = begin_install(r, chain.config, kV2, 2);
        } else if (step.event == Boot) {
          const BootStep s = boot(r, chain.config);
          next = s.record;
          action = s.action;
          CHECK(s.action == decide_boot(r, chain.config));
        } else {
          next = apply(r, chain.config, step.event);
        }
        if (step.refused) {
          CHECK_FALSE(next.has_value());
        } else {
          REQUIRE(next.has_value());
          r = *next;
        }
        CHECK(r.state[0] == step.a);
        CHECK(r.state[1] == step.b);
        CHECK(r.active == step.active);
        CHECK(int{r.trial_boots_left} == int{step.boots_left});
        if (step.action) {
          REQUIRE(action.has_value());
          CHECK(action->kind == *step.action);
        }
        if (step.min) CHECK(r.min_security_counter == *step.min);
        CHECK(is_consistent(r, chain.config));
      }
    }
  }
}

TEST_CASE("boot control: anti-rollback refuses an install below the minimum and never boots one", "[boot]") {
  const BootConfig ab{PartitionScheme::DualSlot, 3};
  BootRecord r = factory_record(kV2, 5);
  CHECK_FALSE(begin_install(r, ab, kV1, 4).has_value());
  REQUIRE(begin_install(r, ab, kV1, 5).has_value());  // equal counter: allowed (e.g. a hotfix)

  // A record where the selected image's counter is below the minimum (not
  // reachable through the operations, but the bootloader must not trust that).
  BootRecord forged = r;
  forged.state = {SlotState::Confirmed, SlotState::Pending};
  forged.security_counter = {5, 3};
  forged.active = SlotId::B;
  forged.trial_boots_left = 3;
  const BootStep s = boot(forged, ab);
  CHECK(s.action == BootAction{BootActionKind::RollBack, SlotId::A});
  CHECK(s.record.state[1] == SlotState::Invalid);
  CHECK(s.record.active == SlotId::A);
}

TEST_CASE("boot control: the packed version round-trips and refuses what does not fit", "[boot]") {
  const FirmwareVersion v{1, 2, 65535};
  REQUIRE(pack_version(v).has_value());
  CHECK(unpack_version(*pack_version(v)) == v);
  CHECK(*pack_version(FirmwareVersion{2, 0, 0}) == kV2);
  CHECK_FALSE(pack_version(FirmwareVersion{256, 0, 0}).has_value());
  CHECK_FALSE(pack_version(FirmwareVersion{0, 256, 0}).has_value());
  CHECK(pack_version(FirmwareVersion{255, 255, 65535}) == std::optional<PackedVersion>{0xFFFFFFFFu});
}

TEST_CASE("boot control: the transition table is deterministic and every name is distinct", "[boot]") {
  // No two rows for the same (state, event) may both hold for some trial_boots_left.
  for (std::size_t i = 0; i < kTransitions.size(); ++i) {
    for (std::size_t j = i + 1; j < kTransitions.size(); ++j) {
      const Transition& x = kTransitions[i];
      const Transition& y = kTransitions[j];
      if (x.from != y.from || x.event != y.event) continue;
      INFO("rows " << i << " and " << j << ": " << to_string(x.from) << " / " << to_string(x.event));
      const bool disjoint = (x.guard == TrialGuard::BootsLeft && y.guard == TrialGuard::NoBootsLeft) ||
                            (x.guard == TrialGuard::NoBootsLeft && y.guard == TrialGuard::BootsLeft);
      CHECK(disjoint);
    }
  }
  // Boot has a row for every state and every count, so the bootloader always decides.
  for (std::size_t s = 0; s < kSlotStateCount; ++s) {
    for (std::uint8_t left : {std::uint8_t{0}, std::uint8_t{1}}) {
      CHECK(find_transition(static_cast<SlotState>(s), Boot, left).has_value());
    }
  }
  auto distinct = [](auto count, auto name_of) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string n(name_of(i));
      CHECK(n.find("unknown") == std::string::npos);
      names.insert(n);
    }
    CHECK(names.size() == count);
  };
  distinct(kSlotStateCount, [](std::size_t i) { return to_string(static_cast<SlotState>(i)); });
  distinct(kBootEventCount, [](std::size_t i) { return to_string(static_cast<BootEvent>(i)); });
  distinct(kBootActionKindCount, [](std::size_t i) { return to_string(static_cast<BootActionKind>(i)); });
  distinct(kPartitionSchemeCount, [](std::size_t i) { return to_string(static_cast<PartitionScheme>(i)); });
  distinct(std::size_t{3}, [](std::size_t i) { return to_string(static_cast<TrialGuard>(i)); });
  distinct(kSlotCount, [](std::size_t i) { return to_string(static_cast<SlotId>(i)); });
}

// ---------------------------------------------------------------------------
// Exhaustive: every record reachable from the factory record, every event.
// ---------------------------------------------------------------------------

namespace {

static_assert(std::has_unique_object_representations_v<BootRecord>, "records are compared by their bytes");

struct RecordLess {
  bool operator()(const BootRecord& a, const BootRecord& b) const { return std::memcmp(&a, &b, sizeof a) < 0; }
};

struct Edge {
  BootEvent event;
  BootRecord to;
};

// Runnable main/active image, written out independently of the agent's helpers.
bool runnable(const BootRecord& r, SlotId s) {
  const SlotState st = r.state_of(s);
  if (r.security_counter[slot_index(s)] < r.min_security_counter) return false;
  return st == Confirmed || st == Pending || (st == Trial && r.trial_boots_left > 0);
}

std::vector<Edge> successors(const BootRecord& r, const BootConfig& c) {
  std::vector<Edge> out;
  for (PackedVersion v : {kV2, kV3}) {
    for (std::uint32_t sc : {0u, 1u, 2u, 3u}) {
      if (auto n = begin_install(r, c, v, sc)) out.push_back({BeginInstall, *n});
    }
  }
  for (BootEvent e : {WriteVerified, WriteFailed, PowerLoss, SetPending, Boot, ReportHealthy, ReportUnhealthy}) {
    if (auto n = apply(r, c, e)) out.push_back({e, *n});
  }
  return out;
}

void check_decision(const BootRecord& r, const BootConfig& c) {
  const BootAction a = decide_boot(r, c);
  INFO("record " << describe(r) << " -> " << to_string(a.kind) << " " << to_string(a.slot));
  if (runs_firmware_slot(a)) {
    const SlotState st = r.state_of(a.slot);
    // Never an Empty, Writing or Invalid slot, never one below the minimum.
    CHECK((st == Confirmed || st == Pending || st == Trial));
    CHECK(r.security_counter[slot_index(a.slot)] >= r.min_security_counter);
    if (a.kind == BootTrial) CHECK((st == Pending || st == Trial));
    if (a.kind != BootTrial) CHECK(st == Confirmed);
    if (is_single_partition(c.scheme)) CHECK(a.slot == kA);
  }
  switch (c.scheme) {
    case PartitionScheme::DualSlot: {
      const bool confirmed_image_exists =
          (r.state[0] == Confirmed && r.security_counter[0] >= r.min_security_counter) ||
          (r.state[1] == Confirmed && r.security_counter[1] >= r.min_security_counter);
      if (confirmed_image_exists) CHECK(a.kind != Bricked);
      CHECK(a.kind != BootRecovery);
      break;
    }
    case PartitionScheme::SingleWithRecovery:
      CHECK(a.kind != Bricked);
      CHECK((a.kind == BootRecovery) == !runnable(r, kA));
      break;
    case PartitionScheme::SingleNoRecovery:
      CHECK(a.kind != BootRecovery);
      CHECK((a.kind == Bricked) == !runnable(r, kA));
      break;
  }
}

void check_edge(const BootRecord& r, const BootConfig& c, const Edge& e) {
  const BootRecord& n = e.to;
  INFO(describe(r) << " --" << to_string(e.event) << "--> " << describe(n));
  CHECK(is_consistent(n, c));
  // The minimum never decreases and rises only when an image is confirmed.
  CHECK(n.min_security_counter >= r.min_security_counter);
  if (e.event != ReportHealthy) CHECK(n.min_security_counter == r.min_security_counter);
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    // A confirmed image is only ever replaced by an explicit install (the old
    // backup in A/B, the main slot in a single partition) — never lost by a boot.
    if (r.state[i] == Confirmed && n.state[i] != Confirmed) CHECK(e.event == BeginInstall);
    // Rollback only follows a failure: an image that was booted on trial is
    // given up only when its trial boots ran out or it reported unhealthy.
    if (r.state[i] == Trial && n.state[i] == Invalid) {
      CHECK(r.trial_boots_left == 0);
      CHECK((e.event == Boot || e.event == ReportUnhealthy));
    }
    if (n.state[i] == Invalid && r.state[i] != Invalid) {
      CHECK((e.event == WriteFailed || e.event == Boot || e.event == ReportUnhealthy));
    }
  }
  if (e.event == Boot) {
    const BootAction a = decide_boot(r, c);
    if (a.kind == RollBack) {
      CHECK(r.state_of(r.active) == Trial);
      CHECK(r.trial_boots_left == 0);
      CHECK(n.state_of(r.active) == Invalid);
    }
    if (runs_firmware_slot(a)) {
      // The persisted record agrees with what the bootloader runs.
      CHECK(n.active == a.slot);
      CHECK(n.state_of(a.slot) == (a.kind == BootTrial ? Trial : Confirmed));
    }
    if (a.kind == BootNormal) CHECK(n == r);  // booting a confirmed image changes nothing
    if (a.kind == BootTrial) {
      const std::uint8_t before = r.state_of(a.slot) == Pending && r.trial_boots_left == 0
                                      ? effective_trial_limit(c)
                                      : r.trial_boots_left;
      CHECK(int{n.trial_boots_left} == before - 1);
    }
  }
}

struct Exploration {
  std::map<BootRecord, std::vector<Edge>, RecordLess> graph;
};

Exploration explore(const BootConfig& c) {
  Exploration ex;
  std::deque<BootRecord> queue{factory_record(kV1, 1)};
  ex.graph[queue.front()];
  while (!queue.empty()) {
    const BootRecord r = queue.front();
    queue.pop_front();
    std::vector<Edge> edges = successors(r, c);
    for (const Edge& e : edges) {
      if (ex.graph.find(e.to) == ex.graph.end()) {
        ex.graph[e.to];
        queue.push_back(e.to);
      }
    }
    ex.graph[r] = std::move(edges);
  }
  return ex;
}

}  // namespace

TEST_CASE("boot control: every reachable record, every event (exhaustive)", "[boot]") {
  for (PartitionScheme scheme :
       {PartitionScheme::DualSlot, PartitionScheme::SingleWithRecovery, PartitionScheme::SingleNoRecovery}) {
    for (std::uint8_t limit : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3}}) {
      const BootConfig c{scheme, limit};
      INFO("scheme " << to_string(scheme) << ", trial boot limit " << int{limit});
      const Exploration ex = explore(c);
      std::size_t edges = 0;
      std::size_t rollbacks = 0;
      std::size_t bricked = 0;
      for (const auto& [r, out] : ex.graph) {
        CHECK(is_consistent(r, c));
        check_decision(r, c);
        const BootAction a = decide_boot(r, c);
        rollbacks += a.kind == RollBack;
        bricked += a.kind == Bricked;
        for (const Edge& e : out) check_edge(r, c, e);
        edges += out.size();
      }
      // The exploration is not vacuous: it reaches the interesting outcomes.
      CHECK(ex.graph.size() > 50);
      if (scheme == PartitionScheme::DualSlot) CHECK(rollbacks > 0);
      if (scheme == PartitionScheme::DualSlot) CHECK(bricked == 0);
      if (scheme == PartitionScheme::SingleNoRecovery) CHECK(bricked > 0);

      // Liveness (A/B, single + recovery): from every reachable record the
      // device can get back to booting a confirmed image normally.
      if (scheme != PartitionScheme::SingleNoRecovery) {
        std::map<BootRecord, std::vector<BootRecord>, RecordLess> reverse;
        std::deque<BootRecord> queue;
        std::set<BootRecord, RecordLess> good;
        for (const auto& [r, out] : ex.graph) {
          for (const Edge& e : out) reverse[e.to].push_back(r);
          if (decide_boot(r, c).kind == BootNormal) {
            good.insert(r);
            queue.push_back(r);
          }
        }
        while (!queue.empty()) {
          const BootRecord r = queue.front();
          queue.pop_front();
          for (const BootRecord& p : reverse[r]) {
            if (good.insert(p).second) queue.push_back(p);
          }
        }
        CHECK(good.size() == ex.graph.size());
      }
      WARN("exhaustive boot control, " << to_string(scheme) << ", limit " << int{limit} << ": "
                                       << ex.graph.size() << " reachable records, " << edges << " transitions");
    }
  }
}

TEST_CASE("boot control: the decision is safe on every record, reachable or not", "[boot]") {
  // Every combination of states, active slot, trial count and counters in a
  // small range: the bootloader must be safe even on a record no sequence of
  // operations produces.
  std::size_t checked = 0;
  for (PartitionScheme scheme :
       {PartitionScheme::DualSlot, PartitionScheme::SingleWithRecovery, PartitionScheme::SingleNoRecovery}) {
    const BootConfig c{scheme, 2};
    for (std::size_t sa = 0; sa < kSlotStateCount; ++sa) {
      for (std::size_t sb = 0; sb < kSlotStateCount; ++sb) {
        for (SlotId active : {kA, kB}) {
          for (std::uint8_t left = 0; left <= 2; ++left) {
            for (std::uint32_t ca = 0; ca < 3; ++ca) {
              for (std::uint32_t cb = 0; cb < 3; ++cb) {
                for (std::uint32_t min = 0; min < 3; ++min) {
                  BootRecord r{};
                  r.state = {static_cast<SlotState>(sa), static_cast<SlotState>(sb)};
                  r.active = active;
                  r.trial_boots_left = left;
                  r.security_counter = {ca, cb};
                  r.min_security_counter = min;
                  if (is_single_partition(scheme) && (active != kA || r.state[1] != Empty)) continue;
                  check_decision(r, c);
                  ++checked;
                }
              }
            }
          }
        }
      }
    }
  }
  CHECK(checked > 5000);
}

// ---------------------------------------------------------------------------
// The on-flash record.
// ---------------------------------------------------------------------------

TEST_CASE("boot store: a record copy has the documented layout and round-trips", "[boot]") {
  StoredRecord rec;
  rec.record = factory_record(0x01020003, 7);
  rec.record.state[1] = Pending;
  rec.record.version[1] = 0x02000001;
  rec.record.security_counter[1] = 9;
  rec.install_id = 0x11223344;
  rec.image[0].size = 0x00040000;
  rec.image[0].sha256.fill(0xAB);
  rec.image[1].size = 1234;
  rec.image[1].sha256.fill(0xCD);
  const auto bytes = encode_boot_copy(rec, 0x55667788, PartitionScheme::SingleWithRecovery);
  CHECK(bytes[0] == 'O');
  CHECK(bytes[3] == 'R');
  CHECK(bytes[4] == kBootCopyFormat);
  CHECK(bytes[5] == static_cast<std::uint8_t>(PartitionScheme::SingleWithRecovery));
  CHECK(bytes[8] == 0x88);    // sequence, little-endian
  CHECK(bytes[12] == 0x44);   // install_id
  CHECK(bytes[16] == 0x03);   // version[A] low byte (patch)
  CHECK(bytes[19] == 0x01);   // version[A] major
  CHECK(bytes[24] == 7);      // security_counter[A]
  CHECK(bytes[32] == 7);      // min_security_counter
  CHECK(bytes[37] == static_cast<std::uint8_t>(Pending));
  CHECK(bytes[42] == 0x04);   // image_size[A] = 0x00040000
  CHECK(bytes[44] == 0xAB);
  CHECK(bytes[80] == 0xCD);
  const std::uint32_t crc = crc32(std::span<const std::uint8_t>(bytes.data(), 112));
  CHECK(bytes[112] == static_cast<std::uint8_t>(crc));

  const auto decoded = decode_boot_copy(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->stored == rec);
  CHECK(decoded->sequence == 0x55667788u);
  CHECK(decoded->scheme == PartitionScheme::SingleWithRecovery);

  // Any single flipped bit makes the copy invalid.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto damaged = bytes;
      damaged[i] = static_cast<std::uint8_t>(damaged[i] ^ (1u << bit));
      INFO("byte " << i << " bit " << bit);
      CHECK_FALSE(decode_boot_copy(damaged).has_value());
    }
  }
  CHECK(crc32(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("123456789"), 9)) ==
        0xCBF43926u);  // the standard check value
}

TEST_CASE("boot store: the newest valid copy wins and a store goes to the other sector", "[boot]") {
  using ota::agent::test::PowerRig;
  using ota::agent::test::StrictFlash;
  PowerRig rig;
  StrictFlash area(rig, 3 * 4096, 4096, 8);
  BootStore store(area, PartitionScheme::DualSlot);
  StoredRecord out;
  CHECK(store.load(out).error == AgentError::NotProvisioned);
  CHECK(store.store(out).error == AgentError::WrongState);  // no current copy known

  StoredRecord r1;
  r1.record = factory_record(kV1, 1);
  REQUIRE(store.provision(r1).ok());
  CHECK(store.sequence() == 1);
  StoredRecord r2 = r1;
  r2.install_id = 2;
  REQUIRE(store.store(r2).ok());
  StoredRecord r3 = r1;
  r3.install_id = 3;
  REQUIRE(store.store(r3).ok());
  CHECK(store.sequence() == 3);
  CHECK(decode_boot_copy(area.raw().subspan(0, kBootCopySize))->sequence == 3);     // sector 0
  CHECK(decode_boot_copy(area.raw().subspan(4096, kBootCopySize))->sequence == 2);  // sector 1

  BootStore reader(area, PartitionScheme::DualSlot);
  REQUIRE(reader.load(out).ok());
  CHECK(out == r3);
  // Damage the newest copy: the older one is current again.
  area.raw_mut()[20] ^= 0x01;
  REQUIRE(reader.load(out).ok());
  CHECK(out == r2);
  CHECK(reader.sequence() == 2);
  // A different scheme refuses the record instead of misreading it.
  BootStore other(area, PartitionScheme::SingleNoRecovery);
  CHECK(other.load(out).error == AgentError::SchemeMismatch);
  CHECK(area.violations() == 0);
}

TEST_CASE("boot store: layouts that cannot hold the record are refused", "[boot]") {
  using ota::agent::test::PowerRig;
  using ota::agent::test::StrictFlash;
  PowerRig rig;
  StrictFlash two_sectors(rig, 2 * 4096, 4096, 4);
  CHECK(BootStore::check_layout(two_sectors).error == AgentError::BadLayout);
  StrictFlash tiny_sectors(rig, 8 * 64, 64, 4);
  CHECK(BootStore::check_layout(tiny_sectors).error == AgentError::BadLayout);
  StrictFlash huge_alignment(rig, 4 * 4096, 4096, 512);
  CHECK(BootStore::check_layout(huge_alignment).error == AgentError::BadLayout);
  StrictFlash fine(rig, 3 * 256, 256, 16);
  CHECK(BootStore::check_layout(fine).ok());
}
