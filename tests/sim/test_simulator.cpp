#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "ota/sim/calendar_queue.hpp"
#include "ota/sim/random.hpp"
#include "ota/sim/simulator.hpp"

using namespace ota::sim;

namespace {

struct Recorder : EventHandler {
  std::vector<Event> seen;
  std::vector<SimTime> clock;
  void on_event(Simulator& sim, const Event& e) override {
    seen.push_back(e);
    clock.push_back(sim.now());
  }
};

// A small stochastic model: each target re-arms itself after an exponential
// delay drawn from its own stream, and sometimes cancels a neighbour.
struct Churn : EventHandler {
  std::uint64_t seed;
  std::vector<std::uint64_t> draws;  // per-target draw counter
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over the trace
  explicit Churn(std::uint64_t s, std::uint32_t n) : seed(s), draws(n, 0) {}
  void mix(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      hash ^= (v >> (8 * i)) & 0xff;
      hash *= 1099511628211ull;
    }
  }
  void on_event(Simulator& sim, const Event& e) override {
    mix(static_cast<std::uint64_t>(e.time_us));
    mix(e.target);
    mix(e.kind);
    RandomStream rng(seed, e.target, draws[e.target]);
    const double delay_s = rng.exponential(600.0);
    if (rng.bernoulli(0.05)) {
      const auto victim = static_cast<TargetId>(rng.uniform_int(draws.size()));
      sim.cancel_target(victim);
      sim.schedule_cancellable_in(Duration::seconds(30), victim, 2);
    }
    draws[e.target] = rng.counter();
    sim.schedule_cancellable_in(Duration::from_seconds(delay_s), e.target, 1);
  }
};

std::uint64_t churn_trace_hash(std::uint64_t seed) {
  const std::uint32_t n = 500;
  Simulator sim(n);
  Churn model(seed, n);
  for (TargetId t = 0; t < n; ++t) sim.schedule_cancellable_at(SimTime::start() + Duration::seconds(t), t, 0);
  sim.run_until(SimTime::start() + Duration::hours(24), model);
  return model.hash;
}

}  // namespace

TEST_CASE("simulator runs events in time order and sets the clock", "[sim][kernel]") {
  Simulator sim(4);
  sim.schedule_at(SimTime::from_micros(300), 0, 1);
  sim.schedule_at(SimTime::from_micros(100), 1, 2);
  sim.schedule_at(SimTime::from_micros(200), 2, 3);
  sim.schedule_at(SimTime::from_micros(100), 3, 4);  // tie with target 1: after it
  Recorder r;
  const RunResult res = sim.run_until(SimTime::from_micros(1000), r);
  REQUIRE(res.status == RunStatus::Exhausted);
  REQUIRE(res.events == 4);
  REQUIRE(r.seen.size() == 4);
  CHECK(r.seen[0].target == 1);
  CHECK(r.seen[1].target == 3);
  CHECK(r.seen[2].target == 2);
  CHECK(r.seen[3].target == 0);
  CHECK(r.clock[0].micros() == 100);
  CHECK(r.clock[3].micros() == 300);
  CHECK(sim.now().micros() == 1000);
}

TEST_CASE("run_until stops at the horizon and resumes", "[sim][kernel]") {
  Simulator sim(3);
  sim.schedule_at(SimTime::from_micros(10), 0, 0);
  sim.schedule_at(SimTime::from_micros(20), 1, 0);  // exactly at the horizon: runs
  sim.schedule_at(SimTime::from_micros(21), 2, 0);  // after it: waits
  Recorder r;
  RunResult first = sim.run_until(SimTime::from_micros(20), r);
  CHECK(first.status == RunStatus::ReachedHorizon);
  CHECK(first.events == 2);
  CHECK(sim.now().micros() == 20);
  CHECK(sim.pending() == 1);
  RunResult second = sim.run_until(SimTime::from_micros(100), r);
  CHECK(second.events == 1);
  CHECK(second.status == RunStatus::Exhausted);
  REQUIRE(r.seen.size() == 3);
  CHECK(r.seen[2].target == 2);
}

