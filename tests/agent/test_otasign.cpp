// Tests of the `otasign` tool: the built binary (OTA_BIN_DIR/otasign) for the
// keygen / sign / verify round trip, every rejection reason and bad input; and
// in-process, the one agent call `otasign verify` makes
// (verify_artifact_streaming) over every single-byte change of the manifest
// and signature and a sample of the bytes of every input.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bytes_area.hpp"
#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verifier.hpp"

using namespace ota::agent;
using ota::agent::test::BytesArea;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "otasign-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  // Names of the files in the directory, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string otasign_path() { return std::string(OTA_BIN_DIR) + "/otasign"; }

RunResult otasign(const TempDir& dir, const std::vector<std::string>& args) {
  INFO("the otasign binary must be built first (target otasign): " << otasign_path());
  REQUIRE(fs::exists(otasign_path()));
  const std::string out_path = dir / "otasign.out";
  std::string cmd = quote(otasign_path());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out_path) + " 2>&1 </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  REQUIRE(status != -1);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  fs::remove(out_path);
  return r;
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Bytes make_image(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(size);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

const std::vector<std::string> kDeviceArgs = {"--hardware-id", "0xC3A001", "--min-security-counter", "4",
                                              "--slot-size", "64K"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// keygen + sign a 40000-byte image into `dir`.
struct SignedRelease {
  std::string key, pub, image, manifest;
  std::string key_id;
};

SignedRelease make_release(const TempDir& dir, const std::string& seed = "1") {
  SignedRelease r{dir / "release.key", dir / "release.key.pub", dir / "fw.bin", dir / "fw.sman", {}};
  const RunResult kg = otasign(dir, {"keygen", "--out", r.key, "--seed", seed});
  REQUIRE(kg.exit_code == 0);
  const auto at = kg.output.find("key id:");
  REQUIRE(at != std::string::npos);
  r.key_id = kg.output.substr(at + 7);
  r.key_id.erase(0, r.key_id.find_first_not_of(' '));
  r.key_id = r.key_id.substr(0, 16);
  write_file(r.image, make_image(40000, 11));
  const RunResult sg = otasign(dir, {"sign", "--image", r.image, "--key", r.key, "--version", "3.1.4",
                                     "--security-counter", "4", "--hardware-id", "0xC3A002", "--hardware-id",
                                     "0xC3A001", "--commit", "0123456789abcdef0123456789abcdef01234567",
                                     "--build-time", "1700000000", "--out", r.manifest});
  INFO(sg.output);
  REQUIRE(sg.exit_code == 0);
  return r;
}

std::vector<std::string> verify_args(const SignedRelease& r) {
  return concat({"verify", "--manifest", r.manifest, "--trusted-key", r.pub, "--image", r.image}, kDeviceArgs);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The new image of `rel` with a few bytes changed and a block removed: the
// base a delta release patches.
Bytes old_image_for(const Bytes& new_image) {
  Bytes old_image = new_image;
  for (std::size_t i = 100; i < old_image.size(); i += 997) old_image[i] ^= 0x5A;
  old_image.erase(old_image.begin() + 20000, old_image.begin() + 22000);
  return old_image;
}

// A delta release on top of make_release(): old.bin, fw.patch and delta.sman.
struct DeltaRelease {
  SignedRelease rel;
  std::string old_image, patch, manifest;
};

DeltaRelease make_delta_release(const TempDir& dir) {
  DeltaRelease d{make_release(dir), dir / "old.bin", dir / "fw.patch", dir / "delta.sman"};
  write_file(d.old_image, old_image_for(read_file(d.rel.image)));
  const RunResult p = otasign(dir, {"delta", d.old_image, d.rel.image, "--out", d.patch, "--fast"});
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  const RunResult sg = otasign(dir, {"sign", "--image", d.rel.image, "--key", d.rel.key, "--version", "3.1.5",
                                     "--security-counter", "4", "--hardware-id", "0xC3A001", "--delta-base",
                                     d.old_image, "--patch", d.patch, "--build-time", "1700000000", "--out",
                                     d.manifest});
  INFO(sg.output);
  REQUIRE(sg.exit_code == 0);
  return d;
}

std::vector<std::string> delta_verify_args(const DeltaRelease& d) {
  return concat({"verify", "--manifest", d.manifest, "--trusted-key", d.rel.pub, "--patch", d.patch,
                 "--running-image", d.old_image, "--image", d.rel.image},
                kDeviceArgs);
}

}  // namespace

TEST_CASE("otasign keygen writes a 0600 private key and its public key", "[otasign]") {
  TempDir dir;
  const RunResult r = otasign(dir, {"keygen", "--out", dir / "k"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat((dir / "k").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "k.pub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  const Bytes priv = read_file(dir / "k");
  const Bytes pub = read_file(dir / "k.pub");
  auto key = SigningKey::from_pem(std::string(priv.begin(), priv.end()));
  auto pub_key = parse_public_key_pem(std::string(pub.begin(), pub.end()));
  REQUIRE(key.ok());
  REQUIRE(pub_key.ok());
  CHECK(key.value().public_key() == pub_key.value());
  CHECK(dir.listing() == std::vector<std::string>{"k", "k.pub"});  // no temporary files left

  SECTION("an existing key is never overwritten without --force") {
    const RunResult again = otasign(dir, {"keygen", "--out", dir / "k"});
    CHECK(again.exit_code == 2);
    CHECK(contains(again.output, "already exists"));
    CHECK(read_file(dir / "k") == priv);
    const RunResult forced = otasign(dir, {"keygen", "--out", dir / "k", "--force"});
    CHECK(forced.exit_code == 0);
    CHECK(read_file(dir / "k") != priv);
  }
  SECTION("a seeded key is reproducible") {
    REQUIRE(otasign(dir, {"keygen", "--out", dir / "s1", "--seed", "42"}).exit_code == 0);
    REQUIRE(otasign(dir, {"keygen", "--out", dir / "s2", "--seed", "42"}).exit_code == 0);
    CHECK(read_file(dir / "s1") == read_file(dir / "s2"));
  }
  SECTION("an unwritable destination is reported, nothing is left behind") {
    const RunResult bad = otasign(dir, {"keygen", "--out", dir / "no-such-dir/k"});
    CHECK(bad.exit_code == 2);
    CHECK(contains(bad.output, "no-such-dir"));
  }
}

TEST_CASE("otasign sign and verify round-trip and print every field", "[otasign]") {
  TempDir dir;
  const SignedRelease rel = make_release(dir);
  CHECK(fs::file_size(rel.manifest) == 104 + kSignatureSize);  // two hardware ids, no delta

  const RunResult v = otasign(dir, verify_args(rel));
  INFO(v.output);
  CHECK(v.exit_code == 0);
  for (const char* line : {"format_version: 1", "firmware_version: 3.1.4", "security_counter: 4",
                           "hardware_ids: 0x00c3a001 0x00c3a002", "image_size: 40000", "delta: no",
                           "source_commit: 0123456789abcdef0123456789abcdef01234567",
                           "build_time: 1700000000 (2023-11-14T22:13:20Z)", "signature: ", "verdict: ACCEPTED"})
    CHECK(contains(v.output, line));
  CHECK(contains(v.output, "key_id: " + rel.key_id + " (trusted)"));
  CHECK(contains(v.output, "image_sha256: "));

  // The manifest the tool wrote verifies in-process too, with the same key.
  const Bytes env = read_file(rel.manifest);
  const Bytes pub = read_file(rel.pub);
  KeyStore keys;
  REQUIRE(keys.trust(parse_public_key_pem(std::string(pub.begin(), pub.end())).value()) == KeyStoreStatus::Ok);
  Verifier verifier(keys);
  CHECK(verify_artifact(verifier, env, read_file(rel.image), DeviceFacts{0xC3A001, 4, 65536}) == Verdict::Accepted);
}

TEST_CASE("otasign verify names each rejection reason and exits non-zero", "[otasign]") {
  TempDir dir;
  const SignedRelease rel = make_release(dir);
  auto verify = [&](std::vector<std::string> args) { return otasign(dir, args); };
  const std::vector<std::string> base = {"verify", "--manifest", rel.manifest, "--image", rel.image};

  SECTION("unknown key") {
    REQUIRE(otasign(dir, {"keygen", "--out", dir / "other", "--seed", "2"}).exit_code == 0);
    const RunResult r = verify(concat(concat(base, {"--trusted-key", dir / "other.pub"}), kDeviceArgs));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: unknown key"));
    CHECK(contains(r.output, "(not trusted)"));
  }
  SECTION("revoked key") {
    const RunResult r = verify(concat(
        concat(base, {"--trusted-key", rel.pub, "--revoked-key-id", rel.key_id}), kDeviceArgs));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: revoked key"));
  }
  SECTION("key rotation: the new key among several trusted keys") {
    REQUIRE(otasign(dir, {"keygen", "--out", dir / "older", "--seed", "3"}).exit_code == 0);
    const RunResult r =
        verify(concat(concat(base, {"--trusted-key", dir / "older.pub", "--trusted-key", rel.pub}), kDeviceArgs));
    CHECK(r.exit_code == 0);
  }
  SECTION("wrong hardware") {
    const RunResult r = verify(concat(base, {"--trusted-key", rel.pub, "--hardware-id", "0xC3A003",
                                             "--min-security-counter", "4", "--slot-size", "64K"}));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: wrong hardware"));
  }
  SECTION("downgrade") {
    const RunResult r = verify(concat(base, {"--trusted-key", rel.pub, "--hardware-id", "0xC3A001",
                                             "--min-security-counter", "5", "--slot-size", "64K"}));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: downgrade"));
    CHECK(contains(r.output, "4 < device minimum 5"));
  }
  SECTION("too large") {
    const RunResult r = verify(concat(base, {"--trusted-key", rel.pub, "--hardware-id", "0xC3A001",
                                             "--min-security-counter", "0", "--slot-size", "39999"}));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: too large for the slot"));
  }
  SECTION("image of another release") {
    write_file(dir / "other.bin", make_image(40000, 12));
    const RunResult r = verify(concat({"verify", "--manifest", rel.manifest, "--image", dir / "other.bin",
                                       "--trusted-key", rel.pub},
                                      kDeviceArgs));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: image digest mismatch"));
  }
}

TEST_CASE("otasign verify: a flipped byte of manifest, signature or image is refused by the binary", "[otasign]") {
  TempDir dir;
  const SignedRelease rel = make_release(dir);
  const Bytes env = read_file(rel.manifest);
  const Bytes image = read_file(rel.image);
  struct Case {
    std::size_t offset;
    const char* reason;
  };
  // Envelope offsets: magic, manifest_size, security counter, key id, hardware
  // id, first and last signature byte.
  for (const Case c : {Case{0, "bad format"}, Case{8, "bad format"}, Case{16, "bad signature"},
                       Case{35, "unknown key"}, Case{100, "bad signature"},
                       Case{env.size() - kSignatureSize, "bad signature"}, Case{env.size() - 1, "bad signature"}}) {
    CAPTURE(c.offset);
    Bytes flipped = env;
    flipped[c.offset] ^= 0x01;
    write_file(rel.manifest, flipped);
    const RunResult r = otasign(dir, verify_args(rel));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, std::string("verdict: REJECTED: ") + c.reason));
  }
  // The bad-format reason says which field, where, and what was found.
  Bytes bad_count = env;
  bad_count[6] = 9;
  write_file(rel.manifest, bad_count);
  const RunResult count = otasign(dir, verify_args(rel));
  CHECK(count.exit_code == 1);
  CHECK(contains(count.output, "verdict: REJECTED: bad format (hardware id count out of range (expected 1..8): "
                               "hardware_id_count at byte 6 is 9 (0x9))"));
  write_file(rel.manifest, env);
  for (std::size_t offset : {std::size_t{0}, std::size_t{20000}, image.size() - 1}) {
    CAPTURE(offset);
    Bytes flipped = image;
    flipped[offset] ^= 0x80;
    write_file(rel.image, flipped);
    const RunResult r = otasign(dir, verify_args(rel));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "verdict: REJECTED: image digest mismatch"));
  }
  write_file(rel.image, image);
  CHECK(otasign(dir, verify_args(rel)).exit_code == 0);
}

TEST_CASE("otasign verify: a flipped byte of a delta's new image, patch or running image is refused by the binary",
          "[otasign]") {
  TempDir dir;
  const DeltaRelease d = make_delta_release(dir);
  REQUIRE(otasign(dir, delta_verify_args(d)).exit_code == 0);
  struct Input {
    std::string path;
    const char* reason;
  };
  for (const Input& in : {Input{d.rel.image, "verdict: REJECTED: image digest mismatch (image)"},
                          Input{d.patch, "verdict: REJECTED: image digest mismatch (patch)"},
                          Input{d.old_image, "verdict: REJECTED: delta base mismatch (running image)"}}) {
    const Bytes original = read_file(in.path);
    for (std::size_t offset : {std::size_t{0}, original.size() / 2, original.size() - 1}) {
      CAPTURE(in.path, offset);
      Bytes flipped = original;
      flipped[offset] ^= 0x04;
      write_file(in.path, flipped);
      const RunResult r = otasign(dir, delta_verify_args(d));
      INFO(r.output);
      CHECK(r.exit_code == 1);
      CHECK(contains(r.output, in.reason));
    }
    write_file(in.path, original);
  }
  CHECK(otasign(dir, delta_verify_args(d)).exit_code == 0);
}

TEST_CASE("otasign sign refuses a patch made for other images, or one that does not build --image", "[otasign]") {
  TempDir dir;
  const DeltaRelease d = make_delta_release(dir);
  const Bytes patch = read_file(d.patch);
  write_file(dir / "other.bin", make_image(39000, 99));  // not the size of either image
  auto sign_with = [&](const std::string& image, const std::string& base, const std::string& patch_path) {
    return otasign(dir, {"sign", "--image", image, "--key", d.rel.key, "--version", "3.1.6", "--security-counter",
                         "4", "--hardware-id", "0xC3A001", "--delta-base", base, "--patch", patch_path, "--out",
                         dir / "new.sman"});
  };
  // Write the damaged patch before taking the listing: nothing else may appear.
  Bytes corrupt = patch;
  corrupt[patch.size() / 2] ^= 0x20;  // inside the compressed stream: the header still names the right images
  write_file(dir / "corrupt.patch", corrupt);
  Bytes truncated(patch.begin(), patch.begin() + 40);
  write_file(dir / "short.patch", truncated);
  const auto before = dir.listing();

  struct Case {
    std::string image, base, patch, expected;
  };
  for (const Case& c : {Case{dir / "other.bin", d.old_image, d.patch, "header new_size"},
                        Case{d.rel.image, dir / "other.bin", d.patch, "header old_size"},
                        Case{d.rel.image, d.rel.image, d.patch, "header old_size"},
                        Case{d.rel.image, d.old_image, dir / "corrupt.patch", "does not build --image"},
                        Case{d.rel.image, d.old_image, dir / "short.patch", "shorter than a patch header"},
                        Case{d.rel.image, d.old_image, d.rel.image, "not a patch"}}) {
    CAPTURE(c.image, c.base, c.patch);
    const RunResult r = sign_with(c.image, c.base, c.patch);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, c.expected));
    CHECK(dir.listing() == before);
  }
  // Same sizes, other bytes: the digests in the header catch it.
  Bytes same_size_other = read_file(d.rel.image);
  same_size_other[123] ^= 1;
  write_file(dir / "other.bin", same_size_other);
  const RunResult digest = sign_with(dir / "other.bin", d.old_image, d.patch);
  CHECK(digest.exit_code == 2);
  CHECK(contains(digest.output, "header new SHA-256"));
  CHECK(sign_with(d.rel.image, d.old_image, d.patch).exit_code == 0);
}

