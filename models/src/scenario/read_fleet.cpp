// read_fleet.cpp — ScenarioReader: hardware, link profiles, device classes (regions, groups) and batteries.
#include "scenario_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "ota/agent/boot_control.hpp"
#include "ota/models/fleet/links.hpp"

namespace ota::models::scenario_detail {

void ScenarioReader::read_hardware(const Fields& root) {
  const Json* list = array(root, "hardware", Need::Required, "an array of hardware entries");
  if (!list) return;
  if (list->empty()) root.error("hardware", "[] is empty (expected at least one hardware entry)");
  if (list->size() > kMaxHardwareEntries) {
    root.error("hardware", std::to_string(list->size()) + " entries are too many (expected at most " +
                               std::to_string(kMaxHardwareEntries) +
                               ": one signed manifest lists at most that many hardware ids)");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string path = child(root.path_of("hardware"), i);
    const Json& entry = (*list)[i];
    Hardware hw;
    hw.flash.slot_bytes = 1536 * 1024;
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected an object: a hardware entry)");
      s_.hardware.push_back(hw);
      hardware_id_ok_.push_back(false);
      slot_ok_.push_back(false);
      continue;
    }
    const Fields f(diag_, entry, path, {"name", "hardware_id", "trial_boot_limit", "boot_s", "flash"});
    if (auto name = name_field(f, "name", Need::Required)) {
      for (std::size_t j = 0; j < s_.hardware.size(); ++j)
        if (s_.hardware[j].name == *name)
          f.error("name", json_quoted(*name) + " is already the name of /hardware/" + std::to_string(j) +
                              " (expected a unique name)");
      hw.name = std::move(*name);
    }
    if (auto id = integer(f, "hardware_id", 0, kMaxU32, Need::Required)) {
      for (std::size_t j = 0; j < s_.hardware.size(); ++j)
        if (hardware_id_ok_[j] && s_.hardware[j].hardware_id == *id)
          f.error("hardware_id", std::to_string(*id) + " is already the id of /hardware/" + std::to_string(j) +
                                     " (expected a unique id)");
      hw.hardware_id = static_cast<std::uint32_t>(*id);
      hardware_id_ok_.push_back(true);
    } else {
      hardware_id_ok_.push_back(false);
    }
    hw.trial_boot_limit = static_cast<std::uint8_t>(integer(f, "trial_boot_limit", 1, 255, Need::Optional)
                                                           .value_or(agent::BootConfig{}.trial_boot_limit));
    hw.boot_s = number_or(f, "boot_s", at_least_tiny(86400, "seconds"), 5);
    slot_ok_.push_back(true);
    if (const Json* flash = object(f, "flash", Need::Optional)) {
      const Fields fl(diag_, *flash, f.path_of("flash"),
                      {"sector_bytes", "erase_ms_per_sector", "program_ms_per_kb", "write_mw", "slot_kb"});
      if (const auto sector = integer(fl, "sector_bytes", 256, std::uint64_t{1} << 31, Need::Optional)) {
        if ((*sector & (*sector - 1)) != 0)
          fl.error("sector_bytes", std::to_string(*sector) + " is not a power of two (expected a power of two >= 256)");
        hw.flash.sector_bytes = static_cast<std::uint32_t>(*sector);
      }
      hw.flash.erase_s_per_sector = number_or(fl, "erase_ms_per_sector", non_negative(1e6, "milliseconds"), 45) / 1e3;
      hw.flash.program_s_per_kb = number_or(fl, "program_ms_per_kb", non_negative(1e6, "milliseconds per KiB"), 1.6) / 1e3;
      hw.flash.write_watts = number_or(fl, "write_mw", non_negative(1e9, "milliwatts"), 0) / 1e3;
      const auto slot = integer(fl, "slot_kb", 1, kMaxSlotKb, Need::Optional, "KiB");
      if (slot) hw.flash.slot_bytes = static_cast<std::uint32_t>(*slot * 1024);
      slot_ok_.back() = slot.has_value() || !fl.has("slot_kb");
    }
    s_.hardware.push_back(std::move(hw));
  }
}

std::vector<std::string> ScenarioReader::hardware_names() const {
  std::vector<std::string> names;
  for (const auto& h : s_.hardware)
    if (!h.name.empty()) names.push_back(h.name);
  return names;
}

