// delivery_network.hpp — everything between a device that may download and
// the bytes arriving: the origin server, the CDN edges (one per region), the
// P2P neighbourhoods and the push broker.
//
// Owns: the servers' slots and queues (UpdateServer), the edges' caches, the
// neighbourhoods' free upload slots, waiting lists and hostile peers, which
// peer serves which download, the broker's queue, and the shared capacities
// (FairShare: a bandwidth-limited origin or edge, every uploading peer's
// uplink) with the transfers running on them.
// Decides: whether a download starts now, waits (in a server queue, for a CDN
// fill, for a peer) or is refused; who starts when a transfer ends or a fill
// completes; which peer serves; how the transfers on a shared capacity split
// it (max-min fair) and when each completes; when a push notification
// reaches a device.
// Never: schedules events or touches a device record. It answers; the device
// lifecycle (fleet/lifecycle.hpp) schedules, and counts what the report needs.
// (A peer is chosen with the device's own random stream: the lifecycle's
// PeerDraw advances that stream's counter in the device's record.)
//
// Devices are the model's device indices. CDN and P2P run only unsharded
// (shard_obstacle), where they are also the fleet's indices.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ota/models/delivery/fair_share.hpp"
#include "ota/models/delivery/update_server.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// What a device downloads.
enum class ArtifactKind : std::uint8_t {
  Release = 0,    // the release as offered (full image or delta)
  FullImage = 1,  // the full image (a device running recovery has no base for a delta)
  Previous = 2,   // the previous release's full image (a gate's rollback)
};
inline constexpr std::size_t kArtifactKinds = 3;

class DeliveryNetwork {
 public:
  // `draw(device, n)`: a uniform index in [0, n) from the device's own random
  // stream, for the choice of a peer (the device, not the network, chooses).
  using PeerDraw = std::function<std::uint64_t(std::uint32_t device, std::uint64_t n)>;

  DeliveryNetwork(const Scenario& s, const ReleaseArtifacts& a, std::uint64_t seed, bool sharded, PeerDraw draw);
  // It keeps references to the scenario and the artifacts: never temporaries.
  DeliveryNetwork(Scenario&&, const ReleaseArtifacts&, std::uint64_t, bool, PeerDraw) = delete;
  DeliveryNetwork(const Scenario&, ReleaseArtifacts&&, std::uint64_t, bool, PeerDraw) = delete;

  // A device that may download now.
  struct Request {
    std::uint32_t device = 0;
    std::size_t cls = 0;
    ArtifactKind artifact = ArtifactKind::Release;
    bool via_peers = false;  // a P2P class fetching the release as offered (not as a seed or after fallback)
    double link_bps = 0;     // what the device's own link can take
    double since = 0;        // when the device asked for this download (its queue wait starts)
  };
  enum class Answer : std::uint8_t {
    Start,      // download now at rate_bps (from a peer when from_peer)
    Queued,     // waits in its server's queue; started by a later finish()
    Refused,    // the server's queue is full: the device backs off
    AwaitFill,  // waits until its CDN edge has fetched the artifact
    AwaitPeer,  // waits for a free peer, at most until fallback_at_s
  };
  struct Decision {
    Answer answer = Answer::Refused;
    double rate_bps = 0;  // Start: the device's own receive rate (its link, or its peer link)
    double since = 0;  // Start: when the device asked
    bool from_peer = false;
    bool seed = false;                 // the device fetches from the origin for its neighbourhood
    std::optional<std::uint32_t> fill;  // AwaitFill that starts a fill: its index (fill_done_at_s)
    double fill_done_at_s = 0;
    double fallback_at_s = 0;
  };
  Decision request(const Request& r, double t);

  // A download that starts as a consequence of another event.
  struct Started {
    std::uint32_t device = 0;
    double rate_bps = 0;  // the device's own receive rate
    bool from_peer = false;
    double since = 0;  // when the device asked
  };
  // `device`'s transfer ended (any way). An honest peer's upload slot serves
  // the next waiting neighbour; a server slot the next in its queue.
  struct Release {
    std::optional<std::uint32_t> peer;  // the honest peer that served it (it spent energy uploading)
    double peer_bps = 0;                // that peer's uplink rate (its radio's time per bit sent)
    std::vector<Started> started;       // in order; a peer start replaces the device's fallback timer
  };
  Release finish(std::uint32_t device, std::size_t cls);

  // A CDN fill (index from Decision::fill) completed: the bytes it fetched
  // from the origin and the devices that waited for it, in arrival order. Ask
  // for each with request_at_edge.
  struct Waiter {
    std::uint32_t device;
    double since;  // when it asked
  };
  struct Fill {
    std::uint64_t bytes = 0;
    std::vector<Waiter> waiting;
  };
  Fill fill_done(std::uint32_t index, double t);
  Decision request_at_edge(std::uint32_t device, std::size_t cls, double link_bps, double since);

