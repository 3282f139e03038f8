// common.cpp — what every otasign command shares (see common.hpp).
#include "common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "ota/agent/sha256.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/models/report/report.hpp"

namespace ota::otasign {

// ---- text -------------------------------------------------------------------

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

// ---- options ----------------------------------------------------------------

std::optional<po::variables_map> parse_options(const char* command, const char* synopsis, int argc, char** argv,
                                               const po::options_description& options,
                                               const po::positional_options_description* positional) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << synopsis << "\n\n" << options << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{std::string(e.what()) + "\n(see 'otasign " + command + " --help')"};
  }
  return vm;
}

// ---- input files ------------------------------------------------------------

std::vector<std::uint8_t> read_file(const std::string& what, const std::string& path, std::uint64_t max_bytes,
                                    bool owner_only) {
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
                           bool owner_only) {
  const std::vector<std::uint8_t> bytes = read_file(what, path, max_bytes, owner_only);
  return std::string(bytes.begin(), bytes.end());
}

InputFile::InputFile(std::string what, std::string path) : what_(std::move(what)), path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot read");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot read");
  if (!S_ISREG(st.st_mode)) throw UsageError{"cannot read " + what_ + " '" + path_ + "': not a regular file"};
  if (static_cast<std::uint64_t>(st.st_size) > UINT32_MAX)
    throw UsageError{what_ + " '" + path_ + "' is larger than 4 GiB"};
  size_ = static_cast<std::uint32_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

agent::FlashStatus InputFile::read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) return agent::FlashStatus::OutOfBounds;
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return agent::FlashStatus::IoError;  // an error, or the file shrank behind our back
    done += static_cast<std::size_t>(n);
  }
  return agent::FlashStatus::Ok;
}

void InputFile::read_failed(agent::FlashStatus s) const {
  throw UsageError{"cannot read " + what_ + " '" + path_ + "': " + std::string(agent::to_string(s))};
}

void InputFile::fail(const char* doing) {
  throw UsageError{std::string(doing) + " " + what_ + " '" + path_ + "': " + std::strerror(errno)};
}

agent::Digest digest_of(const InputFile& file) {
  agent::Sha256 hash;
  const agent::FlashStatus s = agent::hash_area(file, hash);
  if (s != agent::FlashStatus::Ok) file.read_failed(s);
  const agent::Digest d = hash.finish();
  if (!hash.ok()) throw UsageError{"hashing " + file.what() + " '" + file.path() + "' failed (mbedTLS)"};
  return d;
}

// ---- artifacts --------------------------------------------------------------

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

// ---- output files -----------------------------------------------------------

void require_file_name(const std::string& path) {
  if (path.empty() || path.back() == '/')
    throw UsageError{"output path '" + path + "' names a directory, not a file"};
}

void write_output(const std::string& path, std::string_view bytes, ::mode_t mode, bool replace) {
  require_file_name(path);
  models::AtomicWriteOptions how;
  how.mode = mode;
  how.replace = replace;
  how.sync = true;
  std::string error = models::write_file_atomically(path, bytes, how);
  if (error.empty()) return;
  if (!replace && error == "'" + path + "' already exists") error += " (use --force to replace it)";
  throw UsageError{error};
}

void write_output(const std::string& path, std::span<const std::uint8_t> bytes, ::mode_t mode, bool replace) {
  write_output(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), mode, replace);
}

}  // namespace ota::otasign
