// table_release.cpp — the scenario field table: the release, polling, the server, delivery (push, CDN,
// peer-to-peer), prices and health. See field_table_sections.hpp.
#include "field_table_sections.hpp"
#include "fields.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::fields {

namespace {

using scenario_detail::kMaxHours;
using scenario_detail::kMaxImageKb;
using scenario_detail::kMaxMinutes;
using scenario_detail::kMaxSeconds;
using scenario_detail::kMaxU32;
using scenario_detail::kTiny;

constexpr double kU32 = static_cast<double>(kMaxU32);
constexpr double kMaxPrice = 1e9;      // USD, USD per GB
constexpr double kMaxRateMbps = 1e9;   // Mbit/s
constexpr double kMaxRateKbps = 1e9;   // kbit/s
constexpr double kMaxPowerMw = 1e6;

// The release's behaviour on a hardware: the same fields in the "default"
// entry (defaults 0) and in the hardware entries (defaults from "default").
constexpr std::string_view kBehaviourExpect = "an object: the release's behaviour";
constexpr std::string_view kBootFailureText = "Chance that each trial boot of the new image fails.";
constexpr std::string_view kCrashText =
    "Crashes per device-day after a successful boot; they feed the health reports that rollout gates read.";
constexpr std::string_view kFailingShareText =
    "Share of this hardware's devices on which the new image never boots (a persistent fault, e.g. one flash or "
    "sensor variant): every trial boot of such a device fails, so after trial_boot_limit boots the agent rolls it "
    "back (ab), boots recovery (single_recovery) or the device bricks (single). Unlike boot_failure_probability, "
    "which each trial boot draws anew, these devices fail every time. Each device of the hardware is such a device "
    "with this probability (one fixed draw per device).";
constexpr std::string_view kFromDefault = "the \"default\" entry's value (0 without a \"default\" entry)";
constexpr std::string_view kNoFailure = "assumption: the new image works unless the scenario says otherwise";

const Field kRelease[] = {
    // ---- /release
    {.path = "/release/from_version",
     .type = Type::Version,
     .required = true,
     .description = "Version the fleet runs now: MAJOR.MINOR.PATCH without leading zeros; MAJOR and MINOR 0..255, "
                    "PATCH 0..65535."},
    {.path = "/release/to_version",
     .type = Type::Version,
     .required = true,
     .description = "Version of the release: MAJOR.MINOR.PATCH without leading zeros; MAJOR and MINOR 0..255, "
                    "PATCH 0..65535."},
    {.path = "/release/from_security_counter",
     .type = Type::Integer,
     .hi = kU32,
     .default_json = "1",
     .description = "Anti-rollback counter of the running image (unsigned 32-bit).",
     .source = kAssumption},
    {.path = "/release/to_security_counter",
     .type = Type::Integer,
     .hi = kU32,
     .default_json = "2",
     .description = "Anti-rollback counter of the release (unsigned 32-bit).",
     .source = "assumption: one above the running image's default counter"},
    {.path = "/release/payload",
     .type = Type::Choice,
     .default_json = "\"full\"",
     .choices = "full|delta",
     .description = "What devices download: the full image or a patch from from_version.",
     .source = kAssumption},
    {.path = "/release/full_kb",
     .type = Type::Number,
     .hi = kMaxImageKb,
     .lo_open = true,
     .unit = "KB of 1000 bytes",
     .default_note = "none: the size of images/new (required without images)",
     .description = "Size of the full image, KB of 1000 bytes (the reference text's convention: 1 MB = 1000 KB). A "
                    "synthetic image of this size is generated and signed at set-up. Required unless images are "
                    "given; not allowed with images."},
    {.path = "/release/delta_kb",
     .type = Type::Number,
     .hi = kMaxImageKb,
     .lo_open = true,
     .unit = "KB of 1000 bytes",
     .default_note = "none: the patch made from images/old and images/new (required for a delta without images)",
     .description = "Size of the patch, KB of 1000 bytes. Required when payload is delta and no images are given; "
                    "not allowed with images; ignored (but checked) when payload is full."},
    {.path = "/release/images",
     .type = Type::Object,
     .description = "Real image files instead of sizes; paths relative to the scenario file's directory. The files "
                    "must exist and be readable; the full and patch sizes come from them at set-up (the patch from "
                    "the agent's own delta encoder)."},
    {.path = "/release/images/old",
     .type = Type::Name,
     .expect = "a path to a readable image file, relative to the scenario file's directory",
     .description = "Image of from_version: a path relative to the scenario file's directory. Required when payload "
                    "is delta."},
    {.path = "/release/images/new",
     .type = Type::Name,
     .required = true,
     .expect = "a path to a readable image file, relative to the scenario file's directory",
     .description = "Image of to_version: a path relative to the scenario file's directory."},
    {.path = "/release/corruption_per_transfer",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0",
     .description = "Chance that a completed transfer arrives corrupted (the agent's digest check refuses it).",
     .source = kAssumption},
    {.path = "/release/tamper_per_transfer",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0",
     .description = "Chance that a completed transfer arrives tampered (the agent's signature check refuses it).",
     .source = kAssumption},
    {.path = "/release/behaviour",
     .type = Type::Map,
     .description = "What the new image does, per hardware. Keys: \"default\" or hardware names; a hardware entry "
                    "takes the fields it does not give from \"default\", and \"default\" from the defaults of its "
                    "fields."},
    {.path = "/release/behaviour/default",
     .type = Type::Object,
     .expect = kBehaviourExpect,
     .description = "The release's behaviour on every hardware without an entry of its own, and the defaults of "
                    "the hardware entries."},
    {.path = "/release/behaviour/default/boot_failure_probability",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0",
     .description = kBootFailureText,
     .source = kNoFailure},
    {.path = "/release/behaviour/default/crash_per_day",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "crashes per device-day",
     .default_json = "0",
     .description = kCrashText,
     .source = kNoFailure},
    {.path = "/release/behaviour/default/failing_device_share",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0",
     .description = kFailingShareText,
     .source = kNoFailure},
    {.path = "/release/behaviour/*",
     .type = Type::Object,
     .expect = kBehaviourExpect,
     .description = "The release's behaviour on the hardware of this name (a /hardware entry's name); the fields it "
                    "does not give come from \"default\"."},
    {.path = "/release/behaviour/*/boot_failure_probability",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_note = kFromDefault,
     .description = kBootFailureText},
    {.path = "/release/behaviour/*/crash_per_day",
     .type = Type::Number,
     .hi = 1e6,
     .unit = "crashes per device-day",
     .default_note = kFromDefault,
     .description = kCrashText},
    {.path = "/release/behaviour/*/failing_device_share",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_note = kFromDefault,
     .description = kFailingShareText},

    // ---- /polling
    {.path = "/polling/interval_min",
     .type = Type::Number,
     .lo = kTiny,
     .hi = kMaxMinutes,
     .unit = "minutes",
     .default_json = "60",
     .description = "Poll interval, minutes.",
     .source = kAssumption},
    {.path = "/polling/jitter",
     .type = Type::Number,
     .hi = 1,
     .hi_open = true,
     .default_json = "0.1",
     .description = "Each interval is interval x U(1 - jitter, 1 + jitter) (the reference text's answer to the "
                    "thundering herd: randomized polling intervals).",
     .source = kAssumption},
    {.path = "/polling/backoff",
     .type = Type::Object,
     .description = "Exponential backoff after a failed request: initial_s, then x factor each time, capped at "
                    "max_s."},
    {.path = "/polling/backoff/initial_s",
     .type = Type::Number,
     .lo = kTiny,
     .hi = kMaxSeconds,
     .unit = "seconds",
     .default_json = "60",
     .description = "First backoff, seconds.",
     .source = kAssumption},
    {.path = "/polling/backoff/factor",
     .type = Type::Number,
     .lo = 1,
     .hi = 1000,
     .default_json = "2",
     .description = "Growth per consecutive failure.",
     .source = kAssumption},
    {.path = "/polling/backoff/max_s",
     .type = Type::Number,
     .hi = kMaxSeconds,
     .lo_open = true,
     .unit = "seconds",
     .default_json = "3600",
     .description = "Cap, seconds; at least initial_s.",
     .source = kAssumption},
    {.path = "/polling/idle_polls",
     .type = Type::Choice,
     .default_json = "\"aggregate\"",
     .choices = "aggregate|events",
     .description = "aggregate: polls that find no update are counted in bulk (server load only); events: one "
                    "simulated event per poll (the reference mode).",
     .source = "assumption: aggregate is faster and gives the same report for polls that find nothing"},
    {.path = "/polling/synchronized_start",
     .type = Type::Boolean,
     .default_json = "false",
     .description = "Every device polls first at t = 0 instead of at a uniform random phase of its interval. With "
                    "jitter 0 the fleet then polls in the same second every interval, and retries after refusals "
                    "stay in step too (backoff is jittered like intervals): the thundering herd. It also turns "
                    "idle_polls aggregate off: every poll is an event, so large fleets run slower (example "
                    "herd-synchronized.json against herd-jittered.json; the report's peak_requests_per_s).",
     .source = kAssumption},

    // ---- /server
    {.path = "/server/max_requests_per_s",
     .type = Type::Number,
     .hi = 1e12,
     .unit = "requests per second; 0 = unlimited",
     .default_json = "0",
     .description = "Request rate limit, per second; 0 = unlimited.",
     .source = kAssumption},
    {.path = "/server/max_concurrent_downloads",
     .type = Type::Integer,
     .hi = kU32,
     .unit = "downloads; 0 = unlimited",
     .default_json = "0",
     .description = "Downloads served at once (a FIFO slot limit, like a connection pool; the others wait in the "
                    "queue); 0 = unlimited.",
     .source = kAssumption},
    {.path = "/server/bandwidth_mbps",
     .type = Type::Number,
     .hi = kMaxRateMbps,
     .unit = "Mbit/s; 0 = unlimited",
     .default_json = "0",
     .description = "Egress bandwidth, Mbit/s, shared max-min fairly by the downloads in progress (each also at most "
                    "at its own link rate and, for A/B, its flash write pace); 0 = unlimited.",
     .source = kAssumption},
    {.path = "/server/queue_limit",
     .type = Type::Integer,
     .hi = kU32,
     .unit = "waiting downloads; 0 = unlimited",
     .default_json = "0",
     .description = "Downloads waiting for a slot; beyond it requests are refused; 0 = unlimited.",
     .source = kAssumption},
    {.path = "/server/usd_per_gb",
     .type = Type::Number,
     .hi = kMaxPrice,
     .unit = "USD per GB",
     .default_json = "0.09",
     .description = "Origin egress price, USD per GB.",
     .source = "figures.md 'Prices': AWS S3/EC2 to internet $0.09/GB (first 10 TB)"},

    // ---- /delivery
    {.path = "/delivery/push",
     .type = Type::Object,
     .description =
         "An MQTT-like broker for the classes with notify push. Optional: without it push classes use these "
         "defaults. When a device's stage opens, the device is notified if it is connected, with probability "
         "connected_share x min(1, max_connections / devices of push classes), one fixed draw per device, and if its "
         "link has no wake interval (asleep devices miss it). Notifications leave one FIFO queue at fanout_per_s; "
         "the device checks in latency_s after its notification leaves. The others learn at their next poll. "
         "Report: learned_by_push, learned_by_poll and the mean delays from offer to first check-in "
         "(push_delay_mean_s, poll_delay_mean_s)."},
    {.path = "/delivery/push/fanout_per_s",
     .type = Type::Number,
     .lo = kTiny,
     .hi = 1e12,
     .unit = "notifications per second",
     .default_json = "1000",
     .description = "Notifications the broker sends per second (one queue).",
     .source = kAssumption},
    {.path = "/delivery/push/max_connections",
     .type = Type::Integer,
     .hi = static_cast<double>(kMaxFleetDevices),
     .unit = "connections; 0 = unlimited",
     .default_json = "0",
     .description = "Devices the broker holds connected at once; 0 = unlimited. Scales connected_share by "
                    "max_connections / devices of push classes when that is below 1.",
     .source = kAssumption},
    {.path = "/delivery/push/connected_share",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0.7",
     .description = "Share of push devices connected when notified.",
     .source = kAssumption},
    {.path = "/delivery/push/latency_s",
     .type = Type::Number,
     .hi = kMaxSeconds,
     .unit = "seconds",
     .default_json = "1",
     .description = "From the notification leaving the queue to the device's check-in, seconds.",
     .source = kAssumption},
    {.path = "/delivery/cdn",
     .type = Type::Object,
     .description =
         "CDN edges for the classes with source cdn. An edge serves its region from its cache; the first request "
         "for an artifact (the release as offered, the full image for recovery, the previous release for a "
         "rollback), or the first after cache_ttl_h, makes the edge fetch it from the origin at origin_fill_mbps "
         "while requests for it wait. A fill is origin egress (origin_bytes, server_egress_cost_usd at "
         "/server/usd_per_gb, cdn_fills); downloads from the edge are edge egress (edge_bytes, cdn_cost_usd at the "
         "edge's usd_per_gb). Fills take no origin download slot or bandwidth."},
    {.path = "/delivery/cdn/edges",
     .type = Type::Map,
     .required = true,
     .description = "One edge per region, keyed by the classes' region labels. Every region with a cdn class needs "
                    "an edge (the loader reports the class's /source otherwise); a key naming no region of the "
                    "fleet is an error."},
    {.path = "/delivery/cdn/edges/*",
     .type = Type::Object,
     .expect = "an object: a CDN edge",
     .description = "A region's edge: a download server like /server (shared bandwidth, concurrent downloads, "
                    "waiting queue without limit) with its own price. It has no request rate limit: check-ins go to "
                    "the origin."},
    {.path = "/delivery/cdn/edges/*/bandwidth_mbps",
     .type = Type::Number,
     .hi = kMaxRateMbps,
     .unit = "Mbit/s; 0 = unlimited",
     .default_json = "0",
     .description = "Egress bandwidth, Mbit/s, shared max-min fairly by the edge's downloads in progress; 0 = "
                    "unlimited.",
     .source = kAssumption},
    {.path = "/delivery/cdn/edges/*/max_concurrent_downloads",
     .type = Type::Integer,
     .hi = kU32,
     .unit = "downloads; 0 = unlimited",
     .default_json = "0",
     .description = "Downloads served at once (a FIFO slot limit); 0 = unlimited (others wait).",
     .source = kAssumption},
    {.path = "/delivery/cdn/edges/*/usd_per_gb",
     .type = Type::Number,
     .hi = kMaxPrice,
     .unit = "USD per GB",
     .default_json = "0.085",
     .description = "Edge egress price, USD per GB.",
     .source = "figures.md 'Prices': Amazon CloudFront $0.085/GB (first 10 TB, North America/Europe)"},
    {.path = "/delivery/cdn/origin_fill_mbps",
     .type = Type::Number,
     .lo = kTiny,
     .hi = kMaxRateMbps,
     .unit = "Mbit/s",
     .default_json = "1000",
     .description = "Origin to edge rate of one cache fill, Mbit/s.",
     .source = kAssumption},
    {.path = "/delivery/cdn/cache_ttl_h",
     .type = Type::Number,
     .hi = kMaxHours,
     .unit = "hours; 0 = for the whole run",
     .default_json = "0",
     .description = "How long a filled artifact stays cached, hours; 0 = for the whole run. After it, the next "
                    "request fills again.",
     .source = kAssumption},
    {.path = "/delivery/p2p",
     .type = Type::Object,
     .description =
         "Peer-to-peer sharing for the classes with source p2p (a BLE/Zigbee mesh or a LAN). A class's devices form "
         "neighbourhoods of neighbourhood_size consecutive devices (the last may be smaller; none spans two "
         "classes). A requesting device takes a free upload slot of a neighbour that verified the image, or a "
         "hostile neighbour not yet caught (it cannot tell them apart); if there is none, the first such requester "
         "becomes the neighbourhood's seed (one per neighbourhood, p2p_seeds) and downloads from the origin, and "
         "later ones wait (first come, first served) up to fallback_min, then download from the origin "
         "(p2p_fallbacks). A device whose agent verified the image serves uploads_per_peer neighbours at once from "
         "then on. Each device draws its peer link rate once from a lognormal (link_kbps, sigma): it receives at "
         "most at that rate, and its uplink (upload_kbps when set) is shared max-min fairly by the uploads it serves "
         "at once, as TCP flows through one bottleneck; peer transfers have no latency, no drops and no data price: "
         "peer_bytes are neither metered nor egress. The receiver's radio spends rx_mw, the uploader's tx_mw. "
         "Recovery and rollback downloads use the origin."},
    {.path = "/delivery/p2p/neighbourhood_size",
     .type = Type::Integer,
     .lo = 1,
     .hi = 1'000'000,
     .unit = "devices",
     .default_json = "20",
     .description = "Devices per neighbourhood.",
     .source = kAssumption},
    {.path = "/delivery/p2p/link_kbps",
     .type = Type::Number,
     .lo = kTiny,
     .hi = kMaxRateKbps,
     .unit = "kbit/s",
     .default_json = "250",
     .description = "Median peer link rate, kbit/s; each device draws its rate once from a lognormal with this "
                    "median. It caps what the device receives from a peer and, unless upload_kbps is set, is its "
                    "uplink.",
     .source = "assumption: BLE mesh application throughput"},
    {.path = "/delivery/p2p/sigma",
     .type = Type::Number,
     .hi = 3,
     .default_json = "0.3",
     .description = "Spread of that lognormal (sigma of the underlying normal).",
     .source = kAssumption},
    {.path = "/delivery/p2p/uploads_per_peer",
     .type = Type::Integer,
     .lo = 1,
     .hi = 1000,
     .unit = "transfers",
     .default_json = "1",
     .description = "Transfers one honest peer serves at once.",
     .source = kAssumption},
    {.path = "/delivery/p2p/upload_kbps",
     .type = Type::Number,
     .hi = kMaxRateKbps,
     .unit = "kbit/s",
     .default_json = "0",
     .description = "A peer's uplink, kbit/s, shared max-min fairly by the uploads it serves at once (each also at "
                    "most at its receiver's own rate); 0 = each peer's uplink is its own link_kbps draw (a "
                    "half-duplex radio sends as fast as it receives).",
     .source = kAssumption},
    {.path = "/delivery/p2p/malicious_share",
     .type = Type::Number,
     .hi = 1,
     .probability = true,
     .default_json = "0",
     .description =
         "Share of p2p devices that are hostile peers (one fixed draw per device; report p2p_malicious_peers). A "
         "hostile peer serves from the start, to any number at once; it relays the genuine signed manifest (it "
         "cannot sign one) with a modified image, so the agent's digest check rejects the download "
         "(digest_rejections, p2p_rejected_transfers, p2p_wasted_bytes, p2p_wasted_energy_j; an accepted one would "
         "count in tampered_installs, which must stay 0). The neighbourhood then stops using that peer and the "
         "device asks again at once; a rejected peer transfer is not a failed attempt.",
     .source = kAssumption},
    {.path = "/delivery/p2p/fallback_min",
     .type = Type::Number,
     .lo = kTiny,
     .hi = kMaxMinutes,
     .unit = "minutes",
     .default_json = "60",
     .description = "Longest wait for a free peer, minutes; then the origin.",
     .source = kAssumption},
    {.path = "/delivery/p2p/rx_mw",
     .type = Type::Number,
     .hi = kMaxPowerMw,
     .unit = "mW",
     .default_json = "15",
     .description = "Receiver's radio power during a peer transfer, mW (replaces the link's rx_mw).",
     .source = kAssumption},
    {.path = "/delivery/p2p/tx_mw",
     .type = Type::Number,
     .hi = kMaxPowerMw,
     .unit = "mW",
     .default_json = "15",
     .description = "Uploader's radio power during a peer transfer, mW (honest peers).",
     .source = kAssumption},

    // ---- /prices
    {.path = "/prices/service_call_usd",
     .type = Type::Number,
     .hi = kMaxPrice,
     .unit = "USD",
     .default_json = "200",
     .description = "Cost of one field service call (a bricked device), USD.",
     .source = "the reference text's $200 per service call; figures.md 'Prices': field service call $150-$500 "
               "direct, about $1,000 fully loaded (TSIA)"},
    // A number that must be one of two values: the reader checks them against
    // `choices` (a Choice entry would be a string).
    {.path = "/prices/bytes_per_mb",
     .type = Type::Number,
     .lo = 1e6,
     .hi = 1048576,
     .default_json = "1000000",
     .choices = "1000000|1048576",
     .expect = "1000000 or 1048576",
     .description = "Bytes in a billed MB: 1000000 (the reference text's convention) or 1048576.",
     .source = "the reference text's convention: 1 MB = 1000 KB = 10^6 bytes"},

    // ---- /health
    {.path = "/health/report_after_min",
     .type = Type::Number,
     .hi = kMaxMinutes,
     .lo_open = true,
     .unit = "minutes",
     .default_json = "10",
     .description = "A trial image reports healthy after running this long, minutes.",
     .source = kAssumption},
};

}  // namespace

std::span<const Field> release_fields() { return kRelease; }

}  // namespace ota::models::fields
