// verdict.hpp — the single reason an update artifact was accepted or refused.
//
// The agent fails closed: every check starts from a refusing verdict and only a
// complete, successful check yields `Accepted`. Exactly one reason is reported,
// the first check that failed, in the order the enumerators are listed.
#pragma once

#include <cstdint>
#include <string_view>

namespace ota::agent {

enum class Verdict : std::uint8_t {
  Accepted,
  BadFormat,          // manifest or signature bytes do not parse
  UnknownKey,         // signing key id is not among the trusted keys
  RevokedKey,         // signing key id has been revoked
  BadSignature,       // signature does not verify over the manifest bytes
  WrongHardware,      // device's hardware id is not in the manifest's list
  Downgrade,          // security counter below the device's minimum (anti-rollback)
  TooLarge,           // image larger than the slot it must go into
  DigestMismatch,     // SHA-256 of the received/written image differs from the manifest's
  DeltaBaseMismatch,  // the delta's base image is not the device's running image
};

constexpr std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::Accepted: return "accepted";
    case Verdict::BadFormat: return "bad format";
    case Verdict::UnknownKey: return "unknown key";
    case Verdict::RevokedKey: return "revoked key";
    case Verdict::BadSignature: return "bad signature";
    case Verdict::WrongHardware: return "wrong hardware";
    case Verdict::Downgrade: return "downgrade (security counter below minimum)";
    case Verdict::TooLarge: return "too large for the slot";
    case Verdict::DigestMismatch: return "image digest mismatch";
    case Verdict::DeltaBaseMismatch: return "delta base mismatch";
  }
  return "unknown verdict";
}

}  // namespace ota::agent
