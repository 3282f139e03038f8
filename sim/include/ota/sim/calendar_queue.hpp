// calendar_queue.hpp — a calendar queue for the kernel's future-event list
// (R. Brown, "Calendar queues: a fast O(1) priority queue implementation for
// the simulation event set problem", CACM 31(10), 1988).
//
// Contract: the same as the queues in event_queue.hpp, so the kernel can be a
// BasicSimulator<CalendarEventQueue>.
//   push(e)   e.time_us must be >= 0 and should be >= the time of the last
//             popped event. An earlier push is still ordered correctly, but
//             takes a slow path (a sorted insert into the current day).
//   top()     requires !empty(); pop() requires !empty(). top() does not change
//             what is stored: a push after top() may still come out first.
//   Pop order is (time, insertion order): events at the same microsecond leave
//   in the order they were pushed.
//
// Layout. Time is cut into days of 2^shift_ µs; the calendar is an array of
// 2^k buckets, and day D lives in bucket D mod 2^k. Unlike Brown's calendar,
// which keeps events of later years in the same sorted bucket lists, a bucket
// here only ever holds one day: the calendar covers the window of days
// (day_, far_from_), at most one year long, and events beyond it wait in an
// unsorted overflow array (far_) that is swept into the calendar as the window
// moves on. That keeps a push to O(1) with no list walk, and lets a bucket stay
// unsorted until its day comes:
//   - a bucket is an intrusive singly-linked list through one pooled node array
//     (24 bytes a node, recycled through a stack of free indices: no
//     allocation per event), newest first; a push prepends;
//   - when the queue reaches a day, its bucket is unlinked in one pass into a
//     small array (today_), turned to push order and stably sorted by time;
//     pops then read that array front to back.
// With millions of events the cost is memory latency, not comparisons: each
// event costs two random accesses into arrays far larger than the cache — its
// bucket head when pushed, its node when its day opens. A push therefore waits
// in a FIFO of kStaged while its bucket head is prefetched, and opening a day
// prefetches the nodes of the next few days. Even so this loses to the radix
// heaps at 10^6 events and more, whose moves are sequential appends and scans
// (`otasim-bench engine --queue all`).
//
// Resizing (Brown's rule). The bucket count doubles when the population exceeds
// twice the bucket count and halves when it falls below half of it. Each resize
// re-estimates the day width from the first events in the queue: the mean gap
// between successive distinct times, recomputed over the gaps no larger than
// twice that mean (so a few outliers do not inflate it), times kEventsPerDay,
// rounded to a power of two. A population that keeps its size but changes its
// spread never triggers Brown's resize, so the queue also counts the work a
// bad width causes — empty days skipped and overflow events re-examined (width
// too small), events shifted by inserts into a crowded current day (too large)
// — and rebuilds with a new width when that work outgrows a few units per pop.
//
// FIFO among equal times, without a sequence number: equal times fall on the
// same day, and a day's events are only ever in one place at a time. The
// overflow array keeps push order (appends, stable compaction); a bucket list
// is exactly the reverse of push order (sweeps and pushes both prepend, the
// push FIFO is linked oldest first, and a day is swept in before any direct
// push to it can happen); opening a day reverses the list and sorts stably; a
// push into the open day goes after the events of equal time; a resize walks
// every source in push order.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ota/sim/event.hpp"

namespace ota::sim {

class CalendarEventQueue {
 public:
  static constexpr const char* kName = "calendar";

  CalendarEventQueue() : heads_(kMinBuckets, kNil) { reset_after_rebuild(); }

  void reserve(std::size_t n) { nodes_.reserve(n); }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(const Event& e) {
    const std::uint64_t d = day_of(e.time_us);
    if (d > day_) {
      if (d < far_from_) {
        stage(e, d);
      } else {
        far_.push_back(e);
      }
    } else {
      insert_today(e);
    }
    peek_valid_ = false;
    if (++size_ > grow_at_) resize(heads_.size() * 2);
  }

  const Event& top() {
    if (today_head_ < today_.size()) return today_[today_head_];
    if (!peek_valid_) peek();
    return peek_;
  }

  Event pop() {
    if (today_head_ == today_.size()) advance();
    const Event out = today_[today_head_++];
    --size_;
    ++pops_;
    last_popped_ = out.time_us;
    popped_any_ = true;
    if (size_ < shrink_at_ || retune_due_) maintain();
    return out;
  }