  // A waiting P2P device's fallback timer fired: when it asked, if it still
  // waited (it now fetches from the origin: request with via_peers false).
  std::optional<double> fallback(std::uint32_t device, std::size_t cls);
  // A P2P device verified the release: it serves its neighbours from now on.
  // Returns the waiting neighbours it (or any free peer) starts serving.
  std::vector<Started> add_seeder(std::uint32_t device, std::size_t cls);
  // `device` is downloading from a peer; the peer's index when it is hostile.
  bool from_peer(std::uint32_t device) const { return !peer_of_.empty() && peer_of_.count(device) != 0; }
  std::optional<std::uint32_t> hostile_peer(std::uint32_t device) const;
  // The device's verifier caught `peer`: its neighbourhood stops using it.
  void ban(std::uint32_t device, std::size_t cls, std::uint32_t peer);
  double peer_bps(std::uint32_t device) const;

  // Push: when the broker's notification of a newly offered device `global`
  // (of class `cls`) reaches it, or nullopt when it is not reachable (polls,
  // duty-cycled link, not connected).
  std::optional<double> push_time(std::uint32_t global, std::size_t cls, double t);

  // ---- Shared capacities. A transfer whose source is shared (an origin or
  // edge with a bandwidth limit, a peer's uplink) runs as a flow there; its
  // rate is min(cap, its max-min fair share) and changes as others start and
  // end. Links are numbered below link_bound(s), the kernel targets the
  // model reserves for their wake-ups.
  static std::uint32_t link_bound(const Scenario& s);
  // `device` starts receiving `bits` at t, at most at `cap_bps`. True: the
  // flow runs on a shared link, and its completion comes from pop_completed.
  // False: nothing is shared and it runs at cap_bps to the end.
  bool begin_flow(std::uint32_t device, std::size_t cls, double bits, double cap_bps, double t);
  // Stops `device`'s flow at t (cut short): the bits received; nullopt when
  // it has no flow running (completed, or never shared).
  std::optional<double> end_flow(std::uint32_t device, double t);
  // The links whose next completion may have moved since clear_touched().
  const std::vector<FairShare::LinkId>& touched() const { return touched_; }
  void clear_touched() { touched_.clear(); }
  double next_completion(FairShare::LinkId link) { return shares_.next_completion(link); }
  // A flow of `link` that completed by t (call until nullopt).
  std::optional<std::uint32_t> pop_completed(FairShare::LinkId link, double t) {
    touched_.push_back(link);
    return shares_.pop_completed(link, t);
  }
  std::int64_t& wake_us(FairShare::LinkId link) { return shares_.wake_us(link); }
  const FairShare& shares() const { return shares_; }
  // The origin's bandwidth in use now (bit/s; 0 when it has no limit).
  double origin_used_bps() const { return origin_link_ ? shares_.used_bps(*origin_link_) : 0; }

  // Hostile peers placed at set-up.
  std::uint64_t malicious_peers() const { return malicious_peers_; }
  UpdateServer& origin() { return origin_; }
  const UpdateServer& origin() const { return origin_; }
  // The server a class's devices download from (origin or their region's edge).
  UpdateServer& server_of(std::size_t cls);

 private:
  struct Neighbourhood {
    std::vector<std::uint32_t> free_slots;  // one entry per upload a seeder can take on now
    std::vector<Waiter> waiting;            // devices waiting for a peer, in arrival order
    std::vector<std::uint32_t> malicious;   // hostile peers not yet caught
    bool seeding = false;                   // a device fetches the image from the origin for it
  };
  struct Edge {
    explicit Edge(const Server& limits) : server(limits) {}
    UpdateServer server;
    std::optional<FairShare::LinkId> link;  // its bandwidth, when limited
    std::array<bool, kArtifactKinds> cached{}, filling{};
    std::array<double, kArtifactKinds> filled_t{};
    std::array<std::vector<Waiter>, kArtifactKinds> waiting;
  };
  struct ClassRoute {
    Source source = Source::Origin;
    std::size_t region = 0;
    std::uint32_t first_device = 0;
    std::uint32_t first_neighbourhood = 0;
    bool pushable = false;  // push notification, always-on link
  };
  static constexpr std::uint32_t kMaliciousBit = 0x80000000u;

  Neighbourhood& neighbourhood(std::uint32_t device, std::size_t cls);
  static Decision grant(UpdateServer& server, std::uint32_t device, double link_bps, double since);
  std::optional<Started> serve_from_peer(std::uint32_t device, double since, Neighbourhood& nb);
  void serve_waiting(Neighbourhood& nb, std::vector<Started>& out);
  std::uint64_t artifact_bytes(std::size_t kind) const;
  double uplink_bps(std::uint32_t peer) const;
  std::optional<FairShare::LinkId> link_of(std::uint32_t device, std::size_t cls);

  const Scenario& s_;
  const ReleaseArtifacts& art_;
  std::uint64_t seed_;
  PeerDraw draw_;
  UpdateServer origin_;
  std::vector<ClassRoute> routes_;
  std::vector<Edge> edges_;  // per region (CDN)
  std::vector<Neighbourhood> neighbourhoods_;
  std::unordered_map<std::uint32_t, std::uint32_t> peer_of_;  // downloader -> peer (| kMaliciousBit)
  std::uint64_t malicious_peers_ = 0;
  FairShare shares_;
  std::optional<FairShare::LinkId> origin_link_;
  std::unordered_map<std::uint32_t, FairShare::LinkId> peer_links_;  // uploading peer -> its uplink
  std::vector<FairShare::LinkId> touched_;
  double push_share_ = 0;  // chance a push device is reached
  double broker_t_ = 0;    // when the broker's queue is free
};

}  // namespace ota::models
