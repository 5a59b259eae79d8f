// SPDX-License-Identifier: MIT
#include <component/core/presence_book.hpp>

#include <algorithm>

namespace concierge::core {

void PresenceBook::available(const std::string& bare, ResourceState state) {
  auto& resources = users_[bare].resources;
  auto it = std::find_if(resources.begin(), resources.end(),
                         [&](const ResourceState& r) { return r.resource == state.resource; });
  if (it != resources.end()) {
    *it = std::move(state);
  } else {
    resources.push_back(std::move(state));
  }
}

void PresenceBook::unavailable(const std::string& bare, const std::string& resource,
                               Instant /*now*/) {
  auto& resources = users_[bare].resources;  // creates the entry: now known offline
  if (resource.empty()) {
    resources.clear();
  } else {
    std::erase_if(resources, [&](const ResourceState& r) { return r.resource == resource; });
  }
  resources.shrink_to_fit();
}

void PresenceBook::forget(const std::string& bare) { users_.erase(bare); }

Reachability PresenceBook::reachability(const std::string& bare) const {
  auto it = users_.find(bare);
  if (it == users_.end()) return Reachability::unknown;
  bool any = false;
  for (const auto& r : it->second.resources) {
    if (r.priority < 0) continue;  // RFC 6121 §8.5.2.1: bare-JID messages never reach it
    any = true;
    if (r.show != Show::dnd) return Reachability::available;
  }
  return any ? Reachability::dnd : Reachability::offline;
}

std::vector<ResourceState> PresenceBook::resources(const std::string& bare) const {
  auto it = users_.find(bare);
  if (it == users_.end()) return {};
  std::vector<ResourceState> out = it->second.resources;
  std::stable_sort(out.begin(), out.end(), [](const ResourceState& a, const ResourceState& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.updated > b.updated;
  });
  return out;
}

}  // namespace concierge::core
