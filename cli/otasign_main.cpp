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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/signing.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/version.hpp"
#include "ota/agent/verifier.hpp"

namespace po = boost::program_options;
namespace agent = ota::agent;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

// A failure that ends the command with exit status 2 and `message` on stderr.
struct UsageError {
  std::string message;
};

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;
};

// ---- text helpers -----------------------------------------------------------

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto [ptr, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc{} || ptr != text.data() + 2 * i + 2) return std::nullopt;
  }
  return out;
}

// Decimal, or hexadecimal with a 0x prefix; at most `max`.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc{} || ptr != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

std::uint32_t require_u32(const std::string& flag, const std::string& text) {
  const auto v = parse_uint(text, UINT32_MAX);
  if (!v)
    throw UsageError{"--" + flag + " '" + text + "': expected a number (decimal or 0x hex) from 0 to 4294967295"};
  return static_cast<std::uint32_t>(*v);
}

std::uint64_t require_u64(const std::string& flag, const std::string& text) {
  const auto v = parse_uint(text, UINT64_MAX);
  if (!v) throw UsageError{"--" + flag + " '" + text + "': expected a number (decimal or 0x hex) below 2^64"};
  return *v;
}

// A byte count: a number with an optional K (KiB) or M (MiB) suffix.
std::uint32_t require_size(const std::string& flag, std::string text) {
  std::uint64_t unit = 1;
  const std::string original = text;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) unit = 1024;
  if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) unit = 1024 * 1024;
  if (unit != 1) text.pop_back();
  const auto v = parse_uint(text, UINT32_MAX);
  if (!v || *v * unit > UINT32_MAX)
    throw UsageError{"--" + flag + " '" + original +
                     "': expected a byte count (e.g. 1572864, 0x180000, 1536K) below 4 GiB"};
  return static_cast<std::uint32_t>(*v * unit);
}

// The agent's own version rule (the one the scenario loader uses too).
agent::FirmwareVersion require_version(const std::string& text) {
  const auto v = agent::parse_firmware_version(text);
  if (!v) throw UsageError{"--version '" + text + "': expected " + std::string(agent::kFirmwareVersionForm)};
  return *v;
}

std::string format_time(std::uint64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (seconds > 253402300799ULL || gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::to_string(seconds) + " (" + buf + ")";
}

// ---- file helpers -----------------------------------------------------------

// Inputs read whole are regular files of bounded size, checked before
// reading: a device, a pipe or a directory is refused, and so is a file larger
// than any valid input of its kind (no read grows without bound).
constexpr std::uint64_t kMaxKeyFileBytes = 64 * 1024;       // a PEM key is a few hundred bytes
constexpr std::uint64_t kMaxManifestFileBytes = 64 * 1024;  // a signed manifest is at most a few hundred
constexpr std::uint64_t kMaxImageFileBytes = 0xffffffffULL; // images and patches: 32-bit sizes

// `owner_only`: a private key, refused when group or others may read or
// write it (as ssh refuses such a key), unless the user allowed it.
std::vector<std::uint8_t> read_file(const std::string& what, const std::string& path, std::uint64_t max_bytes,
                                    bool owner_only = false) {
  const auto fail = [&](const std::string& why) { return UsageError{"cannot read " + what + " '" + path + "': " + why}; };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw fail("it is a directory");
  if (!S_ISREG(st.st_mode)) throw fail("not a regular file");
  if (owner_only && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "0%03o", static_cast<unsigned>(st.st_mode & 0777));
    throw UsageError{what + " '" + path + "' is open to group or others (mode " + mode + "): chmod 600 '" + path +
                     "', or pass --allow-open-key"};
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes)
    throw fail(std::to_string(size) + " bytes, more than any " + what + " (at most " + std::to_string(max_bytes) +
               ")");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::strerror(errno));
    if (n == 0) throw fail("the file shrank while it was read");
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string read_text_file(const std::string& what, const std::string& path, std::uint64_t max_bytes,
                           bool owner_only = false) {
  const std::vector<std::uint8_t> bytes = read_file(what, path, max_bytes, owner_only);
  return std::string(bytes.begin(), bytes.end());
}

