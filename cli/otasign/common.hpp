// common.hpp — what every otasign command shares: exit statuses, the usage
// error, number and option parsing, bounded input files and the one way an
// output file is written (models::write_file_atomically).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "ota/agent/artifact_verifier.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"

namespace ota::otasign {

namespace po = boost::program_options;
namespace agent = ota::agent;

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;

// A failure that ends the command with exit status 2 and `message` on stderr.
struct UsageError {
  std::string message;
};

// The commands: argv[0] is the command's name.
int run_keygen(int argc, char** argv);
int run_sign(int argc, char** argv);
int run_verify(int argc, char** argv);
int run_delta(int argc, char** argv);

// ---- text -------------------------------------------------------------------

std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);
// Decimal, or hexadecimal with a 0x prefix; at most `max`.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max);
std::uint32_t require_u32(const std::string& flag, const std::string& text);
std::uint64_t require_u64(const std::string& flag, const std::string& text);

// ---- options ----------------------------------------------------------------

// Parses a command's options; a parse error or a missing required option is a
// UsageError pointing at 'otasign COMMAND --help'. Under --help, prints the
// synopsis and the options instead and returns nothing (the command exits 0).
std::optional<po::variables_map> parse_options(const char* command, const char* synopsis, int argc, char** argv,
                                               const po::options_description& options,
                                               const po::positional_options_description* positional = nullptr);

// ---- input files ------------------------------------------------------------

// Inputs read whole are regular files of bounded size, checked before
// reading: a device, a pipe or a directory is refused, and so is a file larger
// than any valid input of its kind (no read grows without bound).
inline constexpr std::uint64_t kMaxKeyFileBytes = 64 * 1024;        // a PEM key is a few hundred bytes
inline constexpr std::uint64_t kMaxManifestFileBytes = 64 * 1024;   // a signed manifest is at most a few hundred
inline constexpr std::uint64_t kMaxImageFileBytes = 0xffffffffULL;  // images and patches: 32-bit sizes

// The whole of file `path`, called `what` in errors ("cannot read WHAT
// 'PATH': why"). `owner_only`: a private key, refused when group or others may
// read or write it (as ssh refuses such a key), unless the user allowed it.
std::vector<std::uint8_t> read_file(const std::string& what, const std::string& path, std::uint64_t max_bytes,
                                    bool owner_only = false);
std::string read_text_file(const std::string& what, const std::string& path, std::uint64_t max_bytes,
                           bool owner_only = false);

// An input file (image, patch, running image) as the agent reads it: a
// read-only FlashArea over the file, read with pread in the agent's bounded
// chunks, so no input is ever held whole in memory. Any size below 4 GiB,
// empty included.
class InputFile final : public agent::FlashArea {
 public:
  InputFile(std::string what, std::string path);
  ~InputFile() override;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint32_t size() const override { return size_; }
  std::uint32_t sector_size() const override { return 1; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xFF; }
  agent::FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override;
  agent::FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override {
    return agent::FlashStatus::IoError;
  }
  agent::FlashStatus erase_sector(std::uint32_t) override { return agent::FlashStatus::IoError; }

  const std::string& what() const { return what_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void read_failed(agent::FlashStatus s) const;

 private:
  [[noreturn]] void fail(const char* doing);
  std::string what_;
  std::string path_;
  int fd_ = -1;
  std::uint32_t size_ = 0;
};

// SHA-256 of a whole input file, streamed through the agent.
agent::Digest digest_of(const InputFile& file);

// ---- artifacts (sign checks a delta as verify does) -------------------------

// Which input file an artifact part was read from.
const InputFile* file_of(agent::ArtifactPart part, const InputFile* payload, const InputFile* running,
                         const InputFile* new_image);
// What a rejected artifact verification is about, in words.
std::string rejection_detail(const agent::ArtifactVerification& v);

// ---- output files -----------------------------------------------------------

// Refuses an output path that names no file (empty, or ending in '/').
void require_file_name(const std::string& path);

// Writes `bytes` to `path` with permission bits `mode` through
// models::write_file_atomically (a temporary file beside it, flushed to the
// disk and moved into place), so a failure never leaves a partial file. With
// `replace` false an existing file is never overwritten, not even one created
// since the caller last looked.
void write_output(const std::string& path, std::string_view bytes, ::mode_t mode, bool replace = true);
void write_output(const std::string& path, std::span<const std::uint8_t> bytes, ::mode_t mode, bool replace = true);

}  // namespace ota::otasign