TEST_CASE("every single-byte change of manifest or signature, and sampled bytes of every input, is refused",
          "[otasign][verifier]") {
  // In-process, through the one agent call `otasign verify` makes
  // (verify_artifact_streaming), over inputs shaped as the tool passes them.
  auto key = SigningKey::generate_from_seed(std::uint64_t{77});
  REQUIRE(key.ok());
  const Bytes image = make_image(70000, 13);
  const Bytes base = old_image_for(image);
  DeltaOptions quick;
  quick.exhaustive = false;
  const Bytes patch = encode_delta(base, image, quick);

  for (bool with_delta : {false, true}) {
    CAPTURE(with_delta);
    Manifest m;
    m.version = {1, 0, 0};
    m.security_counter = 3;
    for (std::uint8_t i = 0; i < kMaxHardwareIds; ++i) m.hardware_ids[i] = 0x100u + i;
    m.hardware_id_count = kMaxHardwareIds;
    m.image_size = static_cast<std::uint32_t>(image.size());
    m.image_sha256 = Sha256::of(image);
    m.build_time = 1712345678;
    m.source_commit[0] = 0xAB;
    if (with_delta) m.delta = DeltaInfo{Sha256::of(base), static_cast<std::uint32_t>(patch.size()), Sha256::of(patch)};
    auto signed_env = sign_manifest(m, key.value());
    REQUIRE(signed_env.ok());
    const Bytes env = signed_env.value();
    const std::size_t manifest_size = env.size() - kSignatureSize;

    KeyStore keys;
    REQUIRE(keys.trust(key.value().public_key()) == KeyStoreStatus::Ok);
    Verifier v(keys);
    const DeviceFacts dev{0x103, 3, 1 << 20};
    // What `otasign verify` passes: the payload, and for a delta the running
    // image and the new image too.
    auto verdict = [&](const Bytes& envelope, const Bytes& payload, const Bytes& running, const Bytes& new_image) {
      const BytesArea payload_area(payload), running_area(running), new_area(new_image);
      const ArtifactSources sources{&payload_area, with_delta ? &running_area : nullptr,
                                    with_delta ? &new_area : nullptr};
      return verify_artifact_streaming(v, envelope, sources, dev).verdict;
    };
    const Bytes& payload = with_delta ? patch : image;
    REQUIRE(verdict(env, payload, base, image) == Verdict::Accepted);
    // The in-memory entry point agrees.
    REQUIRE(verify_artifact(v, env, payload, dev, with_delta ? std::span(base) : std::span<const std::uint8_t>()) ==
            Verdict::Accepted);

    std::size_t tried = 0;
    for (std::size_t i = 0; i < env.size(); ++i) {
      for (int mask : {0x01, 0x80, 0xFF}) {
        CAPTURE(i, mask);
        Bytes flipped = env;
        flipped[i] = static_cast<std::uint8_t>(flipped[i] ^ mask);
        const Verdict got = verdict(flipped, payload, base, image);
        ++tried;
        if (i >= manifest_size) {
          CHECK(got == Verdict::BadSignature);
        } else if (i >= 32 && i < 40) {
          CHECK(got == Verdict::UnknownKey);  // key id
        } else if (i < 10 || (i >= 60 && i < 64)) {
          CHECK(got == Verdict::BadFormat);  // magic, format, flags, count, reserved, size
        } else {
          // A value field: either it now breaks a rule (zero size, unsorted
          // ids, reserved) or the signature no longer matches.
          CHECK((got == Verdict::BadSignature || got == Verdict::BadFormat));
        }
      }
    }
    CHECK(tried == 3 * env.size());

    // Sampled single-bit flips of each input (first and last byte always).
    struct Input {
      const Bytes* bytes;
      int samples;
      Verdict expected;
    };
    std::vector<Input> inputs = {{&payload, 256, Verdict::DigestMismatch}};
    if (with_delta) {
      inputs.push_back({&base, 64, Verdict::DeltaBaseMismatch});
      inputs.push_back({&image, 64, Verdict::DigestMismatch});
    }
    std::mt19937 rng(5);
    for (const Input& in : inputs) {
      for (int n = 0; n < in.samples; ++n) {
        const Bytes& original = *in.bytes;
        const std::size_t i = n == 0 ? 0 : n == 1 ? original.size() - 1 : rng() % original.size();
        CAPTURE(in.samples, i);
        Bytes flipped = original;
        flipped[i] ^= static_cast<std::uint8_t>(1u << (n % 8));
        const Verdict got = verdict(env, in.bytes == &payload ? flipped : payload,
                                    in.bytes == &base ? flipped : base, in.bytes == &image && with_delta ? flipped : image);
        CHECK(got == in.expected);
      }
    }
  }
}