// An input file (image, patch, running image) as the agent reads it: a
// read-only FlashArea over the file, read with pread in the agent's bounded
// chunks, so no input is ever held whole in memory. Any size below 4 GiB,
// empty included.
class InputFile final : public agent::FlashArea {
 public:
  InputFile(std::string what, std::string path) : what_(std::move(what)), path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot read");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot read");
    if (!S_ISREG(st.st_mode)) throw UsageError{"cannot read " + what_ + " '" + path_ + "': not a regular file"};
    if (static_cast<std::uint64_t>(st.st_size) > UINT32_MAX)
      throw UsageError{what_ + " '" + path_ + "' is larger than 4 GiB"};
    size_ = static_cast<std::uint32_t>(st.st_size);
  }
  ~InputFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint32_t size() const override { return size_; }
  std::uint32_t sector_size() const override { return 1; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xFF; }
  agent::FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > size_ || out.size() > size_ - offset) return agent::FlashStatus::OutOfBounds;
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return agent::FlashStatus::IoError;  // an error, or the file shrank behind our back
      done += static_cast<std::size_t>(n);
    }
    return agent::FlashStatus::Ok;
  }
  agent::FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override {
    return agent::FlashStatus::IoError;
  }
  agent::FlashStatus erase_sector(std::uint32_t) override { return agent::FlashStatus::IoError; }

  const std::string& what() const { return what_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void read_failed(agent::FlashStatus s) const {
    throw UsageError{"cannot read " + what_ + " '" + path_ + "': " + std::string(agent::to_string(s))};
  }

 private:
  [[noreturn]] void fail(const char* doing) {
    throw UsageError{std::string(doing) + " " + what_ + " '" + path_ + "': " + std::strerror(errno)};
  }
  std::string what_;
  std::string path_;
  int fd_ = -1;
  std::uint32_t size_ = 0;
};

// SHA-256 of a whole input file, streamed through the agent.
agent::Digest digest_of(const InputFile& file) {
  agent::Sha256 hash;
  const agent::FlashStatus s = agent::hash_area(file, hash);
  if (s != agent::FlashStatus::Ok) file.read_failed(s);
  const agent::Digest d = hash.finish();
  if (!hash.ok()) throw UsageError{"hashing " + file.what() + " '" + file.path() + "' failed (mbedTLS)"};
  return d;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A file written beside its final path and renamed into place by commit();
// removed on destruction unless committed, so no partial output survives.
class AtomicFile {
 public:
  AtomicFile(std::string path, mode_t mode) : path_(std::move(path)) {
    const std::size_t slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash == 0 ? 1 : slash);
    std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    if (name.empty()) throw UsageError{"output path '" + path_ + "' names a directory, not a file"};
    temp_ = dir + "/." + name + ".tmp.XXXXXX";
    fd_ = ::mkstemp(temp_.data());  // created with mode 0600
    if (fd_ < 0) throw UsageError{"cannot create a file in '" + dir + "': " + std::strerror(errno)};
    if (::fchmod(fd_, mode) != 0) fail("cannot set the mode of");
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write");
      done += static_cast<std::size_t>(n);
    }
  }
  void write(std::string_view text) { write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); }
  // Flushes the data to disk and closes the temporary file (still not in place).
  void finish() {
    if (::fsync(fd_) != 0) fail("cannot flush");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close");
  }
  // Moves the file into place. With `replace` false an existing file is never
  // overwritten, not even one created since the caller last looked (link(2)
  // fails with EEXIST atomically).
  void commit(bool replace = true) {
    if (fd_ >= 0) finish();
    if (replace) {
      if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename into place");
    } else {
      if (::link(temp_.c_str(), path_.c_str()) != 0) {
        if (errno == EEXIST) throw UsageError{"'" + path_ + "' already exists (use --force to replace it)"};
        fail("cannot move into place");
      }
      ::unlink(temp_.c_str());
    }
    committed_ = true;
  }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const char* what) {
    throw UsageError{std::string(what) + " '" + path_ + "': " + std::strerror(errno)};
  }
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// ---- option parsing ---------------------------------------------------------

po::variables_map parse_options(const char* command, int argc, char** argv, const po::options_description& options,
                                const po::positional_options_description* positional = nullptr) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) return vm;
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{std::string(e.what()) + "\n(see 'otasign " + command + " --help')"};
  }
  return vm;
}

