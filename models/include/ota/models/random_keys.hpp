// random_keys.hpp — which random stream each draw of the fleet model comes
// from. Every stream is keyed by the device's index in the whole fleet (or by
// a fixed controller key), never by a shard or thread: a device's draws are
// the same whichever thread or rank simulates it, so a run gives the same
// report on any thread count, and a sharded run (otasim-mpi shard, which
// draws some poll times per device instead of from the shared idle-poll
// calendar) the same report on any rank count.
#pragma once

#include <cstdint>

#include "ota/sim/random.hpp"

namespace ota::models {

// A device's static attributes: pure functions of (seed, device), one stream
// each, so they take no memory.
enum class Attribute : std::uint64_t {
  Rank = 0,             // place in a random offer order
  LinkRate = 1,         // the device's link rate
  InitialCharge = 2,    // battery state of charge at the start
  PollPhase = 3,        // first poll within the interval (events mode)
  FailingDevice = 4,    // one of the devices on which the new image never boots
  Malicious = 5,        // a hostile P2P peer
  PeerRate = 6,         // its P2P link rate
  PushReach = 7,        // connected to the push broker
  ShardOfferPoll = 8,   // sharded run: first poll after the offer
  ShardRevertPoll = 9,  // sharded run: first poll after a gate's rollback
};

inline constexpr std::uint64_t kAttributeStreams = std::uint64_t{1} << 40;
inline constexpr std::uint64_t kControllerStream = std::uint64_t{1} << 41;  // idle-poll calendar draws
inline constexpr std::uint64_t kHealthStream = std::uint64_t{1} << 42;      // sampled in-service crashes

// The device's dynamic stream: its draw counter is kept in its record.
inline sim::RandomStream device_stream(std::uint64_t seed, std::uint32_t global, std::uint64_t draws) {
  return sim::RandomStream(seed, global, draws);
}
inline sim::RandomStream attribute_stream(std::uint64_t seed, std::uint32_t global, Attribute a) {
  return sim::RandomStream(seed, kAttributeStreams | global, static_cast<std::uint64_t>(a));
}

}  // namespace ota::models