TEST_CASE("otasign refuses bad input with a message naming it, and writes nothing", "[otasign]") {
  TempDir dir;
  const SignedRelease rel = make_release(dir);
  const auto before = dir.listing();
  const std::string out = dir / "new.sman";
  const std::vector<std::string> sign_base = {"sign", "--key", rel.key, "--version", "1.0.0",
                                              "--security-counter", "1", "--hardware-id", "7", "--out", out};

  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {concat(sign_base, {"--image", dir / "missing.bin"}), "missing.bin"},
      {{"sign", "--key", dir / "fw.bin", "--version", "1.0.0", "--security-counter", "1", "--hardware-id", "7",
        "--out", out, "--image", rel.image},
       "private key"},
      {{"sign", "--key", rel.pub, "--version", "1.0.0", "--security-counter", "1", "--hardware-id", "7",
               "--out", out, "--image", rel.image},
       "release.key.pub"},
      {concat(sign_base, {"--image", rel.image, "--bogus"}), "bogus"},
      {{"sign", "--key", rel.key, "--version", "1.0", "--security-counter", "1", "--hardware-id", "7",
               "--out", out, "--image", rel.image},
       "--version '1.0'"},
      // The agent's one version range (the boot record packs 8.8.16 bits), as the scenario loader says it.
      {{"sign", "--key", rel.key, "--version", "256.0.0", "--security-counter", "1", "--hardware-id", "7",
               "--out", out, "--image", rel.image},
       "--version '256.0.0': expected MAJOR.MINOR.PATCH like 2.5.0, MAJOR and MINOR in 0..255, PATCH in 0..65535"},
      {{"sign", "--key", rel.key, "--version", "1.02.3", "--security-counter", "1", "--hardware-id", "7",
               "--out", out, "--image", rel.image},
       "no leading zeros"},
      {{"sign", "--key", rel.key, "--version", "1.0.0", "--security-counter", "-1", "--hardware-id", "7",
               "--out", out, "--image", rel.image},
       "--security-counter"},
      {{"sign", "--key", rel.key, "--version", "1.0.0", "--security-counter", "1", "--hardware-id", "zz",
               "--out", out, "--image", rel.image},
       "--hardware-id 'zz'"},
      {concat(sign_base, {"--image", rel.image, "--commit", "abc123"}), "--commit 'abc123'"},
      {concat(sign_base, {"--image", rel.image, "--delta-base", rel.image}), "--patch"},
      {{"sign", "--image", rel.image, "--out", out}, "is required but missing"},
      {concat({"verify", "--manifest", rel.manifest, "--image", dir / "nope.bin", "--trusted-key", rel.pub},
              kDeviceArgs),
       "nope.bin"},
      {concat({"verify", "--manifest", dir / "nope.sman", "--image", rel.image, "--trusted-key", rel.pub},
              kDeviceArgs),
       "nope.sman"},
      {concat({"verify", "--manifest", rel.manifest, "--image", rel.image, "--trusted-key", rel.image},
              kDeviceArgs),
       "trusted key"},
      {concat({"verify", "--manifest", rel.manifest, "--image", rel.image, "--trusted-key", rel.pub,
               "--revoked-key-id", "xyz"},
              kDeviceArgs),
       "--revoked-key-id 'xyz'"},
      {{"verify", "--manifest", rel.manifest, "--image", rel.image, "--trusted-key", rel.pub, "--hardware-id", "1",
        "--min-security-counter", "0", "--slot-size", "lots"},
       "--slot-size 'lots'"},
      {concat({"verify", "--manifest", rel.manifest, "--trusted-key", rel.pub}, kDeviceArgs), "--image is required"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      // Inputs read whole are regular files of bounded size, refused before reading.
      {concat({"verify", "--manifest", "/dev/zero", "--image", rel.image, "--trusted-key", rel.pub}, kDeviceArgs),
       "signed manifest '/dev/zero': not a regular file"},
      {concat({"verify", "--manifest", rel.manifest, "--image", rel.image, "--trusted-key", "/dev/zero"}, kDeviceArgs),
       "trusted key '/dev/zero': not a regular file"},
      {concat({"verify", "--manifest", fs::temp_directory_path().string(), "--image", rel.image, "--trusted-key",
               rel.pub},
              kDeviceArgs),
       "it is a directory"},
      {{"sign", "--key", "/dev/zero", "--version", "1.0.0", "--security-counter", "1", "--hardware-id", "7",
        "--out", out, "--image", rel.image},
       "private key '/dev/zero': not a regular file"},
      {{"delta", "/dev/zero", rel.image, "--out", out}, "old image '/dev/zero': not a regular file"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    CAPTURE(joined);
    const RunResult r = otasign(dir, c.args);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, c.expected));
    CHECK(dir.listing() == before);  // no output, no temporary file left
  }
}