void print_help(const char* synopsis, const po::options_description& options) {
  std::cout << "usage: " << synopsis << "\n\n" << options << "\n";
}

// ---- keygen -----------------------------------------------------------------

int run_keygen(int argc, char** argv) {
  po::options_description options("otasign keygen");
  std::string out;
  options.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(&out)->required(),
      "private key file to create (mode 0600); the public key goes to OUT.pub")(
      "seed", po::value<std::string>(),
      "derive the key deterministically from this number (tests and simulation only, never for releases)")(
      "force", "replace existing key files");
  const po::variables_map vm = parse_options("keygen", argc, argv, options);
  if (vm.count("help")) {
    print_help("otasign keygen --out KEY [--seed N] [--force]", options);
    return kExitOk;
  }
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

  AtomicFile private_file(out, 0600);
  private_file.write(private_pem.value());
  private_file.finish();
  AtomicFile public_file(pub_path, 0644);
  public_file.write(public_pem.value());
  public_file.finish();
  const bool replace = vm.count("force") != 0;
  public_file.commit(replace);
  try {
    private_file.commit(replace);
  } catch (const UsageError&) {
    ::unlink(pub_path.c_str());  // no half-made key pair
    throw;
  }

  std::cout << "private key: " << out << " (mode 0600)\n"
            << "public key:  " << pub_path << "\n"
            << "key id:      " << to_hex(key.value().key_id()) << "\n";
  return kExitOk;
}

// ---- sign -------------------------------------------------------------------

std::uint32_t require_nonempty(const InputFile& file) {
  if (file.size() == 0) throw UsageError{file.what() + " '" + file.path() + "' is empty"};
  return file.size();
}

// The patch's own header must name the base and the image it is signed for:
// a device refuses a patch whose header names another base, and a patch made
// for other images cannot build this one.
void check_patch_header(const InputFile& patch, const InputFile& base, const agent::Digest& base_sha256,
                        const InputFile& image, const agent::Digest& image_sha256) {
  std::array<std::uint8_t, agent::kDeltaHeaderBytes> bytes{};
  if (patch.size() < bytes.size())
    throw UsageError{"patch '" + patch.path() + "' is " + std::to_string(patch.size()) +
                     " bytes, shorter than a patch header (" + std::to_string(bytes.size()) +
                     "): not a patch from 'otasign delta'"};
  if (const agent::FlashStatus s = patch.read(0, bytes); s != agent::FlashStatus::Ok) patch.read_failed(s);
  const agent::DeltaHeaderResult parsed = agent::parse_delta_header(bytes);
  if (parsed.status != agent::DeltaStatus::Ok)
    throw UsageError{"patch '" + patch.path() + "': " + std::string(agent::to_string(parsed.status)) +
                     ": not a patch from 'otasign delta'"};
  const agent::DeltaHeader& h = parsed.header;
  auto refuse = [&](const char* field, const std::string& got, const char* flag, const InputFile& file,
                    const std::string& expected) {
    throw UsageError{"patch '" + patch.path() + "' header " + field + " is " + got + ", but " + flag + " '" +
                     file.path() + "' has " + expected + ": the patch was made for other images"};
  };
  if (h.old_size != base.size())
    refuse("old_size", std::to_string(h.old_size), "--delta-base", base, std::to_string(base.size()) + " bytes");
  if (h.old_sha256 != base_sha256)
    refuse("old SHA-256", to_hex(h.old_sha256), "--delta-base", base, "SHA-256 " + to_hex(base_sha256));
  if (h.new_size != image.size())
    refuse("new_size", std::to_string(h.new_size), "--image", image, std::to_string(image.size()) + " bytes");
  if (h.new_sha256 != image_sha256)
    refuse("new SHA-256", to_hex(h.new_sha256), "--image", image, "SHA-256 " + to_hex(image_sha256));
}

// Which input file an artifact part was read from.
const InputFile* file_of(agent::ArtifactPart part, const InputFile* payload, const InputFile* running,
                         const InputFile* new_image) {
  switch (part) {
    case agent::ArtifactPart::Payload:
    case agent::ArtifactPart::AppliedImage: return payload;
    case agent::ArtifactPart::RunningImage: return running;
    case agent::ArtifactPart::NewImage: return new_image;
    case agent::ArtifactPart::Manifest: return nullptr;
  }
  return nullptr;
}

