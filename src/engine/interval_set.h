// SPDX-License-Identifier: Apache-2.0
// A set of values of an ordered discrete type, kept as sorted, disjoint, non-adjacent closed
// intervals. All set algebra is a merge of two sorted lists, which is what keeps the engine
// exact without enumerating addresses or ports. Sets are immutable values sharing their
// ranges, so copying one (an alias of thousands of ranges into many cubes) costs nothing.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
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
  using Ranges = std::vector<Range>;

  IntervalSet() = default;
  IntervalSet(T first, T last) {
    if (!(last < first)) ranges_ = std::make_shared<const Ranges>(Ranges{{first, last}});
  }
  static IntervalSet All() { return IntervalSet(Traits::Min(), Traits::Max()); }
  static IntervalSet Of(std::initializer_list<Range> ranges) {
    return FromRanges(Ranges(ranges.begin(), ranges.end()));
  }

  // The union of any ranges, in any order, overlapping or not: O(n log n), where folding Union
  // over n ranges would be quadratic. Use it to build large aliases.
  static IntervalSet FromRanges(Ranges ranges) {
    std::erase_if(ranges, [](const Range& r) { return r.last < r.first; });
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.first < b.first; });
    Ranges out;
    out.reserve(ranges.size());
    for (const Range& r : ranges) AppendCoalescing(out, r);
    return IntervalSet(std::move(out));
  }

  bool empty() const { return ranges_ == nullptr; }
  bool IsAll() const {
    return ranges().size() == 1 && ranges()[0].first == Traits::Min() &&
           ranges()[0].last == Traits::Max();
  }
  const Ranges& ranges() const { return ranges_ ? *ranges_ : kNoRanges; }

  bool Contains(const T& v) const {
    auto it = std::upper_bound(ranges().begin(), ranges().end(), v,
                               [](const T& x, const Range& r) { return x < r.first; });
    return it != ranges().begin() && !((it - 1)->last < v);
  }

  IntervalSet Union(const IntervalSet& o) const {
    if (o.empty() || ranges_ == o.ranges_) return *this;
    if (empty()) return o;
    Ranges all;
    all.reserve(ranges().size() + o.ranges().size());
    std::merge(ranges().begin(), ranges().end(), o.ranges().begin(), o.ranges().end(),
               std::back_inserter(all),
               [](const Range& a, const Range& b) { return a.first < b.first; });
    Ranges out;
    out.reserve(all.size());
    for (const Range& r : all) AppendCoalescing(out, r);
    return IntervalSet(std::move(out));
  }

  // Walks the smaller set and binary-searches the larger one, so a few ranges against an alias
  // of tens of thousands cost O(few * log(alias)). A set lying within one range of the other
  // (an alias cut to its family) is the result itself, shared rather than copied.
  IntervalSet Intersect(const IntervalSet& o) const {
    if (ranges_ == o.ranges_) return *this;
    if (empty() || o.empty()) return {};
    if (o.Covers(front(), back())) return *this;
    if (Covers(o.front(), o.back())) return o;
    const IntervalSet& small = ranges().size() <= o.ranges().size() ? *this : o;
    const IntervalSet& big = &small == this ? o : *this;
    Ranges out;
    auto from = big.ranges().begin();
    for (const Range& r : small.ranges()) {
      from = big.FirstEndingAtOrAfter(from, r.first);
      for (auto b = from; b != big.ranges().end() && !(r.last < b->first); ++b) {
        out.push_back({std::max(r.first, b->first), std::min(r.last, b->last)});
      }
    }
    return IntervalSet(std::move(out));
  }

  IntervalSet Complement() const {
    Ranges out;
    T next = Traits::Min();
    bool open = true;  // false once we passed Max
    for (const Range& r : ranges()) {
      if (open && next < r.first) out.push_back({next, Traits::Prev(r.first)});
      if (r.last == Traits::Max()) {
        open = false;
      } else {
        next = Traits::Next(r.last);
      }
    }
    if (open) out.push_back({next, Traits::Max()});
    return IntervalSet(std::move(out));
  }

  // Ranges that no hole of `o` touches are copied in blocks, found by binary search.
  IntervalSet Subtract(const IntervalSet& o) const {
    if (!Intersects(o)) return *this;
    Ranges out;
    out.reserve(ranges().size() + 1);
    auto hole = o.ranges().begin();
    for (auto r = ranges().begin(); r != ranges().end();) {
      hole = o.FirstEndingAtOrAfter(hole, r->first);
      if (hole == o.ranges().end() || r->last < hole->first) {
        auto untouched_end =
            hole == o.ranges().end() ? ranges().end() : FirstEndingAtOrAfter(r, hole->first);
        out.insert(out.end(), r, untouched_end);
        r = untouched_end;
        continue;
      }
      CarveHoles(*r, hole, o.ranges().end(), out);
      ++r;
    }
    return IntervalSet(std::move(out));
  }

  // Stop at the first witness and allocate nothing.
  bool Intersects(const IntervalSet& o) const {
    if (empty() || o.empty() || o.back() < front() || back() < o.front()) return false;
    const IntervalSet& small = ranges().size() <= o.ranges().size() ? *this : o;
    const IntervalSet& big = &small == this ? o : *this;
    auto from = big.ranges().begin();
    for (const Range& r : small.ranges()) {
      from = big.FirstEndingAtOrAfter(from, r.first);
      if (from == big.ranges().end()) return false;
      if (!(r.last < from->first)) return true;
    }
    return false;
  }
  // Every range of `o` that holds one of ours is searched for once, and so is the first of
  // ours past it: O(min(n, m) log) however large either set is.
  bool IsSubsetOf(const IntervalSet& o) const {
    if (ranges_ == o.ranges_) return true;
    auto from = o.ranges().begin();
    for (auto a = ranges().begin(); a != ranges().end();) {
      from = o.FirstEndingAtOrAfter(from, a->first);
      if (from == o.ranges().end() || a->first < from->first || from->last < a->last) return false;
      a = std::upper_bound(a + 1, ranges().end(), from->last,
                           [](const T& v, const Range& r) { return v < r.last; });
    }
    return true;
  }

  // Sets with the same identity share their ranges, so they are equal; sets with different
  // identities may be equal too. Null for the empty set. Lets callers remember work per set.
  const void* Identity() const { return ranges_.get(); }

  // The smallest and largest member; only on a non-empty set.
  const T& front() const { return ranges_->front().first; }
  const T& back() const { return ranges_->back().last; }

  bool operator==(const IntervalSet& o) const {
    return ranges_ == o.ranges_ || ranges() == o.ranges();
  }

 private:
  inline static const Ranges kNoRanges;

  // Takes ranges already in normal form; an empty list is stored as no list at all.
  explicit IntervalSet(Ranges&& normal) {
    if (!normal.empty()) ranges_ = std::make_shared<const Ranges>(std::move(normal));
  }

  // Whether one range holds all of [first, last].
  bool Covers(const T& first, const T& last) const {
    auto it = FirstEndingAtOrAfter(ranges().begin(), last);
    return it != ranges().end() && !(first < it->first);
  }

  typename Ranges::const_iterator FirstEndingAtOrAfter(typename Ranges::const_iterator from,
                                                       const T& v) const {
    return std::lower_bound(from, ranges().end(), v,
                            [](const Range& r, const T& x) { return r.last < x; });
  }

  // Appends what is left of r after the holes from `hole` on that meet it.
  static void CarveHoles(const Range& r, typename Ranges::const_iterator& hole,
                         typename Ranges::const_iterator holes_end, Ranges& out) {
    T next = r.first;
    for (; hole != holes_end && !(r.last < hole->first); ++hole) {
      if (next < hole->first) out.push_back({next, Traits::Prev(hole->first)});
      if (!(hole->last < r.last)) return;  // this hole reaches past r, and may meet the next
      next = Traits::Next(hole->last);
    }
    out.push_back({next, r.last});
  }

  // Appends r, merging it into the last range when they overlap or touch.
  static void AppendCoalescing(Ranges& out, const Range& r) {
    if (!out.empty()) {
      Range& back = out.back();
      if (!(back.last < r.first) ||
          (!(back.last == Traits::Max()) && Traits::Next(back.last) == r.first)) {
        if (back.last < r.last) back.last = r.last;
        return;
      }
    }
    out.push_back(r);
  }

  std::shared_ptr<const Ranges> ranges_;  // null when empty; shared, never changed in place
};

}  // namespace bulkhead
