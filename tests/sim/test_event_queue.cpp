// The event queues against a reference ordering: (time, insertion order).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "ota/sim/calendar_queue.hpp"
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
                   ota::sim::Radix256EventQueue, ota::sim::CalendarEventQueue) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    check_against_reference<TestType>(seed, 20000, 1000, 0);           // dense ties
    check_against_reference<TestType>(seed, 20000, 3'600'000'000, 7);  // hours apart, ties at now
    check_against_reference<TestType>(seed, 5000, 2, 0);               // almost all equal
  }
}

TEMPLATE_TEST_CASE("event queue keeps FIFO order among equal times", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::RadixEventQueue,
                   ota::sim::Radix256EventQueue, ota::sim::CalendarEventQueue) {
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

namespace {

// Pushes `times` (in order) with the push index as target, then pops them all
// and checks the order against a stable sort: (time, insertion order).
template <class Queue>
void push_all_then_drain(Queue& q, const std::vector<std::int64_t>& times) {
  std::vector<std::pair<std::int64_t, std::uint32_t>> want;
  for (std::uint32_t i = 0; i < times.size(); ++i) {
    q.push(Event{times[i], i, 0, 0});
    want.emplace_back(times[i], i);
  }
  REQUIRE(q.size() == times.size());
  std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t k = 0; k < want.size(); ++k) {
    REQUIRE(q.top().time_us == want[k].first);
    const Event got = q.pop();
    INFO("pop " << k);
    REQUIRE(got.time_us == want[k].first);
    REQUIRE(got.target == want[k].second);
  }
  REQUIRE(q.empty());
}

}  // namespace