// What a rejected artifact verification is about, in words.
std::string rejection_detail(const agent::ArtifactVerification& v) {
  switch (v.part) {
    case agent::ArtifactPart::Payload: return v.parse.manifest.delta ? "patch" : "image";
    case agent::ArtifactPart::NewImage: return "image";
    case agent::ArtifactPart::RunningImage: return "running image";
    case agent::ArtifactPart::AppliedImage: {
      std::string d = "the patch applied to the running image does not build the manifest's image";
      if (v.delta_status != agent::DeltaStatus::Ok) d += ": " + std::string(agent::to_string(v.delta_status));
      return d;
    }
    case agent::ArtifactPart::Manifest: return {};
  }
  return {};
}

// Applies the patch once, exactly as a device would (the agent's own check,
// with a verifier that trusts the signing key), and refuses to write a
// release whose patch does not turn --delta-base into --image.
void confirm_delta(const std::vector<std::uint8_t>& envelope, const agent::SigningKey& key, const agent::Manifest& m,
                   const InputFile& patch, const InputFile& base, const InputFile& image) {
  agent::KeyStore keys;
  if (keys.trust(key.public_key()) != agent::KeyStoreStatus::Ok)
    throw UsageError{"the signing key's public half is not a valid P-256 point"};
  agent::Verifier verifier(keys);
  const agent::DeviceFacts any_device{m.hardware_ids[0], 0, UINT32_MAX};
  const agent::ArtifactSources sources{&patch, &base, &image};
  const agent::ArtifactVerification v = agent::verify_artifact_streaming(verifier, envelope, sources, any_device);
  if (v.read_status != agent::FlashStatus::Ok) {
    if (const InputFile* f = file_of(v.part, &patch, &base, &image)) f->read_failed(v.read_status);
  }
  if (!v.accepted())
    throw UsageError{"patch '" + patch.path() + "' applied to --delta-base '" + base.path() +
                     "' does not build --image '" + image.path() + "': " + std::string(agent::to_string(v.verdict)) +
                     " (" + rejection_detail(v) + "); nothing written"};
}

