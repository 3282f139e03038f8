#include "ota/models/report/report.hpp"
#include "ota/models/report/report_fields.hpp"
#include "ota/version.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "ota/agent/sha256.hpp"

namespace ota::models {

namespace {

using Json = nlohmann::ordered_json;

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// One field of report_fields.hpp as JSON.
template <class F>
Json field_json(const F& f) {
  if constexpr (std::is_same_v<F, std::optional<double>>) {
    return opt(f);
  } else if constexpr (std::is_same_v<F, std::vector<LinkTotals>>) {
    Json links = Json::array();
    for (const LinkTotals& l : f) {
      Json e;
      visit_link(l, [&](std::string_view name, const auto& x, const FieldInfo&) { e[std::string(name)] = x; });
      links.push_back(std::move(e));
    }
    return links;
  } else {
    return Json(f);
  }
}

Json totals_json(const Totals& t) {
  Json j;
  visit_totals(t, [&](std::string_view name, const auto& f, const FieldInfo&) { j[std::string(name)] = field_json(f); });
  return j;
}

Json rollout_json(const RolloutSummary& r) {
  Json j;
  j["state"] = r.state;
  j["stages_opened"] = r.stages_opened;
  j["stopped_at_s"] = opt(r.stopped_at_s);
  Json events = Json::array();
  for (const RolloutEvent& e : r.events) {
    Json x;
    x["t_s"] = e.t_s;
    x["stage"] = e.stage;
    x["kind"] = e.kind;
    x["reason"] = e.reason;
    x["offered"] = e.offered;
    x["reports"] = e.reports;
    x["failures"] = e.failures;
    x["rollbacks"] = e.rollbacks;
    x["crashes"] = e.crashes;
    x["exposure_days"] = e.exposure_days;
    events.push_back(std::move(x));
  }
  j["events"] = std::move(events);
  return j;
}

// A series column: its name and its cell in row i.
struct Column {
  std::string_view name;
  std::function<std::string(std::size_t)> cell;
};

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

std::vector<Column> columns(const Series& s) {
  std::vector<Column> out;
  visit_series(s, [&](std::string_view name, const auto& v, const FieldInfo&) {
    if constexpr (IsVector<std::remove_cvref_t<decltype(v)>>::value)
      out.push_back(Column{name, [&v](std::size_t i) {
                             std::ostringstream os;
                             os.precision(10);
                             os << v[i];
                             return os.str();
                           }});
  });
  return out;
}

}  // namespace

namespace {
bool& file_output_enabled() {
  static bool enabled = true;
  return enabled;
}
}  // namespace

void set_file_output_enabled(bool enabled) { file_output_enabled() = enabled; }

std::string write_file_atomically(const std::string& path_text, std::string_view text,
                                  const AtomicWriteOptions& options) {
  if (!file_output_enabled()) return {};
  const std::filesystem::path path(path_text);
  const std::string failed = "cannot write '" + path_text + "': ";
  // O_EXCL and a name of its own: never a file another writer (or a link) put there.
  static std::atomic<unsigned> serial{0};
  const std::string stem = (path.parent_path() / ("." + path.filename().string() + ".tmp.")).string() +
                           std::to_string(::getpid()) + ".";
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = stem + std::to_string(serial++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode.value_or(0666));
    if (fd < 0 && (errno != EEXIST || attempt == 100)) return failed + std::strerror(errno);
  }
  bool ok = !options.mode || ::fchmod(fd, *options.mode) == 0;  // exactly, not less the umask
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = ENOSPC;
    if (n <= 0) ok = false;
    else done += static_cast<std::size_t>(n);
  }
  if (ok && options.sync) ok = ::fsync(fd) == 0;
  int error = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) error = errno;
  // link(2) fails with EEXIST atomically, where a rename would replace.
  if (error == 0 && (options.replace ? ::rename(tmp.c_str(), path_text.c_str())
                                     : ::link(tmp.c_str(), path_text.c_str())) != 0)
    error = errno;
  if (error != 0 || !options.replace) ::unlink(tmp.c_str());
  if (error == 0) return {};
  if (error == EEXIST && !options.replace) return "'" + path_text + "' already exists";
  return failed + std::strerror(error);
}