TEST_CASE("otasign signs and verifies a delta release", "[otasign]") {
  TempDir dir;
  const DeltaRelease d = make_delta_release(dir);
  const Bytes patch = read_file(d.patch);
  REQUIRE(patch.size() > 80);
  CHECK(std::string(patch.begin(), patch.begin() + 4) == "OTAD");
  CHECK(patch.size() < 40000 / 2);  // related images: the patch is much smaller than the image
  const std::vector<std::string> args = concat(
      {"verify", "--manifest", d.manifest, "--trusted-key", d.rel.pub, "--patch", d.patch}, kDeviceArgs);

  const RunResult ok = otasign(dir, concat(args, {"--running-image", d.old_image}));
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(contains(ok.output, "delta: yes"));
  CHECK(contains(ok.output, "delta_patch_size: " + std::to_string(patch.size())));
  CHECK(otasign(dir, delta_verify_args(d)).exit_code == 0);  // --image checked too

  const RunResult wrong_base = otasign(dir, concat(args, {"--running-image", d.rel.image}));
  CHECK(wrong_base.exit_code == 1);
  CHECK(contains(wrong_base.output, "verdict: REJECTED: delta base mismatch"));

  const RunResult missing = otasign(dir, args);
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "--running-image are required"));

  const auto before = dir.listing();
  const RunResult no_old = otasign(dir, {"delta", dir / "absent.bin", d.rel.image, "--out", dir / "x.patch"});
  CHECK(no_old.exit_code == 2);
  CHECK(contains(no_old.output, "absent.bin"));
  const RunResult bad_dict =
      otasign(dir, {"delta", d.old_image, d.rel.image, "--out", dir / "x.patch", "--dict-log2", "20"});
  CHECK(bad_dict.exit_code == 2);
  CHECK(contains(bad_dict.output, "--dict-log2 '20'"));
  CHECK(dir.listing() == before);
}

