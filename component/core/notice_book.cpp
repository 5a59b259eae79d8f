// SPDX-License-Identifier: MIT
#include <component/core/notice_book.hpp>

#include <charconv>

namespace concierge::core {
namespace {

using Kind = Remembered::Kind;

std::string id_list(const std::set<std::int64_t>& ids) {
  std::string text;
  for (std::int64_t id : ids) text += (text.empty() ? "" : ",") + std::to_string(id);
  return text;
}

std::set<std::int64_t> ids_in(const std::string& text) {
  std::set<std::int64_t> ids;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    std::int64_t id = 0;
    const auto [next, error] = std::from_chars(p, end, id);
    if (error != std::errc{}) break;
    ids.insert(id);
    p = next < end && *next == ',' ? next + 1 : end;
  }
  return ids;
}

}  // namespace

void NoticeBook::restore(const Remembered& row) {
  switch (row.kind) {
    case Kind::hold_notice:
      told_[{row.a, row.b}] = static_cast<HoldReason>(row.number);
      break;
    case Kind::delivering:
      if (auto ids = ids_in(row.detail); !ids.empty()) delivering_[{row.a, row.b}] = ids;
      break;
    case Kind::reply_notice:
      reply_told_[{row.a, row.b}] = row.at;
      break;
    default:
      break;
  }
}

void NoticeBook::told_before(const std::string& sender, const std::string& target,
                             HoldReason reason) {
  told_[{sender, target}] = reason;
}

bool NoticeBook::told(const std::string& sender, const std::string& target) const {
  return told_.count({sender, target}) != 0;
}

bool NoticeBook::tell(const std::string& sender, const std::string& target, HoldReason reason) {
  auto [it, inserted] = told_.try_emplace({sender, target}, reason);
  if (!inserted) {
    if (it->second == reason) return false;  // once per episode, again only if the reason changes
    it->second = reason;
  }
  // Not written: the held messages themselves carry the episode across a takeover (the
  // constructor's told_before()); only its end is (episode_ended()).
  return true;
}

void NoticeBook::episode_ended(const std::string& sender, const std::string& target) {
  const Pair pair{sender, target};
  told_.erase(pair);
  keep_told(pair);
}

void NoticeBook::expect_delivery(const std::string& sender, const std::string& target,
                                 const std::vector<std::int64_t>& ids) {
  const Pair pair{sender, target};
  if (!told_.count(pair)) return;  // never told of a hold: nothing to close
  delivering_[pair].insert(ids.begin(), ids.end());
  keep_delivering(pair);
}

void NoticeBook::undelivered(const std::string& sender, const std::string& target,
                             std::int64_t id) {
  const Pair pair{sender, target};
  auto it = delivering_.find(pair);
  if (it == delivering_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) delivering_.erase(it);
  keep_delivering(pair);
}

std::optional<std::size_t> NoticeBook::delivered(const std::string& sender,
                                                 const std::string& target) {
  const Pair pair{sender, target};
  auto it = delivering_.find(pair);
  if (it == delivering_.end()) return std::nullopt;
  const std::size_t n = it->second.size();
  delivering_.erase(it);
  keep_delivering(pair);
  return n;
}

void NoticeBook::give_up_delivery(const std::string& sender, const std::string& target) {
  const Pair pair{sender, target};
  delivering_.erase(pair);
  keep_delivering(pair);
}

bool NoticeBook::tell_reply(const std::string& to, const std::string& replier, Instant back) {
  auto& told = reply_told_[{to, replier}];
  if (told == back) return false;
  told = back;
  store_.remember({.kind = Kind::reply_notice, .a = to, .b = replier, .detail = {}, .number = 0,
                   .at = back});
  return true;
}

void NoticeBook::forget_expired(Instant now) {
  std::erase_if(reply_told_, [&](const auto& entry) {
    if (entry.second > now) return false;
    store_.forget(Kind::reply_notice, entry.first.first, entry.first.second);
    return true;
  });
}

void NoticeBook::keep_told(const Pair& pair) {
  if (auto it = told_.find(pair); it != told_.end()) {
    store_.remember({.kind = Kind::hold_notice, .a = pair.first, .b = pair.second, .detail = {},
                     .number = static_cast<std::int64_t>(it->second), .at = {}});
  } else {
    store_.forget(Kind::hold_notice, pair.first, pair.second);
  }
}

void NoticeBook::keep_delivering(const Pair& pair) {
  if (auto it = delivering_.find(pair); it != delivering_.end()) {
    store_.remember({.kind = Kind::delivering, .a = pair.first, .b = pair.second,
                     .detail = id_list(it->second), .number = 0, .at = {}});
  } else {
    store_.forget(Kind::delivering, pair.first, pair.second);
  }
}

}  // namespace concierge::core
