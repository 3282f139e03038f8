// libFuzzer target for every number a user types on the command line: the
// flags read through cli/strict_number.hpp (StrictU64: --seed, --devices;
// StrictFinite: --updates-per-year, --delta-dev-cost), boost's own long long
// (--replications, --threads) and the firmware version of otasign and the
// scenario loader (agent::parse_firmware_version). Built by scripts/fuzz with
// cli/ on the include path and Boost.Program_options.
//
// Whatever the text, parsing must not crash, and what is accepted must be
// exactly what the text says: a StrictU64 is the text's digits read back
// (no sign, no wrap), a StrictFinite is finite and is the value strtod reads,
// a version prints back as the same text. A broken invariant traps.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "ota/agent/manifest.hpp"
#include "strict_number.hpp"

namespace po = boost::program_options;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Parses `--flag TEXT` with a variable of type T; true when boost accepted it.
template <typename T>
bool parse_flag(const std::string& text, T& value) {
  po::options_description opts;
  opts.add_options()("flag", po::value(&value));
  std::vector<std::string> args = {"--flag", text};
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error&) {
    return false;
  }
  return vm.count("flag") == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64) return 0;  // a flag's value, not a file
  const std::string text(reinterpret_cast<const char*>(data), size);

  ota::cli::StrictU64 u;
  if (parse_flag(text, u)) {
    require(!text.empty());
    for (char c : text) require(c >= '0' && c <= '9');
    std::size_t first = text.find_first_not_of('0');
    const std::string canonical = first == std::string::npos ? "0" : text.substr(first);
    require(std::to_string(u.value) == canonical);
  }

  ota::cli::StrictFinite f;
  if (parse_flag(text, f)) {
    require(std::isfinite(f.value));
    char* end = nullptr;
    const double strtod_value = std::strtod(text.c_str(), &end);
    require(end == text.c_str() + text.size());
    require(strtod_value == f.value);
  }

  long long n = 0;
  if (parse_flag(text, n)) {
    char* end = nullptr;
    errno = 0;
    const long long back = std::strtoll(text.c_str(), &end, 10);
    require(errno == 0 && back == n);
  }

  if (const auto v = ota::agent::parse_firmware_version(text)) {
    require(ota::agent::version_in_range(*v));
    require(std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) == text);
  }
  return 0;
}