 private:
  struct Node {
    Event event;
    std::uint32_t next;
  };
  struct Staged {
    Event event;
    std::uint64_t day;
  };

  static constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint64_t kNoDay = std::numeric_limits<std::uint64_t>::max();
  static constexpr std::size_t kMinBuckets = 64;
  // Brown suggests about three events a day. Here an empty day costs a read of
  // a sequential array and every event of a day a random read, so days are
  // kept a little smaller; bench/bench_engine.cpp's hold model settles it.
  static constexpr double kEventsPerDay = 2.0;
  static constexpr std::size_t kSample = 32;             // events sampled for the width
  static constexpr unsigned kMaxShift = 62;              // days of 2^62 µs: times fit in two
  static constexpr std::size_t kStaged = 8;              // pushes waiting for their bucket head
  static constexpr std::uint64_t kPrefetchDays = 4;      // days ahead whose first node is fetched
  static constexpr std::size_t kSweepAhead = 16;         // sweep: events ahead whose bucket is fetched
  static constexpr std::uint64_t kWastePerPop = 4;       // tolerated bad-width work a pop
  static constexpr std::size_t kSortedInsertLimit = 32;  // insertion sort up to this

  // Days are numbered from 1 so that day_ = 0 can mean "before the first day"
  // and window arithmetic never overflows: times are in [0, 2^63), days in
  // [1, 2^63], and far_from_ at most 2^63 + 2^32.
  std::uint64_t day_of(std::int64_t t) const { return (static_cast<std::uint64_t>(t) >> shift_) + 1; }
  std::size_t bucket(std::uint64_t d) const { return static_cast<std::size_t>(d & mask_); }

  static void prefetch([[maybe_unused]] const void* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#endif
  }

