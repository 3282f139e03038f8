// fair_share.hpp — max-min fair sharing of capacities among transfers, the
// rate TCP flows through one bottleneck converge to.
//
// A link (the origin's egress, a CDN edge's, a peer's uplink) has a capacity
// C; each flow on it has its own cap c_i (its link rate, the rate its flash
// takes the bytes, the receiver's rate). Max-min fairness on one link is
// water-filling: a level L with sum_i min(c_i, L) = C when the caps sum to
// more than C, and every flow at its cap otherwise. A flow's rate is
// min(c_i, L); rates change whenever a flow starts or ends.
//
// Cost: O(log n) per start, end or completion, never a pass over the active
// flows (it must hold at a million concurrent downloads). Two ideas:
//  - Virtual time (egalitarian processor sharing): the flows above the level
//    ("free") all run at L, so one clock V with dV/dt = L measures the bits
//    each has received; a free flow's completion is a fixed tag V0 + bits in
//    that clock, kept in a heap, and does not move when L changes.
//  - The flows at their caps ("capped") run at a fixed rate: a fixed end time
//    in real time, in a second heap.
// A flow changes side only when the level crosses its cap, smallest caps
// first when L rises and largest first when it falls (two more heaps), as
// SimGrid's lazy max-min solver re-times only the actions whose share
// changed. Heaps drop stale entries lazily (a generation per flow) and are
// compacted when more than half their entries are stale.
//
// A flow is the caller's key (a device: one flow per key at a time). Links
// are numbered; a released link's number is reused.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ota::models {

class FairShare {
 public:
  using LinkId = std::uint32_t;
  using FlowId = std::uint32_t;
  static constexpr double kNever = std::numeric_limits<double>::infinity();

  // A new link of `capacity_bps` (> 0) bit/s.
  LinkId add_link(double capacity_bps);
  // A link with no flows may be given back; its number is reused.
  void release_link(LinkId link);

  // Flow `id` of `bits` starts on `link` at t, at most at `cap_bps`.
  void start(LinkId link, FlowId id, double bits, double cap_bps, double t);
  // Stops flow `id` at t (cut short): the bits it received; nullopt if it is
  // not running (it completed, or never started).
  std::optional<double> stop(FlowId id, double t);
  bool running(FlowId id) const { return index_.count(id) != 0; }
  // The link a running flow is on.
  std::optional<LinkId> link(FlowId id) const {
    const auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    return flows_[it->second].link;
  }

  // When `link`'s next flow completes, at its present rates (kNever: none).
  double next_completion(LinkId link);
  // The flow of `link` that has completed by t (removed), or nullopt. Call
  // until nullopt: several flows can complete at the same instant.
  std::optional<FlowId> pop_completed(LinkId link, double t);

  // The present rate of a running flow, the link's level and its use.
  double rate(FlowId id) const;
  double level(LinkId link) const;
  double used_bps(LinkId link) const;
  std::size_t flows(LinkId link) const;
  double capacity(LinkId link) const { return links_[link].capacity; }

  // The caller's bookkeeping of the wake-up event it scheduled for the link
  // (microseconds; -1 none): a wake at another time is stale.
  std::int64_t& wake_us(LinkId link) { return links_[link].wake_us; }

 private:
  struct Entry {
    double key;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  struct Flow {
    FlowId id = 0;
    LinkId link = 0;
    std::uint32_t gen = 0;
    bool capped = false;
    double bits = 0;  // the whole flow
    double cap = 0;
    double key = 0;   // free: the completion tag in virtual time; capped: the end time
  };
  struct Link {
    double capacity = 0;
    double v = 0;  // virtual time: bits received by each free flow since it was 0
    double t = 0;  // when v was last brought up to date
    double sum_capped = 0;
    std::uint32_t n_free = 0, n_capped = 0;
    std::vector<Entry> free_by_tag;    // min-heap: the next free completion
    std::vector<Entry> free_by_cap;    // min-heap: the first free flow to become capped
    std::vector<Entry> capped_by_end;  // min-heap: the next capped completion
    std::vector<Entry> capped_by_cap;  // max-heap: the first capped flow to become free
    std::int64_t wake_us = -1;
    bool in_use = false;
  };

  double level_of(const Link& l) const {
    if (l.n_free == 0) return kNever;
    const double lv = (l.capacity - l.sum_capped) / static_cast<double>(l.n_free);
    return lv > 0 ? lv : 0;
  }
  void advance(Link& l, double t);
  void rebalance(Link& l);
  void make_free(Link& l, std::uint32_t slot, double remaining_bits);
  void make_capped(Link& l, std::uint32_t slot, double remaining_bits);
  double remaining(const Link& l, const Flow& f) const;
  void detach(Link& l, std::uint32_t slot);
  // The top live entry of a heap (stale ones popped), or nullptr.
  template <class Less>
  const Entry* top(std::vector<Entry>& heap, bool capped_side, Less less);
  template <class Less>
  void push(std::vector<Entry>& heap, const Entry& e, std::uint32_t live, bool capped_side, Less less);
  std::optional<std::uint32_t> next_due(Link& l, double& when);

  std::vector<Link> links_;
  std::vector<LinkId> free_links_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<FlowId, std::uint32_t> index_;  // looked up by key only: iteration order never matters
};

}  // namespace ota::models
