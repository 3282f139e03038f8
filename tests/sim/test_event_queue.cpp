// Both event queues against a reference ordering: (time, insertion order).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "ota/sim/event_queue.hpp"
#include "ota/sim/random.hpp"

using ota::sim::Event;

namespace {

// Reference: a std::multimap keyed by (time, sequence) pops exactly in
// (time, insertion) order.
template <class Queue>
void check_against_reference(std::uint64_t seed, int operations, std::int64_t spread, int tie_every) {
  Queue q;
  std::map<std::pair<std::int64_t, std::uint64_t>, Event> ref;
  ota::sim::RandomStream rng(seed, 1);
  std::uint64_t seq = 0;
  std::int64_t now = 0;
  for (int op = 0; op < operations; ++op) {
    const bool do_push = ref.empty() || rng.uniform() < 0.55;
    if (do_push) {
      std::int64_t t = now + static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(spread)));
      if (tie_every > 0 && op % tie_every == 0) t = now;  // many events at "now"
      Event e{t, static_cast<std::uint32_t>(seq), static_cast<std::uint16_t>(seq & 0xffff), 0};
      q.push(e);
      ref.emplace(std::make_pair(t, seq), e);
      ++seq;
    } else {
      REQUIRE(q.size() == ref.size());
      const Event got = q.pop();
      const Event want = ref.begin()->second;
      ref.erase(ref.begin());
      INFO("seed " << seed << " op " << op);
      REQUIRE(got.time_us == want.time_us);
      REQUIRE(got.target == want.target);
      now = got.time_us;
    }
  }
  while (!ref.empty()) {
    const Event got = q.pop();
    REQUIRE(got.target == ref.begin()->second.target);
    ref.erase(ref.begin());
  }
  REQUIRE(q.empty());
}

}  // namespace

TEMPLATE_TEST_CASE("event queue pops in time then insertion order", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::RadixEventQueue,
                   ota::sim::Radix256EventQueue) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    check_against_reference<TestType>(seed, 20000, 1000, 0);           // dense ties
    check_against_reference<TestType>(seed, 20000, 3'600'000'000, 7);  // hours apart, ties at now
    check_against_reference<TestType>(seed, 5000, 2, 0);               // almost all equal
  }
}

TEMPLATE_TEST_CASE("event queue keeps FIFO order among equal times", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::RadixEventQueue,
                   ota::sim::Radix256EventQueue) {
  TestType q;
  for (std::uint32_t i = 0; i < 1000; ++i) q.push(Event{i % 3 == 0 ? 10 : 20, i, 0, 0});
  std::uint32_t last_at_10 = 0, last_at_20 = 0;
  bool first10 = true, first20 = true;
  std::int64_t prev_time = 0;
  while (!q.empty()) {
    const Event e = q.pop();
    REQUIRE(e.time_us >= prev_time);
    prev_time = e.time_us;
    if (e.time_us == 10) {
      if (!first10) REQUIRE(e.target > last_at_10);
      last_at_10 = e.target;
      first10 = false;
    } else {
      if (!first20) REQUIRE(e.target > last_at_20);
      last_at_20 = e.target;
      first20 = false;
    }
  }
}

TEMPLATE_TEST_CASE("radix queues handle times near the top of the int64 range", "[sim][queue]",
                   ota::sim::RadixEventQueue, ota::sim::Radix256EventQueue) {
  TestType q;
  const std::int64_t big = (std::int64_t{1} << 62) + 5;
  q.push(Event{big, 1, 0, 0});
  q.push(Event{3, 2, 0, 0});
  q.push(Event{big - 1, 3, 0, 0});
  REQUIRE(q.pop().target == 2);
  REQUIRE(q.pop().target == 3);
  REQUIRE(q.top().target == 1);
  REQUIRE(q.pop().time_us == big);
  REQUIRE(q.empty());
}