std::optional<std::size_t> ScenarioReader::hardware_index(std::string_view name) const {
  for (std::size_t i = 0; i < s_.hardware.size(); ++i)
    if (!s_.hardware[i].name.empty() && s_.hardware[i].name == name) return i;
  return std::nullopt;
}

// Reads the fields present in `f` over `l`. `check_order`: whether min <=
// median <= max is checked (not for a profile without a usable base, where
// the unset fields would be placeholders).
void ScenarioReader::read_link_fields(const Fields& f, LinkProfile& l, bool check_order) {
  const auto kbps = at_least_tiny(1e8, "kbit/s");
  if (const auto x = number(f, "median_kbps", kbps, Need::Optional)) l.median_bps = *x * 1e3;
  if (const auto x = number(f, "min_kbps", kbps, Need::Optional)) l.min_bps = *x * 1e3;
  if (const auto x = number(f, "max_kbps", kbps, Need::Optional)) l.max_bps = *x * 1e3;
  l.sigma = number_or(f, "sigma", non_negative(10), l.sigma);
  l.latency_s = number_or(f, "latency_s", non_negative(86400, "seconds"), l.latency_s);
  l.drop_per_mb = number_or(f, "drop_per_mb", non_negative(1e6, "drops per MB"), l.drop_per_mb);
  if (const auto x = number(f, "usd_per_mb", non_negative(1e6, "USD"), Need::Optional)) {
    l.usd_per_mb = *x;
    l.metered = *x > 0;
  }
  if (const auto x = number(f, "rx_mw", non_negative(1e9, "milliwatts"), Need::Optional)) l.rx_watts = *x / 1e3;
  if (const auto x = number(f, "poll_mj", non_negative(1e9, "millijoules"), Need::Optional)) l.poll_joules = *x / 1e3;
  l.wake_interval_s = number_or(f, "wake_interval_s", non_negative(kMaxSeconds, "seconds"), l.wake_interval_s);
  if (check_order && !(l.min_bps <= l.median_bps && l.median_bps <= l.max_bps))
    diag_.add(f.path(), "min_kbps " + format_number(l.min_bps / 1e3) + ", median_kbps " +
                            format_number(l.median_bps / 1e3) + ", max_kbps " + format_number(l.max_bps / 1e3) +
                            " are out of order (expected min_kbps <= median_kbps <= max_kbps)");
}

void ScenarioReader::read_links(const Fields& root) {
  s_.links = builtin_link_profiles();
  const Json* links = object(root, "links", Need::Optional);
  if (!links) return;
  const std::string path = root.path_of("links");
  std::vector<std::string> builtin_names;
  for (const auto& l : builtin_link_profiles()) builtin_names.push_back(l.name);
  const auto is_builtin = [&](const std::string& n) {
    return std::find(builtin_names.begin(), builtin_names.end(), n) != builtin_names.end();
  };
  const std::initializer_list<std::string_view> keys = {
      "base", "median_kbps", "sigma", "min_kbps", "max_kbps", "latency_s", "drop_per_mb",
      "usd_per_mb", "rx_mw", "poll_mj", "wake_interval_s"};
  // Overrides of built-ins first, so that a new profile based on a built-in
  // starts from the built-in as this scenario sets it.
  for (const bool builtin_pass : {true, false}) {
    for (const auto& [name, value] : links->items()) {
      if (is_documentation_key(name) || is_builtin(name) != builtin_pass) continue;
      const std::string lpath = child(path, name);
      if (name.empty()) {
        diag_.add(lpath, "\"\" is an empty profile name (expected a non-empty name)");
        continue;
      }
      if (!value.is_object()) {
        diag_.add(lpath, show(value) + " has the wrong type (expected an object: a link profile)");
        continue;
      }
      const Fields f(diag_, value, lpath, keys);
      if (builtin_pass) {
        if (f.has("base"))
          f.error("base", show(*f.find("base")) + " is not allowed here (expected no base: " + json_quoted(name) +
                              " is a built-in profile, and its fields override the built-in's)");
        for (auto& l : s_.links)
          if (l.name == name) read_link_fields(f, l);
        continue;
      }
      const std::string expected = "the name of a built-in profile: " + join(builtin_names);
      const auto base = text(f, "base", Need::Required, expected);
      if (base && !is_builtin(*base)) f.error("base", json_quoted(*base) + " names no built-in profile (expected " + expected + ")");
      if (s_.links.size() >= kMaxLinkProfiles) {
        diag_.add(lpath, "one profile too many (expected at most " + std::to_string(kMaxLinkProfiles) +
                             " link profiles, built-ins included)");
        return;
      }
      const bool based = base && is_builtin(*base);
      LinkProfile l = builtin_link_profiles().front();
      if (based)
        for (const auto& b : s_.links)
          if (b.name == *base) l = b;
      l.name = name;
      read_link_fields(f, l, based);
      s_.links.push_back(std::move(l));
    }
  }
}

