// SPDX-License-Identifier: MIT
// Router: the verbs another way in needs beside handle() (transparent delivery, DESIGN §10):
// dropping a hold its sender's server took back (a divert that failed open).
#include <component/core/router.hpp>

namespace concierge::core {

bool Router::drop_hold(std::int64_t id) {
  const Hold* h = holds_.find(id);
  if (!h || h->state != HoldState::held || holds_.in_flight(id)) return false;
  erase_hold(id);
  wake_dirty_ = true;
  return true;
}

}  // namespace concierge::core
