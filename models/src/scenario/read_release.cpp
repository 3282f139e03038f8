// read_release.cpp — ScenarioReader: the release and its image files, polling, server, delivery, prices, health.
#include "scenario_reader.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ota::models::scenario_detail {

namespace {


}  // namespace

// Checks that a release image file exists and is readable; returns its size.
std::optional<std::uint64_t> ScenarioReader::image_file(const Fields& f, std::string_view key, Need need,
                                                        std::optional<std::string>& resolved) {
  const std::string expected = f.spec(key).expected();
  const auto rel = text(f, key, need, expected);
  if (!rel) return std::nullopt;
  if (rel->empty() || rel->find('\0') != std::string::npos) {
    f.error(key, json_quoted(*rel) + " is not a usable path (expected " + expected + ")");
    return std::nullopt;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(*rel);
  if (p.is_relative()) p = fs::path(base_dir_) / p;
  p = p.lexically_normal();
  const std::string where = json_quoted(*rel) + (p.string() == *rel ? "" : " (" + json_quoted(p.string()) + ")");
  const auto status = fs::status(p, ec);
  if (ec || !fs::exists(status)) {
    f.error(key, where + " cannot be read: " + (ec ? ec.message() : std::string("no such file")) + " (expected " +
                     expected + ")");
    return std::nullopt;
  }
  if (!fs::is_regular_file(status)) {
    f.error(key, where + " is not a regular file (expected " + expected + ")");
    return std::nullopt;
  }
  const auto size = fs::file_size(p, ec);
  std::ifstream in(p, std::ios::binary);
  if (ec || !in) {
    f.error(key, where + " cannot be opened for reading (expected " + expected + ")");
    return std::nullopt;
  }
  if (size == 0 || size > kMaxU32) {
    f.error(key, where + " has " + std::to_string(size) + " bytes (expected an image of 1 to " +
                     std::to_string(kMaxU32) + " bytes)");
    return std::nullopt;
  }
  resolved = p.string();
  return size;
}

void ScenarioReader::read_release(const Fields& root) {
  const Json* rel = object(root, "release");
  if (!rel) return;
  const Fields f(diag_, *rel, root.path_of("release"), "/release");
  Release& r = s_.release;
  if (const auto v = version(f, "from_version")) r.from_version = *v;
  if (const auto v = version(f, "to_version")) r.to_version = *v;
  r.from_security_counter = static_cast<std::uint32_t>(integer_or_default(f, "from_security_counter"));
  r.to_security_counter = static_cast<std::uint32_t>(integer_or_default(f, "to_security_counter"));
  r.payload = choice_or_default<Payload>(f, "payload", {{"full", Payload::Full}, {"delta", Payload::Delta}});
  const bool delta = r.payload == Payload::Delta;

  if (f.has("images")) {
    if (const Json* images = object(f, "images")) {
      const Fields im(diag_, *images, f.path_of("images"), f.table_of("images"));
      image_bytes_ = image_file(im, "new", need_of(im.spec("new")), r.new_image_file);
      // The old image is required for a delta (the patch is made from it).
      image_file(im, "old", delta ? Need::Required : need_of(im.spec("old")), r.old_image_file);
    }
    for (const std::string_view key : {"full_kb", "delta_kb"})
      if (f.has(key))
        f.error(key, show(*f.find(key)) + " conflicts with /release/images (expected no " + std::string(key) +
                         " when images are given: the sizes come from the image files)");
  } else {
    read_release_sizes(f, delta);
  }
  read_release_rest(f);
}

// Without images, full_kb is required, and delta_kb too for a delta payload.
void ScenarioReader::read_release_sizes(const Fields& f, bool delta) {
  Release& r = s_.release;
  const auto full_kb = number(f, "full_kb");
  if (!f.has("full_kb")) f.missing("full_kb", f.spec("full_kb").expected() + "; required unless images are given");
  if (full_kb) {
    r.full_bytes = static_cast<std::uint64_t>(std::llround(*full_kb * 1000));
    if (r.full_bytes == 0)
      f.error("full_kb", show(*f.find("full_kb")) + " is less than one byte (expected " +
                             f.spec("full_kb").expected() + ")");
    else
      image_bytes_ = r.full_bytes;
  }
  const auto delta_kb = number(f, "delta_kb");
  if (delta && !f.has("delta_kb"))
    f.missing("delta_kb",
              f.spec("delta_kb").expected() + "; required when payload is \"delta\" and no images are given");
  if (delta && delta_kb) {
    r.delta_bytes = static_cast<std::uint64_t>(std::llround(*delta_kb * 1000));
    if (r.delta_bytes == 0)
      f.error("delta_kb", show(*f.find("delta_kb")) + " is less than one byte (expected " +
                              f.spec("delta_kb").expected() + ")");
  }
}

void ScenarioReader::read_release_rest(const Fields& f) {
  Release& r = s_.release;
  r.corruption_per_transfer = number_or_default(f, "corruption_per_transfer");
  r.tamper_per_transfer = number_or_default(f, "tamper_per_transfer");
  // "default" takes its fields' defaults from the table; a hardware entry
  // takes those it does not give from "default".
  const std::string default_table = f.table_of("behaviour") + "/default";
  const std::string entry_table = f.table_of("behaviour") + "/*";
  const Fields defaults(diag_, empty_object(), f.path_of("behaviour") + "/default", default_table);
  ReleaseBehaviour fallback;
  fallback.failing_device_share = default_of(defaults, "failing_device_share");
  fallback.boot_failure_probability = default_of(defaults, "boot_failure_probability");
  fallback.crash_per_day = default_of(defaults, "crash_per_day");
  r.behaviour.assign(s_.hardware.size(), fallback);
  const Json* behaviour = object(f, "behaviour");
  if (!behaviour) return;
  const std::string path = f.path_of("behaviour");
  const auto read_entry = [&](const std::string& key, const Json& value, const std::string& table,
                              ReleaseBehaviour& b) {
    const std::string epath = child(path, key);
    if (!value.is_object()) {
      diag_.add(epath, show(value) + " has the wrong type (expected " + fields::find(table)->expected() + ")");
      return;
    }
    const Fields e(diag_, value, epath, table);
    b.failing_device_share = number(e, "failing_device_share").value_or(b.failing_device_share);
    b.boot_failure_probability = number(e, "boot_failure_probability").value_or(b.boot_failure_probability);
    b.crash_per_day = number(e, "crash_per_day").value_or(b.crash_per_day);
  };
  if (const auto it = behaviour->find("default"); it != behaviour->end())
    read_entry("default", *it, default_table, fallback);
  r.behaviour.assign(s_.hardware.size(), fallback);
  for (const auto& [key, value] : behaviour->items()) {
    if (key == "default" || is_documentation_key(key)) continue;
    const auto hw = hardware_index(key);
    if (!hw) {
      diag_.add(child(path, key), json_quoted(key) + " names no hardware (expected \"default\" or a hardware name; defined: " +
                                      join(hardware_names()) + ")");
      ReleaseBehaviour ignored;
      read_entry(key, value, entry_table, ignored);
      continue;
    }
    read_entry(key, value, entry_table, r.behaviour[*hw]);
  }
}

void ScenarioReader::read_polling(const Fields& root) {
  // Without a polling block every field takes its default.
  const Fields f(diag_, or_empty(object(root, "polling")), root.path_of("polling"), "/polling");
  Polling& p = s_.polling;
  p.interval_s = number_or_default(f, "interval_min") * 60;
  p.jitter = number_or_default(f, "jitter");
  p.idle_polls = choice_or_default<IdlePollMode>(
      f, "idle_polls", {{"aggregate", IdlePollMode::Aggregate}, {"events", IdlePollMode::Events}});
  p.synchronized_start = flag_or_default(f, "synchronized_start");
  const Fields b(diag_, or_empty(object(f, "backoff")), f.path_of("backoff"), f.table_of("backoff"));
  const auto initial = number(b, "initial_s");
  const auto max = number(b, "max_s");
  p.backoff_initial_s = initial ? *initial : default_of(b, "initial_s");
  p.backoff_factor = number_or_default(b, "factor");
  p.backoff_max_s = max ? *max : default_of(b, "max_s");
  // max_s >= initial_s, when both are valid or defaulted.
  if ((initial || !b.has("initial_s")) && (max || !b.has("max_s")) && p.backoff_max_s < p.backoff_initial_s)
    b.error("max_s", format_number(p.backoff_max_s) + " is below initial_s " + format_number(p.backoff_initial_s) +
                         " (expected max_s >= initial_s)");
}

void ScenarioReader::read_server(const Fields& root) {
  const Fields f(diag_, or_empty(object(root, "server")), root.path_of("server"), "/server");
  Server& s = s_.server;
  s.max_requests_per_s = number_or_default(f, "max_requests_per_s");
  s.max_concurrent_downloads = static_cast<std::uint32_t>(integer_or_default(f, "max_concurrent_downloads"));
  s.bandwidth_bps = number_or_default(f, "bandwidth_mbps") * 1e6;
  s.queue_limit = static_cast<std::uint32_t>(integer_or_default(f, "queue_limit"));
  s.usd_per_gb = number_or_default(f, "usd_per_gb");
}

void ScenarioReader::read_delivery(const Fields& root) {
  Delivery& D = s_.delivery;
  const Json* delivery = object(root, "delivery");
  const Fields f(diag_, or_empty(delivery), root.path_of("delivery"), "/delivery");
  {
    // Without a push block push classes use its defaults.
    const Fields p(diag_, or_empty(object(f, "push")), f.path_of("push"), f.table_of("push"));
    D.push.fanout_per_s = number_or_default(p, "fanout_per_s");
    D.push.max_connections = integer_or_default(p, "max_connections");
    D.push.connected_share = number_or_default(p, "connected_share");
    D.push.latency_s = number_or_default(p, "latency_s");
  }
  if (const Json* cdn = object(f, "cdn")) {
    const Fields c(diag_, *cdn, f.path_of("cdn"), f.table_of("cdn"));
    Cdn out;
    out.edges.assign(s_.regions.size(), std::nullopt);
    out.origin_fill_bps = number_or_default(c, "origin_fill_mbps") * 1e6;
    out.cache_ttl_s = number_or_default(c, "cache_ttl_h") * 3600;
    const std::string edge_table = c.table_of("edges") + "/*";
    for_each_region(c, "edges", need_of(c.spec("edges")), "a CDN edge",
                    [&](std::size_t region, const Json& value, const std::string& path) {
                      const Fields e(diag_, value, path, edge_table);
                      CdnEdge edge;
                      edge.bandwidth_bps = number_or_default(e, "bandwidth_mbps") * 1e6;
                      edge.max_concurrent_downloads =
                          static_cast<std::uint32_t>(integer_or_default(e, "max_concurrent_downloads"));
                      edge.usd_per_gb = number_or_default(e, "usd_per_gb");
                      out.edges[region] = edge;
                    });
    D.cdn = std::move(out);
  }
  if (const Json* p2p = object(f, "p2p")) {
    const Fields p(diag_, *p2p, f.path_of("p2p"), f.table_of("p2p"));
    P2p out;
    out.neighbourhood_size = static_cast<std::uint32_t>(integer_or_default(p, "neighbourhood_size"));
    out.link_bps = number_or_default(p, "link_kbps") * 1e3;
    out.sigma = number_or_default(p, "sigma");
    out.uploads_per_peer = static_cast<std::uint32_t>(integer_or_default(p, "uploads_per_peer"));
    out.upload_bps = number_or_default(p, "upload_kbps") * 1e3;
    out.malicious_share = number_or_default(p, "malicious_share");
    out.fallback_s = number_or_default(p, "fallback_min") * 60;
    out.rx_watts = number_or_default(p, "rx_mw") / 1000;
    out.tx_watts = number_or_default(p, "tx_mw") / 1000;
    D.p2p = out;
  }
  // Every class's delivery must have what it needs.
  for (std::size_t i = 0; i < s_.classes.size() && i < class_entry_.size(); ++i) {
    const DeviceClass& c = s_.classes[i];
    const std::string path = "/fleet/classes/" + std::to_string(class_entry_[i]) + "/source";
    if (c.source == Source::Cdn && (!D.cdn || c.region >= D.cdn->edges.size() || !D.cdn->edges[c.region]))
      diag_.add(path, "\"cdn\" but /delivery/cdn/edges has no edge for region " + json_quoted(s_.regions[c.region]) +
                          " (expected an edge for every region of a CDN class)");
    if (c.source == Source::P2p && !D.p2p)
      diag_.add(path, "\"p2p\" without a /delivery/p2p block (expected the neighbourhoods' settings)");
  }
}

void ScenarioReader::read_prices(const Fields& root) {
  const Fields f(diag_, or_empty(object(root, "prices")), root.path_of("prices"), "/prices");
  s_.prices.service_call_usd = number_or_default(f, "service_call_usd");
  // bytes_per_mb is a number that must be one of the entry's choices.
  const fields::Field& spec = f.spec("bytes_per_mb");
  s_.prices.bytes_per_mb = default_of(f, "bytes_per_mb");
  if (const Json* v = f.find("bytes_per_mb")) {
    bool supported = false;
    if (v->is_number())
      for (const auto name : spec.choice_list())
        supported = supported || v->get<double>() == std::stod(std::string(name));
    if (!supported)
      f.error("bytes_per_mb", show(*v) + " is not a supported megabyte (expected " + spec.expected() + ")");
    else
      s_.prices.bytes_per_mb = v->get<double>();
  }
}

void ScenarioReader::read_health(const Fields& root) {
  const Fields f(diag_, or_empty(object(root, "health")), root.path_of("health"), "/health");
  s_.health.report_after_s = number_or_default(f, "report_after_min") * 60;
}

}  // namespace ota::models::scenario_detail