std::string report_json(const RunReport& r, bool with_timing) {
  Json j;
  j["scenario"] = r.scenario;
  Json rel;
  rel["image_bytes"] = r.release.image_bytes;
  rel["patch_bytes"] = r.release.patch_bytes;
  rel["payload_bytes"] = r.release.payload_bytes;
  rel["delta_from_images"] = r.release.delta_from_images;
  j["release"] = std::move(rel);
  j["totals"] = totals_json(r.totals);
  j["rollout"] = rollout_json(r.rollout);
  Json series;
  visit_series(r.series, [&](std::string_view name, const auto& f, const FieldInfo&) { series[std::string(name)] = Json(f); });
  j["series"] = std::move(series);
  Json run;
  run["version"] = ota::build_version();  // the build that produced the report
  run["seed"] = r.run.seed;
  run["events"] = r.run.events;
  run["status"] = r.run.status;
  run["bytes_per_device"] = r.run.bytes_per_device;
  if (with_timing) {
    run["wall_s"] = r.run.wall_s;
    run["peak_rss_bytes"] = r.run.peak_rss_bytes;
  }
  j["run"] = std::move(run);
  return j.dump(2) + "\n";
}

std::string series_csv(const Series& s) {
  const auto cols = columns(s);
  std::string out;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (c) out += ',';
    out += cols[c].name;
  }
  out += '\n';
  for (std::size_t i = 0; i < s.t_s.size(); ++i) {
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) out += ',';
      out += cols[c].cell(i);
    }
    out += '\n';
  }
  return out;
}

std::string OutputDirLock::acquire(const std::string& dir) {
  if (!file_output_enabled()) return {};
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status))
    return "--out '" + dir + "' is not a directory";
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create output directory '" + dir + "': " + ec.message();
  lock_ = (std::filesystem::path(dir) / ".otasim.lock").string();
  fd_ = ::open(lock_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return "cannot write in output directory '" + dir + "': " + std::strerror(errno);
  const auto busy = [&] { return "another run is writing its results to '" + dir + "' (it holds " + lock_ + ")"; };
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) return busy();
    return "cannot lock output directory '" + dir + "': " + std::strerror(err);
  }
  // The holder removes the lock file when it finishes: a lock taken on a file
  // that was removed meanwhile is no lock (another run may hold a new one).
  struct stat held {}, now {};
  if (::fstat(fd_, &held) != 0 || ::stat(lock_.c_str(), &now) != 0 || held.st_ino != now.st_ino ||
      held.st_dev != now.st_dev) {
    ::close(fd_);
    fd_ = -1;
    return busy();
  }
  return {};
}

OutputDirLock::~OutputDirLock() {
  if (fd_ < 0) return;
  ::unlink(lock_.c_str());  // while still held: nobody can lock the removed file in between
  ::close(fd_);
}

std::vector<OutputFile> report_files(const RunReport& report) {
  // report.json last: it goes into place after everything else.
  return {{"series.csv", series_csv(report.series)}, {"report.json", report_json(report)}};
}

namespace {

std::function<void(const std::string&)>& rename_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

std::string sha256_hex(const std::string& text) {
  const agent::Digest d =
      agent::Sha256::of({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A name a manifest may list: a plain file name in the directory itself.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos && name != kResultManifest;
}

// The file names the manifest in `dir` lists (empty when there is none or it
// cannot be read: then nothing of the previous set is removed).
std::vector<std::string> manifest_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::ifstream in(dir / kResultManifest, std::ios::binary);
  if (!in) return names;
  const Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) return names;
  for (const Json& f : j["files"])
    if (f.is_object() && f.contains("name") && f["name"].is_string()) {
      const auto name = f["name"].get<std::string>();
      if (plain_file_name(name)) names.push_back(name);
    }
  return names;
}

std::string manifest_text(const std::vector<OutputFile>& files, const ResultIdentity& id) {
  Json j;
  j["format"] = "otasim-results/1";
  j["scenario"] = id.scenario;
  j["seed"] = id.seed;
  j["replications"] = id.replications;
  Json list = Json::array();
  for (const OutputFile& f : files) {
    Json e;
    e["name"] = f.name;
    e["bytes"] = f.text.size();
    e["sha256"] = sha256_hex(f.text);
    list.push_back(std::move(e));
  }
  j["files"] = std::move(list);
  return j.dump(2) + "\n";
}

}  // namespace

