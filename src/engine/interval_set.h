// SPDX-License-Identifier: Apache-2.0
// A set of values of an ordered discrete type, kept as sorted, disjoint, non-adjacent closed
// intervals. All set algebra is a linear merge of two sorted lists, which is what keeps the
// engine exact without enumerating addresses or ports.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

namespace bulkhead {

// T needs <=>, and the traits type needs: static T Min(), Max(); static T Next(T) and Prev(T)
// (only called away from Max and Min respectively).
template <typename T, typename Traits>
class IntervalSet {
 public:
  struct Range {
    T first;
    T last;  // inclusive
    bool operator==(const Range&) const = default;
  };

  IntervalSet() = default;
  IntervalSet(T first, T last) {
    if (!(last < first)) ranges_.push_back({first, last});
  }
  static IntervalSet All() { return IntervalSet(Traits::Min(), Traits::Max()); }
  static IntervalSet Of(std::initializer_list<Range> ranges) {
    IntervalSet s;
    for (const Range& r : ranges) s = s.Union(IntervalSet(r.first, r.last));
    return s;
  }

  // The union of any ranges, in any order, overlapping or not: O(n log n), where folding Union
  // over n ranges would be quadratic. Use it to build large aliases.
  static IntervalSet FromRanges(std::vector<Range> ranges) {
    std::erase_if(ranges, [](const Range& r) { return r.last < r.first; });
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.first < b.first; });
    IntervalSet out;
    for (const Range& r : ranges) out.AppendCoalescing(r);
    return out;
  }

  bool empty() const { return ranges_.empty(); }
  bool IsAll() const {
    return ranges_.size() == 1 && ranges_[0].first == Traits::Min() &&
           ranges_[0].last == Traits::Max();
  }
  const std::vector<Range>& ranges() const { return ranges_; }

  bool Contains(const T& v) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), v,
                               [](const T& x, const Range& r) { return x < r.first; });
    return it != ranges_.begin() && !((it - 1)->last < v);
  }

  IntervalSet Union(const IntervalSet& o) const {
    std::vector<Range> all;
    all.reserve(ranges_.size() + o.ranges_.size());
    std::merge(ranges_.begin(), ranges_.end(), o.ranges_.begin(), o.ranges_.end(),
               std::back_inserter(all),
               [](const Range& a, const Range& b) { return a.first < b.first; });
    IntervalSet out;
    for (const Range& r : all) out.AppendCoalescing(r);
    return out;
  }

  // Walks the smaller set and binary-searches the larger one, so a few ranges against an alias
  // of tens of thousands cost O(few * log(alias)).
  IntervalSet Intersect(const IntervalSet& o) const {
    const IntervalSet& small = ranges_.size() <= o.ranges_.size() ? *this : o;
    const IntervalSet& big = &small == this ? o : *this;
    IntervalSet out;
    auto from = big.ranges_.begin();
    for (const Range& r : small.ranges_) {
      from = big.FirstEndingAtOrAfter(from, r.first);
      for (auto b = from; b != big.ranges_.end() && !(r.last < b->first); ++b) {
        out.ranges_.push_back({std::max(r.first, b->first), std::min(r.last, b->last)});
      }
    }
    return out;
  }

  IntervalSet Complement() const {
    IntervalSet out;
    T next = Traits::Min();
    bool open = true;  // false once we passed Max
    for (const Range& r : ranges_) {
      if (open && next < r.first) out.ranges_.push_back({next, Traits::Prev(r.first)});
      if (r.last == Traits::Max()) {
        open = false;
      } else {
        next = Traits::Next(r.last);
      }
    }
    if (open) out.ranges_.push_back({next, Traits::Max()});
    return out;
  }

  IntervalSet Subtract(const IntervalSet& o) const {
    IntervalSet out;
    out.ranges_.reserve(ranges_.size() + 1);
    auto hole = o.ranges_.begin();
    for (const Range& r : ranges_) {
      hole = o.FirstEndingAtOrAfter(hole, r.first);
      T next = r.first;
      bool covered = false;  // true once a hole reaches past r.last
      for (; hole != o.ranges_.end() && !(r.last < hole->first); ++hole) {
        if (next < hole->first) out.ranges_.push_back({next, Traits::Prev(hole->first)});
        if (!(hole->last < r.last)) {
          covered = true;
          break;
        }
        next = Traits::Next(hole->last);
      }
      if (!covered) out.ranges_.push_back({next, r.last});
    }
    return out;
  }

  // Stop at the first witness and allocate nothing.
  bool Intersects(const IntervalSet& o) const {
    if (empty() || o.empty() || o.ranges_.back().last < ranges_.front().first ||
        ranges_.back().last < o.ranges_.front().first) {
      return false;
    }
    const IntervalSet& small = ranges_.size() <= o.ranges_.size() ? *this : o;
    const IntervalSet& big = &small == this ? o : *this;
    auto from = big.ranges_.begin();
    for (const Range& r : small.ranges_) {
      from = big.FirstEndingAtOrAfter(from, r.first);
      if (from == big.ranges_.end()) return false;
      if (!(r.last < from->first)) return true;
    }
    return false;
  }
  bool IsSubsetOf(const IntervalSet& o) const {
    auto from = o.ranges_.begin();
    for (const Range& a : ranges_) {
      from = o.FirstEndingAtOrAfter(from, a.first);
      if (from == o.ranges_.end() || a.first < from->first || from->last < a.last) return false;
    }
    return true;
  }

  // The smallest and largest member; only on a non-empty set.
  const T& front() const { return ranges_.front().first; }
  const T& back() const { return ranges_.back().last; }

  bool operator==(const IntervalSet&) const = default;

 private:
  // The first range at or after `from` whose last member is >= v.
  typename std::vector<Range>::const_iterator FirstEndingAtOrAfter(
      typename std::vector<Range>::const_iterator from, const T& v) const {
    return std::lower_bound(from, ranges_.end(), v,
                            [](const Range& r, const T& x) { return r.last < x; });
  }

  // Appends r, merging it into the last range when they overlap or touch.
  void AppendCoalescing(const Range& r) {
    if (!ranges_.empty()) {
      Range& back = ranges_.back();
      if (!(back.last < r.first) ||
          (!(back.last == Traits::Max()) && Traits::Next(back.last) == r.first)) {
        if (back.last < r.last) back.last = r.last;
        return;
      }
    }
    ranges_.push_back(r);
  }

  std::vector<Range> ranges_;
};

}  // namespace bulkhead
