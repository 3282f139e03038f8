// otasim-bench SUBCOMMAND [options] — see bench/RESULTS.md for the figures.
#include <cstdio>
#include <cstring>

#include "ota/version.hpp"
#include "bench_registry.hpp"

namespace ota::bench {
std::map<std::string, BenchEntry>& registry() {
  static std::map<std::string, BenchEntry> entries;
  return entries;
}
}  // namespace ota::bench

static void usage(FILE* out) {
  std::fprintf(out, "usage: otasim-bench SUBCOMMAND [options]\n\nsubcommands:\n");
  for (const auto& [name, entry] : ota::bench::registry())
    std::fprintf(out, "  %-10s %s\n", name.c_str(), entry.help.c_str());
  std::fprintf(out, "\n'otasim-bench SUBCOMMAND --help' lists a subcommand's options.\n");
}

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("otasim-bench %s\n", ota::build_version());
    return 0;
  }
  auto& reg = ota::bench::registry();
  auto it = reg.find(argv[1]);
  if (it == reg.end()) {
    std::fprintf(stderr, "otasim-bench: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
  }
  return it->second.run(argc - 1, argv + 1);
}
