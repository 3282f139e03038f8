// table_root.cpp — the scenario field table: the document's own fields and its sections.
#include "field_table_sections.hpp"
#include "fields.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::fields {

namespace {

using scenario_detail::kMaxHours;
using scenario_detail::kMaxMinutes;

const Field kRoot[] = {
    {.path = "",
     .type = Type::Object,
     .description =
         "A firmware rollout to an IoT fleet, as read by otasim. The loader is the authority: it also checks what a "
         "schema cannot say (shares summing to 1, references between sections, strictly increasing stages, image "
         "files existing, slots holding the image) and reports every error with its JSON path, the value and what "
         "was expected. Units are in the field names (_h hours, _min minutes, _s seconds, _kb KB, _kbps kbit/s, _mw "
         "milliwatts, _mj millijoules, _usd US dollars); the loader converts them to SI. Sizes of images use KB = "
         "1000 bytes (the reference text's convention); flash sizes use KiB = 1024 bytes. Keys starting with "
         "_comment, and $schema, are allowed in every object for documentation; any other unknown key is an error.",
     .source = "models/src/scenario/ (the field table)"},
    {.path = "/format",
     .type = Type::Const,
     .required = true,
     .default_json = "\"otasim-scenario/1\"",
     .description = "Format and version of this file: exactly this string."},
    {.path = "/name", .type = Type::Name, .required = true, .description = "Name of the scenario, shown in reports."},
    {.path = "/description", .type = Type::String, .description = "Free text for people."},
    {.path = "/seed",
     .type = Type::Integer,
     .hi = 18446744073709551615.0,
     .default_json = "1",
     .description = "Random seed (unsigned 64-bit). The same scenario and seed give the same report; `otasim run "
                    "--seed` overrides it.",
     .source = kAssumption},
    {.path = "/horizon_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .lo_open = true,
     .unit = "hours",
     .required = true,
     .description = "Simulated time, hours (at most 10 years)."},
    {.path = "/bin_minutes",
     .type = Type::Number,
     .hi = kMaxMinutes,
     .lo_open = true,
     .unit = "minutes",
     .default_json = "60",
     .description = "Width of one time-series bin in the report, minutes; horizon_h x 60 / bin_minutes must be at "
                    "most 100000 bins.",
     .source = kAssumption},
    {.path = "/fleet", .type = Type::Object, .required = true, .description = "The devices."},
    {.path = "/hardware",
     .type = Type::Array,
     .required = true,
     .min_items = 1,
     .max_items = kMaxHardwareEntries,
     .expect = "an array of hardware entries",
     .description = "Hardware revisions, 1 to 8 entries (one signed manifest lists at most 8 hardware ids); names "
                    "and hardware_ids unique."},
    {.path = "/links",
     .type = Type::Map,
     .max_items = kMaxLinkProfiles,
     .description =
         "Radio link profiles. A key naming a built-in profile (nbiot, ltem, lte_cat1, wifi, ethernet; defaults and "
         "sources in models/src/fleet/links.cpp and figures.md 'Links') overrides the fields given. Any other key "
         "defines a new profile that starts from a built-in (\"base\", as this scenario overrides it) and changes "
         "the fields given. At most 256 profiles including the built-ins."},
    {.path = "/release", .type = Type::Object, .required = true, .description = "The release being rolled out."},
    {.path = "/polling",
     .type = Type::Object,
     .description = "How devices check for updates; every field has a default."},
    {.path = "/server", .type = Type::Object, .description = "The update server; 0 means unlimited."},
    {.path = "/delivery",
     .type = Type::Object,
     .description = "How devices learn of an offer and where they download it from (the classes' notify and "
                    "source); needed by classes with source cdn or p2p."},
    {.path = "/rollout",
     .type = Type::Object,
     .description = "How the release is offered: stages (a share of the fleet or named groups at a time, each with a "
                    "soak and a gate) or a rate ramp. Default: one stage offering the release to 100 % of the fleet "
                    "at start_h, no gate."},
    {.path = "/prices", .type = Type::Object, .description = "Prices and conventions for the cost report."},
    {.path = "/health", .type = Type::Object, .description = "Health reporting of updated devices."},
    {.path = "/check",
     .type = Type::Object,
     .description = "Policy expectations for `otasim check`: each expectation is evaluated on every replication's "
                    "report and holds when at least `share` of the replications satisfy it. `otasim run` ignores "
                    "this block."},
};

}  // namespace

std::span<const Field> root_fields() { return kRoot; }

}  // namespace ota::models::fields
