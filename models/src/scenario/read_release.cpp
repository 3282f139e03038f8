// read_release.cpp — ScenarioReader: the release and its image files, polling, server, delivery, prices, health.
#include "scenario_reader.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ota::models::scenario_detail {

// Checks that a release image file exists and is readable; returns its size.
std::optional<std::uint64_t> ScenarioReader::image_file(const Fields& f, std::string_view key, Need need,
                                                        std::optional<std::string>& resolved) {
  const std::string expected = "a path to a readable image file, relative to the scenario file's directory";
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
  const Json* rel = object(root, "release", Need::Required);
  if (!rel) return;
  const Fields f(diag_, *rel, root.path_of("release"),
                 {"from_version", "to_version", "from_security_counter", "to_security_counter", "payload", "full_kb",
                  "delta_kb", "images", "corruption_per_transfer", "tamper_per_transfer", "behaviour"});
  Release& r = s_.release;
  if (const auto v = version(f, "from_version")) r.from_version = *v;
  if (const auto v = version(f, "to_version")) r.to_version = *v;
  r.from_security_counter = static_cast<std::uint32_t>(integer(f, "from_security_counter", 0, kMaxU32, Need::Optional).value_or(1));
  r.to_security_counter = static_cast<std::uint32_t>(integer(f, "to_security_counter", 0, kMaxU32, Need::Optional).value_or(2));
  r.payload = choice<Payload>(f, "payload", {{"full", Payload::Full}, {"delta", Payload::Delta}}, Need::Optional)
                  .value_or(Payload::Full);
  const bool delta = r.payload == Payload::Delta;

  if (f.has("images")) {
    if (const Json* images = object(f, "images", Need::Optional)) {
      const Fields im(diag_, *images, f.path_of("images"), {"old", "new"});
      image_bytes_ = image_file(im, "new", Need::Required, r.new_image_file);
      image_file(im, "old", delta ? Need::Required : Need::Optional, r.old_image_file);
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

void ScenarioReader::read_release_sizes(const Fields& f, bool delta) {
  Release& r = s_.release;
  const auto size_kb = positive(kMaxImageKb, "KB of 1000 bytes");
  const auto full_kb = number(f, "full_kb", size_kb, Need::Optional);
  if (!f.has("full_kb")) f.missing("full_kb", size_kb.describe() + "; required unless images are given");
  if (full_kb) {
    r.full_bytes = static_cast<std::uint64_t>(std::llround(*full_kb * 1000));
    if (r.full_bytes == 0) f.error("full_kb", show(*f.find("full_kb")) + " is less than one byte (expected " + size_kb.describe() + ")");
    else image_bytes_ = r.full_bytes;
  }
  const auto delta_kb = number(f, "delta_kb", size_kb, Need::Optional);
  if (delta && !f.has("delta_kb"))
    f.missing("delta_kb", size_kb.describe() + "; required when payload is \"delta\" and no images are given");
  if (delta && delta_kb) {
    r.delta_bytes = static_cast<std::uint64_t>(std::llround(*delta_kb * 1000));
    if (r.delta_bytes == 0) f.error("delta_kb", show(*f.find("delta_kb")) + " is less than one byte (expected " + size_kb.describe() + ")");
  }
}

void ScenarioReader::read_release_rest(const Fields& f) {
  Release& r = s_.release;
  r.corruption_per_transfer = number_or(f, "corruption_per_transfer", probability(), 0);
  r.tamper_per_transfer = number_or(f, "tamper_per_transfer", probability(), 0);
  r.behaviour.assign(s_.hardware.size(), ReleaseBehaviour{});
  const Json* behaviour = object(f, "behaviour", Need::Optional);
  if (!behaviour) return;
  const std::string path = f.path_of("behaviour");
  const auto read_entry = [&](const std::string& key, const Json& value, ReleaseBehaviour& b) {
    const std::string epath = child(path, key);
    if (!value.is_object()) {
      diag_.add(epath, show(value) + " has the wrong type (expected an object: the release's behaviour)");
      return;
    }
    const Fields e(diag_, value, epath, {"boot_failure_probability", "crash_per_day", "failing_device_share"});
    b.failing_device_share = number_or(e, "failing_device_share", probability(), b.failing_device_share);
    b.boot_failure_probability = number_or(e, "boot_failure_probability", probability(), b.boot_failure_probability);
    b.crash_per_day = number_or(e, "crash_per_day", non_negative(1e6, "crashes per device-day"), b.crash_per_day);
  };
  ReleaseBehaviour fallback;
  if (const auto it = behaviour->find("default"); it != behaviour->end()) read_entry("default", *it, fallback);
  r.behaviour.assign(s_.hardware.size(), fallback);
  for (const auto& [key, value] : behaviour->items()) {
    if (key == "default" || is_documentation_key(key)) continue;
    const auto hw = hardware_index(key);
    if (!hw) {
      diag_.add(child(path, key), json_quoted(key) + " names no hardware (expected \"default\" or a hardware name; defined: " +
                                      join(hardware_names()) + ")");
      ReleaseBehaviour ignored;
      read_entry(key, value, ignored);
      continue;
    }
    read_entry(key, value, r.behaviour[*hw]);
  }
}

void ScenarioReader::read_polling(const Fields& root) {
  const Json* polling = object(root, "polling", Need::Optional);
  if (!polling) return;
  const Fields f(diag_, *polling, root.path_of("polling"),
                 {"interval_min", "jitter", "backoff", "idle_polls", "synchronized_start"});
  Polling& p = s_.polling;
  p.interval_s = number_or(f, "interval_min", at_least_tiny(kMaxMinutes, "minutes"), 60) * 60;
  p.jitter = number_or(f, "jitter", Bounds{0, 1, false, true}, 0.1);
  p.idle_polls = choice<IdlePollMode>(f, "idle_polls",
                                      {{"aggregate", IdlePollMode::Aggregate}, {"events", IdlePollMode::Events}},
                                      Need::Optional)
                     .value_or(IdlePollMode::Aggregate);
  p.synchronized_start = flag(f, "synchronized_start").value_or(false);
  if (const Json* backoff = object(f, "backoff", Need::Optional)) {
    const Fields b(diag_, *backoff, f.path_of("backoff"), {"initial_s", "factor", "max_s"});
    const auto initial = number(b, "initial_s", at_least_tiny(kMaxSeconds, "seconds"), Need::Optional);
    const auto max = number(b, "max_s", positive(kMaxSeconds, "seconds"), Need::Optional);
    p.backoff_initial_s = initial.value_or(60);
    p.backoff_factor = number_or(b, "factor", Bounds{1, 1000}, 2);
    p.backoff_max_s = max.value_or(3600);
    if ((initial || !b.has("initial_s")) && (max || !b.has("max_s")) && p.backoff_max_s < p.backoff_initial_s)
      b.error("max_s", format_number(p.backoff_max_s) + " is below initial_s " + format_number(p.backoff_initial_s) +
                           " (expected max_s >= initial_s)");
  }
}

void ScenarioReader::read_server(const Fields& root) {
  const Json* server = object(root, "server", Need::Optional);
  if (!server) return;
  const Fields f(diag_, *server, root.path_of("server"),
                 {"max_requests_per_s", "max_concurrent_downloads", "bandwidth_mbps", "queue_limit", "usd_per_gb"});
  Server& s = s_.server;
  s.max_requests_per_s = number_or(f, "max_requests_per_s", non_negative(1e12, "requests per second; 0 = unlimited"), 0);
  s.max_concurrent_downloads = static_cast<std::uint32_t>(
      integer(f, "max_concurrent_downloads", 0, kMaxU32, Need::Optional, "downloads; 0 = unlimited").value_or(0));
  s.bandwidth_bps = number_or(f, "bandwidth_mbps", non_negative(1e9, "Mbit/s; 0 = unlimited"), 0) * 1e6;
  s.queue_limit = static_cast<std::uint32_t>(integer(f, "queue_limit", 0, kMaxU32, Need::Optional, "waiting downloads; 0 = unlimited").value_or(0));
  s.usd_per_gb = number_or(f, "usd_per_gb", non_negative(1e9, "USD per GB"), 0.09);
}

void ScenarioReader::read_delivery(const Fields& root) {
  Delivery& D = s_.delivery;
  const Json* delivery = object(root, "delivery", Need::Optional);
  std::optional<Fields> f;
  if (delivery) f.emplace(diag_, *delivery, root.path_of("delivery"), std::initializer_list<std::string_view>{"push", "cdn", "p2p"});
  if (f) {
    if (const Json* push = object(*f, "push", Need::Optional)) {
      const Fields p(diag_, *push, f->path_of("push"), {"fanout_per_s", "max_connections", "connected_share", "latency_s"});
      D.push.fanout_per_s = number_or(p, "fanout_per_s", at_least_tiny(1e12, "notifications per second"), 1000);
      D.push.max_connections =
          integer(p, "max_connections", 0, kMaxFleetDevices, Need::Optional, "connections; 0 = unlimited").value_or(0);
      D.push.connected_share = number_or(p, "connected_share", probability(), 0.7);
      D.push.latency_s = number_or(p, "latency_s", non_negative(kMaxSeconds, "seconds"), 1);
    }
    if (const Json* cdn = object(*f, "cdn", Need::Optional)) {
      const Fields c(diag_, *cdn, f->path_of("cdn"), {"edges", "origin_fill_mbps", "cache_ttl_h"});
      Cdn out;
      out.edges.assign(s_.regions.size(), std::nullopt);
      out.origin_fill_bps = number_or(c, "origin_fill_mbps", at_least_tiny(1e9, "Mbit/s"), 1000) * 1e6;
      out.cache_ttl_s = number_or(c, "cache_ttl_h", non_negative(kMaxHours, "hours; 0 = for the whole run"), 0) * 3600;
      for_each_region(c, "edges", Need::Required, "a CDN edge", [&](std::size_t region, const Json& value,
                                                                     const std::string& path) {
          const Fields e(diag_, value, path, {"bandwidth_mbps", "max_concurrent_downloads", "usd_per_gb"});
          CdnEdge edge;
          edge.bandwidth_bps = number_or(e, "bandwidth_mbps", non_negative(1e9, "Mbit/s; 0 = unlimited"), 0) * 1e6;
          edge.max_concurrent_downloads = static_cast<std::uint32_t>(
              integer(e, "max_concurrent_downloads", 0, kMaxU32, Need::Optional, "downloads; 0 = unlimited").value_or(0));
          edge.usd_per_gb = number_or(e, "usd_per_gb", non_negative(1e9, "USD per GB"), 0.085);
          out.edges[region] = edge;
      });
      D.cdn = std::move(out);
    }
    if (const Json* p2p = object(*f, "p2p", Need::Optional)) {
      const Fields p(diag_, *p2p, f->path_of("p2p"),
                     {"neighbourhood_size", "link_kbps", "sigma", "uploads_per_peer", "upload_kbps", "malicious_share",
                      "fallback_min", "rx_mw", "tx_mw"});
      P2p out;
      out.neighbourhood_size = static_cast<std::uint32_t>(
          integer(p, "neighbourhood_size", 1, 1'000'000, Need::Optional, "devices").value_or(20));
      out.link_bps = number_or(p, "link_kbps", at_least_tiny(1e9, "kbit/s"), 250) * 1e3;
      out.sigma = number_or(p, "sigma", non_negative(3), 0.3);
      out.uploads_per_peer =
          static_cast<std::uint32_t>(integer(p, "uploads_per_peer", 1, 1000, Need::Optional, "transfers").value_or(1));
      out.upload_bps = number_or(p, "upload_kbps", non_negative(1e9, "kbit/s"), 0) * 1e3;
      out.malicious_share = number_or(p, "malicious_share", probability(), 0);
      out.fallback_s = number_or(p, "fallback_min", at_least_tiny(kMaxMinutes, "minutes"), 60) * 60;
      out.rx_watts = number_or(p, "rx_mw", non_negative(1e6, "mW"), 15) / 1000;
      out.tx_watts = number_or(p, "tx_mw", non_negative(1e6, "mW"), 15) / 1000;
      D.p2p = out;
    }
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
  const Json* prices = object(root, "prices", Need::Optional);
  if (!prices) return;
  const Fields f(diag_, *prices, root.path_of("prices"), {"service_call_usd", "bytes_per_mb"});
  s_.prices.service_call_usd = number_or(f, "service_call_usd", non_negative(1e9, "USD"), 200);
  if (const Json* v = f.find("bytes_per_mb")) {
    if (!v->is_number() || (v->get<double>() != 1e6 && v->get<double>() != 1048576.0))
      f.error("bytes_per_mb", show(*v) + " is not a supported megabyte (expected 1000000 or 1048576)");
    else
      s_.prices.bytes_per_mb = v->get<double>();
  }
}

void ScenarioReader::read_health(const Fields& root) {
  const Json* health = object(root, "health", Need::Optional);
  if (!health) return;
  const Fields f(diag_, *health, root.path_of("health"), {"report_after_min"});
  s_.health.report_after_s = number_or(f, "report_after_min", positive(kMaxMinutes, "minutes"), 10) * 60;
}

}  // namespace ota::models::scenario_detail
