#include "ota/models/fleet/links.hpp"

namespace ota::models {

namespace {

// Figures from ../shared/reference/figures.md ("Links" and "Prices"); where a
// figure is derived or assumed it says so.
std::vector<LinkProfile> make_profiles() {
  std::vector<LinkProfile> p;
  {
    LinkProfile l;
    l.name = "nbiot";
    // Practical NB-IoT downlink ≈ 20 kbps (Anritsu/Amarisoft); poor coverage or
    // stop-and-wait block transfers 2–5 kbps; NB2 bound ≈ 72 kbps. figures.md's
    // derived default: median near 8–10 kbps with a tail to 2 kbps.
    l.median_bps = 9e3;
    l.sigma = 0.6;
    l.min_bps = 2e3;
    l.max_bps = 72e3;
    l.latency_s = 3.0;       // 1.6–10 s by design
    l.drop_per_mb = 0.05;    // assumption: long transfers on a low-rate link drop now and then
    l.usd_per_mb = 0.05;     // pay-as-you-go $0.02–$0.08 per MB
    l.rx_watts = 0.148;      // nRF9160 connected 35–45 mA at 3.7 V (40 mA)
    l.poll_joules = 0.55;    // nRF9160 periodic wake 550 mJ
    l.wake_interval_s = 3600;
    l.metered = true;
    p.push_back(l);
  }
  {
    LinkProfile l;
    l.name = "ltem";
    // LTE-M ≈ 100 kbps typical (1 Mbps peak); latency 0.1 s normal, 6.2 s extreme.
    l.median_bps = 100e3;
    l.sigma = 0.5;
    l.min_bps = 10e3;
    l.max_bps = 1e6;
    l.latency_s = 0.1;
    l.drop_per_mb = 0.02;    // assumption
    l.usd_per_mb = 0.05;
    l.rx_watts = 0.296;      // nRF9160 45–115 mA at 3.7 V (80 mA)
    l.poll_joules = 0.105;   // nRF9160 periodic wake 105 mJ
    l.wake_interval_s = 600; // eDRX-style paging (assumption)
    l.metered = true;
    p.push_back(l);
  }
  {
    LinkProfile l;
    l.name = "lte_cat1";
    // UART-attached LTE modems: 2–7 kB/s, the host link is the bottleneck
    // (community reports, SIM7600). Used here for Cat-1 modules on UART.
    l.median_bps = 36e3;
    l.sigma = 0.3;
    l.min_bps = 16e3;
    l.max_bps = 56e3;
    l.latency_s = 0.1;
    l.drop_per_mb = 0.01;    // assumption
    l.usd_per_mb = 0.05;
    l.rx_watts = 0.5;        // assumption: Cat-1 module receiving (no figure in figures.md)
    l.poll_joules = 0.2;     // assumption
    l.wake_interval_s = 0;
    l.metered = true;
    p.push_back(l);
  }
  {
    LinkProfile l;
    l.name = "wifi";
    // ESP32 TCP 20 Mbit/s open air; indoors lower (assumption: median 5 Mbit/s).
    l.median_bps = 5e6;
    l.sigma = 0.7;
    l.min_bps = 250e3;
    l.max_bps = 20e6;
    l.latency_s = 0.02;
    l.drop_per_mb = 0.002;   // assumption
    l.usd_per_mb = 0.0;
    l.rx_watts = 0.281;      // ESP32 RX 80–90 mA at 3.3 V (85 mA)
    l.poll_joules = 0.05;    // assumption: connect + TLS check-in
    l.wake_interval_s = 0;
    l.metered = false;
    p.push_back(l);
  }
  {
    LinkProfile l;
    l.name = "ethernet";
    l.median_bps = 50e6;     // assumption: shared office/industrial uplink share
    l.sigma = 0.3;
    l.min_bps = 5e6;
    l.max_bps = 100e6;
    l.latency_s = 0.01;
    l.drop_per_mb = 0.0005;  // assumption
    l.usd_per_mb = 0.0;
    l.rx_watts = 0.0;        // mains-powered: not counted
    l.poll_joules = 0.0;
    l.wake_interval_s = 0;
    l.metered = false;
    p.push_back(l);
  }
  return p;
}

}  // namespace

const std::vector<LinkProfile>& builtin_link_profiles() {
  static const std::vector<LinkProfile> profiles = make_profiles();
  return profiles;
}

std::optional<LinkProfile> builtin_link_profile(std::string_view name) {
  for (const auto& l : builtin_link_profiles())
    if (l.name == name) return l;
  return std::nullopt;
}

}  // namespace ota::models
