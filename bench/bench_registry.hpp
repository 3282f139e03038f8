// bench_registry.hpp — how a benchmark joins `otasim-bench`.
//
// Each bench_<name>.cpp defines `int run(int argc, char** argv)` for its
// subcommand and registers it at namespace scope:
//   OTA_BENCH("engine", "event-list hold model", run_engine);
// argv[0] is the subcommand name. Output is JSON lines on stdout where
// --json is given, so scripts can compare figures.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace ota::bench {

struct BenchEntry {
  std::string help;
  int (*run)(int argc, char** argv);
};

std::map<std::string, BenchEntry>& registry();

struct Registrar {
  Registrar(const char* name, const char* help, int (*run)(int, char**)) {
    registry()[name] = BenchEntry{help, run};
  }
};

}  // namespace ota::bench

#define OTA_BENCH_CONCAT2(a, b) a##b
#define OTA_BENCH_CONCAT(a, b) OTA_BENCH_CONCAT2(a, b)
#define OTA_BENCH(name, help, fn) \
  static const ::ota::bench::Registrar OTA_BENCH_CONCAT(ota_bench_registrar_, __LINE__){name, help, fn}
