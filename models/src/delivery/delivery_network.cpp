// delivery_network.cpp — origin, CDN edges, P2P neighbourhoods, push broker.
#include "ota/models/delivery/delivery_network.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "ota/models/random_keys.hpp"

namespace ota::models {

DeliveryNetwork::DeliveryNetwork(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, bool sharded,
                                 PeerDraw draw)
    : s_(s), art_(a), seed_(seed), draw_(std::move(draw)), origin_(s.server) {
  // Device index ranges per class, P2P neighbourhoods, CDN edges, push reach.
  std::uint32_t first = 0, neighbourhoods = 0;
  std::uint64_t push_devices = 0;
  for (const DeviceClass& c : s_.classes) {
    ClassRoute r;
    const auto count = static_cast<std::uint32_t>(c.devices);
    r.source = c.source;
    r.region = c.region;
    r.first_device = first;
    r.pushable = c.notify == Notify::Push && s_.links[c.link].wake_interval_s <= 0;
    first += count;
    if (r.source == Source::P2p) {
      const std::uint32_t k = s_.delivery.p2p->neighbourhood_size;
      r.first_neighbourhood = neighbourhoods;
      neighbourhoods += (count + k - 1) / k;
    }
    if (c.notify == Notify::Push) push_devices += count;
    routes_.push_back(r);
  }
  neighbourhoods_.resize(neighbourhoods);
  if (s_.delivery.p2p && s_.delivery.p2p->malicious_share > 0 && !sharded) {
    for (std::size_t c = 0; c < s_.classes.size(); ++c) {
      const ClassRoute& r = routes_[c];
      if (r.source != Source::P2p) continue;
      for (std::uint32_t d = r.first_device; d < r.first_device + s_.classes[c].devices; ++d)
        if (attribute_stream(seed_, d, Attribute::Malicious).uniform() < s_.delivery.p2p->malicious_share) {
          neighbourhoods_[r.first_neighbourhood + (d - r.first_device) / s_.delivery.p2p->neighbourhood_size]
              .malicious.push_back(d);
          ++malicious_peers_;
        }
    }
  }
  if (s_.server.bandwidth_bps > 0) origin_link_ = shares_.add_link(s_.server.bandwidth_bps);
  if (s_.delivery.cdn) {
    for (const auto& edge : s_.delivery.cdn->edges) {
      Server limits;
      if (edge) {
        limits.bandwidth_bps = edge->bandwidth_bps;
        limits.max_concurrent_downloads = edge->max_concurrent_downloads;
        limits.usd_per_gb = edge->usd_per_gb;
      }
      edges_.emplace_back(limits);
      if (limits.bandwidth_bps > 0) edges_.back().link = shares_.add_link(limits.bandwidth_bps);
    }
  }
  push_share_ = s_.delivery.push.connected_share;
  if (s_.delivery.push.max_connections > 0 && push_devices > 0)
    push_share_ *= std::min(1.0, static_cast<double>(s_.delivery.push.max_connections) / static_cast<double>(push_devices));
}

DeliveryNetwork::Neighbourhood& DeliveryNetwork::neighbourhood(std::uint32_t device, std::size_t cls) {
  const ClassRoute& r = routes_[cls];
  return neighbourhoods_[r.first_neighbourhood + (device - r.first_device) / s_.delivery.p2p->neighbourhood_size];
}

std::uint64_t DeliveryNetwork::artifact_bytes(std::size_t kind) const {
  return kind == 2 ? art_.revert_bytes : kind == 1 ? art_.image_bytes : art_.payload_bytes;
}

UpdateServer& DeliveryNetwork::server_of(std::size_t cls) {
  const ClassRoute& r = routes_[cls];
  return r.source == Source::Cdn ? edges_[r.region].server : origin_;
}

double DeliveryNetwork::peer_bps(std::uint32_t device) const {
  const P2p& p = *s_.delivery.p2p;
  sim::RandomStream st = attribute_stream(seed_, device, Attribute::PeerRate);
  return p.link_bps * std::exp(st.normal(0.0, p.sigma));
}

// A peer's uplink: the scenario's upload rate, or its own peer link's rate.
double DeliveryNetwork::uplink_bps(std::uint32_t peer) const {
  const double fixed = s_.delivery.p2p->upload_bps;
  return fixed > 0 ? fixed : peer_bps(peer);
}

std::uint32_t DeliveryNetwork::link_bound(const Scenario& s) {
  std::uint64_t p2p_devices = 0;
  for (const DeviceClass& c : s.classes)
    if (c.source == Source::P2p) p2p_devices += c.devices;
  return static_cast<std::uint32_t>(1 + s.regions.size() + p2p_devices);
}

std::optional<FairShare::LinkId> DeliveryNetwork::link_of(std::uint32_t device, std::size_t cls) {
  if (const auto it = peer_of_.find(device); it != peer_of_.end()) {
    const std::uint32_t peer = it->second & ~kMaliciousBit;
    const auto [at, fresh] = peer_links_.try_emplace(peer, 0);
    if (fresh) at->second = shares_.add_link(uplink_bps(peer));
    return at->second;
  }
  const ClassRoute& r = routes_[cls];
  return r.source == Source::Cdn ? edges_[r.region].link : origin_link_;
}

bool DeliveryNetwork::begin_flow(std::uint32_t device, std::size_t cls, double bits, double cap_bps, double t) {
  const std::optional<FairShare::LinkId> link = link_of(device, cls);
  if (!link) return false;
  shares_.start(*link, device, bits, cap_bps, t);
  touched_.push_back(*link);
  return true;
}

std::optional<double> DeliveryNetwork::end_flow(std::uint32_t device, double t) {
  if (!shares_.running(device)) return std::nullopt;
  const std::optional<FairShare::LinkId> link = shares_.link(device);
  touched_.push_back(*link);
  return shares_.stop(device, t);
}

DeliveryNetwork::Decision DeliveryNetwork::grant(UpdateServer& server, std::uint32_t device, double link_bps,
                                                 double since) {
  Decision out;
  out.since = since;
  const UpdateServer::Grant g = server.request_download(device, link_bps, since);
  switch (g.slot) {
    case UpdateServer::Slot::Refused: out.answer = Answer::Refused; break;
    case UpdateServer::Slot::Queued: out.answer = Answer::Queued; break;
    case UpdateServer::Slot::Start:
      out.answer = Answer::Start;
      out.rate_bps = g.rate_bps;
      break;
  }
  return out;
}

DeliveryNetwork::Decision DeliveryNetwork::request(const Request& q, double t) {
  const ClassRoute& route = routes_[q.cls];
  if (q.via_peers) {
    // P2P: a free honest peer or a hostile one (which the device cannot tell
    // apart before verifying), else the neighbourhood's first requester
    // fetches from the origin as its seed, else wait for a peer (at most
    // fallback_s).
    Neighbourhood& nb = neighbourhood(q.device, q.cls);
    if (const auto s = serve_from_peer(q.device, q.since, nb)) {
      Decision out;
      out.answer = Answer::Start;
      out.rate_bps = s->rate_bps;
      out.from_peer = true;
      out.since = q.since;
      return out;
    }
    if (!nb.seeding) {
      nb.seeding = true;
      Decision out = grant(origin_, q.device, q.link_bps, q.since);
      out.seed = true;
      return out;
    }
    nb.waiting.push_back({q.device, q.since});
    Decision out;
    out.answer = Answer::AwaitPeer;
    out.fallback_at_s = t + s_.delivery.p2p->fallback_s;
    return out;
  }
  if (route.source == Source::Cdn) {
    // CDN: the region's edge serves what it has cached; the first request for
    // an artifact (or the first after its TTL) makes the edge fetch it from
    // the origin, and requests wait for that fill.
    Edge& e = edges_[route.region];
    const auto k = static_cast<std::size_t>(q.artifact);
    const double ttl = s_.delivery.cdn->cache_ttl_s;
    const bool fresh = e.cached[k] && (ttl <= 0 || t < e.filled_t[k] + ttl);
    if (fresh) return grant(e.server, q.device, q.link_bps, q.since);
    Decision out;
    out.answer = Answer::AwaitFill;
    if (!e.filling[k]) {
      e.filling[k] = true;
      out.fill = static_cast<std::uint32_t>(route.region * kArtifactKinds + k);
      out.fill_done_at_s = t + static_cast<double>(artifact_bytes(k)) * 8.0 / s_.delivery.cdn->origin_fill_bps;
    }
    e.waiting[k].push_back({q.device, q.since});
    return out;
  }
  return grant(origin_, q.device, q.link_bps, q.since);
}

DeliveryNetwork::Decision DeliveryNetwork::request_at_edge(std::uint32_t device, std::size_t cls, double link_bps,
                                                           double since) {
  return grant(edges_[routes_[cls].region].server, device, link_bps, since);
}

DeliveryNetwork::Fill DeliveryNetwork::fill_done(std::uint32_t index, double t) {
  const std::size_t region = index / kArtifactKinds, k = index % kArtifactKinds;
  Edge& e = edges_[region];
  e.filling[k] = false;
  e.cached[k] = true;
  e.filled_t[k] = t;
  Fill out;
  out.bytes = artifact_bytes(k);
  out.waiting = std::move(e.waiting[k]);
  e.waiting[k].clear();
  return out;
}

std::optional<DeliveryNetwork::Started> DeliveryNetwork::serve_from_peer(std::uint32_t device, double since,
                                                                         Neighbourhood& nb) {
  const std::size_t honest = nb.free_slots.size(), candidates = honest + nb.malicious.size();
  if (candidates == 0) return std::nullopt;
  const auto u = static_cast<std::size_t>(draw_(device, candidates));
  std::uint32_t peer = 0;
  if (u < honest) {
    peer = nb.free_slots[u];
    if (peer == device) return std::nullopt;
    nb.free_slots[u] = nb.free_slots.back();
    nb.free_slots.pop_back();
  } else {
    peer = nb.malicious[u - honest];
    if (peer == device) return std::nullopt;
    peer |= kMaliciousBit;
  }
  peer_of_[device] = peer;
  return Started{device, peer_bps(device), true, since};  // its own peer link: the flow's cap
}

void DeliveryNetwork::serve_waiting(Neighbourhood& nb, std::vector<Started>& out) {
  std::size_t served = 0;
  while (served < nb.waiting.size() && !(nb.free_slots.empty() && nb.malicious.empty())) {
    const auto s = serve_from_peer(nb.waiting[served].device, nb.waiting[served].since, nb);
    if (!s) break;
    out.push_back(*s);
    ++served;
  }
  nb.waiting.erase(nb.waiting.begin(), nb.waiting.begin() + static_cast<std::ptrdiff_t>(served));
}

DeliveryNetwork::Release DeliveryNetwork::finish(std::uint32_t device, std::size_t cls) {
  Release out;
  if (const auto it = peer_of_.find(device); it != peer_of_.end()) {
    const std::uint32_t peer = it->second;
    peer_of_.erase(it);
    // An uplink serving nobody any more is given back.
    const std::uint32_t uploader = peer & ~kMaliciousBit;
    if (const auto link = peer_links_.find(uploader); link != peer_links_.end() && shares_.flows(link->second) == 0) {
      shares_.release_link(link->second);
      peer_links_.erase(link);
    }
    if (peer & kMaliciousBit) return out;
    out.peer = peer;
    out.peer_bps = uplink_bps(peer);
    Neighbourhood& nb = neighbourhood(device, cls);
    nb.free_slots.push_back(peer);
    serve_waiting(nb, out.started);
    return out;
  }
  for (const UpdateServer::Started& next : server_of(cls).finish_download(device))
    out.started.push_back({next.device, next.rate_bps, false, next.since});
  return out;
}

std::optional<double> DeliveryNetwork::fallback(std::uint32_t device, std::size_t cls) {
  Neighbourhood& nb = neighbourhood(device, cls);
  const auto it =
      std::find_if(nb.waiting.begin(), nb.waiting.end(), [device](const Waiter& w) { return w.device == device; });
  if (it == nb.waiting.end()) return std::nullopt;
  const double since = it->since;
  nb.waiting.erase(it);
  return since;
}

std::vector<DeliveryNetwork::Started> DeliveryNetwork::add_seeder(std::uint32_t device, std::size_t cls) {
  std::vector<Started> out;
  Neighbourhood& nb = neighbourhood(device, cls);
  for (std::uint32_t i = 0; i < s_.delivery.p2p->uploads_per_peer; ++i) nb.free_slots.push_back(device);
  serve_waiting(nb, out);
  return out;
}

std::optional<std::uint32_t> DeliveryNetwork::hostile_peer(std::uint32_t device) const {
  if (peer_of_.empty()) return std::nullopt;
  const auto it = peer_of_.find(device);
  if (it == peer_of_.end() || !(it->second & kMaliciousBit)) return std::nullopt;
  return it->second & ~kMaliciousBit;
}

void DeliveryNetwork::ban(std::uint32_t device, std::size_t cls, std::uint32_t peer) {
  Neighbourhood& nb = neighbourhood(device, cls);
  nb.malicious.erase(std::remove(nb.malicious.begin(), nb.malicious.end(), peer), nb.malicious.end());
}

std::optional<double> DeliveryNetwork::push_time(std::uint32_t global, std::size_t cls, double t) {
  if (!routes_[cls].pushable) return std::nullopt;
  if (!(attribute_stream(seed_, global, Attribute::PushReach).uniform() < push_share_)) return std::nullopt;
  broker_t_ = std::max(broker_t_, t) + 1.0 / s_.delivery.push.fanout_per_s;
  return broker_t_ + s_.delivery.push.latency_s;
}

}  // namespace ota::models
