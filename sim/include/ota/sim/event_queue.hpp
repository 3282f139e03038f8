// event_queue.hpp — future-event lists for the kernel.
//
// Both queues pop events in (time, insertion order): two events at the same
// microsecond come out in the order they were pushed. That is what makes a run
// reproducible without a tie-breaking field in every event.
//
// Contract shared by both (the kernel is a template over it):
//   push(e)   e.time_us must be >= the time of the last popped event
//             (simulated time never runs backwards); it may be earlier than
//             what top() last showed. The radix queues rely on the first part.
//   top()     requires !empty(); pop() requires !empty().
//
// Which is faster for this workload — millions of pending events whose times
// spread over hours — is measured by `otasim-bench engine --queue all` and
// recorded in bench/RESULTS.md; `Simulator` uses the winner.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ota/sim/event.hpp"

namespace ota::sim {

// A 4-ary implicit heap ordered by (time, sequence number). O(log4 n) per
// operation; shallower than a binary heap, and the four children of a node share
// a cache line or two.
class QuaternaryHeapQueue {
 public:
  static constexpr const char* kName = "heap4";

  void reserve(std::size_t n) { heap_.reserve(n); }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

  void push(const Event& e) {
    heap_.push_back(Entry{e, next_seq_++});
    sift_up(heap_.size() - 1);
  }
  const Event& top() const { return heap_.front().event; }
  Event pop() {
    Event out = heap_.front().event;
    Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return out;
  }

