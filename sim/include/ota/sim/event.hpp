// event.hpp — the record the future-event list holds: 16 bytes.
//
//   0               8           12      14      16
//   +---------------+-----------+-------+-------+
//   | time (µs,i64) | target u32| kind  | epoch |
//   +---------------+-----------+-------+-------+
//
// `target` names whatever the event touches (a device index, a server queue, a
// controller); `kind` is the model's own event code. `epoch` is stamped by the
// simulator for cancellation (0: not cancellable; see Simulator::cancel_target)
// and is not the model's to set.
#pragma once

#include <cstdint>

#include "ota/sim/time.hpp"

namespace ota::sim {

using TargetId = std::uint32_t;
using EventKind = std::uint16_t;

struct Event {
  std::int64_t time_us = 0;
  TargetId target = 0;
  EventKind kind = 0;
  std::uint16_t epoch = 0;

  SimTime time() const { return SimTime::from_micros(time_us); }
};
static_assert(sizeof(Event) == 16, "events must stay 16 bytes: millions are pending at once");

}  // namespace ota::sim
