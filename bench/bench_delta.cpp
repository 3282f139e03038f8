// otasim-bench delta — patch sizes and apply cost of our delta format against
// the tools a release engineer would otherwise use, on every consecutive pair
// of real firmware images, measured in one run.
//
// For each pair it prints: our patch size, encode and apply time, the
// applier's fixed RAM (sizeof(DeltaApplier)) and the decoder arena it used, the
// same record stream compressed with zstd instead of LZMA2 (why we use LZMA2),
// and the patch sizes of Debian's `bsdiff`, `zstd -19 --long=21 --patch-from`
// and `xdelta3 -9 -e -s`, each run as an external command when it is on PATH.
//
// --apply-only PATCH --old OLD applies one patch and nothing else (the old
// image read through pread, the output only hashed), for measuring the
// apply's real peak memory under valgrind massif or heaptrack.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <zstd.h>

#include "bench_registry.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/delta_encoder.hpp"
#include "ota/agent/sha256.hpp"

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace ota::agent;
using Bytes = std::vector<std::uint8_t>;

Bytes load(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

void save(const fs::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

// The old image as the device sees it: a read-only area.
class MemoryArea final : public FlashArea {
 public:
  explicit MemoryArea(const Bytes& image) : image_(image) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(image_.size()); }
  std::uint32_t sector_size() const override { return 4096; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xff; }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > image_.size() || out.size() > image_.size() - offset) return FlashStatus::OutOfBounds;
    std::copy_n(image_.begin() + offset, out.size(), out.begin());
    return FlashStatus::Ok;
  }
  FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override { return FlashStatus::IoError; }
  FlashStatus erase_sector(std::uint32_t) override { return FlashStatus::IoError; }

 private:
  const Bytes& image_;
};

// The old image read from a file with pread, so --apply-only holds no copy of it.
class FileArea final : public FlashArea {
 public:
  explicit FileArea(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path);
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > UINT32_MAX) {
      ::close(fd_);  // the destructor does not run for a constructor that throws
      throw std::runtime_error("cannot use " + path + " as an image (stat failed or 4 GiB or more)");
    }
    size_ = static_cast<std::uint32_t>(st.st_size);
  }
  ~FileArea() override { ::close(fd_); }
  FileArea(const FileArea&) = delete;
  FileArea& operator=(const FileArea&) = delete;
  std::uint32_t size() const override { return size_; }
  std::uint32_t sector_size() const override { return 4096; }
  std::uint32_t write_alignment() const override { return 1; }
  std::uint8_t erased_value() const override { return 0xff; }
  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override {
    if (offset > size_ || out.size() > size_ - offset) return FlashStatus::OutOfBounds;
    const ssize_t got = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    return got == static_cast<ssize_t>(out.size()) ? FlashStatus::Ok : FlashStatus::IoError;
  }
  FlashStatus write(std::uint32_t, std::span<const std::uint8_t>) override { return FlashStatus::IoError; }
  FlashStatus erase_sector(std::uint32_t) override { return FlashStatus::IoError; }

 private:
  int fd_;
  std::uint32_t size_ = 0;
};

class HashingSink final : public ByteSink {
 public:
  bool write(std::span<const std::uint8_t> bytes) override {
    hash_.update(bytes);
    total_ += bytes.size();
    return true;
  }
  std::uint64_t total() const { return total_; }
  // True when the output was exactly `image` (size and SHA-256). Call once.
  bool built(std::span<const std::uint8_t> image) {
    return total_ == image.size() && hash_.finish_equals(Sha256::of(image));
  }

 private:
  Sha256 hash_;
  std::uint64_t total_ = 0;
};

struct ApplyRun {
  DeltaStatus status = DeltaStatus::Ok;
  double seconds = 0;
  std::size_t arena_used = 0;
  // The output is the expected new image (set when one was given and the apply succeeded).
  std::optional<bool> built_new_image;
};