 private:
  struct Entry {
    Event event;
    std::uint64_t seq;
  };
  static bool before(const Entry& a, const Entry& b) {
    return a.event.time_us < b.event.time_us ||
           (a.event.time_us == b.event.time_us && a.seq < b.seq);
  }
  void sift_up(std::size_t i) {
    Entry moving = heap_[i];
    while (i > 0) {
      std::size_t parent = (i - 1) / 4;
      if (!before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }
  // Places `moving` starting from the root (the classic "hole" descent).
  void sift_down(const Entry& moving) {
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      std::size_t first = 4 * i + 1;
      if (first >= n) break;
      std::size_t best = first;
      std::size_t end = first + 4 < n ? first + 4 : n;
      for (std::size_t c = first + 1; c < end; ++c)
        if (before(heap_[c], heap_[best])) best = c;
      if (!before(heap_[best], moving)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = moving;
  }

  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

namespace detail {

// Events pushed after top() had already moved a radix queue's minimum past
// them (the kernel peeks at the next event to compare it with the horizon;
// the model may then schedule something earlier, though not before the last
// event run). They are all earlier than anything in the buckets, so they are
// served first, from this small heap ordered by (time, insertion order).
class EarlyEvents {
 public:
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  void push(const Event& e) {
    heap_.push_back(Entry{e, seq_++});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  const Event& top() const { return heap_.front().event; }
  Event pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Event e = heap_.back().event;
    heap_.pop_back();
    return e;
  }

 private:
  struct Entry {
    Event event;
    std::uint64_t seq;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.event.time_us > b.event.time_us || (a.event.time_us == b.event.time_us && a.seq > b.seq);
  }
  std::vector<Entry> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace detail

// A radix heap (Ahuja, Mehlhorn, Orlin & Tarjan, 1990): a monotone bucket queue.
// Bucket k holds events whose time differs from `last_` (the last minimum) first
// in bit k-1; bucket 0 holds events at exactly `last_`. Push is an append; when
// bucket 0 runs dry, the lowest non-empty bucket is scanned for its minimum and
// its events are redistributed to lower buckets. Each event moves at most 63
// times and, for times spread like this workload's, only a handful. All work is
// sequential appends and scans, which is why it beats heaps on large queues.
//
// Ties stay in insertion order: events with equal times always share a bucket,
// redistribution preserves relative order, and bucket 0 is drained front to back.
class RadixEventQueue {
 public:
  static constexpr const char* kName = "radix";

  void reserve(std::size_t) {}
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(const Event& e) {
    const std::uint64_t t = static_cast<std::uint64_t>(e.time_us);
    ++size_;
    if (t < last_) {
      early_.push(e);
      return;
    }
    const unsigned b = bucket_of(t);
    buckets_[b].push_back(e);
    nonempty_ |= std::uint64_t{1} << b;
  }

  const Event& top() {
    if (!early_.empty()) return early_.top();
    if (head0_ == buckets_[0].size()) refill();
    return buckets_[0][head0_];
  }

  Event pop() {
    --size_;
    if (!early_.empty()) return early_.pop();
    if (head0_ == buckets_[0].size()) refill();
    return buckets_[0][head0_++];
  }

 private:
  unsigned bucket_of(std::uint64_t t) const {
    const std::uint64_t x = t ^ last_;
    return x == 0 ? 0u : static_cast<unsigned>(64 - std::countl_zero(x));
  }

  void refill() {
    buckets_[0].clear();
    head0_ = 0;
    nonempty_ &= ~std::uint64_t{1};
    // Lowest non-empty bucket above 0 (exists: size_ > 0 and bucket 0 is empty).
    const unsigned k = static_cast<unsigned>(std::countr_zero(nonempty_));
    std::vector<Event>& from = buckets_[k];
    std::int64_t min_time = from.front().time_us;
    for (const Event& e : from)
      if (e.time_us < min_time) min_time = e.time_us;
    last_ = static_cast<std::uint64_t>(min_time);
    for (const Event& e : from) {
      const unsigned b = bucket_of(static_cast<std::uint64_t>(e.time_us));
      buckets_[b].push_back(e);
      nonempty_ |= std::uint64_t{1} << b;
    }
    from.clear();
    nonempty_ &= ~(std::uint64_t{1} << k);
  }

  // Simulated time is a non-negative int64, so differences fit in 63 bits:
  // buckets 0..63 suffice.
  std::array<std::vector<Event>, 64> buckets_{};
  detail::EarlyEvents early_;
  std::uint64_t nonempty_ = 0;
  std::uint64_t last_ = 0;
  std::size_t head0_ = 0;
  std::size_t size_ = 0;
};

// A radix heap with 8-bit digits: the same monotone bucket queue as
// RadixEventQueue, but an event is filed by the highest *byte* in which its
// time differs from `last_` (the level, 0..7) and by that byte's value (the
// digit, 256 buckets a level). Redistribution moves an event down at least one
// level, so an event moves at most 8 times and, for times spread over hours, 3
// or 4 times — against 10 to 15 for the binary radix heap. With 10^7 events
// pending, those moves are memory traffic, and this is what keeps the rate up.
//
// Ties: equal times share a bucket; buckets are drained and redistributed front
// to back, and the bucket of events at exactly `last_` is a FIFO. So events at
// the same time leave in insertion order.
class Radix256EventQueue {
 public:
  static constexpr const char* kName = "radix256";

  void reserve(std::size_t) {}
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(const Event& e) {
    const std::uint64_t t = static_cast<std::uint64_t>(e.time_us);
    ++size_;
    if (t < last_) {
      early_.push(e);
      return;
    }
    const std::uint64_t x = t ^ last_;
    if (x == 0) {
      current_.push_back(e);
      return;
    }
    const unsigned level = static_cast<unsigned>(63 - std::countl_zero(x)) / 8;
    const unsigned digit = static_cast<unsigned>(t >> (8 * level)) & 0xff;
    file(e, level, digit);
  }

  const Event& top() {
    if (!early_.empty()) return early_.top();
    if (head_ == current_.size()) refill();
    return current_[head_];
  }

  Event pop() {
    --size_;
    if (!early_.empty()) return early_.pop();
    if (head_ == current_.size()) refill();
    return current_[head_++];
  }

  // The kernel's loop in one step: pops the next event into `out` if there is
  // one at or before `horizon_us`.
  bool pop_before(std::int64_t horizon_us, Event& out) {
    if (size_ == 0) return false;
    if (!early_.empty()) [[unlikely]] {
      if (early_.top().time_us > horizon_us) return false;
      out = early_.pop();
      --size_;
      return true;
    }
    if (head_ == current_.size()) refill();
    const Event& e = current_[head_];
    if (e.time_us > horizon_us) return false;
    out = e;
    ++head_;
    --size_;
    return true;
  }

 private:
  static constexpr unsigned kLevels = 8;
  static constexpr unsigned kDigits = 256;

  void file(const Event& e, unsigned level, unsigned digit) {
    buckets_[level * kDigits + digit].push_back(e);
    occupied_[level][digit / 64] |= std::uint64_t{1} << (digit % 64);
    levels_ |= 1u << level;
  }

  void refill() {
    current_.clear();
    head_ = 0;
    const unsigned level = static_cast<unsigned>(std::countr_zero(levels_));
    unsigned word = 0;
    while (occupied_[level][word] == 0) ++word;
    const unsigned digit = word * 64 + static_cast<unsigned>(std::countr_zero(occupied_[level][word]));
    std::vector<Event>& from = buckets_[level * kDigits + digit];
    occupied_[level][word] &= occupied_[level][word] - 1;  // clear lowest set bit
    if ((occupied_[level][0] | occupied_[level][1] | occupied_[level][2] | occupied_[level][3]) == 0)
      levels_ &= ~(1u << level);
    if (level == 0) {
      // Every event here has the same time: they become the current FIFO as is.
      last_ = static_cast<std::uint64_t>(from.front().time_us);
      current_.swap(from);
      release_if_large(from);
      return;
    }
    std::int64_t min_time = from.front().time_us;
    for (const Event& e : from)
      if (e.time_us < min_time) min_time = e.time_us;
    last_ = static_cast<std::uint64_t>(min_time);
    for (const Event& e : from) {
      const std::uint64_t t = static_cast<std::uint64_t>(e.time_us);
      const std::uint64_t x = t ^ last_;
      if (x == 0) {
        current_.push_back(e);
      } else {
        const unsigned l = static_cast<unsigned>(63 - std::countl_zero(x)) / 8;
        file(e, l, static_cast<unsigned>(t >> (8 * l)) & 0xff);
      }
    }
    from.clear();
    release_if_large(from);
  }

  // An emptied bucket gives back a large buffer. Without this every bucket
  // keeps the largest capacity it ever had: a synchronized herd (a million
  // devices polling at the same instant, moved through several levels) left
  // about 1.4 KB per device in empty buckets (herd-synchronized at 10^6
  // devices: 1.07 GB peak RSS). Buckets that fill to this size again pay one
  // reallocation per doubling, as they did the first time.
  static void release_if_large(std::vector<Event>& v) {
    constexpr std::size_t kKeepEvents = 4096;  // 64 KiB
    if (v.capacity() > kKeepEvents) std::vector<Event>().swap(v);
  }

  std::vector<Event> current_;  // events at exactly last_, drained from head_
  detail::EarlyEvents early_;
  std::size_t head_ = 0;
  std::array<std::vector<Event>, kLevels * kDigits> buckets_{};
  std::array<std::array<std::uint64_t, 4>, kLevels> occupied_{};
  std::uint32_t levels_ = 0;
  std::uint64_t last_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ota::sim
