// otasim-bench engine — the classic "hold" model of future-event-list
// benchmarks: P events pending; each pop schedules one new event at
// now + Exp(mean 1 hour). Measures the kernel as models use it (handler call,
// cancellation check, random draw), not the bare queue.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "bench_registry.hpp"
#include "ota/sim/calendar_queue.hpp"
#include "ota/sim/random.hpp"
#include "ota/sim/simulator.hpp"

namespace {

using namespace ota::sim;
namespace po = boost::program_options;

constexpr double kMeanHoldUs = 3.6e9;  // one hour

template <class Queue>
struct Hold : BasicEventHandler<Queue> {
  RandomStream rng;
  explicit Hold(std::uint64_t seed) : rng(seed, 0) {}
  void on_event(BasicSimulator<Queue>& sim, const Event& e) override {
    const auto delay = static_cast<std::int64_t>(rng.exponential(kMeanHoldUs));
    sim.schedule_in(Duration::micros(delay), e.target, e.kind);
  }
};

struct Measurement {
  std::uint64_t events = 0;
  double seconds = 0;
};

template <class Queue>
Measurement run_hold(std::uint64_t pending, std::uint64_t events, std::uint64_t seed) {
  BasicSimulator<Queue> sim(static_cast<std::uint32_t>(pending));
  sim.reserve(pending);
  Hold<Queue> model(seed);
  for (std::uint64_t i = 0; i < pending; ++i) {
    const auto t = static_cast<std::int64_t>(model.rng.exponential(kMeanHoldUs));
    sim.schedule_at(SimTime::from_micros(t), static_cast<TargetId>(i), 0);
  }
  // Warm up: one pass over the initial population so the queue reaches its
  // steady-state shape before timing.
  RunControl control;
  control.poll_every = events + pending + 1;
  const auto warm_horizon = SimTime::from_micros(static_cast<std::int64_t>(kMeanHoldUs));
  sim.run_until(warm_horizon, model, control);
  // Timed part: run until `events` more events have been handled. The horizon
  // is set from the expected rate (pending / mean) with slack; stop on count.
  struct Counting : BasicEventHandler<Queue> {
    Hold<Queue>* inner;
    std::uint64_t left;
    std::atomic<bool>* stop;
    bool done = false;
    void on_event(BasicSimulator<Queue>& s, const Event& e) override {
      inner->on_event(s, e);
      if (--left == 0) {
        done = true;
        stop->store(true);
      }
    }
  } counting;
  std::atomic<bool> stop{false};
  counting.inner = &model;
  counting.left = events;
  counting.stop = &stop;
  RunControl timed;
  timed.poll_every = 1024;
  timed.cancel = &stop;
  const auto begin = std::chrono::steady_clock::now();
  std::uint64_t handled_before = sim.events_handled();
  // Steps of simulated time sized for ~1/8 of the requested events each.
  const double rate_per_us = static_cast<double>(pending) / kMeanHoldUs;
  const auto step = Duration::micros(static_cast<std::int64_t>(static_cast<double>(events) / 8.0 / rate_per_us) + 1);
  while (!counting.done) sim.run_until(sim.now() + step, counting, timed);
  const auto end = std::chrono::steady_clock::now();
  Measurement m;
  m.events = sim.events_handled() - handled_before;
  m.seconds = std::chrono::duration<double>(end - begin).count();
  return m;
}

void print(bool json, const char* queue, std::uint64_t pending, const Measurement& m) {
  const double rate = static_cast<double>(m.events) / m.seconds;
  if (json) {
    std::printf("{\"bench\":\"engine\",\"queue\":\"%s\",\"pending\":%llu,\"events\":%llu,\"events_per_s\":%.0f}\n",
                queue, static_cast<unsigned long long>(pending), static_cast<unsigned long long>(m.events), rate);
  } else {
    std::printf("engine  queue=%-6s pending=%-10llu events=%-10llu %.2f M events/s\n", queue,
                static_cast<unsigned long long>(pending), static_cast<unsigned long long>(m.events), rate / 1e6);
  }
  std::fflush(stdout);
}

int run_engine(int argc, char** argv) {
  po::options_description opts("otasim-bench engine [options]");
  std::vector<std::uint64_t> pendings;
  std::string queue;
  std::uint64_t events = 0;
  std::uint64_t seed = 1;
  opts.add_options()("help,h", "show options")("json", "one JSON line per measurement")(
      "pending", po::value(&pendings)->multitoken(), "pending-event counts (default 1e3 1e6 1e7)")(
      "events", po::value(&events), "events to time per point (default max(1e7, 2 x pending))")(
      "queue", po::value(&queue)->default_value("radix256"), "radix256 | radix | heap4 | calendar | all")(
      "seed", po::value(&seed)->default_value(1), "random seed");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "otasim-bench engine: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (queue != "radix256" && queue != "radix" && queue != "heap4" && queue != "calendar" && queue != "all") {
    std::cerr << "otasim-bench engine: --queue must be radix256, radix, heap4, calendar or all, not '" << queue
              << "'\n";
    return 2;
  }
  if (pendings.empty()) pendings = {1000, 1000000, 10000000};
  const bool json = vm.count("json") > 0;
  for (std::uint64_t p : pendings) {
    if (p == 0 || p > 0xffffffffull) {
      std::cerr << "otasim-bench engine: --pending must be in [1, 2^32), got " << p << "\n";
      return 2;
    }
    const std::uint64_t n = events ? events : std::max<std::uint64_t>(10'000'000, 2 * p);
    if (queue == "radix256" || queue == "all")
      print(json, Radix256EventQueue::kName, p, run_hold<Radix256EventQueue>(p, n, seed));
    if (queue == "radix" || queue == "all") print(json, RadixEventQueue::kName, p, run_hold<RadixEventQueue>(p, n, seed));
    if (queue == "heap4" || queue == "all")
      print(json, QuaternaryHeapQueue::kName, p, run_hold<QuaternaryHeapQueue>(p, n, seed));
    if (queue == "calendar" || queue == "all")
      print(json, CalendarEventQueue::kName, p, run_hold<CalendarEventQueue>(p, n, seed));
  }
  return 0;
}

OTA_BENCH("engine", "future-event-list hold model (P pending, Exp(1 h) holds)", run_engine);

}  // namespace
