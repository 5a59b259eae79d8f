// SPDX-License-Identifier: MIT
#pragma once
// The schedule the core's tests give their users: Mon-Fri 09:00-17:00 Europe/Berlin, compiled
// over a window around `around` (20 days), as app/ would hand it to the router.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include <component/core/time.hpp>
#include <ical/compile.hpp>

namespace concierge::core::testing {

inline std::shared_ptr<const ical::Schedule> office_hours(Instant around) {
  ical::CompileRequest r;
  r.zone = "Europe/Berlin";
  r.hours = "Mon-Fri 09:00-17:00";
  ical::set_window_around(
      r, std::chrono::duration_cast<std::chrono::seconds>(around.time_since_epoch()).count(), 20);
  auto s = ical::compile(r);
  EXPECT_TRUE(s.ok()) << s.error();
  return std::make_shared<const ical::Schedule>(s.value());
}

}  // namespace concierge::core::testing