void set_result_rename_hook(std::function<void(const std::string&)> hook) { rename_hook() = std::move(hook); }

std::string write_result_files(const std::string& dir, const std::vector<OutputFile>& files,
                               const ResultIdentity& identity) {
  if (!file_output_enabled()) return {};
  for (const OutputFile& f : files)
    if (!plain_file_name(f.name)) throw std::logic_error("write_result_files: not a plain file name: " + f.name);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create output directory '" + dir + "': " + ec.message();
  const std::filesystem::path d(dir);
  std::vector<OutputFile> all = files;
  all.push_back({kResultManifest, manifest_text(files, identity)});
  std::vector<std::filesystem::path> staged;
  const auto discard = [&staged] {
    std::error_code ignored;
    for (const auto& p : staged) std::filesystem::remove(p, ignored);
  };
  // 1. Every file and the manifest to its temporary name; nothing in place is
  //    touched yet.
  for (const OutputFile& f : all) {
    const std::filesystem::path tmp = d / ("." + f.name + ".tmp");
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) staged.push_back(tmp);
    out << f.text;
    out.flush();
    if (!out) {
      discard();
      return "cannot write '" + tmp.string() + "' (the previous results in '" + dir + "' are kept)";
    }
  }
  // 2. The previous set is no longer whole from here on: its manifest goes.
  const std::vector<std::string> previous = manifest_names(d);
  std::filesystem::remove(d / kResultManifest, ec);
  if (ec) {
    discard();
    return "cannot replace '" + (d / kResultManifest).string() + "': " + ec.message() +
           " (the previous results in '" + dir + "' are kept)";
  }
  // 3. The files into place; then what only the previous set had goes; 4. the
  //    manifest last.
  const auto place = [&](std::size_t i) -> std::string {
    std::filesystem::rename(staged[i], d / all[i].name, ec);
    if (ec) {
      const std::string err = "cannot write '" + (d / all[i].name).string() + "': " + ec.message();
      staged.erase(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(i));
      discard();
      return err;
    }
    if (rename_hook()) rename_hook()(all[i].name);
    return {};
  };
  for (std::size_t i = 0; i + 1 < all.size(); ++i)
    if (std::string err = place(i); !err.empty()) return err;
  for (const std::string& name : previous) {
    const bool kept = std::any_of(files.begin(), files.end(), [&](const OutputFile& f) { return f.name == name; });
    if (kept) continue;
    std::filesystem::remove(d / name, ec);
    if (ec) {
      std::error_code ignored;
      std::filesystem::remove(staged.back(), ignored);
      return "cannot remove '" + (d / name).string() + "' of the previous results: " + ec.message();
    }
  }
  return place(all.size() - 1);
}

std::string verify_result_files(const std::string& dir) {
  const std::filesystem::path d(dir);
  const std::filesystem::path manifest = d / kResultManifest;
  std::ifstream in(manifest, std::ios::binary);
  if (!in) return "'" + dir + "' holds no whole result set: no " + std::string(kResultManifest);
  const Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", "") != "otasim-results/1" || !j.contains("files") || !j["files"].is_array())
    return "'" + manifest.string() + "' is not an otasim result-set manifest";
  for (const Json& f : j["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("sha256") ||
        !f["sha256"].is_string() || !f.contains("bytes") || !f["bytes"].is_number_unsigned())
      return "'" + manifest.string() + "' has a malformed file entry";
    const auto name = f["name"].get<std::string>();
    if (!plain_file_name(name)) return "'" + manifest.string() + "' names '" + name + "', not a file of the set";
    std::ifstream file(d / name, std::ios::binary);
    if (!file) return "'" + (d / name).string() + "' of the result set is missing";
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (text.size() != f["bytes"].get<std::uint64_t>() || sha256_hex(text) != f["sha256"].get<std::string>())
      return "'" + (d / name).string() + "' is not the file the result set's manifest names (another run wrote it)";
  }
  return {};
}

std::string write_report_files(const RunReport& report, const std::string& dir) {
  if (!file_output_enabled()) return {};
  return write_result_files(dir, report_files(report), ResultIdentity{report.scenario, report.run.seed, 1});
}

}  // namespace ota::models
