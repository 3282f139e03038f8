// read_fleet.cpp — ScenarioReader: hardware, link profiles, device classes (regions, groups) and batteries.
#include "scenario_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "ota/models/fleet/links.hpp"

namespace ota::models::scenario_detail {

namespace {

// Reads a /hardware entry's flash block into `flash`; false when slot_kb is
// given but invalid (then the slot is not checked against the image).
bool read_flash(const Fields& fl, FlashTiming& flash) {
  const auto sector = integer(fl, "sector_bytes");
  if (sector && (*sector & (*sector - 1)) != 0)
    fl.error("sector_bytes", std::to_string(*sector) + " is not a power of two (expected a power of two >= 256)");
  flash.sector_bytes = static_cast<std::uint32_t>(sector.value_or(default_of(fl, "sector_bytes")));
  flash.erase_s_per_sector = number_or_default(fl, "erase_ms_per_sector") / 1e3;
  flash.program_s_per_kb = number_or_default(fl, "program_ms_per_kb") / 1e3;
  flash.write_watts = number_or_default(fl, "write_mw") / 1e3;
  const auto slot = integer(fl, "slot_kb");
  flash.slot_bytes = static_cast<std::uint32_t>(slot.value_or(default_of(fl, "slot_kb")) * 1024);
  return slot.has_value() || !fl.has("slot_kb");
}

}  // namespace

void ScenarioReader::read_hardware(const Fields& root) {
  const Json* list = array_unsized(root, "hardware");
  if (!list) return;
  const fields::Field& spec = root.spec("hardware");
  if (list->size() < spec.min_items) root.error("hardware", "[] is empty (expected at least one hardware entry)");
  if (spec.max_items > 0 && list->size() > spec.max_items) {
    root.error("hardware", std::to_string(list->size()) + " entries are too many (expected at most " +
                               std::to_string(spec.max_items) +
                               ": one signed manifest lists at most that many hardware ids)");
  }
  const std::string table(item_spec(root, "hardware").path);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string path = child(root.path_of("hardware"), i);
    const Json& entry = (*list)[i];
    Hardware hw;
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected " + item_spec(root, "hardware").expected() + ")");
      // A placeholder, with the table's flash defaults.
      const Fields fl(diag_, empty_object(), path + "/flash", table + "/flash");
      read_flash(fl, hw.flash);
      s_.hardware.push_back(hw);
      hardware_id_ok_.push_back(false);
      slot_ok_.push_back(false);
      continue;
    }
    const Fields f(diag_, entry, path, table);
    if (auto name = text(f, "name")) {
      for (std::size_t j = 0; j < s_.hardware.size(); ++j)
        if (s_.hardware[j].name == *name)
          f.error("name", json_quoted(*name) + " is already the name of /hardware/" + std::to_string(j) +
                              " (expected a unique name)");
      hw.name = std::move(*name);
    }
    if (auto id = integer(f, "hardware_id")) {
      for (std::size_t j = 0; j < s_.hardware.size(); ++j)
        if (hardware_id_ok_[j] && s_.hardware[j].hardware_id == *id)
          f.error("hardware_id", std::to_string(*id) + " is already the id of /hardware/" + std::to_string(j) +
                                     " (expected a unique id)");
      hw.hardware_id = static_cast<std::uint32_t>(*id);
      hardware_id_ok_.push_back(true);
    } else {
      hardware_id_ok_.push_back(false);
    }
    hw.trial_boot_limit = static_cast<std::uint8_t>(integer_or_default(f, "trial_boot_limit"));
    hw.boot_s = number_or_default(f, "boot_s");
    // Without a flash block (or with one of the wrong type), every flash
    // field takes its default.
    const Json* flash = object(f, "flash");
    const Fields fl(diag_, or_empty(flash), f.path_of("flash"), f.table_of("flash"));
    slot_ok_.push_back(read_flash(fl, hw.flash));
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
  // Every field defaults to the base profile's value, that is what `l` holds.
  if (const auto x = number(f, "median_kbps")) l.median_bps = *x * 1e3;
  if (const auto x = number(f, "min_kbps")) l.min_bps = *x * 1e3;
  if (const auto x = number(f, "max_kbps")) l.max_bps = *x * 1e3;
  if (const auto x = number(f, "sigma")) l.sigma = *x;
  if (const auto x = number(f, "latency_s")) l.latency_s = *x;
  if (const auto x = number(f, "drop_per_mb")) l.drop_per_mb = *x;
  if (const auto x = number(f, "usd_per_mb")) {
    l.usd_per_mb = *x;
    l.metered = *x > 0;
  }
  if (const auto x = number(f, "rx_mw")) l.rx_watts = *x / 1e3;
  if (const auto x = number(f, "poll_mj")) l.poll_joules = *x / 1e3;
  if (const auto x = number(f, "wake_interval_s")) l.wake_interval_s = *x;
  if (check_order && !(l.min_bps <= l.median_bps && l.median_bps <= l.max_bps))
    diag_.add(f.path(), "min_kbps " + format_number(l.min_bps / 1e3) + ", median_kbps " +
                            format_number(l.median_bps / 1e3) + ", max_kbps " + format_number(l.max_bps / 1e3) +
                            " are out of order (expected min_kbps <= median_kbps <= max_kbps)");
}

