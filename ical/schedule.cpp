// SPDX-License-Identifier: MIT
#include <ical/schedule.hpp>

#include <algorithm>
#include <cstring>

namespace concierge::ical {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::working:
      return "working";
    case Status::away:
      return "away";
    case Status::busy:
      return "busy";
    case Status::off_hours:
      break;
  }
  return "off_hours";
}

Schedule::Schedule(std::string zone, UtcSeconds window_from, UtcSeconds window_to,
                   std::vector<Change> changes, bool has_working, std::vector<std::string> warnings)
    : zone_(std::move(zone)),
      window_from_(window_from),
      window_to_(std::max(window_from, window_to)),
      has_working_(has_working),
      warnings_(std::move(warnings)) {
  starts_.reserve(changes.size() + 1);
  statuses_.reserve(changes.size() + 1);
  starts_.push_back(window_from_);
  statuses_.push_back(Status::off_hours);
  for (const Change& c : changes) {
    if (c.at >= window_to_) break;
    const UtcSeconds at = std::max(c.at, window_from_);
    if (at <= starts_.back()) {  // same instant: the later change wins
      statuses_.back() = c.status;
      if (statuses_.size() >= 2 && statuses_[statuses_.size() - 2] == c.status) {
        starts_.pop_back();
        statuses_.pop_back();
      }
    } else if (statuses_.back() != c.status) {
      starts_.push_back(at);
      statuses_.push_back(c.status);
    }
  }
  starts_.shrink_to_fit();
  statuses_.shrink_to_fit();
}

std::size_t Schedule::index_at(UtcSeconds t) const {
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), t);
  return static_cast<std::size_t>(it - starts_.begin()) - 1;
}

Status Schedule::status_at(UtcSeconds t) const {
  if (!covers(t)) return Status::off_hours;
  return statuses_[index_at(t)];
}

std::optional<UtcSeconds> Schedule::next_change_after(UtcSeconds t) const {
  if (t >= window_to_) return std::nullopt;
  if (t < window_from_) {
    return statuses_.empty() || statuses_.front() == Status::off_hours
               ? (starts_.size() > 1 ? std::optional(starts_[1]) : std::nullopt)
               : std::optional(window_from_);
  }
  const std::size_t i = index_at(t) + 1;
  if (i >= starts_.size()) return std::nullopt;
  return starts_[i];
}

std::optional<UtcSeconds> Schedule::next_working_after(UtcSeconds t) const {
  if (t >= window_to_ || starts_.empty()) return std::nullopt;
  std::size_t i = t < window_from_ ? 0 : index_at(t);
  if (statuses_[i] == Status::working) return std::max(t, window_from_);
  for (++i; i < starts_.size(); ++i) {
    if (statuses_[i] == Status::working) return starts_[i];
  }
  return std::nullopt;
}

std::vector<Schedule::Change> Schedule::changes_between(UtcSeconds from, UtcSeconds to) const {
  std::vector<Change> out;
  if (starts_.empty() || from >= to) return out;
  const UtcSeconds lo = std::max(from, window_from_);
  if (lo >= window_to_) return out;
  std::size_t i = index_at(lo);
  out.push_back({lo, statuses_[i]});
  for (++i; i < starts_.size() && starts_[i] < to; ++i) out.push_back({starts_[i], statuses_[i]});
  return out;
}

std::size_t Schedule::memory_bytes() const {
  std::size_t n = sizeof(*this) + starts_.capacity() * sizeof(UtcSeconds) +
                  statuses_.capacity() * sizeof(Status) +
                  warnings_.capacity() * sizeof(std::string);
  if (zone_.capacity() > 15) n += zone_.capacity() + 1;
  for (const auto& w : warnings_) n += w.capacity() > 15 ? w.capacity() + 1 : 0;
  return n;
}

// ---- encoding ------------------------------------------------------------------------------
namespace {

constexpr std::uint32_t kMagic = 0x43534831;  // "CSH1"

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

struct Reader {
  std::string_view in;
  bool ok = true;
  std::uint64_t u64() {
    if (in.size() < 8) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

std::string encode(const Schedule& s) {
  std::string out;
  put_u64(out, kMagic);
  put_str(out, s.zone());
  put_u64(out, static_cast<std::uint64_t>(s.window_from()));
  put_u64(out, static_cast<std::uint64_t>(s.window_to()));
  put_u64(out, s.has_working() ? 1 : 0);
  const auto changes = s.changes_between(s.window_from(), s.window_to());
  put_u64(out, changes.size());
  for (const auto& c : changes) {
    put_u64(out, static_cast<std::uint64_t>(c.at));
    out.push_back(static_cast<char>(c.status));
  }
  put_u64(out, s.warnings().size());
  for (const auto& w : s.warnings()) put_str(out, w);
  return out;
}

std::optional<Schedule> decode(std::string_view bytes) {
  Reader r{bytes};
  if (r.u64() != kMagic || !r.ok) return std::nullopt;
  std::string zone = r.str();
  const auto from = static_cast<UtcSeconds>(r.u64());
  const auto to = static_cast<UtcSeconds>(r.u64());
  const bool has_working = r.u64() != 0;
  const std::uint64_t n = r.u64();
  if (!r.ok || n > r.in.size() / 9) return std::nullopt;
  std::vector<Schedule::Change> changes;
  changes.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto at = static_cast<UtcSeconds>(r.u64());
    if (!r.ok || r.in.empty()) return std::nullopt;
    const auto st = static_cast<std::uint8_t>(r.in[0]);
    r.in.remove_prefix(1);
    if (st > 3) return std::nullopt;
    changes.push_back({at, static_cast<Status>(st)});
  }
  const std::uint64_t nw = r.u64();
  if (!r.ok || nw > r.in.size() / 8) return std::nullopt;
  std::vector<std::string> warnings;
  for (std::uint64_t i = 0; i < nw; ++i) warnings.push_back(r.str());
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return Schedule(std::move(zone), from, to, std::move(changes), has_working, std::move(warnings));
}

}  // namespace concierge::ical
