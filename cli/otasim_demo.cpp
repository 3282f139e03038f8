// otasim demo — the event kernel on a synthetic workload: N devices check in
// with a server every hour with ±10 % jitter for 14 simulated days. Prints a
// summary and writes DIR/report.json (atomically: temp file, then rename).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "ota/sim/random.hpp"
#include "ota/sim/simulator.hpp"
#include "ota/sim/statistics.hpp"

namespace {

using namespace ota::sim;
namespace po = boost::program_options;

struct CheckIns : EventHandler {
  std::uint64_t seed;
  std::vector<std::uint32_t> draws;
  TimeSeries per_hour;
  CheckIns(std::uint64_t s, std::uint32_t devices, Duration horizon)
      : seed(s), draws(devices, 0),
        per_hour(SimTime::start(), Duration::hours(1), static_cast<std::size_t>(horizon.micros() / Duration::hours(1).micros())) {}
  void on_event(Simulator& sim, const Event& e) override {
    per_hour.add(sim.now(), 1.0);
    RandomStream rng(seed, e.target, draws[e.target]);
    const double next_s = 3600.0 * rng.uniform(0.9, 1.1);
    draws[e.target] = static_cast<std::uint32_t>(rng.counter());
    sim.schedule_in(Duration::from_seconds(next_s), e.target, 0);
  }
};

}  // namespace

int otasim_demo(int argc, char** argv) {
  po::options_description opts("otasim demo [options]");
  std::uint32_t devices = 100000;
  std::uint64_t seed = 1;
  std::string out_dir = "out";
  opts.add_options()("help,h", "show options")("devices", po::value(&devices)->default_value(100000), "devices")(
      "seed", po::value(&seed)->default_value(1), "random seed")(
      "out", po::value(&out_dir)->default_value("out"), "directory for report.json");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "otasim demo: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (devices == 0) {
    std::cerr << "otasim demo: --devices must be at least 1\n";
    return 2;
  }
  const Duration horizon = Duration::days(14);
  Simulator sim(devices);
  CheckIns model(seed, devices, horizon);
  RandomStream phase(seed, 0xffffffffull);
  for (TargetId d = 0; d < devices; ++d)
    sim.schedule_at(SimTime::start() + Duration::from_seconds(phase.uniform(0, 3600)), d, 0);
  const auto begin = std::chrono::steady_clock::now();
  const RunResult res = sim.run_until(SimTime::start() + horizon, model);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();

  nlohmann::json report;
  report["scenario"] = "engine demo: hourly check-ins with ±10% jitter";
  report["devices"] = devices;
  report["seed"] = seed;
  report["horizon_h"] = horizon.hours_f();
  report["events"] = res.events;
  report["status"] = std::string(to_string(res.status));
  std::vector<double> series;
  for (std::size_t i = 0; i < model.per_hour.bins(); ++i) series.push_back(model.per_hour.sum(i));
  report["check_ins_per_hour"] = series;

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "otasim demo: cannot create output directory '" << out_dir << "': " << ec.message() << "\n";
    return 1;
  }
  const auto final_path = std::filesystem::path(out_dir) / "report.json";
  const auto tmp_path = std::filesystem::path(out_dir) / ".report.json.tmp";
  {
    std::ofstream f(tmp_path);
    f << report.dump(2) << "\n";
    if (!f) {
      std::cerr << "otasim demo: cannot write '" << tmp_path.string() << "'\n";
      std::filesystem::remove(tmp_path, ec);
      return 1;
    }
  }
  std::filesystem::rename(tmp_path, final_path, ec);
  if (ec) {
    std::cerr << "otasim demo: cannot write '" << final_path.string() << "': " << ec.message() << "\n";
    return 1;
  }
  std::printf("otasim demo: %u devices, %.0f h simulated, %llu events in %.2f s (%.1f M events/s)\n", devices,
              horizon.hours_f(), static_cast<unsigned long long>(res.events), wall,
              static_cast<double>(res.events) / wall / 1e6);
  std::printf("report: %s\n", final_path.string().c_str());
  return 0;
}