TEST_CASE("cancel_target drops pending events; reschedule keeps the new one", "[sim][kernel]") {
  Simulator sim(2);
  sim.schedule_cancellable_at(SimTime::from_micros(50), 0, 1);
  sim.schedule_cancellable_at(SimTime::from_micros(60), 0, 2);
  sim.schedule_at(SimTime::from_micros(65), 0, 5);  // not cancellable: survives
  sim.schedule_cancellable_at(SimTime::from_micros(70), 1, 3);  // other target: survives
  sim.cancel_target(0);
  sim.schedule_cancellable_at(SimTime::from_micros(80), 0, 9);  // reschedule after the cancel
  Recorder r;
  sim.run_until(SimTime::from_micros(1000), r);
  REQUIRE(r.seen.size() == 3);
  CHECK(r.seen[0].kind == 5);
  CHECK(r.seen[1].target == 1);
  CHECK(r.seen[2].target == 0);
  CHECK(r.seen[2].kind == 9);
}

TEST_CASE("a handler may cancel another target's event mid-run", "[sim][kernel]") {
  struct Canceller : EventHandler {
    std::vector<TargetId> seen;
    void on_event(Simulator& sim, const Event& e) override {
      seen.push_back(e.target);
      if (e.target == 0) sim.cancel_target(1);
    }
  } h;
  Simulator sim(3);
  sim.schedule_at(SimTime::from_micros(1), 0, 0);
  sim.schedule_cancellable_at(SimTime::from_micros(1), 1, 0);  // same time, but cancelled before it runs
  sim.schedule_at(SimTime::from_micros(2), 2, 0);
  sim.run_until(SimTime::from_micros(10), h);
  CHECK(h.seen == std::vector<TargetId>{0, 2});
}

TEST_CASE("scheduling in the past or for an unknown target is a model bug", "[sim][kernel]") {
  Simulator sim(1);
  Recorder r;
  sim.schedule_at(SimTime::from_micros(100), 0, 0);
  sim.run_until(SimTime::from_micros(200), r);
  CHECK_THROWS_AS(sim.schedule_at(SimTime::from_micros(150), 0, 0), std::logic_error);
  CHECK_THROWS_AS(sim.schedule_at(SimTime::from_micros(300), 5, 0), std::logic_error);
  sim.ensure_targets(6);
  CHECK_NOTHROW(sim.schedule_at(SimTime::from_micros(300), 5, 0));
}

TEST_CASE("cancel flag stops a run and progress is reported", "[sim][kernel]") {
  struct Forever : EventHandler {
    std::uint64_t n = 0;
    void on_event(Simulator& sim, const Event& e) override {
      ++n;
      sim.schedule_in(Duration::seconds(1), e.target, 0);
    }
  } h;
  Simulator sim(1);
  sim.schedule_at(SimTime::start(), 0, 0);
  std::atomic<bool> cancel{false};
  std::vector<double> progress;
  RunControl control;
  control.poll_every = 100;
  control.cancel = &cancel;
  control.on_progress = [&](double f) {
    progress.push_back(f);
    if (progress.size() == 5) cancel = true;
  };
  const RunResult res = sim.run_until(SimTime::start() + Duration::days(365), h, control);
  CHECK(res.status == RunStatus::Cancelled);
  CHECK(h.n == 600);  // 5 progress calls, cancel seen at the 6th poll
  REQUIRE(progress.size() == 5);
  for (std::size_t i = 1; i < progress.size(); ++i) CHECK(progress[i] > progress[i - 1]);
  CHECK(progress.back() < 0.01);

  // Without cancel the run reaches the horizon and reports 1.0 last.
  Simulator sim2(1);
  sim2.schedule_at(SimTime::start(), 0, 0);
  std::vector<double> p2;
  RunControl c2;
  c2.poll_every = 1000;
  c2.on_progress = [&](double f) { p2.push_back(f); };
  const RunResult res2 = sim2.run_until(SimTime::start() + Duration::hours(10), h, c2);
  CHECK(res2.status == RunStatus::ReachedHorizon);
  REQUIRE(!p2.empty());
  CHECK(p2.back() == 1.0);
}

TEST_CASE("the same seed gives the same trace; another seed does not", "[sim][determinism]") {
  const std::uint64_t a1 = churn_trace_hash(42);
  const std::uint64_t a2 = churn_trace_hash(42);
  const std::uint64_t b = churn_trace_hash(43);
  CHECK(a1 == a2);
  CHECK(a1 != b);
}