// Applies `patch` to `old_area`; when `new_image` is given, also checks the
// output against it (the applier's own check is against the patch header,
// which the patch itself supplies).
ApplyRun apply_timed(const Bytes& patch, const FlashArea& old_area,
                     std::optional<std::span<const std::uint8_t>> new_image) {
  HashingSink sink;
  auto applier = std::make_unique<DeltaApplier>(old_area, sink);
  const auto t0 = std::chrono::steady_clock::now();
  ApplyRun r;
  // Feed as a modem would deliver it: 1 KiB at a time.
  for (std::size_t at = 0; at < patch.size() && r.status == DeltaStatus::Ok; at += 1024)
    r.status = applier->feed(std::span(patch).subspan(at, std::min<std::size_t>(1024, patch.size() - at)));
  if (r.status == DeltaStatus::Ok) r.status = applier->finish();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.arena_used = applier->decoder_arena_used();
  if (new_image && r.status == DeltaStatus::Ok) r.built_new_image = sink.built(*new_image);
  return r;
}

// Ok and, when the new image was known, the output was that image.
bool apply_ok(const ApplyRun& r) { return r.status == DeltaStatus::Ok && r.built_new_image.value_or(true); }

std::string apply_outcome(const ApplyRun& r) {
  if (r.status != DeltaStatus::Ok) return std::string(to_string(r.status));
  if (r.built_new_image == false) return "output is not the new image";
  return "ok";
}

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::string quoted(const fs::path& p) {
  std::string s = "'";
  for (const char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

// Size of the patch an external tool writes; none when the tool is missing or fails.
std::optional<std::size_t> external_patch(const std::string& tool, const std::string& command, const fs::path& out) {
  if (!on_path(tool)) return std::nullopt;
  fs::remove(out);
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0 || !fs::exists(out)) return std::nullopt;
  return static_cast<std::size_t>(fs::file_size(out));
}

std::size_t zstd_size(const Bytes& data, int level, int window_log) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
  Bytes out(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  return n;
}

// The update order of each app's builds, from the firmware README's
// "Update order: a → b → c." line.
std::vector<std::string> update_order(const fs::path& dir) {
  std::ifstream f(dir / "README.md");
  std::string line;
  while (std::getline(f, line)) {
    const auto at = line.find("Update order:");
    if (at == std::string::npos) continue;
    std::vector<std::string> builds;
    std::string token;
    for (std::size_t i = at + 13; i <= line.size(); ++i) {
      const char c = i < line.size() ? line[i] : ' ';
      if (std::isalnum(static_cast<unsigned char>(c))) {
        token += c;
      } else if (!token.empty()) {
        builds.push_back(token);
        token.clear();
      }
    }
    return builds;
  }
  return {};
}

struct Pair {
  std::string app, from, to;
  fs::path old_path, new_path;
};

std::vector<Pair> firmware_pairs(const fs::path& dir, const std::vector<std::string>& order) {
  // Files are <platform>-<app>-<build>.bin; group by everything before the build.
  std::map<std::string, std::map<std::string, fs::path>> by_app;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    const std::string stem = entry.path().stem().string();
    const auto dash = stem.rfind('-');
    if (dash == std::string::npos) continue;
    by_app[stem.substr(0, dash)][stem.substr(dash + 1)] = entry.path();
  }
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i + 1 < order.size(); ++i)
    for (const auto& [app, builds] : by_app) {
      const auto a = builds.find(order[i]), b = builds.find(order[i + 1]);
      if (a != builds.end() && b != builds.end()) pairs.push_back({app, order[i], order[i + 1], a->second, b->second});
    }
  return pairs;
}

std::string fmt_size(std::optional<std::size_t> n) { return n ? std::to_string(*n) : "-"; }
std::string json_size(std::optional<std::size_t> n) { return n ? std::to_string(*n) : "null"; }

int run_apply_only(const std::string& patch_path, const std::string& old_path, const std::string& new_path,
                   bool json) {
  const Bytes patch = load(patch_path);
  const FileArea old_area(old_path);
  const Bytes new_image = new_path.empty() ? Bytes{} : load(new_path);
  const ApplyRun r = apply_timed(patch, old_area,
                                 new_path.empty() ? std::nullopt
                                                  : std::optional<std::span<const std::uint8_t>>(new_image));
  if (json)
    std::printf("{\"bench\":\"delta-apply\",\"status\":\"%s\",\"apply_s\":%.4f,\"applier_bytes\":%zu,\"arena_used\":%zu}\n",
                apply_outcome(r).c_str(), r.seconds, sizeof(DeltaApplier), r.arena_used);
  else
    std::printf("delta apply: %s in %.4f s, applier %zu bytes (decoder arena used %zu)\n", apply_outcome(r).c_str(),
                r.seconds, sizeof(DeltaApplier), r.arena_used);
  return apply_ok(r) ? 0 : 1;
}