std::optional<std::size_t> ScenarioReader::link_index(std::string_view name) const {
  for (std::size_t i = 0; i < s_.links.size(); ++i)
    if (s_.links[i].name == name) return i;
  return std::nullopt;
}

void ScenarioReader::read_fleet(const Fields& root) {
  const Json* fleet = object(root, "fleet", Need::Required);
  if (!fleet) return;
  const Fields f(diag_, *fleet, root.path_of("fleet"), {"devices", "classes"});
  const auto devices = integer(f, "devices", 1, kMaxFleetDevices, Need::Required);
  if (devices) s_.devices = *devices;
  const Json* classes = array(f, "classes", Need::Required, "an array of device classes");
  if (!classes) return;
  const std::string cpath = f.path_of("classes");
  if (classes->empty()) diag_.add(cpath, "[] is empty (expected at least one device class)");
  if (classes->size() > kMaxDeviceClasses) {
    diag_.add(cpath, std::to_string(classes->size()) + " classes are too many (expected at most " +
                         std::to_string(kMaxDeviceClasses) + ")");
    return;
  }
  std::vector<double> shares;
  bool shares_ok = true;
  for (std::size_t i = 0; i < classes->size(); ++i) {
    const std::string path = child(cpath, i);
    const Json& entry = (*classes)[i];
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected an object: a device class)");
      shares_ok = false;
      continue;
    }
    const Fields c(diag_, entry, path,
                   {"name", "share", "hardware", "link", "region", "power", "partitioning", "power_loss_per_hour",
                    "battery", "group", "notify", "source"});
    DeviceClass dc;
    if (auto name = name_field(c, "name", Need::Required)) {
      for (std::size_t j = 0; j < s_.classes.size(); ++j)
        if (s_.classes[j].name == *name)
          c.error("name", json_quoted(*name) + " is already the name of " + child(cpath, class_entry_[j]) +
                              " (expected a unique name)");
      dc.name = std::move(*name);
    }
    const auto share = number(c, "share", Bounds{0, 1, true, false, nullptr, true}, Need::Required);
    if (share) shares.push_back(*share);
    else shares_ok = false;

    if (const auto hw = text(c, "hardware", Need::Required, "the name of a /hardware entry")) {
      if (const auto index = hardware_index(*hw)) dc.hardware = *index;
      else c.error("hardware", json_quoted(*hw) + " names no hardware (defined: " + join(hardware_names()) + ")");
    }
    if (const auto link = text(c, "link", Need::Required, "the name of a link profile")) {
      if (const auto index = link_index(*link)) {
        dc.link = *index;
      } else {
        std::vector<std::string> names;
        for (const auto& l : s_.links) names.push_back(l.name);
        c.error("link", json_quoted(*link) + " names no link profile (defined: " + join(names) + ")");
      }
    }
    const std::string region = name_field(c, "region", Need::Optional).value_or("default");
    const auto rit = std::find(s_.regions.begin(), s_.regions.end(), region);
    dc.region = static_cast<std::size_t>(rit - s_.regions.begin());
    if (rit == s_.regions.end()) s_.regions.push_back(region);
    dc.notify = choice<Notify>(c, "notify", {{"poll", Notify::Poll}, {"push", Notify::Push}}, Need::Optional)
                    .value_or(Notify::Poll);
    dc.source = choice<Source>(c, "source", {{"origin", Source::Origin}, {"cdn", Source::Cdn}, {"p2p", Source::P2p}},
                               Need::Optional)
                    .value_or(Source::Origin);
    if (const auto group = name_field(c, "group", Need::Optional)) {
      const auto git = std::find(s_.groups.begin(), s_.groups.end(), *group);
      dc.group = static_cast<std::size_t>(git - s_.groups.begin());
      if (git == s_.groups.end()) s_.groups.push_back(*group);
    }

    const auto power = choice<PowerSource>(c, "power", {{"mains", PowerSource::Mains}, {"battery", PowerSource::Battery}},
                                           Need::Required);
    if (power) dc.power = *power;
    dc.partitioning = choice<Partitioning>(c, "partitioning",
                                           {{"ab", Partitioning::AB},
                                            {"single_recovery", Partitioning::SingleWithRecovery},
                                            {"single", Partitioning::SingleNoRecovery}},
                                           Need::Optional)
                          .value_or(Partitioning::AB);
    // figures.md "Mains power loss": derived hazard 1.1–1.6e-4 outages per
    // device-hour. Battery devices lose power by brownout instead.
    const double default_hazard = dc.power == PowerSource::Mains ? 1.3e-4 : 0.0;
    dc.power_loss_per_hour = number_or(c, "power_loss_per_hour", non_negative(1e6, "events per device-hour"),
                                       default_hazard);

    const Json* battery = c.find("battery");
    if (battery) {
      if (power == PowerSource::Mains)
        c.error("battery", "a battery block on a mains class (expected no \"battery\" unless power is \"battery\")");
      if (!battery->is_object()) c.wrong_type("battery", *battery, "an object");
      else dc.battery = read_battery(Fields(diag_, *battery, c.path_of("battery"),
                                            {"capacity_mah", "voltage_v", "soc_mean", "soc_stddev", "idle_mw",
                                             "recharge_mw", "update_margin", "min_soc", "brownout_soc"}));
    } else if (power == PowerSource::Battery) {
      c.missing("battery", "an object with at least capacity_mah and voltage_v, for a battery-powered class");
    }
    if (dc.power == PowerSource::Mains) dc.battery.reset();
    class_entry_.push_back(i);
    s_.classes.push_back(std::move(dc));
  }
  if (shares_ok && !shares.empty()) {
    const double sum = std::accumulate(shares.begin(), shares.end(), 0.0);
    if (std::fabs(sum - 1) > kShareTolerance) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.10g", sum);
      diag_.add(cpath, std::string("shares sum to ") + buf + " (expected 1 within " + format_number(kShareTolerance) + ")");
    } else if (devices) {
      const auto counts = apportion(*devices, shares);
      for (std::size_t i = 0; i < counts.size(); ++i) s_.classes[i].devices = counts[i];
    }
  }
}

