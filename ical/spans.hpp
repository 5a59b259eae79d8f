// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: sets of half-open UTC intervals and the set algebra the compiler needs.
#include <algorithm>
#include <vector>

#include <ical/time.hpp>

namespace concierge::ical {

struct Span {
  UtcSeconds from;
  UtcSeconds to;  // exclusive
};
using Spans = std::vector<Span>;

// Sorts, drops empty spans and merges overlapping or touching ones.
inline Spans normalized(Spans s) {
  std::erase_if(s, [](const Span& x) { return x.to <= x.from; });
  std::sort(s.begin(), s.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
  Spans out;
  out.reserve(s.size());
  for (const Span& x : s) {
    if (!out.empty() && x.from <= out.back().to) {
      out.back().to = std::max(out.back().to, x.to);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

// The operations below take and return normalized sets.
inline Spans unite(const Spans& a, const Spans& b) {
  Spans all(a);
  all.insert(all.end(), b.begin(), b.end());
  return normalized(std::move(all));
}

inline Spans intersect(const Spans& a, const Spans& b) {
  Spans out;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const UtcSeconds lo = std::max(a[i].from, b[j].from);
    const UtcSeconds hi = std::min(a[i].to, b[j].to);
    if (lo < hi) out.push_back({lo, hi});
    (a[i].to < b[j].to ? i : j)++;
  }
  return out;
}

inline Spans subtract(const Spans& a, const Spans& b) {
  Spans out;
  std::size_t j = 0;
  for (const Span& x : a) {
    UtcSeconds cur = x.from;
    while (j < b.size() && b[j].to <= cur) ++j;
    std::size_t k = j;
    while (k < b.size() && b[k].from < x.to) {
      if (b[k].from > cur) out.push_back({cur, b[k].from});
      cur = std::max(cur, b[k].to);
      ++k;
    }
    if (cur < x.to) out.push_back({cur, x.to});
  }
  return out;
}

}  // namespace concierge::ical
