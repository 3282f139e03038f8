#include "ota/models/report/report.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace ota::models {

namespace {

using Json = nlohmann::ordered_json;

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json totals_json(const Totals& t) {
  Json j;
  j["devices"] = t.devices;
  j["offered"] = t.offered;
  j["exposed"] = t.exposed;
  j["withdrawn"] = t.withdrawn;
  j["updated"] = t.updated;
  j["failed"] = t.failed;
  j["gave_up"] = t.gave_up;
  j["timed_out"] = t.timed_out;
  j["rolled_back"] = t.rolled_back;
  j["bricked"] = t.bricked;
  j["in_progress"] = t.in_progress;
  j["deferred_battery"] = t.deferred_battery;
  j["battery_blocked"] = t.battery_blocked;
  j["recovery_boots"] = t.recovery_boots;
  j["power_losses"] = t.power_losses;
  j["transfer_drops"] = t.transfer_drops;
  j["digest_rejections"] = t.digest_rejections;
  j["signature_rejections"] = t.signature_rejections;
  j["trial_boot_failures"] = t.trial_boot_failures;
  j["crashes"] = t.crashes;
  j["server_requests"] = t.server_requests;
  j["peak_requests_per_s"] = t.peak_requests_per_s;
  j["refused_requests"] = t.refused_requests;
  j["data_bytes"] = t.data_bytes;
  j["metered_bytes"] = t.metered_bytes;
  j["data_cost_usd"] = t.data_cost_usd;
  Json links = Json::array();
  for (const LinkTotals& l : t.by_link) {
    Json e;
    e["link"] = l.link;
    e["bytes"] = l.bytes;
    e["cost_usd"] = l.cost_usd;
    links.push_back(std::move(e));
  }
  j["by_link"] = std::move(links);
  j["server_egress_cost_usd"] = t.server_egress_cost_usd;
  j["cdn_cost_usd"] = t.cdn_cost_usd;
  j["origin_bytes"] = t.origin_bytes;
  j["edge_bytes"] = t.edge_bytes;
  j["peer_bytes"] = t.peer_bytes;
  j["cdn_fills"] = t.cdn_fills;
  j["learned_by_push"] = t.learned_by_push;
  j["learned_by_poll"] = t.learned_by_poll;
  j["push_delay_mean_s"] = opt(t.push_delay_mean_s);
  j["poll_delay_mean_s"] = opt(t.poll_delay_mean_s);
  j["p2p_seeds"] = t.p2p_seeds;
  j["p2p_fallbacks"] = t.p2p_fallbacks;
  j["p2p_malicious_peers"] = t.p2p_malicious_peers;
  j["p2p_rejected_transfers"] = t.p2p_rejected_transfers;
  j["p2p_wasted_bytes"] = t.p2p_wasted_bytes;
  j["p2p_wasted_energy_j"] = t.p2p_wasted_energy_j;
  for (const auto& [name, times] : {std::pair<const char*, const DeliveryTimes*>{"origin", &t.origin_times},
                                    {"edge", &t.edge_times},
                                    {"peer", &t.peer_times}}) {
    const std::string p(name);
    j[p + "_downloads"] = times->downloads;
    for (const auto& [what, d] : {std::pair<const char*, const DurationSummary*>{"wait", &times->wait},
                                  {"transfer", &times->transfer}}) {
      const std::string q = p + "_" + what + "_";
      j[q + "mean_s"] = d->mean_s;
      j[q + "p50_s"] = d->p50_s;
      j[q + "p95_s"] = d->p95_s;
      j[q + "p99_s"] = d->p99_s;
      j[q + "max_s"] = d->max_s;
    }
  }
  j["tampered_installs"] = t.tampered_installs;
  j["energy_j"] = t.energy_j;
  j["energy_mah"] = t.energy_mah;
  j["reverted"] = t.reverted;
  j["revert_refused"] = t.revert_refused;
  j["service_calls"] = t.service_calls;
  j["service_cost_usd"] = t.service_cost_usd;
  j["time_to_50pct_s"] = opt(t.time_to_50pct_s);
  j["time_to_90pct_s"] = opt(t.time_to_90pct_s);
  j["time_to_95pct_s"] = opt(t.time_to_95pct_s);
  j["time_to_99pct_s"] = opt(t.time_to_99pct_s);
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

struct Column {
  const char* name;
  std::function<std::string(std::size_t)> cell;
  std::function<Json()> all;
};

template <class T>
Column col(const char* name, const std::vector<T>& v) {
  return Column{name,
                [&v](std::size_t i) {
                  std::ostringstream os;
                  os.precision(10);
                  os << v[i];
                  return os.str();
                },
                [&v] { return Json(v); }};
}

std::vector<Column> columns(const Series& s) {
  return {col("t_s", s.t_s),
          col("offered", s.offered),
          col("on_old", s.on_old),
          col("on_new", s.on_new),
          col("on_none", s.on_none),
          col("idle", s.idle),
          col("waiting", s.waiting),
          col("downloading", s.downloading),
          col("installing", s.installing),
          col("rebooting", s.rebooting),
          col("updated", s.updated),
          col("rolled_back", s.rolled_back),
          col("bricked", s.bricked),
          col("refused", s.refused),
          col("battery_blocked", s.battery_blocked),
          col("downloads_in_flight_peak", s.downloads_in_flight_peak),
          col("queue_length_peak", s.queue_length_peak),
          col("requests_per_s", s.requests_per_s),
          col("bytes_per_s", s.bytes_per_s),
          col("failures", s.failures),
          col("rollbacks", s.rollbacks),
          col("bricks", s.bricks),
          col("battery_deferrals", s.battery_deferrals),
          col("updates", s.updates),
          col("crashes", s.crashes),
          col("wait_mean_s", s.wait_mean_s),
          col("transfers_active", s.transfers_active)};
}

}  // namespace

namespace {
bool& file_output_enabled() {
  static bool enabled = true;
  return enabled;
}
}  // namespace

void set_file_output_enabled(bool enabled) { file_output_enabled() = enabled; }

std::string write_file_atomically(const std::string& path_text, const std::string& text) {
  if (!file_output_enabled()) return {};
  const std::filesystem::path path(path_text);
  const auto tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return "cannot write '" + tmp.string() + "'";
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return "cannot write '" + path.string() + "': " + ec.message();
  }
  return {};
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
  series["bin_s"] = r.series.bin_s;
  for (const Column& c : columns(r.series)) series[c.name] = c.all();
  j["series"] = std::move(series);
  Json run;
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

std::string write_result_files(const std::string& dir, const std::vector<OutputFile>& files) {
  if (!file_output_enabled()) return {};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create output directory '" + dir + "': " + ec.message();
  const std::filesystem::path d(dir);
  std::vector<std::filesystem::path> staged;
  const auto discard = [&staged] {
    std::error_code ignored;
    for (const auto& p : staged) std::filesystem::remove(p, ignored);
  };
  // 1. Every file to its temporary name; nothing in place is touched yet.
  for (const OutputFile& f : files) {
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
  // 2. All written: into place.
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::filesystem::rename(staged[i], d / files[i].name, ec);
    if (ec) {
      const std::string err = "cannot write '" + (d / files[i].name).string() + "': " + ec.message();
      staged.erase(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(i));
      discard();
      return err;
    }
  }
  return {};
}

std::string write_report_files(const RunReport& report, const std::string& dir) {
  if (!file_output_enabled()) return {};
  return write_result_files(dir, report_files(report));
}

}  // namespace ota::models