int run_sign(int argc, char** argv) {
  po::options_description options("otasign sign");
  options.add_options()("help,h", "show this help")("image", po::value<std::string>()->required(),
                                                    "the full new firmware image")(
      "key", po::value<std::string>()->required(), "private key file (PEM)")(
      "version", po::value<std::string>()->required(), "firmware version MAJOR.MINOR.PATCH")(
      "security-counter", po::value<std::string>()->required(),
      "anti-rollback counter (devices refuse releases below their minimum)")(
      "hardware-id", po::value<std::vector<std::string>>()->required(),
      "compatible hardware id (decimal or 0x hex); repeat for up to 8")(
      "delta-base", po::value<std::string>(), "for a delta release: the base image the patch applies to")(
      "patch", po::value<std::string>(), "for a delta release: the patch file (see 'otasign delta')")(
      "commit", po::value<std::string>(), "source commit id, 40 hex digits")(
      "build-time", po::value<std::string>(),
      "build time in Unix seconds (default: $SOURCE_DATE_EPOCH, else now)")(
      "out", po::value<std::string>()->required(), "signed manifest file to write (not replaced without --force)")(
      "force", "replace an existing --out file")(
      "allow-open-key", "use a private key file that group or others may read (refused otherwise, as ssh does)");
  const po::variables_map vm = parse_options("sign", argc, argv, options);
  if (vm.count("help")) {
    print_help(
        "otasign sign --image IMG --key KEY --version X.Y.Z --security-counter N --hardware-id ID...\n"
        "                    [--delta-base OLD --patch PATCH] [--commit HEX40] [--build-time SECS] --out FILE\n"
        "                    [--force] [--allow-open-key]",
        options);
    return kExitOk;
  }

  agent::Manifest m;
  m.version = require_version(vm["version"].as<std::string>());
  m.security_counter = require_u32("security-counter", vm["security-counter"].as<std::string>());

  std::vector<std::uint32_t> ids;
  for (const std::string& text : vm["hardware-id"].as<std::vector<std::string>>())
    ids.push_back(require_u32("hardware-id", text));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > agent::kMaxHardwareIds)
    throw UsageError{"--hardware-id given " + std::to_string(ids.size()) + " distinct ids; at most " +
                     std::to_string(agent::kMaxHardwareIds) + " fit in a manifest"};
  std::copy(ids.begin(), ids.end(), m.hardware_ids.begin());
  m.hardware_id_count = static_cast<std::uint8_t>(ids.size());

  if (vm.count("commit")) {
    const std::string text = vm["commit"].as<std::string>();
    const auto bytes = from_hex(text);
    if (!bytes || bytes->size() != m.source_commit.size())
      throw UsageError{"--commit '" + text + "': expected a full git commit id, 40 hex digits"};
    std::copy(bytes->begin(), bytes->end(), m.source_commit.begin());
  }

  if (vm.count("build-time")) {
    const std::string text = vm["build-time"].as<std::string>();
    const auto v = parse_uint(text, UINT64_MAX);
    if (!v) throw UsageError{"--build-time '" + text + "': expected Unix seconds"};
    m.build_time = *v;
  } else if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    const auto v = parse_uint(epoch, UINT64_MAX);
    if (!v) throw UsageError{std::string("SOURCE_DATE_EPOCH '") + epoch + "': expected Unix seconds"};
    m.build_time = *v;
  } else {
    m.build_time = static_cast<std::uint64_t>(std::time(nullptr));
  }

  const bool has_base = vm.count("delta-base") != 0;
  const bool has_patch = vm.count("patch") != 0;
  if (has_base != has_patch) throw UsageError{"a delta release needs both --delta-base and --patch"};

  const std::string key_path = vm["key"].as<std::string>();
  const auto key = agent::SigningKey::from_pem(
      read_text_file("private key", key_path, kMaxKeyFileBytes, vm.count("allow-open-key") == 0));
  if (!key) throw UsageError{"cannot use private key '" + key_path + "': " + key.error()};

  const InputFile image("image", vm["image"].as<std::string>());
  m.image_size = require_nonempty(image);
  m.image_sha256 = digest_of(image);

  std::optional<InputFile> base;
  std::optional<InputFile> patch;
  if (has_patch) {
    base.emplace("delta base image", vm["delta-base"].as<std::string>());
    patch.emplace("patch", vm["patch"].as<std::string>());
    require_nonempty(*base);
    agent::DeltaInfo delta;
    delta.base_sha256 = digest_of(*base);
    delta.patch_size = require_nonempty(*patch);
    delta.patch_sha256 = digest_of(*patch);
    check_patch_header(*patch, *base, delta.base_sha256, image, m.image_sha256);
    m.delta = delta;
  }

  const auto envelope = agent::sign_manifest(m, key.value());
  if (!envelope) throw UsageError{"signing failed: " + envelope.error()};
  if (has_patch) confirm_delta(envelope.value(), key.value(), m, *patch, *base, image);

  AtomicFile out(vm["out"].as<std::string>(), 0644);
  out.write(envelope.value());
  out.commit(vm.count("force") > 0);
  std::cout << "signed manifest: " << out.path() << " (" << envelope.value().size() << " bytes: "
            << m.encoded_size() << "-byte manifest + " << agent::kSignatureSize << "-byte signature)\n"
            << "key id: " << to_hex(key.value().key_id()) << "\n";
  return kExitOk;
}

// ---- verify -----------------------------------------------------------------

void print_manifest(const agent::Manifest& m, const agent::KeyStore& keys) {
  std::cout << "format_version: " << int{m.format_version} << "\n"
            << "firmware_version: " << m.version.major << "." << m.version.minor << "." << m.version.patch << "\n"
            << "security_counter: " << m.security_counter << "\n"
            << "hardware_ids:";
  for (std::uint32_t id : m.compatible_hardware()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, " 0x%08x", id);
    std::cout << buf;
  }
  std::cout << "\n"
            << "image_size: " << m.image_size << "\n"
            << "image_sha256: " << to_hex(m.image_sha256) << "\n";
  if (m.delta) {
    std::cout << "delta: yes\n"
              << "delta_base_sha256: " << to_hex(m.delta->base_sha256) << "\n"
              << "delta_patch_size: " << m.delta->patch_size << "\n"
              << "delta_patch_sha256: " << to_hex(m.delta->patch_sha256) << "\n";
  } else {
    std::cout << "delta: no (full image)\n";
  }
  const bool commit_known = std::any_of(m.source_commit.begin(), m.source_commit.end(), [](auto b) { return b != 0; });
  std::cout << "source_commit: " << (commit_known ? to_hex(m.source_commit) : std::string("unknown")) << "\n"
            << "build_time: " << format_time(m.build_time) << "\n"
            << "key_id: " << to_hex(m.key_id);
  if (keys.is_revoked(m.key_id))
    std::cout << " (revoked)";
  else if (keys.find_trusted(m.key_id))
    std::cout << " (trusted)";
  else
    std::cout << " (not trusted)";
  std::cout << "\n";
}

