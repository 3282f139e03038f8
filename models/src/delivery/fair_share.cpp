// fair_share.cpp — max-min fair sharing with virtual time (fair_share.hpp).
#include "ota/models/delivery/fair_share.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ota::models {

namespace {

struct MinKey {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.key > b.key || (a.key == b.key && a.slot > b.slot);
  }
};
struct MaxKey {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.key < b.key || (a.key == b.key && a.slot > b.slot);
  }
};

// A completion this close after the time asked about counts as done: event
// times are whole microseconds, rounded to the nearest.
constexpr double kDueTolerance_s = 1e-6;

}  // namespace

FairShare::LinkId FairShare::add_link(double capacity_bps) {
  if (!(capacity_bps > 0) || !std::isfinite(capacity_bps)) throw std::invalid_argument("FairShare: capacity must be > 0");
  LinkId id;
  if (!free_links_.empty()) {
    id = free_links_.back();
    free_links_.pop_back();
    links_[id] = Link{};
  } else {
    id = static_cast<LinkId>(links_.size());
    links_.emplace_back();
  }
  links_[id].capacity = capacity_bps;
  links_[id].in_use = true;
  return id;
}

void FairShare::release_link(LinkId link) {
  Link& l = links_.at(link);
  if (!l.in_use) return;
  if (l.n_free + l.n_capped != 0) throw std::logic_error("FairShare: released a link with running flows");
  l = Link{};
  free_links_.push_back(link);
}

template <class Less>
const FairShare::Entry* FairShare::top(std::vector<Entry>& heap, bool capped_side, Less less) {
  while (!heap.empty()) {
    const Entry& e = heap.front();
    const Flow& f = flows_[e.slot];
    if (f.gen == e.gen && f.capped == capped_side) return &heap.front();
    std::pop_heap(heap.begin(), heap.end(), less);
    heap.pop_back();
  }
  return nullptr;
}

template <class Less>
void FairShare::push(std::vector<Entry>& heap, const Entry& e, std::uint32_t live, bool capped_side, Less less) {
  if (heap.size() > 2 * static_cast<std::size_t>(live) + 32) {
    // More than half stale: keep the live entries only.
    heap.erase(std::remove_if(heap.begin(), heap.end(),
                              [&](const Entry& x) {
                                const Flow& f = flows_[x.slot];
                                return f.gen != x.gen || f.capped != capped_side;
                              }),
               heap.end());
    std::make_heap(heap.begin(), heap.end(), less);
  }
  heap.push_back(e);
  std::push_heap(heap.begin(), heap.end(), less);
}

void FairShare::advance(Link& l, double t) {
  if (t <= l.t) return;
  if (l.n_free > 0) l.v += level_of(l) * (t - l.t);
  l.t = t;
}

double FairShare::remaining(const Link& l, const Flow& f) const {
  const double r = f.capped ? f.cap * (f.key - l.t) : f.key - l.v;
  return std::clamp(r, 0.0, f.bits);
}

void FairShare::make_free(Link& l, std::uint32_t slot, double remaining_bits) {
  Flow& f = flows_[slot];
  if (l.n_free == 0) l.v = 0;  // no tags outstanding: restart the clock (precision)
  f.capped = false;
  ++f.gen;
  f.key = l.v + remaining_bits;
  ++l.n_free;
  push(l.free_by_tag, {f.key, slot, f.gen}, l.n_free, false, MinKey{});
  push(l.free_by_cap, {f.cap, slot, f.gen}, l.n_free, false, MinKey{});
}

void FairShare::make_capped(Link& l, std::uint32_t slot, double remaining_bits) {
  Flow& f = flows_[slot];
  f.capped = true;
  ++f.gen;
  f.key = l.t + remaining_bits / f.cap;
  ++l.n_capped;
  l.sum_capped += f.cap;
  push(l.capped_by_end, {f.key, slot, f.gen}, l.n_capped, true, MinKey{});
  push(l.capped_by_cap, {f.cap, slot, f.gen}, l.n_capped, true, MaxKey{});
}

// Takes a flow off its side (its heap entries go stale).
void FairShare::detach(Link& l, std::uint32_t slot) {
  Flow& f = flows_[slot];
  ++f.gen;
  if (f.capped) {
    --l.n_capped;
    l.sum_capped = l.n_capped == 0 ? 0 : l.sum_capped - f.cap;
  } else {
    --l.n_free;
  }
  f.capped = false;
}

