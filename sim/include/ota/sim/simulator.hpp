// simulator.hpp — the discrete-event kernel: a clock, a future-event list, and
// run control.
//
// The model owns all state; the kernel only orders events and hands each one to
// the model's EventHandler. Each event touches one target (a device, a server
// queue, a controller).
//
// Cancellation is opt-in per event. An event scheduled with
// schedule_cancellable_*() is dropped if cancel_target() is called for its
// target before it runs (a power cut interrupts a download). Checking that costs
// one read of a per-target array at pop time — with 10^7 targets, a cache miss
// that halves the event rate — so plain schedule_*() events skip the check, and
// a model whose own per-target state already tells it whether an event is stale
// should use those.
//
// Not thread-safe: one Simulator per thread. Replications in parallel use one
// Simulator each.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "ota/sim/event.hpp"
#include "ota/sim/event_queue.hpp"
#include "ota/sim/time.hpp"

namespace ota::sim {

template <class Queue>
class BasicSimulator;

// The model's side of the contract: called once per live event, in time order.
// The handler may schedule and cancel events (for any target) while it runs.
template <class Queue>
class BasicEventHandler {
 public:
  virtual ~BasicEventHandler() = default;
  virtual void on_event(BasicSimulator<Queue>& sim, const Event& event) = 0;
};

// How a run is watched and stopped from outside (the CLI's progress bar, the
// GUI's worker thread). Both are polled every `poll_every` events, so their cost
// is negligible; a cancel takes effect within that many events.
struct RunControl {
  // Called with the fraction of the horizon done, in [0, 1], non-decreasing.
  std::function<void(double)> on_progress;
  // Set to true from any thread to stop the run early.
  const std::atomic<bool>* cancel = nullptr;
  std::uint64_t poll_every = 1 << 16;
};

enum class RunStatus : std::uint8_t {
  ReachedHorizon,  // every event at or before the horizon ran; now() == horizon
  Exhausted,       // the event list ran dry before the horizon; now() == horizon
  Cancelled,       // stopped by RunControl::cancel; now() is the last event's time
};

constexpr std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::ReachedHorizon: return "reached horizon";
    case RunStatus::Exhausted: return "exhausted";
    case RunStatus::Cancelled: return "cancelled";
  }
  return "unknown";
}

struct RunResult {
  RunStatus status = RunStatus::ReachedHorizon;
  std::uint64_t events = 0;  // live events handled by this call
};

template <class Queue>
class BasicSimulator {
 public:
  using Handler = BasicEventHandler<Queue>;
  // The per-target cancellation epoch: the kernel's per-target memory.
  using Epoch = decltype(Event::epoch);

  // `targets` is how many target ids the model will use; more can be added
  // later with ensure_targets().
  explicit BasicSimulator(std::uint32_t targets = 0) : epoch_(targets, kFirstEpoch) {}

  SimTime now() const { return now_; }
  // Events in the list, including cancelled ones not yet reached.
  std::size_t pending() const { return queue_.size(); }
  std::uint64_t events_handled() const { return handled_; }
  std::uint32_t targets() const { return static_cast<std::uint32_t>(epoch_.size()); }
  void ensure_targets(std::uint32_t n) {
    if (n > epoch_.size()) epoch_.resize(n, kFirstEpoch);
  }
  void reserve(std::size_t events) { queue_.reserve(events); }

  // Schedules `kind` for `target` at `at`; it will run whatever happens.
  // Throws std::logic_error if `at` is in the past or the target id is unknown:
  // both are bugs in the model, not input.
  void schedule_at(SimTime at, TargetId target, EventKind kind) { push(at, target, kind, kAlwaysRuns); }
  void schedule_in(Duration delay, TargetId target, EventKind kind) {
    push(now_ + delay, target, kind, kAlwaysRuns);
  }

  // As schedule_at, but the event is dropped if cancel_target(target) is called
  // before it runs.
  void schedule_cancellable_at(SimTime at, TargetId target, EventKind kind) {
    check_target(target);
    push(at, target, kind, epoch_[target]);
  }
  void schedule_cancellable_in(Duration delay, TargetId target, EventKind kind) {
    schedule_cancellable_at(now_ + delay, target, kind);
  }

  // Drops every cancellable event pending for `target`; events scheduled
  // afterwards are live. The epoch is 16 bits (0 is reserved for events that
  // always run): an event survives a cancel only if exactly 65,535 cancels of its
  // target happen while it is pending — a model that keeps a few events per
  // target never comes near that.
  void cancel_target(TargetId target) {
    check_target(target);
    std::uint16_t& ep = epoch_[target];
    ep = static_cast<std::uint16_t>(ep == 0xffff ? 1 : ep + 1);
  }

  // Runs every event with time <= horizon (and any it schedules within it).
  RunResult run_until(SimTime horizon, Handler& handler, const RunControl& control = {}) {
    RunResult result;
    const SimTime start = now_;
    const double span = static_cast<double>((horizon - start).micros());
    std::uint64_t until_poll = control.poll_every;
    Event e;
    while (next_event(horizon.micros(), e)) {
      if (e.epoch != kAlwaysRuns && e.epoch != epoch_[e.target]) continue;  // cancelled
      now_ = SimTime::from_micros(e.time_us);
      ++handled_;
      ++result.events;
      handler.on_event(*this, e);
      if (--until_poll == 0) {
        until_poll = control.poll_every;
        if (control.cancel && control.cancel->load(std::memory_order_relaxed)) {
          result.status = RunStatus::Cancelled;
          return result;
        }
        if (control.on_progress && span > 0)
          control.on_progress(static_cast<double>((now_ - start).micros()) / span);
      }
    }
    result.status = queue_.empty() ? RunStatus::Exhausted : RunStatus::ReachedHorizon;
    if (horizon > now_) now_ = horizon;
    if (control.on_progress) control.on_progress(1.0);
    return result;
  }

 private:
  static constexpr std::uint16_t kAlwaysRuns = 0;

  // Pops the next event at or before the horizon, in one step where the queue
  // offers one.
  bool next_event(std::int64_t horizon_us, Event& out) {
    if constexpr (requires(Queue q, Event ev) { q.pop_before(horizon_us, ev); }) {
      return queue_.pop_before(horizon_us, out);
    } else {
      if (queue_.empty() || queue_.top().time_us > horizon_us) return false;
      out = queue_.pop();
      return true;
    }
  }
  static constexpr std::uint16_t kFirstEpoch = 1;

  void check_target(TargetId target) const {
    if (target >= epoch_.size()) throw std::logic_error("Simulator: unknown target id");
  }
  void push(SimTime at, TargetId target, EventKind kind, std::uint16_t epoch) {
    if (at < now_) throw std::logic_error("Simulator: event scheduled in the past");
    check_target(target);
    queue_.push(Event{at.micros(), target, kind, epoch});
  }

  Queue queue_;
  std::vector<Epoch> epoch_;
  SimTime now_ = SimTime::start();
  std::uint64_t handled_ = 0;
};

// The kernel's queue is the one that won the engine benchmark (bench/RESULTS.md).
using DefaultEventQueue = Radix256EventQueue;
using Simulator = BasicSimulator<DefaultEventQueue>;
using EventHandler = BasicEventHandler<DefaultEventQueue>;

}  // namespace ota::sim