// 10^5 events make the calendar double its buckets ten times on the way up and
// halve them on the way down; then it must work again from empty, at a later
// time and with a different spread.
TEMPLATE_TEST_CASE("event queue survives growing to 10^5 events, draining and refilling", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::Radix256EventQueue, ota::sim::CalendarEventQueue) {
  TestType q;
  ota::sim::RandomStream rng(11, 0);
  std::vector<std::int64_t> times;
  for (int i = 0; i < 100000; ++i) {
    // Exponential over about an hour, with one event in eight on a whole second
    // so that many share a time.
    auto t = static_cast<std::int64_t>(rng.exponential(3.6e9));
    if (i % 8 == 0) t -= t % 1'000'000;
    times.push_back(t);
  }
  push_all_then_drain(q, times);
  const std::int64_t after = *std::max_element(times.begin(), times.end());
  times.clear();
  for (int i = 0; i < 100000; ++i)
    times.push_back(after + static_cast<std::int64_t>(rng.uniform_int(i % 2 == 0 ? 1000 : 100'000'000'000)));
  push_all_then_drain(q, times);
}

// A model whose events keep their number but change their spread (a fleet that
// goes from polling every few milliseconds to every few hours) never triggers
// a resize by population; for the calendar this runs the path that re-measures
// the day width from the work a bad one causes. The order must hold throughout.
TEMPLATE_TEST_CASE("event queue keeps order when the spread changes at constant size", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::Radix256EventQueue, ota::sim::CalendarEventQueue) {
  for (const double from_mean : {1e3, 1e10}) {
    const double to_mean = from_mean < 1e6 ? 1e10 : 1e3;
    TestType q;
    std::map<std::pair<std::int64_t, std::uint64_t>, Event> ref;
    ota::sim::RandomStream rng(5, 2);
    std::uint64_t seq = 0;
    auto push = [&](std::int64_t t) {
      const Event e{t, static_cast<std::uint32_t>(seq), 0, 0};
      q.push(e);
      ref.emplace(std::make_pair(t, seq++), e);
    };
    for (int i = 0; i < 20000; ++i) push(static_cast<std::int64_t>(rng.exponential(from_mean)));
    std::int64_t now = 0;
    for (int i = 0; i < 200000; ++i) {
      const double mean = i < 50000 ? from_mean : to_mean;
      const Event got = q.pop();
      const Event want = ref.begin()->second;
      ref.erase(ref.begin());
      INFO("from mean " << from_mean << ", hold " << i);
      REQUIRE(got.time_us == want.time_us);
      REQUIRE(got.target == want.target);
      now = got.time_us;
      push(now + static_cast<std::int64_t>(rng.exponential(mean)));
    }
  }
}

// The kernel asks top() to compare the next event with the horizon, stops, and
// the model may then schedule something before that event (but not before the
// last one run). It must come out first.
TEMPLATE_TEST_CASE("event queue orders a push that lands before the event top() showed", "[sim][queue]",
                   ota::sim::QuaternaryHeapQueue, ota::sim::CalendarEventQueue, ota::sim::RadixEventQueue,
                   ota::sim::Radix256EventQueue) {
  TestType q;
  q.push(Event{10, 1, 0, 0});
  REQUIRE(q.pop().target == 1);
  q.push(Event{7'200'000'000, 2, 0, 0});  // the next event, far ahead
  q.push(Event{7'200'000'000, 3, 0, 0});
  REQUIRE(q.top().target == 2);
  q.push(Event{5'400'000'000, 4, 0, 0});  // after the last pop, before the top
  REQUIRE(q.top().target == 4);
  q.push(Event{20, 5, 0, 0});
  REQUIRE(q.top().target == 5);
  REQUIRE(q.pop().target == 5);
  REQUIRE(q.pop().target == 4);
  REQUIRE(q.pop().target == 2);
  REQUIRE(q.pop().target == 3);
  REQUIRE(q.empty());

  // The same at random: peeks between pushes, pushes anywhere from the last
  // pop on, spreads from microseconds to days.
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    ota::sim::RandomStream rng(seed, 3);
    std::map<std::pair<std::int64_t, std::uint64_t>, Event> ref;
    std::uint64_t seq = 0;
    std::int64_t now = 0;
    double spread = 1e3;
    for (int op = 0; op < 60000; ++op) {
      if (op % 10000 == 0) spread = seed == 2 ? 1e3 * static_cast<double>(op + 1) : spread * 40;
      const double u = rng.uniform();
      INFO("seed " << seed << " op " << op);
      if (ref.empty() || u < 0.45) {
        const std::int64_t t = now + static_cast<std::int64_t>(rng.exponential(spread)) * (u < 0.05 ? 0 : 1);
        const Event e{t, static_cast<std::uint32_t>(seq), 0, 0};
        q.push(e);
        ref.emplace(std::make_pair(t, seq++), e);
      } else if (u < 0.6) {
        REQUIRE(q.top().target == ref.begin()->second.target);
      } else {
        const Event got = q.pop();
        REQUIRE(got.target == ref.begin()->second.target);
        ref.erase(ref.begin());
        now = got.time_us;
      }
    }
    while (!ref.empty()) {
      REQUIRE(q.pop().target == ref.begin()->second.target);
      ref.erase(ref.begin());
    }
    REQUIRE(q.empty());
  }
}

TEST_CASE("calendar queue handles times up to SimTime::max()", "[sim][queue]") {
  ota::sim::CalendarEventQueue q;
  constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  const std::int64_t big = (std::int64_t{1} << 62) + 5;
  q.push(Event{kNever, 1, 0, 0});
  q.push(Event{big, 2, 0, 0});
  q.push(Event{3, 3, 0, 0});
  q.push(Event{kNever, 4, 0, 0});
  q.push(Event{big - 1, 5, 0, 0});
  REQUIRE(q.pop().target == 3);
  REQUIRE(q.pop().target == 5);
  REQUIRE(q.top().target == 2);
  REQUIRE(q.pop().time_us == big);
  q.push(Event{big + 1, 6, 0, 0});
  REQUIRE(q.pop().target == 6);
  REQUIRE(q.pop().target == 1);
  REQUIRE(q.pop().target == 4);
  REQUIRE(q.empty());
}
