// SPDX-License-Identifier: MIT
#include <ical/zone.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

namespace concierge::ical {
namespace {

constexpr UtcSeconds kTableFrom = 0;         // 1970-01-01
constexpr UtcSeconds kTableTo = 4102444800;  // 2100-01-01

std::u16string to_u16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(static_cast<char16_t>(static_cast<unsigned char>(c)));
  return out;
}

std::string from_u16(const UChar* s, int32_t len) {
  std::string out;
  for (int32_t i = 0; i < len; ++i) out.push_back(static_cast<char>(s[i] & 0x7f));
  return out;
}

bool ascii_printable(std::string_view s) {
  return !s.empty() && s.size() < 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// An IANA system zone ID known to ICU, canonicalised; empty if unknown.
std::string icu_system_id(std::string_view name) {
  if (!ascii_printable(name)) return {};
  const std::u16string id = to_u16(name);
  UChar canonical[128];
  UBool is_system = false;
  UErrorCode status = U_ZERO_ERROR;
  const int32_t len = ucal_getCanonicalTimeZoneID(reinterpret_cast<const UChar*>(id.data()),
                                                  static_cast<int32_t>(id.size()), canonical, 128,
                                                  &is_system, &status);
  if (U_FAILURE(status) || !is_system || len <= 0 || len >= 128) return {};
  return name == "UTC" ? std::string("UTC") : std::string(name);
}

std::string icu_windows_id(std::string_view name) {
  if (!ascii_printable(name)) return {};
  const std::u16string id = to_u16(name);
  UChar result[128];
  UErrorCode status = U_ZERO_ERROR;
  const int32_t len = ucal_getTimeZoneIDForWindowsID(reinterpret_cast<const UChar*>(id.data()),
                                                     static_cast<int32_t>(id.size()), nullptr,
                                                     result, 128, &status);
  if (U_FAILURE(status) || len <= 0 || len >= 128) return {};
  return from_u16(result, len);
}

std::string resolve_name(std::string_view name) {
  if (name.empty()) return {};
  if (std::string id = icu_system_id(name); !id.empty()) return id;
  if (std::string id = icu_windows_id(name); !id.empty()) return id;
  // libical and some servers prefix IANA names:
  // "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin".
  if (name.front() == '/') {
    for (std::size_t pos = name.find('/', 1); pos != std::string_view::npos;
         pos = name.find('/', pos + 1)) {
      std::string_view tail = name.substr(pos + 1);
      if (tail.find('/') == std::string_view::npos && tail != "UTC") continue;
      if (std::string id = icu_system_id(tail); !id.empty()) return id;
    }
  }
  return {};
}

std::shared_ptr<const Zone> build_from_icu(const std::string& id) {
  const std::u16string uid = to_u16(id);
  UErrorCode status = U_ZERO_ERROR;
  UCalendar* cal = ucal_open(reinterpret_cast<const UChar*>(uid.data()),
                             static_cast<int32_t>(uid.size()), "en_US", UCAL_GREGORIAN, &status);
  if (U_FAILURE(status) || cal == nullptr) return nullptr;
  auto offset_now = [&](UDate millis) {
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(cal, millis, &st);
    const int32_t off = ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st);
    return static_cast<std::int32_t>(off / 1000);
  };
  std::vector<UtcSeconds> transitions;
  std::vector<std::int32_t> offsets;
  offsets.push_back(offset_now(static_cast<UDate>(kTableFrom) * 1000.0));
  UDate at = static_cast<UDate>(kTableFrom) * 1000.0;
  while (transitions.size() < 4000) {
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(cal, at, &st);
    UDate next = 0;
    if (!ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &next, &st) || U_FAILURE(st))
      break;
    if (next >= static_cast<UDate>(kTableTo) * 1000.0 || next <= at) break;
    const std::int32_t off = offset_now(next);
    if (off != offsets.back()) {
      transitions.push_back(static_cast<UtcSeconds>(next / 1000.0));
      offsets.push_back(off);
    }
    at = next;
  }
  ucal_close(cal);
  return std::make_shared<const Zone>(id, std::move(transitions), std::move(offsets));
}

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::shared_ptr<const Zone>, std::less<>>& cache() {
  static std::map<std::string, std::shared_ptr<const Zone>, std::less<>> c;
  return c;
}

}  // namespace

