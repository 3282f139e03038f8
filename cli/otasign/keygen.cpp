// keygen.cpp — otasign keygen: a P-256 key pair, the private key mode 0600.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "common.hpp"
#include "ota/agent/signing.hpp"

namespace ota::otasign {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

int run_keygen(int argc, char** argv) {
  po::options_description options("otasign keygen");
  std::string out;
  options.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(&out)->required(),
      "private key file to create (mode 0600); the public key goes to OUT.pub")(
      "seed", po::value<std::string>(),
      "derive the key deterministically from this number (tests and simulation only, never for releases)")(
      "force", "replace existing key files");
  constexpr const char* kSynopsis = "otasign keygen --out KEY [--seed N] [--force]";
  const std::optional<po::variables_map> parsed = parse_options("keygen", kSynopsis, argc, argv, options);
  if (!parsed) return kExitOk;
  const po::variables_map& vm = *parsed;
  const std::string pub_path = out + ".pub";
  if (!vm.count("force")) {
    for (const std::string& p : {out, pub_path})
      if (file_exists(p)) throw UsageError{"'" + p + "' already exists (use --force to replace it)"};
  }
  agent::SigningResult<agent::SigningKey> key =
      vm.count("seed") ? agent::SigningKey::generate_from_seed(require_u64("seed", vm["seed"].as<std::string>()))
                       : agent::SigningKey::generate();
  if (!key) throw UsageError{"key generation failed: " + key.error()};
  const auto private_pem = key.value().private_pem();
  const auto public_pem = key.value().public_pem();
  if (!private_pem) throw UsageError{private_pem.error()};
  if (!public_pem) throw UsageError{public_pem.error()};

  const bool replace = vm.count("force") != 0;
  require_file_name(out);  // before OUT.pub, which always names a file
  write_output(pub_path, public_pem.value(), 0644, replace);
  try {
    write_output(out, private_pem.value(), 0600, replace);
  } catch (const UsageError&) {
    ::unlink(pub_path.c_str());  // no half-made key pair
    throw;
  }

  std::cout << "private key: " << out << " (mode 0600)\n"
            << "public key:  " << pub_path << "\n"
            << "key id:      " << to_hex(key.value().key_id()) << "\n";
  return kExitOk;
}

}  // namespace ota::otasign