int run_delta(int argc, char** argv) {
  po::options_description opts("otasim-bench delta [options]");
  std::string dir = std::string(OTA_SHARED_DIR) + "/firmware";
  std::string order_list, save_dir, apply_patch, apply_old, apply_new;
  int dict_log2 = kMaxDictLog2;
  opts.add_options()("help,h", "show options")("json", "one JSON line per pair")(
      "firmware", po::value(&dir), "directory of <platform>-<app>-<build>.bin images (default shared/firmware)")(
      "order", po::value(&order_list), "comma-separated build order (default: the README's 'Update order:' line)")(
      "dict-log2", po::value(&dict_log2), "LZMA2 dictionary 2^N bytes, 12..16 (default 16)")(
      "dict-sweep", "also print our patch size for every dictionary size 12..16")(
      "no-tools", "skip the external bsdiff / zstd / xdelta3 runs")(
      "save", po::value(&save_dir), "write our patches to this directory")(
      "apply-only", po::value(&apply_patch), "apply this patch only (with --old), for memory profiling")(
      "old", po::value(&apply_old), "the old image for --apply-only")(
      "new", po::value(&apply_new), "for --apply-only, optional: the new image the output must equal");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "otasim-bench delta: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  const bool json = vm.count("json") > 0;
  if (!apply_patch.empty()) {
    if (apply_old.empty()) {
      std::cerr << "otasim-bench delta: --apply-only needs --old\n";
      return 2;
    }
    return run_apply_only(apply_patch, apply_old, apply_new, json);
  }
  if (dict_log2 < kMinDictLog2 || dict_log2 > kMaxDictLog2) {
    std::cerr << "otasim-bench delta: --dict-log2 must be in 12..16, got " << dict_log2 << "\n";
    return 2;
  }
  std::vector<std::string> order;
  if (!order_list.empty()) {
    std::stringstream ss(order_list);
    for (std::string b; std::getline(ss, b, ',');) order.push_back(b);
  } else {
    order = update_order(dir);
  }
  if (order.size() < 2) {
    std::cerr << "otasim-bench delta: no build order (give --order a,b,c or a README.md with 'Update order:')\n";
    return 2;
  }
  const std::vector<Pair> pairs = firmware_pairs(dir, order);
  if (pairs.empty()) {
    std::cerr << "otasim-bench delta: no consecutive image pairs in " << dir << "\n";
    return 2;
  }

  const bool tools = vm.count("no-tools") == 0;
  char tmp_template[] = "/tmp/otasim-bench-delta-XXXXXX";
  if (::mkdtemp(tmp_template) == nullptr) {
    std::perror("otasim-bench delta: mkdtemp");
    return 1;
  }
  const fs::path tmp(tmp_template);
  if (!json)
    std::printf("%-34s %9s %9s %9s %9s %9s %7s %8s %8s %9s\n", "pair", "ours", "bsdiff", "zstd-pf", "xdelta3",
                "rec+zstd", "ours/bs", "enc s", "apply s", "ram B");

  int failures = 0;
  for (const Pair& p : pairs) {
    const Bytes old_image = load(p.old_path);
    const Bytes new_image = load(p.new_path);
    DeltaOptions options;
    options.dict_log2 = static_cast<std::uint8_t>(dict_log2);

    const auto t0 = std::chrono::steady_clock::now();
    const Bytes patch = encode_delta(old_image, new_image, options);
    const double encode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const MemoryArea old_area(old_image);
    const ApplyRun applied = apply_timed(patch, old_area, std::span<const std::uint8_t>(new_image));
    if (!apply_ok(applied)) ++failures;
    if (!save_dir.empty()) save(fs::path(save_dir) / (p.app + "-" + p.from + "-" + p.to + ".otad"), patch);

    // The same records through zstd with the same 64 KiB window: what the
    // entropy stage would cost with zstd instead of LZMA2.
    const std::size_t records_zstd = zstd_size(delta_records(old_image, new_image, options), 22, 16);

    std::optional<std::size_t> bsdiff, zstd_pf, xdelta;
    if (tools) {
      const fs::path o = p.old_path, n = p.new_path;
      bsdiff = external_patch("bsdiff", "bsdiff " + quoted(o) + " " + quoted(n) + " " + quoted(tmp / "p.bsdiff"),
                              tmp / "p.bsdiff");
      zstd_pf = external_patch("zstd",
                               "zstd -q -f -19 --long=21 --patch-from=" + quoted(o) + " " + quoted(n) + " -o " +
                                   quoted(tmp / "p.zst"),
                               tmp / "p.zst");
      xdelta = external_patch("xdelta3",
                              "xdelta3 -f -9 -e -s " + quoted(o) + " " + quoted(n) + " " + quoted(tmp / "p.xd3"),
                              tmp / "p.xd3");
    }
    const std::string name = p.app + " " + p.from + "->" + p.to;
    const double ratio = bsdiff ? static_cast<double>(patch.size()) / static_cast<double>(*bsdiff) : 0.0;
    if (json) {
      std::printf(
          "{\"bench\":\"delta\",\"pair\":\"%s\",\"old_bytes\":%zu,\"new_bytes\":%zu,\"ours_bytes\":%zu,"
          "\"dict_log2\":%d,\"encode_s\":%.3f,\"apply_s\":%.4f,\"apply_status\":\"%s\",\"applier_ram_bytes\":%zu,"
          "\"decoder_arena_used\":%zu,\"records_zstd22_w16_bytes\":%zu,\"bsdiff_bytes\":%s,"
          "\"zstd_patch_from_bytes\":%s,\"xdelta3_bytes\":%s,\"ours_over_bsdiff\":%s}\n",
          name.c_str(), old_image.size(), new_image.size(), patch.size(), dict_log2, encode_s, applied.seconds,
          apply_outcome(applied).c_str(), sizeof(DeltaApplier), applied.arena_used, records_zstd,
          json_size(bsdiff).c_str(), json_size(zstd_pf).c_str(), json_size(xdelta).c_str(),
          bsdiff ? std::to_string(ratio).c_str() : "null");
    } else {
      std::printf("%-34s %9zu %9s %9s %9s %9zu %7.3f %8.2f %8.4f %9zu%s\n", name.c_str(), patch.size(),
                  fmt_size(bsdiff).c_str(), fmt_size(zstd_pf).c_str(), fmt_size(xdelta).c_str(), records_zstd, ratio,
                  encode_s, applied.seconds, sizeof(DeltaApplier),
                  apply_ok(applied) ? "" : ("  APPLY FAILED: " + apply_outcome(applied)).c_str());
    }
    if (vm.count("dict-sweep")) {
      for (int d = kMinDictLog2; d <= kMaxDictLog2; ++d) {
        DeltaOptions o = options;
        o.dict_log2 = static_cast<std::uint8_t>(d);
        const std::size_t size = encode_delta(old_image, new_image, o).size();
        const std::size_t ram = sizeof(DeltaApplier) - DeltaApplier::kMaxDictBytes + (std::size_t{1} << d);
        if (json)
          std::printf("{\"bench\":\"delta-dict\",\"pair\":\"%s\",\"dict_log2\":%d,\"ours_bytes\":%zu,\"applier_ram_bytes\":%zu}\n",
                      name.c_str(), d, size, ram);
        else
          std::printf("  dictionary %3d KiB: %9zu bytes, applier RAM if sized for it %zu bytes\n", 1 << (d - 10), size,
                      ram);
      }
    }
    std::fflush(stdout);
  }
  fs::remove_all(tmp);
  return failures == 0 ? 0 : 1;
}

OTA_BENCH("delta", "delta patch size vs bsdiff / zstd patch-from / xdelta3 on shared/firmware pairs", run_delta);

}  // namespace
