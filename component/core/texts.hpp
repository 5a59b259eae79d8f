// SPDX-License-Identifier: MIT
#pragma once

// The answers a person reads from Concierge's user commands, kept in one place so that they are
// reviewed as a whole (issue 15): short, exact, times already in the reader's zone, no "(s)"
// plurals. Where the wording depends on how the person asked, `form` is true for an answer
// shown in an ad-hoc command's form (XEP-0050), which names fields and menu entries where a
// chat answer names the message to send. README's command table quotes these texts.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <component/core/settings.hpp>

namespace concierge::core::texts {

// "1 message", "2 messages".
std::string count(std::size_t n, std::string_view one, std::string_view many);
// "a", "a and b", "a, b and c".
std::string names(const std::vector<std::string>& items);

// --- enrolment ------------------------------------------------------------------------------
std::string not_enrolled(bool form);
std::string enrolled(bool again, const std::string& zone, const std::string& proxy, bool form);
std::string unenrolled();
// The ad-hoc unenrol form: what confirming does.
std::string unenrol_warning(std::size_t held);
std::string still_enrolled();

// --- addresses ------------------------------------------------------------------------------
// `given` is no user@domain; `suggestion` (may be empty) is what it would be on the asker's
// own domain.
std::string not_an_address(std::string_view given, const std::string& suggestion);
std::string give_an_address(std::string_view command, bool form);

// --- status, end, pause -------------------------------------------------------------------
std::string in_conversation(const std::vector<std::string>& peers);
std::string held_for_you(std::size_t n);
std::string ended_conversations(const std::vector<std::string>& peers);
std::string no_conversation();
std::string pause_how_long(bool form);
std::string paused_until(const std::string& until);
std::string pause_ended();
std::string not_paused();
// What is held for you: the closing line of the list.
std::string waiting_hint(bool form);

// --- when ------------------------------------------------------------------------------------
std::string does_not_use(const std::string& who);
std::string refuses_you(const std::string& who);
std::string shares_no_times(const std::string& who);
std::string free_now(const std::string& who);
std::string working_but_busy(const std::string& who);
std::string next_working(const std::string& who, const std::string& at);
std::string paused_then(const std::string& who, const std::string& until, const std::string& next);
std::string no_working_time(const std::string& who);

// --- privacy, subscribers, blocklist --------------------------------------------------------
std::string privacy_meaning(Settings::Privacy level);
std::string privacy_choices(bool form);
std::string privacy_set(Settings::Privacy level);
// `policy`: domain, served, nobody or a list of addresses.
std::string subscribers_meaning(const std::string& policy, const std::string& own_domain,
                                const std::set<std::string>& served);
std::string subscribers_choices(bool form);
std::string subscribers_set(const std::string& meaning, std::size_t removed);
std::string blocked(const std::string& who);
std::string already_blocked(const std::string& who);
std::string unblocked(const std::string& who);
std::string not_blocked(const std::string& who);

// --- schedule changes (one answer per change: issue 15 point 14) ---------------------------
// A calendar (URL or upload) is read in the background: this is the one answer; the outcome
// is told only when it differs from it (the calendar cannot be used, or warnings).
std::string reading_calendar(bool url);

// --- ad-hoc forms ---------------------------------------------------------------------------
std::string form_fill_in(const std::string& label);
std::string form_done();

}  // namespace concierge::core::texts