namespace {
struct Hold : BasicEventHandler<QuaternaryHeapQueue>, BasicEventHandler<RadixEventQueue>,
              BasicEventHandler<Radix256EventQueue>, BasicEventHandler<CalendarEventQueue> {
  std::uint64_t counter = 0;
  std::vector<std::int64_t> trace;
  template <class Sim>
  void step(Sim& sim, const Event& e) {
    trace.push_back(e.time_us * 1000 + e.target);
    RandomStream rng(7, 0, counter);
    // coarse delays so that many events tie
    sim.schedule_in(Duration::seconds(static_cast<std::int64_t>(rng.uniform_int(5))), e.target, 0);
    counter = rng.counter();
  }
  void on_event(BasicSimulator<QuaternaryHeapQueue>& sim, const Event& e) override { step(sim, e); }
  void on_event(BasicSimulator<RadixEventQueue>& sim, const Event& e) override { step(sim, e); }
  void on_event(BasicSimulator<Radix256EventQueue>& sim, const Event& e) override { step(sim, e); }
  void on_event(BasicSimulator<CalendarEventQueue>& sim, const Event& e) override { step(sim, e); }
};
}  // namespace

TEST_CASE("every queue gives the kernel the same trace", "[sim][determinism]") {
  Hold h1, h2, h3, h4;
  BasicSimulator<QuaternaryHeapQueue> s1(100);
  BasicSimulator<RadixEventQueue> s2(100);
  BasicSimulator<Radix256EventQueue> s3(100);
  BasicSimulator<CalendarEventQueue> s4(100);
  for (TargetId t = 0; t < 100; ++t) {
    s1.schedule_at(SimTime::start(), t, 0);
    s2.schedule_at(SimTime::start(), t, 0);
    s3.schedule_at(SimTime::start(), t, 0);
    s4.schedule_at(SimTime::start(), t, 0);
  }
  s1.run_until(SimTime::start() + Duration::minutes(10), static_cast<BasicEventHandler<QuaternaryHeapQueue>&>(h1));
  s2.run_until(SimTime::start() + Duration::minutes(10), static_cast<BasicEventHandler<RadixEventQueue>&>(h2));
  s3.run_until(SimTime::start() + Duration::minutes(10), static_cast<BasicEventHandler<Radix256EventQueue>&>(h3));
  s4.run_until(SimTime::start() + Duration::minutes(10), static_cast<BasicEventHandler<CalendarEventQueue>&>(h4));
  REQUIRE(h1.trace.size() > 10000);
  CHECK(h1.trace == h2.trace);
  CHECK(h1.trace == h3.trace);
  CHECK(h1.trace == h4.trace);
}

TEST_CASE("cancelling a target many times wraps its epoch without reviving events", "[sim][kernel]") {
  Simulator sim(1);
  Recorder r;
  for (int round = 0; round < 70000; ++round) {
    sim.schedule_cancellable_at(SimTime::from_micros(10), 0, 1);
    sim.cancel_target(0);
  }
  sim.schedule_cancellable_at(SimTime::from_micros(10), 0, 2);
  sim.run_until(SimTime::from_micros(100), r);
  // Only events stamped with the live epoch run: the last one, and the ones
  // from rounds that landed on the same epoch value after wrapping (every
  // 65,535th), which is the documented limit.
  REQUIRE(!r.seen.empty());
  CHECK(r.seen.back().kind == 2);
  CHECK(r.seen.size() == 2);  // 70,000 rounds: one wrapped survivor + the live one
}

TEST_CASE("an event scheduled between two run_until calls, before the peeked one, runs first",
          "[sim][kernel]") {
  Simulator sim(2);
  sim.schedule_at(SimTime::start() + Duration::hours(2), 0, 1);
  Recorder r;
  sim.run_until(SimTime::start() + Duration::hours(1), r);  // peeks at the 2 h event, stops
  REQUIRE(r.seen.empty());
  sim.schedule_at(SimTime::start() + Duration::minutes(90), 1, 2);
  sim.run_until(SimTime::start() + Duration::hours(3), r);
  REQUIRE(r.seen.size() == 2);
  CHECK(r.seen[0].kind == 2);
  CHECK(r.seen[1].kind == 1);
  CHECK(r.clock[0] < r.clock[1]);
}