TEST_CASE("otasign sign: a private key open to others is refused, and --out is not replaced without --force",
          "[otasign]") {
  TempDir dir;
  const SignedRelease rel = make_release(dir);
  const Bytes manifest = read_file(rel.manifest);
  const std::vector<std::string> sign = {"sign",          "--image",      rel.image,   "--key",
                                         rel.key,         "--security-counter", "4", "--hardware-id",
                                         "0xC3A001",      "--build-time", "1700000000"};
  // As ssh does with an unprotected key: group- or world-readable (or
  // writable) is refused, naming the file and the mode, unless allowed.
  for (const ::mode_t mode : {0644, 0640, 0604, 0620, 0666}) {
    REQUIRE(::chmod(rel.key.c_str(), mode) == 0);
    const RunResult r = otasign(dir, concat(sign, {"--version", "3.1.4", "--out", dir / "new.sman"}));
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "private key '" + rel.key + "' is open to group or others"));
    CHECK(contains(r.output, "--allow-open-key"));
    CHECK_FALSE(fs::exists(dir / "new.sman"));
  }
  const RunResult allowed =
      otasign(dir, concat(sign, {"--version", "3.1.4", "--out", dir / "new.sman", "--allow-open-key"}));
  CHECK(allowed.exit_code == 0);
  CHECK(fs::exists(dir / "new.sman"));
  REQUIRE(::chmod(rel.key.c_str(), 0400) == 0);  // owner-only read is fine
  // An existing manifest stays unless --force; no temporary file is left.
  const auto before = dir.listing();
  const RunResult again = otasign(dir, concat(sign, {"--version", "3.1.5", "--out", rel.manifest}));
  CHECK(again.exit_code == 2);
  CHECK(contains(again.output, "'" + rel.manifest + "' already exists (use --force to replace it)"));
  CHECK(read_file(rel.manifest) == manifest);
  CHECK(dir.listing() == before);
  const RunResult forced = otasign(dir, concat(sign, {"--version", "3.1.5", "--out", rel.manifest, "--force"}));
  CHECK(forced.exit_code == 0);
  CHECK(read_file(rel.manifest) != manifest);
}
