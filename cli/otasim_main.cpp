// otasim — command-line entry point.
#include <cstdio>
#include <cstring>
#include <string>

#include "interrupt.hpp"
#include "ota/version.hpp"

int otasim_run(int argc, char** argv);
int otasim_analyze(int argc, char** argv);
int otasim_sweep(int argc, char** argv);
int otasim_check(int argc, char** argv);
int otasim_schema(int argc, char** argv);

namespace {
void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: otasim COMMAND [options]\n\n"
               "commands:\n"
               "  run     run a scenario headless: summary, report.json and series.csv\n"
               "          (--replications R: mean and 95%% CI over R runs, summary.json, replications.csv)\n"
               "  sweep   a grid over scenario values, R replications per point: one CSV row per point\n"
               "  check   regression tests of rollout policies: a scenario's expectations over R runs\n"
               "  analyze the analytic model: expected updated / rolled back / bricked devices, bytes, cost\n"
               "  schema  the scenario format as JSON Schema (or --markdown), from the loader's field table\n"
               "\n"
               "'otasim COMMAND --help' lists a command's options; 'otasim --version' the build.\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("otasim %s\n", ota::build_version());
    return 0;
  }
  ota::cli::install_interrupt_handlers("otasim " + cmd);
  if (cmd == "run") return otasim_run(argc - 1, argv + 1);
  if (cmd == "analyze") return otasim_analyze(argc - 1, argv + 1);
  if (cmd == "sweep") return otasim_sweep(argc - 1, argv + 1);
  if (cmd == "check") return otasim_check(argc - 1, argv + 1);
  if (cmd == "schema") return otasim_schema(argc - 1, argv + 1);
  std::fprintf(stderr, "otasim: unknown command '%s'\n", cmd.c_str());
  usage(stderr);
  return 2;
}