// Restores the water level: every capped cap <= L < every free cap. Moving a
// flow only pushes L further the same way, so the loop ends; each move is
// O(log n).
void FairShare::rebalance(Link& l) {
  for (;;) {
    const double lv = level_of(l);
    if (l.n_free > 0) {
      const Entry* e = top(l.free_by_cap, false, MinKey{});
      if (e && e->key <= lv) {
        const std::uint32_t slot = e->slot;
        const double rem = remaining(l, flows_[slot]);
        detach(l, slot);
        make_capped(l, slot, rem);
        continue;
      }
    }
    if (l.n_capped > 0) {
      const Entry* e = top(l.capped_by_cap, true, MaxKey{});
      // (A margin against rounding: a flow moved at a cap equal to the level
      // must not move back.)
      const bool over = l.n_free == 0 ? l.sum_capped > l.capacity * (1 + 1e-12) : e && e->key > lv * (1 + 1e-9);
      if (e && over) {
        const std::uint32_t slot = e->slot;
        const double rem = remaining(l, flows_[slot]);
        detach(l, slot);
        make_free(l, slot, rem);
        continue;
      }
    }
    return;
  }
}

void FairShare::start(LinkId link, FlowId id, double bits, double cap_bps, double t) {
  if (index_.count(id)) throw std::logic_error("FairShare: flow already running");
  if (!(cap_bps > 0)) throw std::invalid_argument("FairShare: a flow's cap must be > 0");
  Link& l = links_.at(link);
  advance(l, t);
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[slot];
  f.id = id;
  f.link = link;
  f.bits = std::max(bits, 0.0);
  f.cap = cap_bps;
  index_.emplace(id, slot);
  // Join on the side the present level puts it, then restore the level.
  if (cap_bps <= level_of(l) && l.n_free > 0) make_capped(l, slot, f.bits);
  else if (l.n_free == 0 && l.sum_capped + cap_bps <= l.capacity) make_capped(l, slot, f.bits);
  else make_free(l, slot, f.bits);
  rebalance(l);
}

std::optional<double> FairShare::stop(FlowId id, double t) {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  const std::uint32_t slot = it->second;
  Flow& f = flows_[slot];
  Link& l = links_[f.link];
  advance(l, t);
  const double received = f.bits - remaining(l, f);
  detach(l, slot);
  index_.erase(it);
  free_slots_.push_back(slot);
  rebalance(l);
  return received;
}

std::optional<std::uint32_t> FairShare::next_due(Link& l, double& when) {
  when = kNever;
  std::optional<std::uint32_t> slot;
  if (const Entry* e = top(l.capped_by_end, true, MinKey{})) {
    when = e->key;
    slot = e->slot;
  }
  if (l.n_free > 0) {
    if (const Entry* e = top(l.free_by_tag, false, MinKey{})) {
      const double lv = level_of(l);
      const double at = lv > 0 ? l.t + (e->key - l.v) / lv : kNever;
      if (at < when) {
        when = at;
        slot = e->slot;
      }
    }
  }
  return slot;
}

double FairShare::next_completion(LinkId link) {
  double when;
  next_due(links_.at(link), when);
  return when;
}

std::optional<FairShare::FlowId> FairShare::pop_completed(LinkId link, double t) {
  Link& l = links_.at(link);
  advance(l, t);
  double when;
  const auto slot = next_due(l, when);
  if (!slot || when > t + kDueTolerance_s) return std::nullopt;
  const FlowId id = flows_[*slot].id;
  detach(l, *slot);
  index_.erase(id);
  free_slots_.push_back(*slot);
  rebalance(l);
  return id;
}

double FairShare::rate(FlowId id) const {
  const Flow& f = flows_[index_.at(id)];
  return f.capped ? f.cap : level_of(links_[f.link]);
}

double FairShare::level(LinkId link) const { return level_of(links_.at(link)); }

double FairShare::used_bps(LinkId link) const {
  const Link& l = links_.at(link);
  return l.n_free > 0 ? l.capacity : l.sum_capped;
}

std::size_t FairShare::flows(LinkId link) const {
  const Link& l = links_.at(link);
  return l.n_free + l.n_capped;
}

}  // namespace ota::models