std::string hex_value(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

int report(agent::Verdict v, const std::string& detail = {}) {
  if (v == agent::Verdict::Accepted) {
    std::cout << "verdict: ACCEPTED\n";
    return kExitOk;
  }
  std::cout << "verdict: REJECTED: " << agent::to_string(v);
  if (!detail.empty()) std::cout << " (" << detail << ")";
  std::cout << "\n";
  return kExitRejected;
}

int run_verify(int argc, char** argv) {
  po::options_description options("otasign verify");
  options.add_options()("help,h", "show this help")("manifest", po::value<std::string>()->required(),
                                                    "signed manifest file (from 'otasign sign')")(
      "trusted-key", po::value<std::vector<std::string>>()->required(),
      "trusted public key file (PEM); repeat for key rotation")(
      "revoked-key-id", po::value<std::vector<std::string>>(), "revoked key id, 16 hex digits; repeatable")(
      "hardware-id", po::value<std::string>()->required(), "the device's hardware id")(
      "min-security-counter", po::value<std::string>()->required(), "the device's minimum security counter")(
      "slot-size", po::value<std::string>()->required(), "bytes available in the target slot (K/M suffix allowed)")(
      "image", po::value<std::string>(),
      "the full image (required unless the manifest is a delta; for a delta, checked too when given)")(
      "patch", po::value<std::string>(), "for a delta manifest: the patch file")(
      "running-image", po::value<std::string>(), "for a delta manifest: the device's running image");
  const po::variables_map vm = parse_options("verify", argc, argv, options);
  if (vm.count("help")) {
    print_help(
        "otasign verify --manifest FILE --trusted-key PUB... [--revoked-key-id HEX16...] --hardware-id ID\n"
        "                      --min-security-counter N --slot-size BYTES [--image IMG]\n"
        "                      [--patch PATCH --running-image IMG]",
        options);
    return kExitOk;
  }

  agent::DeviceFacts device;
  device.hardware_id = require_u32("hardware-id", vm["hardware-id"].as<std::string>());
  device.min_security_counter = require_u32("min-security-counter", vm["min-security-counter"].as<std::string>());
  device.slot_size = require_size("slot-size", vm["slot-size"].as<std::string>());

  agent::KeyStore keys;
  for (const std::string& path : vm["trusted-key"].as<std::vector<std::string>>()) {
    const auto key = agent::parse_public_key_pem(read_text_file("trusted key", path, kMaxKeyFileBytes));
    if (!key) throw UsageError{"cannot use trusted key '" + path + "': " + key.error()};
    const agent::KeyStoreStatus s = keys.trust(key.value());
    if (s != agent::KeyStoreStatus::Ok && s != agent::KeyStoreStatus::AlreadyPresent)
      throw UsageError{"cannot trust key '" + path + "': " + std::string(agent::to_string(s))};
  }
  if (vm.count("revoked-key-id")) {
    for (const std::string& text : vm["revoked-key-id"].as<std::vector<std::string>>()) {
      const auto bytes = from_hex(text);
      agent::KeyId id{};
      if (!bytes || bytes->size() != id.size())
        throw UsageError{"--revoked-key-id '" + text + "': expected a key id, 16 hex digits"};
      std::copy(bytes->begin(), bytes->end(), id.begin());
      const agent::KeyStoreStatus s = keys.revoke(id);
      if (s == agent::KeyStoreStatus::Full)
        throw UsageError{"--revoked-key-id: more than " + std::to_string(agent::KeyStore::kMaxRevokedKeys) +
                         " revoked ids"};
    }
  }

  const std::string manifest_path = vm["manifest"].as<std::string>();
  const std::vector<std::uint8_t> envelope = read_file("signed manifest", manifest_path, kMaxManifestFileBytes);

  // Which payload files are needed depends on the manifest; ask for them
  // before any verdict so that a missing flag is never mistaken for a result.
  // (A manifest that does not parse needs none: it is refused as BadFormat.)
  const agent::SignedManifestView peek = agent::split_signed_manifest(envelope);
  const agent::ManifestParse peeked = peek.ok() ? agent::parse_manifest(peek.manifest) : agent::ManifestParse{};
  if (peeked.ok()) {
    if (peeked.manifest.delta) {
      if (!vm.count("patch") || !vm.count("running-image"))
        throw UsageError{"the manifest describes a delta: --patch and --running-image are required"};
    } else if (!vm.count("image")) {
      throw UsageError{"the manifest describes a full image: --image is required"};
    }
  }
  std::optional<InputFile> image;
  std::optional<InputFile> patch;
  std::optional<InputFile> running;
  if (vm.count("image")) image.emplace("image", vm["image"].as<std::string>());
  if (vm.count("patch")) patch.emplace("patch", vm["patch"].as<std::string>());
  if (vm.count("running-image")) running.emplace("running image", vm["running-image"].as<std::string>());
  const bool delta = peeked.ok() && peeked.manifest.delta.has_value();
  const InputFile* payload = delta ? (patch ? &*patch : nullptr) : (image ? &*image : nullptr);
  const InputFile* running_image = running ? &*running : nullptr;
  const InputFile* new_image = delta && image ? &*image : nullptr;

  // One call into the agent: the same function the tests run over every
  // single-byte change of manifest, signature and inputs.
  agent::Verifier verifier(keys);
  const agent::ArtifactVerification v = agent::verify_artifact_streaming(
      verifier, envelope, agent::ArtifactSources{payload, running_image, new_image}, device);

  std::cout << "signed_manifest: " << manifest_path << " (" << envelope.size() << " bytes)\n";
  if (!v.parse.ok()) {
    return report(agent::Verdict::BadFormat, std::string(agent::to_string(v.parse.error)) + ": " +
                                                 std::string(v.parse.field) + " at byte " +
                                                 std::to_string(v.parse.offset) + " is " +
                                                 std::to_string(v.parse.value) + " (" + hex_value(v.parse.value) +
                                                 ")");
  }
  const agent::Manifest& m = v.parse.manifest;
  print_manifest(m, keys);
  const agent::SignedManifestView parts = agent::split_signed_manifest(envelope);
  std::cout << "signature: " << to_hex(parts.signature) << "\n";
  std::cout << "device: hardware_id=0x" << std::hex << device.hardware_id << std::dec
            << " min_security_counter=" << device.min_security_counter << " slot_size=" << device.slot_size << "\n";

  if (v.read_status != agent::FlashStatus::Ok) {
    if (const InputFile* f = file_of(v.part, payload, running_image, new_image)) f->read_failed(v.read_status);
    throw UsageError{"cannot read the " + std::string(agent::to_string(v.part)) + ": " +
                     std::string(agent::to_string(v.read_status))};
  }
  std::string detail;
  switch (v.verdict) {
    case agent::Verdict::Downgrade:
      detail = "manifest " + std::to_string(m.security_counter) + " < device minimum " +
               std::to_string(device.min_security_counter);
      break;
    case agent::Verdict::TooLarge:
      detail = "image " + std::to_string(m.image_size) + " B > slot " + std::to_string(device.slot_size) + " B";
      break;
    case agent::Verdict::DigestMismatch:
    case agent::Verdict::DeltaBaseMismatch: detail = rejection_detail(v); break;
    default: break;
  }
  return report(v.verdict, detail);
}

// ---- delta ------------------------------------------------------------------

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
  const po::variables_map vm = parse_options("delta", argc, argv, options, &positional);
  if (vm.count("help")) {
    print_help("otasign delta OLD NEW --out PATCH [--dict-log2 N] [--fast]", options);
    return kExitOk;
  }
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
  AtomicFile file(out, 0644);
  file.write(patch);
  file.commit();
  std::cout << "patch: " << out << " (" << patch.size() << " bytes; old " << old_image.size() << " B -> new "
            << new_image.size() << " B)\n";
  return kExitOk;
}

// ---- main -------------------------------------------------------------------

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