Zone::Zone(std::string name, std::vector<UtcSeconds> transitions, std::vector<std::int32_t> offsets)
    : name_(std::move(name)), transitions_(std::move(transitions)), offsets_(std::move(offsets)) {
  if (offsets_.size() != transitions_.size() + 1) offsets_.resize(transitions_.size() + 1, 0);
}

std::shared_ptr<const Zone> Zone::utc() {
  static const auto zone =
      std::make_shared<const Zone>("UTC", std::vector<UtcSeconds>{}, std::vector<std::int32_t>{0});
  return zone;
}

std::shared_ptr<const Zone> Zone::sampled(
    std::string name, UtcSeconds from, UtcSeconds to,
    const std::function<std::int32_t(UtcSeconds)>& offset_at) {
  std::vector<UtcSeconds> transitions;
  std::vector<std::int32_t> offsets{offset_at(from)};
  constexpr UtcSeconds kStep = 6 * 3600;
  for (UtcSeconds t = from; t < to; t += kStep) {
    const std::int32_t next = offset_at(t + kStep);
    if (next == offsets.back()) continue;
    UtcSeconds lo = t, hi = t + kStep;  // offset(lo) == back, offset(hi) == next
    while (hi - lo > 1) {
      const UtcSeconds mid = lo + (hi - lo) / 2;
      (offset_at(mid) == offsets.back() ? lo : hi) = mid;
    }
    transitions.push_back(hi);
    offsets.push_back(next);
  }
  return std::make_shared<const Zone>(std::move(name), std::move(transitions), std::move(offsets));
}

std::size_t Zone::segment_of(UtcSeconds t) const {
  return static_cast<std::size_t>(std::upper_bound(transitions_.begin(), transitions_.end(), t) -
                                  transitions_.begin());
}

std::int32_t Zone::offset_at(UtcSeconds t) const {
  return offsets_[segment_of(t)];
}

UtcSeconds Zone::to_utc(LocalSeconds local) const {
  if (transitions_.empty()) return local - offsets_[0];
  const std::size_t guess = segment_of(local);
  const std::size_t lo = guess > 1 ? guess - 1 : 0;
  const std::size_t hi = std::min(guess + 1, transitions_.size());
  bool found = false;
  UtcSeconds best = 0;
  for (std::size_t k = lo; k <= hi; ++k) {
    const UtcSeconds u = local - offsets_[k];
    if (segment_of(u) == k && (!found || u < best)) {
      best = u;
      found = true;  // in an overlap the smaller UTC instant is the first occurrence
    }
  }
  if (found) return best;
  // In a gap: use the offset before the transition that opened it (RFC 5545 §3.3.5).
  for (std::size_t k = lo; k < hi; ++k) {
    const UtcSeconds tr = transitions_[k];
    if (local >= tr + offsets_[k] && local < tr + offsets_[k + 1]) return local - offsets_[k];
  }
  return local - offsets_[guess];
}

std::shared_ptr<const Zone> find_zone(std::string_view name) {
  {
    std::lock_guard lock(cache_mutex());
    if (auto it = cache().find(name); it != cache().end()) return it->second;
  }
  const std::string id = resolve_name(name);
  std::shared_ptr<const Zone> zone;
  if (!id.empty()) {
    std::lock_guard lock(cache_mutex());
    if (auto it = cache().find(id); it != cache().end()) zone = it->second;
  }
  if (!id.empty() && !zone)
    zone = (id == "UTC" || id == "Etc/UTC") ? Zone::utc() : build_from_icu(id);
  std::lock_guard lock(cache_mutex());
  if (cache().size() < 4096) {
    cache().emplace(std::string(name), zone);  // unknown names are cached as nullptr too
    if (zone) cache().emplace(id, zone);
  }
  return zone;
}

bool is_valid_zone(std::string_view name) {
  return find_zone(name) != nullptr;
}

std::string canonical_zone_name(std::string_view name) {
  auto zone = find_zone(name);
  return zone ? zone->name() : std::string();
}

}  // namespace concierge::ical
