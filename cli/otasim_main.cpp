// otasim — command-line entry point. Until the fleet model lands, `otasim demo`
// runs the kernel on a synthetic check-in workload and writes a report.
#include <cstdio>
#include <cstring>
#include <string>

int otasim_demo(int argc, char** argv);

namespace {
void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: otasim COMMAND [options]\n\n"
               "commands:\n"
               "  demo    run the event kernel on a synthetic fleet check-in workload\n\n"
               "'otasim COMMAND --help' lists a command's options.\n");
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
  if (cmd == "demo") return otasim_demo(argc - 1, argv + 1);
  std::fprintf(stderr, "otasim: unknown command '%s'\n", cmd.c_str());
  usage(stderr);
  return 2;
}