Battery ScenarioReader::read_battery(const Fields& b) {
  Battery out;
  const auto mah = number(b, "capacity_mah", at_least_tiny(1e9, "mAh"), Need::Required);
  const auto volts = number(b, "voltage_v", at_least_tiny(1e4, "volts"), Need::Required);
  if (mah && volts) out.capacity_j = *mah * 3.6 * *volts;  // 1 mAh = 3.6 coulombs
  if (volts) out.voltage_v = *volts;
  out.soc_mean = number_or(b, "soc_mean", probability(), 0.7);
  out.soc_stddev = number_or(b, "soc_stddev", non_negative(1), 0.15);
  out.idle_watts = number_or(b, "idle_mw", non_negative(1e9, "milliwatts"), 0.05) / 1e3;
  out.recharge_watts = number_or(b, "recharge_mw", non_negative(1e9, "milliwatts"), 0) / 1e3;
  out.update_margin = number_or(b, "update_margin", Bounds{1, 1000}, 1.5);
  const auto min_soc = number(b, "min_soc", probability(), Need::Optional);
  const auto brownout = number(b, "brownout_soc", probability(), Need::Optional);
  out.min_soc = min_soc.value_or(0.2);
  out.brownout_soc = brownout.value_or(0.02);
  if ((min_soc || !b.has("min_soc")) && (brownout || !b.has("brownout_soc")) && !(out.brownout_soc < out.min_soc))
    b.error("brownout_soc", format_number(out.brownout_soc) + " is not below min_soc " + format_number(out.min_soc) +
                                " (expected brownout_soc < min_soc: an update never starts where it would brown out)");
  return out;
}

}  // namespace ota::models::scenario_detail