  std::uint32_t new_node(const Event& e, std::uint32_t next) {
    if (!free_.empty()) {
      // A stack of free indices rather than a list through the nodes: taking
      // one does not have to read the (cold) node first.
      const std::uint32_t i = free_.back();
      free_.pop_back();
      nodes_[i] = Node{e, next};
      return i;
    }
    if (nodes_.size() >= kNil) throw std::length_error("CalendarEventQueue: more than 2^32 - 1 events");
    nodes_.push_back(Node{e, next});
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  // Day d must lie in the window (day_, far_from_).
  void link(const Event& e, std::uint64_t d) {
    std::uint32_t& head = heads_[bucket(d)];
    head = new_node(e, head);
    ++linked_;
  }

  // A push into the window waits in a short FIFO while its bucket head, a
  // random place in a large array, is fetched; the oldest is linked when the
  // FIFO is full, or all of them as soon as anything needs the buckets.
  void stage(const Event& e, std::uint64_t d) {
    if (staged_count_ == kStaged) {
      const Staged& oldest = staged_[staged_first_];
      link(oldest.event, oldest.day);
      staged_first_ = (staged_first_ + 1) % kStaged;
      --staged_count_;
    }
    staged_[(staged_first_ + staged_count_) % kStaged] = Staged{e, d};
    ++staged_count_;
    prefetch(&heads_[bucket(d)]);
  }
  void link_staged() {
    for (; staged_count_ > 0; --staged_count_) {
      const Staged& s = staged_[staged_first_];
      link(s.event, s.day);
      staged_first_ = (staged_first_ + 1) % kStaged;
    }
  }
  std::uint64_t first_staged_day() const {
    std::uint64_t m = kNoDay;
    for (std::size_t k = 0; k < staged_count_; ++k) m = std::min(m, staged_[(staged_first_ + k) % kStaged].day);
    return m;
  }

  // The first day after day_ with events in the buckets or the FIFO, linking
  // the FIFO if it has one at or before that day; kNoDay if the window is
  // empty. `from` is a day known to have nothing before it.
  std::uint64_t next_day(std::uint64_t from) {
    std::uint64_t d = kNoDay;
    if (linked_ > 0) {
      d = from;
      while (heads_[bucket(d)] == kNil) ++d;
      too_small_ += d - from;
    }
    if (staged_count_ > 0) {
      const std::uint64_t s = first_staged_day();
      if (s <= d) {
        link_staged();
        d = s;
      }
    }
    return d;
  }

  // The open day takes events at or before it (the latter only if a push broke
  // the "not before the last pop" rule): after every event of equal time.
  void insert_today(const Event& e) {
    const auto first = today_.begin() + static_cast<std::ptrdiff_t>(today_head_);
    const auto at = std::upper_bound(first, today_.end(), e.time_us,
                                     [](std::int64_t t, const Event& x) { return t < x.time_us; });
    crowding_ += static_cast<std::uint64_t>(today_.end() - at);
    today_.insert(at, e);
    if (crowding_ > kWastePerPop * (pops_ + heads_.size())) retune_due_ = true;
  }

  // Moves the next non-empty day into today_. Requires size_ > 0 and today_
  // exhausted.
  void advance() {
    today_.clear();
    today_head_ = 0;
    std::uint64_t d = next_day(peek_valid_ && peek_day_ > day_ ? peek_day_ : day_ + 1);
    peek_valid_ = false;
    if (d == kNoDay) {
      jump_to_overflow();
      d = next_day(day_ + 1);
    }
    open(d);
    const std::uint64_t year = heads_.size();
    if (far_.empty()) {
      far_from_ = day_ + year;  // nothing waits: the window slides for free
    } else if (far_from_ - day_ <= year / 2) {
      sweep(day_ + year);
    }
    const std::uint64_t budget = kWastePerPop * (pops_ + year);
    if (too_small_ > budget || crowding_ > budget) {
      retune_due_ = true;
    } else if (pops_ > year) {  // start a new accounting period
      pops_ = 0;
      too_small_ = 0;
      crowding_ = 0;
    }
  }

  // The window is empty and everything waits in far_: restart the window at
  // the earliest waiting day.
  void jump_to_overflow() {
    std::uint64_t m = kNoDay;
    for (const Event& e : far_) m = std::min(m, day_of(e.time_us));
    day_ = m - 1;
    sweep(day_ + heads_.size());
  }

  // Moves the overflow events that fall before `new_far_from` into the
  // calendar, in push order; keeps the rest in push order.
  void sweep(std::uint64_t new_far_from) {
    far_from_ = new_far_from;
    too_small_ += far_.size();
    std::size_t kept = 0;
    const std::size_t n = far_.size();
    for (std::size_t k = 0; k < n; ++k) {
      if (k + kSweepAhead < n) {
        const std::uint64_t ahead = day_of(far_[k + kSweepAhead].time_us);
        if (ahead < far_from_) prefetch(&heads_[bucket(ahead)]);
      }
      const Event e = far_[k];
      const std::uint64_t d = day_of(e.time_us);
      if (d < far_from_) {
        link(e, d);
      } else {
        far_[kept++] = e;
      }
    }
    far_.resize(kept);
  }

  void open(std::uint64_t d) {
    day_ = d;
    std::uint32_t& head = heads_[bucket(d)];
    std::uint32_t i = head;
    head = kNil;
    while (i != kNil) {
      const Node& n = nodes_[i];
      today_.push_back(n.event);
      free_.push_back(i);
      i = n.next;
    }
    linked_ -= today_.size();
    // While this day drains, fetch the first node of each of the next few
    // days, and the second node of the day after tomorrow (its first node was
    // asked for by an earlier open, so reading its link should not stall).
    for (std::uint64_t a = 1; a <= kPrefetchDays; ++a) {
      const std::uint32_t first = heads_[bucket(d + a)];
      if (first == kNil) continue;
      prefetch(&nodes_[first]);
      if (a == 2 && nodes_[first].next != kNil) prefetch(&nodes_[nodes_[first].next]);
    }
    std::reverse(today_.begin(), today_.end());  // the list is newest first
    sort_by_time(today_);
    // A crowded day costs a real sort, unless it is one instant (ties cannot be
    // split by any width).
    if (today_.size() > kSortedInsertLimit && today_.front().time_us != today_.back().time_us)
      crowding_ += today_.size();
  }

  // Stable: equal times keep their order.
  static void sort_by_time(std::vector<Event>& v) {
    if (v.size() > kSortedInsertLimit) {
      std::stable_sort(v.begin(), v.end(), [](const Event& a, const Event& b) { return a.time_us < b.time_us; });
      return;
    }
    for (std::size_t i = 1; i < v.size(); ++i) {
      const Event x = v[i];
      std::size_t j = i;
      for (; j > 0 && v[j - 1].time_us > x.time_us; --j) v[j] = v[j - 1];
      v[j] = x;
    }
  }

  // The next event when today_ is exhausted, without moving anything but the
  // FIFO: a push may still land before it.
  void peek() {
    const std::uint64_t d = next_day(day_ + 1);
    if (d == kNoDay) {
      const Event* best = &far_.front();
      for (const Event& e : far_)
        if (e.time_us < best->time_us) best = &e;  // first of equal times: pushed first
      peek_ = *best;
      peek_day_ = day_;  // no hint for advance()
    } else {
      std::uint32_t i = heads_[bucket(d)];
      peek_ = nodes_[i].event;
      for (i = nodes_[i].next; i != kNil; i = nodes_[i].next)
        if (nodes_[i].event.time_us <= peek_.time_us) peek_ = nodes_[i].event;  // later in list: pushed earlier
      peek_day_ = d;
    }
    peek_valid_ = true;
  }

  // Runs after a pop has taken its event.
  void maintain() {
    retune_due_ = false;
    if (size_ < shrink_at_) {
      resize(heads_.size() / 2);
      return;
    }
    // The width is wrong by the work it causes. Take the sampled estimate, but
    // move at least one step in the direction the work points to.
    link_staged();
    const std::vector<std::int64_t> sample = head_sample();
    unsigned shift = estimate_shift(sample);
    if (crowding_ > too_small_) {
      if (shift >= shift_) shift = shift_ > 0 ? shift_ - 1 : 0;
    } else if (shift <= shift_) {
      shift = std::min(shift_ + 1, kMaxShift);
    }
    rebuild(heads_.size(), shift, anchor(sample));
  }

  void resize(std::size_t buckets) {
    link_staged();
    const std::vector<std::int64_t> sample = head_sample();
    rebuild(buckets, estimate_shift(sample), anchor(sample));
  }

  // Times of the first (up to) kSample pending events, in order. Requires an
  // empty FIFO.
  std::vector<std::int64_t> head_sample() const {
    std::vector<std::int64_t> s;
    for (std::size_t i = today_head_; i < today_.size() && s.size() < kSample; ++i) s.push_back(today_[i].time_us);
    std::size_t seen = 0;
    for (std::uint64_t d = day_ + 1; d < far_from_ && s.size() < kSample && seen < linked_; ++d) {
      const std::size_t before = s.size();
      for (std::uint32_t i = heads_[bucket(d)]; i != kNil; i = nodes_[i].next) s.push_back(nodes_[i].event.time_us);
      seen += s.size() - before;
      std::sort(s.begin() + static_cast<std::ptrdiff_t>(before), s.end());
    }
    if (s.size() < kSample && !far_.empty()) {
      std::vector<Event> later(std::min(kSample - s.size(), far_.size()));
      std::partial_sort_copy(far_.begin(), far_.end(), later.begin(), later.end(),
                             [](const Event& a, const Event& b) { return a.time_us < b.time_us; });
      for (const Event& e : later) s.push_back(e.time_us);
    }
    if (s.size() > kSample) s.resize(kSample);
    return s;
  }

  // Brown's estimate, over distinct times (ties say nothing about spacing).
  unsigned estimate_shift(const std::vector<std::int64_t>& s) const {
    std::vector<double> gaps;
    for (std::size_t i = 1; i < s.size(); ++i)
      if (s[i] != s[i - 1]) gaps.push_back(static_cast<double>(s[i] - s[i - 1]));
    if (gaps.empty()) return shift_;
    double mean = 0;
    for (double g : gaps) mean += g;
    mean /= static_cast<double>(gaps.size());
    double sum = 0;
    std::size_t n = 0;
    for (double g : gaps)
      if (g <= 2 * mean) {
        sum += g;
        ++n;
      }
    const double width = kEventsPerDay * sum / static_cast<double>(n);  // n >= 1: the smallest gap is <= mean
    // Nearest power of two (in log scale).
    const double rounded = width * 1.4142135623730951;
    if (!(rounded >= 2.0)) return 0;
    if (rounded >= 0x1.0p62) return kMaxShift;
    return static_cast<unsigned>(std::bit_width(static_cast<std::uint64_t>(rounded)) - 1);
  }

  // A time at or before every pending event and every push that keeps the
  // contract: the last pop, or before any pop the earliest pending event.
  std::int64_t anchor(const std::vector<std::int64_t>& sample) const {
    std::int64_t a = sample.empty() ? last_popped_ : sample.front();
    if (popped_any_) a = std::min(a, last_popped_);
    return a;
  }

  // Lays every pending event out again over `buckets` buckets of 2^shift µs,
  // with the window starting at the day of `anchor_time`. Requires an empty
  // FIFO.
  void rebuild(std::size_t buckets, unsigned shift, std::int64_t anchor_time) {
    std::vector<std::uint32_t> old_heads(buckets, kNil);
    old_heads.swap(heads_);
    std::vector<Event> old_far;
    old_far.swap(far_);
    std::vector<Event> old_today(today_.begin() + static_cast<std::ptrdiff_t>(today_head_), today_.end());
    today_.clear();
    today_head_ = 0;

    shift_ = shift;
    mask_ = buckets - 1;
    day_ = day_of(anchor_time) - 1;
    far_from_ = day_ + buckets;
    linked_ = 0;

    // Each source in push order, so equal times keep their order. Every event
    // is at or after the anchor, so after day_.
    for (const Event& e : old_today) place(e);
    for (std::uint32_t head : old_heads) {
      std::uint32_t i = reverse_list(head);
      while (i != kNil) {
        const std::uint32_t next = nodes_[i].next;
        const std::uint64_t d = day_of(nodes_[i].event.time_us);
        if (d < far_from_) {
          std::uint32_t& h = heads_[bucket(d)];
          nodes_[i].next = h;
          h = i;
          ++linked_;
        } else {
          far_.push_back(nodes_[i].event);
          free_.push_back(i);
        }
        i = next;
      }
    }
    for (const Event& e : old_far) place(e);
    reset_after_rebuild();
  }

  void place(const Event& e) {
    const std::uint64_t d = day_of(e.time_us);
    if (d <= day_) {
      insert_today(e);  // only events pushed before the last pop
    } else if (d < far_from_) {
      link(e, d);
    } else {
      far_.push_back(e);
    }
  }

  std::uint32_t reverse_list(std::uint32_t i) {
    std::uint32_t prev = kNil;
    while (i != kNil) {
      const std::uint32_t next = nodes_[i].next;
      nodes_[i].next = prev;
      prev = i;
      i = next;
    }
    return prev;
  }

  void reset_after_rebuild() {
    const std::size_t buckets = heads_.size();
    grow_at_ = 2 * buckets;
    shrink_at_ = buckets > kMinBuckets ? buckets / 2 : 0;
    peek_valid_ = false;
    retune_due_ = false;
    pops_ = 0;
    too_small_ = 0;
    crowding_ = 0;
  }

  // The calendar: bucket heads into the node pool, and pushes on their way in.
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> free_;  // indices of unused nodes
  std::vector<std::uint32_t> heads_;
  std::uint64_t mask_ = kMinBuckets - 1;
  unsigned shift_ = 20;     // about a second, until the first resize measures
  std::size_t linked_ = 0;  // events in bucket lists
  std::array<Staged, kStaged> staged_{};
  std::size_t staged_first_ = 0;
  std::size_t staged_count_ = 0;

  // The open day: every pending event of day_ (and earlier), sorted.
  std::vector<Event> today_;
  std::size_t today_head_ = 0;
  std::uint64_t day_ = 0;
  std::uint64_t far_from_ = kMinBuckets;  // first day kept in far_
  std::vector<Event> far_;                // days >= far_from_, in push order

  std::size_t size_ = 0;
  std::size_t grow_at_ = 0;
  std::size_t shrink_at_ = 0;
  std::int64_t last_popped_ = 0;
  bool popped_any_ = false;

  Event peek_{};
  std::uint64_t peek_day_ = 0;
  bool peek_valid_ = false;

  // Work charged to the width since the last rebuild or accounting period.
  std::uint64_t pops_ = 0;
  std::uint64_t too_small_ = 0;  // empty days skipped, overflow events re-read
  std::uint64_t crowding_ = 0;   // events shifted or sorted in crowded days
  bool retune_due_ = false;
};

}  // namespace ota::sim
