// otasign — release signing for otasim's device agent.
//
//   otasign keygen --out KEY [--seed N] [--force]
//   otasign sign   --image IMG --key KEY --version X.Y.Z --security-counter N
//                  --hardware-id ID [--hardware-id ID ...]
//                  [--delta-base OLD_IMG --patch PATCH] [--commit HEX40]
//                  [--build-time UNIX_SECONDS] --out SIGNED_MANIFEST
//   otasign verify --manifest SIGNED_MANIFEST --trusted-key PUB [...]
//                  [--revoked-key-id HEX16 ...] --hardware-id ID
//                  --min-security-counter N --slot-size BYTES
//                  [--image IMG] [--patch PATCH] [--running-image IMG]
//   otasign delta OLD NEW --out PATCH [--dict-log2 N] [--fast]
//
// Files:
//   KEY       private key, PEM "EC PRIVATE KEY" (SEC1, P-256), mode 0600.
//   KEY.pub   public key, PEM "PUBLIC KEY" (SubjectPublicKeyInfo), mode 0644.
//   PATCH     a delta patch in the format of delta.hpp ("OTAD" header).
//   SIGNED_MANIFEST  the signed envelope of manifest.hpp: the manifest bytes
//             (100..200 B, self-delimiting) followed by the 64-byte ECDSA
//             P-256 signature r||s over SHA-256 of those bytes.
// Every output file is written to a temporary file beside it and renamed into
// place, so a failure never leaves a partial file.
//
// `sign` of a delta release refuses a patch whose header names other images
// than --delta-base and --image, and applies the patch once, as a device
// would, before writing anything. `verify` makes one call into the agent
// (verify_artifact_streaming): for a delta it applies the patch to
// --running-image and checks what it builds against the manifest.
//
// Exit status: 0 success (for verify: the verdict is Accepted); 1 verify ran
// and the artifact was rejected (the verdict line names the reason); 2 bad
// usage or unreadable input (the message names the flag or file).
#include <exception>
#include <iostream>
#include <ostream>
#include <string>

#include "common.hpp"
#include "ota/version.hpp"

namespace {

using namespace ota::otasign;

void usage(std::ostream& out) {
  out << "usage: otasign COMMAND [options]\n\n"
         "commands:\n"
         "  keygen   make a P-256 signing key pair (private key mode 0600)\n"
         "  sign     sign an image: write its manifest and signature\n"
         "  verify   check a signed manifest and image as a device would; exit 0 only if accepted\n"
         "  delta    make a delta patch from an old image to a new one\n\n"
         "'otasign COMMAND --help' lists a command's options.\n"
         "exit status: 0 ok, 1 rejected by verify, 2 bad usage or input\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    usage(std::cout);
    return kExitOk;
  }
  if (command == "--version") {
    std::cout << "otasign " << ota::build_version() << "\n";
    return kExitOk;
  }
  try {
    if (command == "keygen") return run_keygen(argc - 1, argv + 1);
    if (command == "sign") return run_sign(argc - 1, argv + 1);
    if (command == "verify") return run_verify(argc - 1, argv + 1);
    if (command == "delta") return run_delta(argc - 1, argv + 1);
    std::cerr << "otasign: unknown command '" << command << "'\n";
    usage(std::cerr);
    return kExitUsage;
  } catch (const UsageError& e) {
    std::cerr << "otasign " << command << ": " << e.message << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "otasign " << command << ": " << e.what() << "\n";
    return kExitUsage;
  }
}