void ScenarioReader::read_links(const Fields& root) {
  s_.links = builtin_link_profiles();
  const Json* links = object(root, "links");
  if (!links) return;
  const std::string path = root.path_of("links");
  const fields::Field& profile = item_spec(root, "links");
  std::vector<std::string> builtin_names;
  for (const auto& l : builtin_link_profiles()) builtin_names.push_back(l.name);
  const auto is_builtin = [&](const std::string& n) {
    return std::find(builtin_names.begin(), builtin_names.end(), n) != builtin_names.end();
  };
  // The table's base entry names the built-ins in its words.
  const std::string expected = "the name of a built-in profile: " + join(builtin_names);
  if (fields::child(profile.path, "base")->expected() != expected)
    throw std::logic_error("scenario field table: " + std::string(profile.path) +
                           "/base does not name the built-in link profiles " + join(builtin_names));
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
        diag_.add(lpath, show(value) + " has the wrong type (expected " + profile.expected() + ")");
        continue;
      }
      const Fields f(diag_, value, lpath, std::string(profile.path));
      if (builtin_pass) {
        if (f.has("base"))
          f.error("base", show(*f.find("base")) + " is not allowed here (expected no base: " + json_quoted(name) +
                              " is a built-in profile, and its fields override the built-in's)");
        for (auto& l : s_.links)
          if (l.name == name) read_link_fields(f, l);
        continue;
      }
      // base: required for a new profile (the table cannot say "for some keys").
      if (!f.has("base")) f.missing("base", f.spec("base").expected());
      const auto base = text(f, "base");
      if (base && !is_builtin(*base))
        f.error("base", json_quoted(*base) + " names no built-in profile (expected " + f.spec("base").expected() + ")");
      const std::size_t max_profiles = root.spec("links").max_items;
      if (s_.links.size() >= max_profiles) {
        diag_.add(lpath, "one profile too many (expected at most " + std::to_string(max_profiles) +
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
  const Json* fleet = object(root, "fleet");
  if (!fleet) return;
  const Fields f(diag_, *fleet, root.path_of("fleet"), root.table_of("fleet"));
  const auto devices = integer(f, "devices");
  if (devices) s_.devices = *devices;
  const Json* classes = array_unsized(f, "classes");
  if (!classes) return;
  const std::string cpath = f.path_of("classes");
  const fields::Field& classes_spec = f.spec("classes");
  if (classes->size() < classes_spec.min_items) diag_.add(cpath, "[] is empty (expected at least one device class)");
  if (classes_spec.max_items > 0 && classes->size() > classes_spec.max_items) {
    diag_.add(cpath, std::to_string(classes->size()) + " classes are too many (expected at most " +
                         std::to_string(classes_spec.max_items) + ")");
    return;
  }
  const fields::Field& class_spec = item_spec(f, "classes");
  std::vector<double> shares;
  bool shares_ok = true;
  for (std::size_t i = 0; i < classes->size(); ++i) {
    const std::string path = child(cpath, i);
    const Json& entry = (*classes)[i];
    if (!entry.is_object()) {
      diag_.add(path, show(entry) + " has the wrong type (expected " + class_spec.expected() + ")");
      shares_ok = false;
      continue;
    }
    const Fields c(diag_, entry, path, std::string(class_spec.path));
    DeviceClass dc;
    if (auto name = text(c, "name")) {
      for (std::size_t j = 0; j < s_.classes.size(); ++j)
        if (s_.classes[j].name == *name)
          c.error("name", json_quoted(*name) + " is already the name of " + child(cpath, class_entry_[j]) +
                              " (expected a unique name)");
      dc.name = std::move(*name);
    }
    const auto share = number(c, "share");
    if (share) shares.push_back(*share);
    else shares_ok = false;

    if (const auto hw = text(c, "hardware")) {
      if (const auto index = hardware_index(*hw)) dc.hardware = *index;
      else c.error("hardware", json_quoted(*hw) + " names no hardware (defined: " + join(hardware_names()) + ")");
    }
    if (const auto link = text(c, "link")) {
      if (const auto index = link_index(*link)) {
        dc.link = *index;
      } else {
        std::vector<std::string> names;
        for (const auto& l : s_.links) names.push_back(l.name);
        c.error("link", json_quoted(*link) + " names no link profile (defined: " + join(names) + ")");
      }
    }
    const std::string region = text_or_default(c, "region");
    const auto rit = std::find(s_.regions.begin(), s_.regions.end(), region);
    dc.region = static_cast<std::size_t>(rit - s_.regions.begin());
    if (rit == s_.regions.end()) s_.regions.push_back(region);
    dc.notify = choice_or_default<Notify>(c, "notify", {{"poll", Notify::Poll}, {"push", Notify::Push}});
    dc.source =
        choice_or_default<Source>(c, "source", {{"origin", Source::Origin}, {"cdn", Source::Cdn}, {"p2p", Source::P2p}});
    if (const auto group = text(c, "group")) {
      const auto git = std::find(s_.groups.begin(), s_.groups.end(), *group);
      dc.group = static_cast<std::size_t>(git - s_.groups.begin());
      if (git == s_.groups.end()) s_.groups.push_back(*group);
    }

    const auto power = choice<PowerSource>(c, "power", {{"mains", PowerSource::Mains}, {"battery", PowerSource::Battery}});
    if (power) dc.power = *power;
    dc.partitioning = choice_or_default<Partitioning>(c, "partitioning",
                                                      {{"ab", Partitioning::AB},
                                                       {"single_recovery", Partitioning::SingleWithRecovery},
                                                       {"single", Partitioning::SingleNoRecovery}});
    // The default depends on the power source (the entry's default_note):
    // figures.md "Mains power loss": derived hazard 1.1–1.6e-4 outages per
    // device-hour. Battery devices lose power by brownout instead.
    const double default_hazard = dc.power == PowerSource::Mains ? 1.3e-4 : 0.0;
    dc.power_loss_per_hour = number(c, "power_loss_per_hour").value_or(default_hazard);

    // battery: required on a battery class, not allowed on a mains class.
    if (c.has("battery")) {
      if (power == PowerSource::Mains)
        c.error("battery", "a battery block on a mains class (expected no \"battery\" unless power is \"battery\")");
      if (const Json* battery = object(c, "battery"))
        dc.battery = read_battery(Fields(diag_, *battery, c.path_of("battery"), c.table_of("battery")));
    } else if (power == PowerSource::Battery) {
      c.missing("battery", c.spec("battery").expected());
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
  const auto mah = number(b, "capacity_mah");
  const auto volts = number(b, "voltage_v");
  if (mah && volts) out.capacity_j = *mah * 3.6 * *volts;  // 1 mAh = 3.6 coulombs
  if (volts) out.voltage_v = *volts;
  out.soc_mean = number_or_default(b, "soc_mean");
  out.soc_stddev = number_or_default(b, "soc_stddev");
  out.idle_watts = number_or_default(b, "idle_mw") / 1e3;
  out.recharge_watts = number_or_default(b, "recharge_mw") / 1e3;
  out.update_margin = number_or_default(b, "update_margin");
  const auto min_soc = number(b, "min_soc");
  const auto brownout = number(b, "brownout_soc");
  out.min_soc = min_soc.value_or(default_of(b, "min_soc"));
  out.brownout_soc = brownout.value_or(default_of(b, "brownout_soc"));
  if ((min_soc || !b.has("min_soc")) && (brownout || !b.has("brownout_soc")) && !(out.brownout_soc < out.min_soc))
    b.error("brownout_soc", format_number(out.brownout_soc) + " is not below min_soc " + format_number(out.min_soc) +
                                " (expected brownout_soc < min_soc: an update never starts where it would brown out)");
  return out;
}

}  // namespace ota::models::scenario_detail
