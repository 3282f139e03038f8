// delta.cpp — otasign delta: a patch from an old image to a new one.
#include <exception>
#include <iostream>

#include "common.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"

namespace ota::otasign {

int run_delta(int argc, char** argv) {
  po::options_description options("otasign delta");
  std::string old_path;
  std::string new_path;
  std::string out;
  options.add_options()("help,h", "show this help")("old", po::value<std::string>(&old_path)->required(),
                                                    "the base image (what the device runs)")(
      "new", po::value<std::string>(&new_path)->required(), "the new image")(
      "out", po::value<std::string>(&out)->required(), "patch file to write")(
      "dict-log2", po::value<std::string>(),
      "decoder dictionary 2^N bytes, 12..16 (device RAM; default 16)")(
      "fast", "one alignment and one compressor setting instead of a search over several "
              "(about 3x faster; patch up to 0.5% larger)");
  po::positional_options_description positional;
  positional.add("old", 1).add("new", 1);
  constexpr const char* kSynopsis = "otasign delta OLD NEW --out PATCH [--dict-log2 N] [--fast]";
  const std::optional<po::variables_map> parsed = parse_options("delta", kSynopsis, argc, argv, options, &positional);
  if (!parsed) return kExitOk;
  const po::variables_map& vm = *parsed;
  agent::DeltaOptions delta_options;
  if (vm.count("dict-log2")) {
    const std::string text = vm["dict-log2"].as<std::string>();
    const auto v = parse_uint(text, agent::kMaxDictLog2);
    if (!v || *v < agent::kMinDictLog2)
      throw UsageError{"--dict-log2 '" + text + "': expected " + std::to_string(agent::kMinDictLog2) + ".." +
                       std::to_string(agent::kMaxDictLog2)};
    delta_options.dict_log2 = static_cast<std::uint8_t>(*v);
  }
  delta_options.exhaustive = vm.count("fast") == 0;

  const std::vector<std::uint8_t> old_image = read_file("old image", old_path, kMaxImageFileBytes);
  const std::vector<std::uint8_t> new_image = read_file("new image", new_path, kMaxImageFileBytes);
  std::vector<std::uint8_t> patch;
  try {
    patch = agent::encode_delta(old_image, new_image, delta_options);
  } catch (const std::exception& e) {
    throw UsageError{std::string("cannot make a patch from '") + old_path + "' to '" + new_path + "': " + e.what()};
  }
  write_output(out, patch, 0644);
  std::cout << "patch: " << out << " (" << patch.size() << " bytes; old " << old_image.size() << " B -> new "
            << new_image.size() << " B)\n";
  return kExitOk;
}

}  // namespace ota::otasign
