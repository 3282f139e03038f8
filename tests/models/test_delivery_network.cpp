// The delivery network on its own: requests and decisions, without a
// simulation (the network never schedules events; these tests play the
// lifecycle's part by hand).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "models/fleet_fixture.hpp"
#include "ota/models/delivery/delivery_network.hpp"

using namespace ota::models;
using namespace ota::models::testing;
using Answer = DeliveryNetwork::Answer;

namespace {

// Peer choices: always the first candidate (index 0), counting the calls.
struct FirstPeer {
  int* calls;
  std::uint64_t operator()(std::uint32_t, std::uint64_t n) const {
    ++*calls;
    REQUIRE(n > 0);
    return 0;
  }
};

DeliveryNetwork::Request ask(std::uint32_t d, std::size_t cls = 0, bool via_peers = false, double link_bps = 1e6) {
  DeliveryNetwork::Request q;
  q.device = d;
  q.cls = cls;
  q.via_peers = via_peers;
  q.link_bps = link_bps;
  return q;
}

}  // namespace

TEST_CASE("delivery: the origin starts, queues in order, refuses past its queue", "[delivery][network]") {
  const Scenario s = load("thermostat-ab.json", {{"/fleet/devices", "100"},
                                                 {"/server/max_concurrent_downloads", "2"},
                                                 {"/server/queue_limit", "2"},
                                                 {"/server/bandwidth_mbps", "0"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  CHECK(net.request(ask(0, 0, false, 2e6), 0).answer == Answer::Start);
  const auto second = net.request(ask(1, 0, false, 3e6), 0);
  CHECK(second.answer == Answer::Start);
  CHECK(second.rate_bps == 3e6);  // no bandwidth limit: the device's link rate
  CHECK(net.request(ask(2), 0).answer == Answer::Queued);
  CHECK(net.request(ask(3), 0).answer == Answer::Queued);
  CHECK(net.request(ask(4), 0).answer == Answer::Refused);
  CHECK(net.origin().active_downloads() == 2);
  CHECK(net.origin().queue_length() == 2);
  // A transfer ends: the first in the queue starts, at its own link rate.
  auto rel = net.finish(0, 0);
  CHECK_FALSE(rel.peer);
  REQUIRE(rel.started.size() == 1);
  CHECK(rel.started[0].device == 2);
  CHECK(rel.started[0].rate_bps == 1e6);
  CHECK_FALSE(rel.started[0].from_peer);
  rel = net.finish(1, 0);
  REQUIRE(rel.started.size() == 1);
  CHECK(rel.started[0].device == 3);
  CHECK(net.origin().queue_length() == 0);
  CHECK(calls == 0);  // no peer was ever chosen
}

TEST_CASE("delivery: a CDN edge fills once from the origin, then serves hits until the TTL", "[delivery][network]") {
  const Scenario s = load("cdn-vs-origin.json", {{"/fleet/devices", "1000"}, {"/delivery/cdn/cache_ttl_h", "1"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  const auto first = net.request(ask(0, 0), 100);
  CHECK(first.answer == Answer::AwaitFill);
  REQUIRE(first.fill);
  const double fill_s = static_cast<double>(a.payload_bytes) * 8.0 / s.delivery.cdn->origin_fill_bps;
  CHECK(first.fill_done_at_s == Approx(100 + fill_s));
  // A second request during the fill waits for the same fill.
  const auto second = net.request(ask(1, 0), 101);
  CHECK(second.answer == Answer::AwaitFill);
  CHECK_FALSE(second.fill);
  // Another region's edge has its own cache.
  const auto other = net.request(ask(900, 2), 101);
  REQUIRE(other.fill);
  CHECK(*other.fill != *first.fill);
  // The fill completes: the waiting devices, in order; they ask the edge.
  const auto fill = net.fill_done(*first.fill, 100 + fill_s);
  CHECK(fill.bytes == a.payload_bytes);
  REQUIRE(fill.waiting.size() == 2);
  CHECK(fill.waiting[0].device == 0);
  CHECK(fill.waiting[0].since == 0);  // ask() leaves `since` at 0: the wait runs from there
  CHECK(fill.waiting[1].device == 1);
  const auto hit = net.request_at_edge(0, 0, 1e6, fill.waiting[0].since);
  CHECK(hit.answer == Answer::Start);
  CHECK(hit.since == fill.waiting[0].since);
  // Hits until the TTL, then a new fill.
  CHECK(net.request(ask(2, 0), 100 + fill_s + 10).answer == Answer::Start);
  const auto stale = net.request(ask(3, 0), 100 + fill_s + 3600);
  CHECK(stale.answer == Answer::AwaitFill);
  CHECK(stale.fill == first.fill);
  // The full image (a device in recovery) and the previous release (a gate's
  // rollback) are other objects: each fills on its own.
  DeliveryNetwork::Request full = ask(4, 0);
  full.artifact = ArtifactKind::FullImage;
  const auto f1 = net.request(full, 200);
  REQUIRE(f1.fill);
  DeliveryNetwork::Request prev = ask(5, 0);
  prev.artifact = ArtifactKind::Previous;
  const auto f2 = net.request(prev, 200);
  REQUIRE(f2.fill);
  CHECK(std::set<std::uint32_t>{*first.fill, *f1.fill, *f2.fill}.size() == 3);
  CHECK(f2.fill_done_at_s == Approx(200 + static_cast<double>(a.revert_bytes) * 8.0 / s.delivery.cdn->origin_fill_bps));
  // Edge downloads never touch the origin's slots.
  CHECK(net.origin().active_downloads() == 0);
  CHECK(&net.server_of(0) != &net.origin());
}

TEST_CASE("delivery: P2P seed, waiting for a peer, serving from a seeder, fallback", "[delivery][network]") {
  const Scenario s = load("p2p-mesh.json", {{"/fleet/devices", "100"},
                                            {"/delivery/p2p/malicious_share", "0"},
                                            {"/delivery/p2p/uploads_per_peer", "1"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  CHECK(net.malicious_peers() == 0);
  // The neighbourhood's first requester fetches from the origin as its seed.
  const auto seed = net.request(ask(0, 0, true), 0);
  CHECK(seed.answer == Answer::Start);
  CHECK(seed.seed);
  CHECK_FALSE(seed.from_peer);
  CHECK(net.origin().active_downloads() == 1);
  // Later ones wait for a peer, at most fallback_min.
  const auto wait1 = net.request(ask(1, 0, true), 5);
  CHECK(wait1.answer == Answer::AwaitPeer);
  CHECK(wait1.fallback_at_s == Approx(5 + s.delivery.p2p->fallback_s));
  CHECK(net.request(ask(2, 0, true), 6).answer == Answer::AwaitPeer);
  CHECK(net.request(ask(3, 0, true), 7).answer == Answer::AwaitPeer);
  // Device 3 gives up waiting: it fetches from the origin (once).
  CHECK(net.fallback(3, 0) == 0.0);  // it waited since it asked (ask() leaves `since` at 0)
  CHECK_FALSE(net.fallback(3, 0));
  const auto from_origin = net.request(ask(3, 0, false), 8);
  CHECK(from_origin.answer == Answer::Start);
  CHECK_FALSE(from_origin.from_peer);
  CHECK_FALSE(from_origin.seed);
  CHECK(net.origin().active_downloads() == 2);
  net.finish(3, 0);
  // The seed verified the image: its one upload slot serves the first waiting neighbour.
  net.finish(0, 0);
  const auto started = net.add_seeder(0, 0);
  REQUIRE(started.size() == 1);
  CHECK(started[0].device == 1);
  CHECK(started[0].from_peer);
  CHECK(started[0].rate_bps == Approx(net.peer_bps(1)));
  CHECK(net.from_peer(1));
  CHECK_FALSE(net.hostile_peer(1));
  CHECK(calls == 1);
  // The upload ends: the seeder spent energy for it, and serves the next one.
  const auto rel = net.finish(1, 0);
  REQUIRE(rel.peer);
  CHECK(*rel.peer == 0);
  CHECK(rel.peer_bps == Approx(net.peer_bps(0)));  // the uploader's radio: its own link rate (upload_kbps unset)
  REQUIRE(rel.started.size() == 1);
  CHECK(rel.started[0].device == 2);
  CHECK_FALSE(net.from_peer(1));
  // Another neighbourhood (devices 50..99) has its own seed.
  CHECK(net.request(ask(50, 0, true), 10).seed);
  // Peer rates: lognormal around link_kbps.
  double log_sum = 0;
  for (std::uint32_t d = 0; d < 100; ++d) log_sum += std::log(net.peer_bps(d) / s.delivery.p2p->link_bps);
  CHECK(std::abs(log_sum / 100) < 3 * s.delivery.p2p->sigma / std::sqrt(100.0));
}

TEST_CASE("delivery: a hostile peer serves until the device's verifier catches it", "[delivery][network]") {
  const Scenario s = load("p2p-mesh.json", {{"/fleet/devices", "50"}, {"/delivery/p2p/malicious_share", "0.2"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  REQUIRE(net.malicious_peers() > 0);
  // Hostile peers are candidates from the start (the device cannot tell).
  // Pick a requester that is not itself the first hostile peer.
  std::uint32_t d = 0;
  auto got = net.request(ask(d, 0, true), 0);
  if (got.answer != Answer::Start || !got.from_peer) got = net.request(ask(d = 1, 0, true), 0);
  REQUIRE(got.answer == Answer::Start);
  REQUIRE(got.from_peer);
  const auto hostile = net.hostile_peer(d);
  REQUIRE(hostile);
  // The verifier rejected the image: the neighbourhood stops using that peer.
  const auto rel = net.finish(d, 0);
  CHECK_FALSE(rel.peer);  // no honest upload ended
  net.ban(d, 0, *hostile);
  // Caught one by one, every hostile neighbour is banned; then nobody is
  // left to serve and the device waits for an honest peer.
  std::set<std::uint32_t> caught = {*hostile};
  for (std::uint64_t k = 0; k <= net.malicious_peers(); ++k) {
    const auto again = net.request(ask(d, 0, true), 1);
    if (!again.from_peer) {
      // Nobody left to serve: the neighbourhood's seed fetches from the
      // origin, or (a seed exists) the device waits for an honest peer.
      CHECK((again.seed || again.answer == Answer::AwaitPeer));
      break;
    }
    const auto next = net.hostile_peer(d);
    REQUIRE(next);
    CHECK(caught.insert(*next).second);  // never the same one twice
    net.finish(d, 0);
    net.ban(d, 0, *next);
  }
  // All caught, or only the device itself is left (it never serves itself).
  CHECK(caught.size() + 1 >= net.malicious_peers());
}

TEST_CASE("delivery: the push broker notifies reachable devices one after another", "[delivery][network]") {
  const Scenario s = load("push-vs-poll.json", {{"/fleet/devices", "2000"}, {"/delivery/push/connected_share", "1"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  const double gap = 1.0 / s.delivery.push.fanout_per_s, latency = s.delivery.push.latency_s;
  const auto p0 = net.push_time(0, 0, 10);
  const auto p1 = net.push_time(1, 0, 10);
  REQUIRE(p0);
  REQUIRE(p1);
  CHECK(*p0 == Approx(10 + gap + latency));
  CHECK(*p1 == Approx(10 + 2 * gap + latency));
  // A later offer starts from its own time once the queue is free.
  CHECK(*net.push_time(2, 0, 100) == Approx(100 + gap + latency));
  // Nobody connected: nobody is reached.
  const Scenario off = load("push-vs-poll.json", {{"/fleet/devices", "2000"}, {"/delivery/push/connected_share", "0"}});
  DeliveryNetwork none(off, a, 1, false, FirstPeer{&calls});
  for (std::uint32_t g = 0; g < 100; ++g) CHECK_FALSE(none.push_time(g, 0, 0));
  // Polling classes are never pushed.
  const Scenario poll = load("thermostat-ab.json", {{"/fleet/devices", "100"}});
  const ReleaseArtifacts poll_artifacts = prepare_artifacts(poll);
  DeliveryNetwork polled(poll, poll_artifacts, 1, false, FirstPeer{&calls});
  CHECK_FALSE(polled.push_time(0, 0, 0));
}

TEST_CASE("delivery: an edge with a slot limit queues its own downloads", "[delivery][network]") {
  const Scenario s = load("cdn-vs-origin.json", {{"/fleet/devices", "1000"},
                                                 {"/delivery/cdn/edges/eu/max_concurrent_downloads", "1"}});
  const ReleaseArtifacts a = prepare_artifacts(s);
  int calls = 0;
  DeliveryNetwork net(s, a, 1, false, FirstPeer{&calls});
  const auto fill = net.request(ask(0, 0), 0);
  REQUIRE(fill.fill);
  net.fill_done(*fill.fill, fill.fill_done_at_s);
  CHECK(net.request_at_edge(0, 0, 1e6, 0).answer == Answer::Start);
  auto queued = ask(1, 0);
  queued.since = fill.fill_done_at_s + 1;
  CHECK(net.request(queued, fill.fill_done_at_s + 1).answer == Answer::Queued);
  CHECK(net.server_of(0).queue_length() == 1);
  CHECK(net.origin().queue_length() == 0);
  const auto rel = net.finish(0, 0);
  REQUIRE(rel.started.size() == 1);
  CHECK(rel.started[0].device == 1);
  CHECK(rel.started[0].since == fill.fill_done_at_s + 1);  // its wait began when it asked
}
