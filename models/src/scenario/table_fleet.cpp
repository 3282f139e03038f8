// table_fleet.cpp — the scenario field table: hardware (/hardware/...), link
// profiles (/links/...) and the fleet (/fleet/..., classes, batteries, regions,
// groups). See field_table_sections.hpp. The readers are in read_fleet.cpp;
// the rules across fields (unique names and ids, names resolving, shares
// summing to 1, min <= median <= max, brown-out below min_soc, slots holding
// the image) stay there.
#include "field_table_sections.hpp"
#include "fields.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::fields {

namespace {

using scenario_detail::kMaxSeconds;
using scenario_detail::kMaxSlotKb;
using scenario_detail::kMaxU32;
using scenario_detail::kTiny;

// A link profile's fields default to its base profile's values; the built-ins'
// values and their sources are in models/src/fleet/links.cpp.
constexpr std::string_view kLinkSource = "models/src/fleet/links.cpp (figures.md 'Links'; some values are assumptions)";

const Field kHardware[] = {
    {.path = "/hardware/*",
     .type = Type::Object,
     .expect = "an object: a hardware entry",
     .description = "One hardware revision: its name, the hardware id the signed manifest lists, its boot behaviour "
                    "and its flash."},
    {.path = "/hardware/*/name",
     .type = Type::Name,
     .required = true,
     .description = "Unique name, referred to by classes and release.behaviour."},
    {.path = "/hardware/*/hardware_id",
     .type = Type::Integer,
     .hi = static_cast<double>(kMaxU32),
     .required = true,
     .description = "Unique id (unsigned 32-bit) that the signed manifest lists and the device agent matches."},
    {.path = "/hardware/*/trial_boot_limit",
     .type = Type::Integer,
     .lo = 1,
     .hi = 255,
     .default_json = "3",
     .description = "Trial boots of a new image before the agent rolls back (the reference text: three failed boots).",
     .source = "the device agent's default (agent::BootConfig::trial_boot_limit); the reference text's three failed "
               "boots"},
    {.path = "/hardware/*/boot_s",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 86400,
     .unit = "seconds",
     .default_json = "5",
     .description = "Time of one boot until the application runs, seconds.",
     .source = kAssumption},
    {.path = "/hardware/*/flash",
     .type = Type::Object,
     .description = "Flash timing and slot size. Defaults: Winbond W25Q external SPI NOR (figures.md 'Flash').",
     .source = "figures.md 'Flash'"},
    {.path = "/hardware/*/flash/sector_bytes",
     .type = Type::Integer,
     .lo = 256,
     .hi = 2147483648.0,
     .default_json = "4096",
     .description = "Erase sector size, bytes: a power of two, at least 256.",
     .source = "figures.md 'Flash': Winbond W25Q 4 KB erase sector"},
    {.path = "/hardware/*/flash/erase_ms_per_sector",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "milliseconds",
     .default_json = "45",
     .description = "Erase time per sector, ms (W25Q 4 KB sector: 45 ms typical, 400 ms max).",
     .source = "figures.md 'Flash': Winbond W25Q typical 45 ms per 4 KB sector"},
    {.path = "/hardware/*/flash/program_ms_per_kb",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "milliseconds per KiB",
     .default_json = "1.6",
     .description = "Program time per KiB (1024 bytes), ms (W25Q 256 B page in 0.4 ms typical = 1.6 ms per KiB).",
     .source = "figures.md 'Flash': Winbond W25Q 256 B page in 0.4 ms typical"},
    {.path = "/hardware/*/flash/write_mw",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "milliwatts",
     .default_json = "0",
     .description = "Extra power while erasing or programming, mW.",
     .source = kAssumption},
    {.path = "/hardware/*/flash/slot_kb",
     .type = Type::Integer,
     .lo = 1,
     .hi = static_cast<double>(kMaxSlotKb),
     .unit = "KiB",
     .default_json = "1536",
     .description = "Capacity of one firmware slot, KiB (1024 bytes). Must hold the release's full image.",
     .source = kAssumption},
};

const Field kLinks[] = {
    {.path = "/links/*",
     .type = Type::Object,
     .expect = "an object: a link profile",
     .description = "A link profile. Under a built-in's name (nbiot, ltem, lte_cat1, wifi, ethernet): an override of "
                    "that profile, only the fields given change, and no base. Under any other (non-empty) name: a new "
                    "profile, a copy of the built-in \"base\" (as this scenario overrides it) with the fields given "
                    "changed. Each field replaces the base profile's value; after merging, min_kbps <= median_kbps "
                    "<= max_kbps."},
    {.path = "/links/*/base",
     .type = Type::String,
     .default_note = "required for a new profile; not allowed on a built-in's override",
     .expect = "the name of a built-in profile: nbiot, ltem, lte_cat1, wifi, ethernet",
     .description = "The built-in profile a new profile starts from: nbiot, ltem, lte_cat1, wifi or ethernet. "
                    "Required for a new profile; not allowed under a built-in's name."},
    {.path = "/links/*/median_kbps",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e8,
     .unit = "kbit/s",
     .default_note = "the base profile's: nbiot 9, ltem 100, lte_cat1 36, wifi 5000, ethernet 50000",
     .description = "Median application throughput, kbit/s. Each device draws its throughput once from a lognormal "
                    "with this median.",
     .source = kLinkSource},
    {.path = "/links/*/sigma",
     .type = Type::Number,
     .hi = 10,
     .default_note = "the base profile's: nbiot 0.6, ltem 0.5, lte_cat1 0.3, wifi 0.7, ethernet 0.3",
     .description = "Spread of that lognormal (sigma of the underlying normal).",
     .source = kLinkSource},
    {.path = "/links/*/min_kbps",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e8,
     .unit = "kbit/s",
     .default_note = "the base profile's: nbiot 2, ltem 10, lte_cat1 16, wifi 250, ethernet 5000",
     .description = "Lower clamp of the throughput, kbit/s.",
     .source = kLinkSource},
    {.path = "/links/*/max_kbps",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e8,
     .unit = "kbit/s",
     .default_note = "the base profile's: nbiot 72, ltem 1000, lte_cat1 56, wifi 20000, ethernet 100000",
     .description = "Upper clamp of the throughput, kbit/s.",
     .source = kLinkSource},
    {.path = "/links/*/latency_s",
     .type = Type::Number,
     .hi = 86400,
     .unit = "seconds",
     .default_note = "the base profile's: nbiot 3, ltem 0.1, lte_cat1 0.1, wifi 0.02, ethernet 0.01",
     .description = "Round trip of one request, seconds.",
     .source = kLinkSource},
    {.path = "/links/*/drop_per_mb",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "drops per MB",
     .default_note = "the base profile's: nbiot 0.05, ltem 0.02, lte_cat1 0.01, wifi 0.002, ethernet 0.0005",
     .description = "Expected dropped transfers per MB transferred.",
     .source = "models/src/fleet/links.cpp (assumptions)"},
    {.path = "/links/*/usd_per_mb",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "USD",
     .default_note = "the base profile's: nbiot, ltem and lte_cat1 0.05, wifi and ethernet 0",
     .description = "Metered data price, USD per MB (figures.md: pay-as-you-go $0.02-$0.08). Setting it also sets "
                    "whether the link is metered (price > 0).",
     .source = "models/src/fleet/links.cpp (figures.md 'Prices': pay-as-you-go $0.02-$0.08 per MB)"},
    {.path = "/links/*/rx_mw",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "milliwatts",
     .default_note = "the base profile's: nbiot 148, ltem 296, lte_cat1 500, wifi 281, ethernet 0",
     .description = "Radio power while receiving, mW.",
     .source = "models/src/fleet/links.cpp (figures.md 'Links': nRF9160 40 mA (NB-IoT) and 80 mA (LTE-M) at 3.7 V, "
               "ESP32 RX 85 mA at 3.3 V; lte_cat1 an assumption; ethernet not counted)"},
    {.path = "/links/*/poll_mj",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "millijoules",
     .default_note = "the base profile's: nbiot 550, ltem 105, lte_cat1 200, wifi 50, ethernet 0",
     .description = "Energy of one wake and check-in, mJ.",
     .source = "models/src/fleet/links.cpp (figures.md 'Links': nRF9160 periodic wake 550 mJ (NB-IoT), 105 mJ "
               "(LTE-M); lte_cat1 and wifi assumptions)"},
    {.path = "/links/*/wake_interval_s",
     .type = Type::Number,
     .hi = kMaxSeconds,
     .unit = "seconds",
     .default_note = "the base profile's: nbiot 3600, ltem 600, lte_cat1, wifi and ethernet 0",
     .description = "A sleeping device is reachable only when it wakes, every this many seconds; 0: always reachable.",
     .source = "models/src/fleet/links.cpp (nbiot PSM and ltem eDRX-style paging: assumptions)"},
};

const Field kFleet[] = {
    {.path = "/fleet/devices",
     .type = Type::Integer,
     .lo = 1,
     .hi = static_cast<double>(kMaxFleetDevices),
     .required = true,
     .description = "Fleet size, an integer from 1 to 200,000,000. `otasim run --devices N` overrides it (class counts "
                    "are re-derived)."},
    {.path = "/fleet/classes",
     .type = Type::Array,
     .required = true,
     .min_items = 1,
     .max_items = kMaxDeviceClasses,
     .expect = "an array of device classes",
     .description = "Device classes, 1 to 256, names unique. Shares must sum to 1 within 1e-6. Each class gets "
                    "round(share x devices) devices; the rounding remainder goes one device at a time to the classes "
                    "with the largest shares (ties: the earlier class), so that the counts add up exactly."},
    {.path = "/fleet/classes/*",
     .type = Type::Object,
     .expect = "an object: a device class",
     .description = "One class of devices: its share of the fleet, hardware, link, region, power source, "
                    "partitioning, canary group and how it learns of and downloads an update."},
    {.path = "/fleet/classes/*/name", .type = Type::Name, .required = true, .description = "Unique class name."},
    {.path = "/fleet/classes/*/share",
     .type = Type::Number,
     .hi = 1,
     .lo_open = true,
     .probability = true,
     .required = true,
     .description = "Fraction of the fleet in this class, in (0, 1]."},
    {.path = "/fleet/classes/*/hardware",
     .type = Type::String,
     .required = true,
     .expect = "the name of a /hardware entry",
     .description = "Name of a /hardware entry."},
    {.path = "/fleet/classes/*/link",
     .type = Type::String,
     .required = true,
     .expect = "the name of a link profile",
     .description = "A built-in link profile (nbiot, ltem, lte_cat1, wifi, ethernet) or a key of /links."},
    {.path = "/fleet/classes/*/region",
     .type = Type::Name,
     .default_json = "\"default\"",
     .description = "Region label; classes with the same label share a region in reports (and in /delivery/cdn/edges, "
                    "/rollout/windows).",
     .source = kAssumption},
    {.path = "/fleet/classes/*/power",
     .type = Type::Choice,
     .required = true,
     .choices = "mains|battery",
     .description = "Power source. A battery class needs a battery block; a mains class must not have one."},
    {.path = "/fleet/classes/*/partitioning",
     .type = Type::Choice,
     .default_json = "\"ab\"",
     .choices = "ab|single_recovery|single",
     .description = "ab: two slots, the old image survives any failure. single_recovery: one slot plus a recovery "
                    "image; power loss while writing sends the device to recovery, which downloads again. single: one "
                    "slot and no recovery; power loss while writing bricks the device.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/power_loss_per_hour",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "events per device-hour",
     .default_note = "1.3e-4 for mains, 0 for battery (battery devices lose power by brown-out instead)",
     .description = "Power-loss hazard, events per device-hour.",
     .source = "figures.md 'Mains power loss': the middle of the derived 1.1-1.6e-4 outages per device-hour (US SAIFI "
               "1.0-1.4 per customer-year, EIA-861; unplugging not included)"},
    {.path = "/fleet/classes/*/battery",
     .type = Type::Object,
     .default_note = "required when power is \"battery\"; not allowed when it is \"mains\"",
     .expect = "an object with at least capacity_mah and voltage_v, for a battery-powered class",
     .description = "Battery of a battery-powered class (required for one, not allowed on a mains class). Energy = "
                    "capacity_mah x 3.6 x voltage_v joules. Example: 2 x AA lithium, about 3000 mAh at 3 V (figures.md: "
                    "Energizer L91)."},
    {.path = "/fleet/classes/*/battery/capacity_mah",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e9,
     .unit = "mAh",
     .required = true,
     .description = "Usable capacity, mAh."},
    {.path = "/fleet/classes/*/battery/voltage_v",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e4,
     .unit = "volts",
     .required = true,
     .description = "Nominal voltage, V."},
    {.path = "/fleet/classes/*/battery/soc_mean",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0.7",
     .description = "Mean initial state of charge across devices, 0 to 1.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/battery/soc_stddev",
     .type = Type::Number,
     .hi = 1,
     .default_json = "0.15",
     .description = "Standard deviation of the initial state of charge.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/battery/idle_mw",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "milliwatts",
     .default_json = "0.05",
     .description = "Average draw outside updates and polls, mW.",
     .source = "assumption, above the nRF9160 PSM floor of 2.7 uA x 3.7 V = 0.01 mW (figures.md 'Links') for the MCU "
               "and sensors"},
    {.path = "/fleet/classes/*/battery/recharge_mw",
     .type = Type::Number,
     .hi = 1e9,
     .unit = "milliwatts",
     .default_json = "0",
     .description = "Average recharge power (solar, harvesting), mW. 0: a primary cell that never recharges.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/battery/update_margin",
     .type = Type::Number,
     .lo = 1,
     .hi = 1000,
     .default_json = "1.5",
     .description = "An update starts only with this many times the energy it needs.",
     .source = "the reference text's rule: energy available >= energy needed x 1.5"},
    {.path = "/fleet/classes/*/battery/min_soc",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0.2",
     .description = "And never below this state of charge.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/battery/brownout_soc",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0.02",
     .description = "Below this state of charge the device browns out (loses power). Must be below min_soc.",
     .source = "assumption (brown-out voltages: nRF9160 2.0 V, ESP32 about 2.43 V, figures.md 'Batteries and "
               "supply'; the state of charge they mean is an assumption)"},
    {.path = "/fleet/classes/*/group",
     .type = Type::Name,
     .description = "Named canary group (for example \"beta\", \"internal\"); classes with the same label form one "
                    "group. A rollout stage with \"groups\" offers the release to the devices of those groups."},
    {.path = "/fleet/classes/*/notify",
     .type = Type::Choice,
     .default_json = "\"poll\"",
     .choices = "poll|push",
     .description =
         "How the class learns of an offer. poll: at its next poll. push: /delivery/push's broker notifies it when "
         "its stage opens, if it is connected (connected_share) and awake; it then checks in at once. Devices on a "
         "link with wake_interval_s > 0 (power-saving sleep: built-in nbiot 3600 s, ltem 600 s) are asleep and "
         "always miss the notification. Devices not reached learn at their next poll; retries and later check-ins "
         "are polls. A gate's rollback offer is learned by poll only.",
     .source = kAssumption},
    {.path = "/fleet/classes/*/source",
     .type = Type::Choice,
     .default_json = "\"origin\"",
     .choices = "origin|cdn|p2p",
     .description =
         "Where the class downloads from. origin: the update server (/server). cdn: its region's edge in "
         "/delivery/cdn/edges (required for every region of a cdn class, else a load error). p2p: neighbours "
         "(/delivery/p2p, required), with a seed per neighbourhood and fallbacks from the origin; recovery and "
         "rollback downloads of a p2p class use the origin. Check-ins always go to the origin (/server's request "
         "limit), whatever the source.",
     .source = kAssumption},
};

std::vector<Field> build() {
  std::vector<Field> out;
  for (const auto part : {std::span<const Field>(kHardware), std::span<const Field>(kLinks),
                          std::span<const Field>(kFleet)})
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

std::span<const Field> fleet_fields() {
  static const std::vector<Field> table = build();
  return table;
}

}  // namespace ota::models::fields
