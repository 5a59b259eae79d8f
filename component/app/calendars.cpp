// SPDX-License-Identifier: MIT
#include <component/app/calendars.hpp>

#include <malloc.h>

#include <algorithm>
#include <cstdio>

#include <component/app/backoff.hpp>
#include <component/app/calendar_file.hpp>

namespace concierge::app {
namespace {

using std::chrono::milliseconds;

core::Instant wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

// The fetcher's limits from [schedule] (reloadable: SIGHUP applies them to the next fetch).
FetchLimits fetch_limits(const config::Schedule& schedule) {
  FetchLimits limits;
  limits.max_bytes = static_cast<std::size_t>(schedule.max_bytes);
  limits.allow_private = schedule.allow_private_urls;
  return limits;
}

}  // namespace

Calendars::Calendars(const config::Config& config, core::Router& router, Logger& log,
                     core::Outbox& outbox, std::function<void(core::Outbox&)> flush)
    : config_(config),
      router_(router),
      log_(log),
      outbox_(outbox),
      flush_(std::move(flush)),
      fetcher_(fetch_limits(config.schedule)) {}

void Calendars::start_worker() { worker_ = std::make_unique<CalendarWorker>(); }

void Calendars::reconfigure() { fetcher_.set_limits(fetch_limits(config_.schedule)); }

int Calendars::worker_fd() const { return compiling_.empty() || !worker_ ? -1 : worker_->fd(); }

std::size_t Calendars::failing_urls() const {
  std::size_t n = 0;
  for (const auto& [jid, calendar] : calendars_) n += calendar.failures > 0;
  return n;
}

void Calendars::turn(Clock::time_point now, Queue queue) {
  collect_schedule(now);
  if (queue == Queue::all_now) {
    queue_all(true);
  } else if (queue == Queue::daily && now >= next_recompile_ && compile_queue_.empty()) {
    queue_all(false);
  }
  fetch_due(now);
}

std::optional<Calendars::Clock::time_point> Calendars::next_due(Clock::time_point now) const {
  if (!compiling_.empty() && worker_) return worker_->deadline();
  if (!compile_queue_.empty()) return std::max(now, next_compile_try_);
  return std::nullopt;
}

void Calendars::queue_compile(const std::string& jid) {
  if (queued_.insert(jid).second) compile_queue_.push_back(jid);
}

void Calendars::start_fetch(const std::string& jid, CalendarState& state, const std::string& url,
                          bool conditional) {
  state.fetching = url;
  state.next_fetch = Clock::time_point::max();  // set again when the result is in
  fetcher_.fetch(jid, url, conditional ? std::optional<Validators>(state.validators) : std::nullopt);
}

void Calendars::update(const std::string& jid, bool refetch) {
  const auto source = router_.directory().schedule_source(jid);
  if (!source || (source->url.empty() && !source->pending)) {
    // No URL of record (any more): nothing to fetch or keep.
    calendars_.erase(jid);
    fetcher_.cancel(jid);
  }
  if (!source) return;
  if (source->url.empty()) {
    queue_compile(jid);  // hours, a file, an upload (a URL still of record keeps its state)
    return;
  }
  CalendarState& state = calendars_[jid];
  const bool good = state.url == source->url && !state.text.empty();       // compiled before
  const bool fresh = state.fresh_url == source->url && !state.fresh.empty();  // fetched, not yet
  if (good || fresh) queue_compile(jid);  // a setting may have changed: the cached body with it
  // A calendar the user just gave is fetched whole (it must compile to be accepted) unless its
  // body is already here; one in force is asked again only when due or on `refetch`.
  if (source->pending ? !fresh : (refetch || !good)) start_fetch(jid, state, source->url, good);
}

void Calendars::fetch_due(Clock::time_point now) {
  if (now < next_fetch_scan_) return;
  next_fetch_scan_ = now + std::chrono::seconds(1);
  std::vector<std::string> due;
  for (const auto& [jid, state] : calendars_) {
    if (now >= state.next_fetch) due.push_back(jid);
  }
  for (const auto& jid : due) {
    const auto source = router_.directory().schedule_source(jid);
    auto state = calendars_.find(jid);
    if (!source || source->url.empty() || source->pending || state->second.url != source->url ||
        state->second.text.empty()) {
      update(jid, false);  // the source changed meanwhile
    } else {
      start_fetch(jid, state->second, source->url, !state->second.text.empty());
    }
  }
}

void Calendars::collect_fetches(Clock::time_point now) {
  for (auto& result : fetcher_.take_done()) {
    const std::string& jid = result.key;
    auto it = calendars_.find(jid);
    if (it == calendars_.end() || it->second.fetching != result.url) continue;  // stale
    CalendarState& state = it->second;
    const std::string url = std::exchange(state.fetching, std::string());
    RefetchInput plan{.outcome = RefetchInput::Outcome::fresh,
                      .hint = state.hint,
                      .retry_after = std::nullopt,
                      .failures = 0,
                      .refresh = std::chrono::duration_cast<std::chrono::seconds>(config_.schedule.refresh)};
    if (auto* ok = std::get_if<FetchOk>(&result.outcome)) {
      // Kept apart from the body in force until it compiles (a bad new URL keeps the old one).
      state.fresh_url = url;
      state.fresh = std::move(ok->body);
      state.fresh_validators = ok->validators;
      state.hint = ok->refresh_hint;
      plan.hint = state.hint;
      state.failures = 0;
      queue_compile(jid);
    } else if (std::holds_alternative<FetchNotModified>(result.outcome)) {
      plan.outcome = RefetchInput::Outcome::not_modified;
      state.failures = 0;
      log_.debug("schedule of " + jid + ": calendar not modified");
    } else {
      const auto& error = std::get<FetchError>(result.outcome);
      plan.outcome = error.retryable ? RefetchInput::Outcome::failed_for_now
                                     : RefetchInput::Outcome::failed;
      plan.retry_after = error.retry_after;
      plan.failures = ++state.failures;
      log_.warn("schedule of " + jid + ": " + error.message +
                "; the previous schedule stays in force");
      // The user hears of it (a new calendar: always; the one in force: once per problem).
      auto source = router_.directory().schedule_source(jid);
      if (source && source->url == url) {
        router_.schedule_failed(jid, *source, "it could not be fetched: " + error.message,
                                wall_now(), outbox_);
        flush_(outbox_);
      }
    }
    const auto delay = refetch_delay(plan, std::uniform_real_distribution<double>(0, 1)(random_));
    state.next_fetch = now + delay;
    log_.debug("schedule of " + jid + ": next fetch in " + std::to_string(delay.count()) + " s");
  }
}

void Calendars::queue_all(bool refetch) {
  std::vector<std::string> users = router_.directory().schedule_users();
  std::sort(users.begin(), users.end());
  for (auto it = calendars_.begin(); it != calendars_.end();) {
    if (!std::binary_search(users.begin(), users.end(), it->first)) {
      fetcher_.cancel(it->first);
      it = calendars_.erase(it);
    } else {
      ++it;
    }
  }
  // Compiles each from what is at hand (the window rolls daily); `refetch` also asks every URL
  // again now.
  for (const auto& jid : users) update(jid, refetch);
  next_recompile_ = Clock::now() + std::chrono::hours(24);
}

void Calendars::compile_next() {
  // Schedules shared with users compiled before are applied here, many per turn but for at
  // most a few milliseconds, so the loop keeps serving the stream; a compile ends the turn.
  // What the router answered to the shared ones goes out once, after the turn's batch.
  const auto until = Clock::now() + milliseconds(5);
  bool any = false;
  while (compiling_.empty() && !compile_queue_.empty()) {
    const auto now = Clock::now();
    if (now < next_compile_try_ || now >= until) break;
    compile_one();
    any = true;
  }
  if (any) flush_(outbox_);
  finish_compile_batch();
}

void Calendars::finish_compile_batch() {
  if (!compiling_.empty() || !compile_queue_.empty() || !batch_.started) return;
  const double took =
      std::chrono::duration<double>(Clock::now() - *batch_.started).count();
  if (batch_.users == 1) {
    log_.info(applied_line());  // a single user's change: named as before
  } else if (batch_.users > 1) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", took);
    log_.info("compiled schedules of " + std::to_string(batch_.users) + " users (" +
              std::to_string(batch_.distinct) + " distinct) in " + seconds + " s");
  }
  // A large batch's queue and lookups are freed now: give their pages back to the system.
  if (batch_.users >= 10000) malloc_trim(0);
  batch_ = {};
}

void Calendars::compile_one() {
  if (!batch_.started) batch_.started = Clock::now();
  const std::string jid = compile_queue_.front();
  compile_queue_.pop_front();
  queued_.erase(jid);
  const auto source = router_.directory().schedule_source(jid);
  if (!source) return;  // unenrolled meanwhile
  ical::CompileRequest request;
  request.zone = source->zone;
  request.hours = source->hours;
  request.kind = source->personal ? ical::CalendarKind::personal : ical::CalendarKind::work;
  request.limits.max_bytes = static_cast<std::size_t>(config_.schedule.max_bytes);
  if (config_.schedule.unknown == config::UnknownSchedule::working) {
    request.unknown_fill = ical::Status::working;
  }
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const int days = static_cast<int>(config_.schedule.window / std::chrono::hours(24));
  auto fail = [&](const std::string& why, const std::string& for_user = {}) {
    log_.error("schedule of " + jid + ": " + why + "; the previous schedule stays in force");
    router_.schedule_failed(jid, *source, for_user.empty() ? why : for_user, wall_now(), outbox_);
    flush_(outbox_);
  };
  if (!source->upload.empty()) {
    request.calendar = source->upload;  // its size is checked by the compile (limits.max_bytes)
  } else if (!source->url.empty()) {
    auto state = calendars_.find(jid);
    if (state == calendars_.end()) return;  // not fetched (yet): its result brings it back here
    const CalendarState& c = state->second;
    if (c.fresh_url == source->url && !c.fresh.empty()) {
      request.calendar = c.fresh;
    } else if (c.url == source->url && !c.text.empty()) {
      request.calendar = c.text;
    } else {
      return;
    }
    compiling_calendar_ = request.calendar;
  } else if (!source->path.empty()) {
    // A file path: admins only (DESIGN §11). The path is the admin's business: the user hears
    // only that the file is the problem.
    std::string error;
    if (!read_calendar_file(source->path, request.limits.max_bytes, request.calendar, error)) {
      return fail(error, "the calendar file your admin set cannot be read, or is too large");
    }
  } else if (request.hours.empty()) {
    // Nothing to compile: no schedule (schedule.unknown applies).
    router_.schedule_compiled(jid, *source, nullptr, wall_now(), outbox_);
    flush_(outbox_);
    return;
  }
  schedule_cache_.set_window(request, now_s, days);
  if (auto shared = schedule_cache_.find(request)) {
    // The same zone, hours and kind as a user compiled before: the same schedule object.
    applied(jid, *source, std::move(shared), false);
    return;
  }
  if (worker_->start(request)) {
    compiling_ = jid;
    compiling_source_ = *source;
    compiling_request_ = std::move(request);
  } else {
    // The worker could not be started (fork or pipe failed): try again in a second.
    compiling_calendar_.clear();
    log_.error("schedule of " + jid + ": the calendar worker could not be started; retrying");
    queue_compile(jid);
    next_compile_try_ = Clock::now() + std::chrono::seconds(1);
  }
}

void Calendars::collect_schedule(Clock::time_point now) {
  if (compiling_.empty()) return;
  auto outcome = worker_->collect(now);
  if (!outcome) return;
  const std::string jid = std::exchange(compiling_, std::string());
  const core::ScheduleSource source = std::move(compiling_source_);
  if (!outcome->ok()) {
    log_.error("schedule of " + jid + " is unusable: " + outcome->error() +
               "; the previous schedule stays in force");
    const std::string compiled = std::move(compiling_calendar_);
    compiling_calendar_.clear();
    if (auto state = calendars_.find(jid);
        state != calendars_.end() && !compiled.empty() && state->second.fresh == compiled) {
      state->second.fresh.clear();  // bad: the next fetch brings it again (or a fixed one)
      state->second.fresh_url.clear();
    }
    compiling_request_ = {};
    router_.schedule_failed(jid, source, outcome->error(), wall_now(), outbox_);
    flush_(outbox_);
    finish_compile_batch();
    return;
  }
  const std::string compiled = std::move(compiling_calendar_);
  compiling_calendar_.clear();
  if (auto state = calendars_.find(jid);
      state != calendars_.end() && state->second.fresh_url == source.url && !compiled.empty() &&
      state->second.fresh == compiled) {
    CalendarState& c = state->second;  // the new body is good: it is the one in force now
    c.url = std::exchange(c.fresh_url, std::string());
    c.text = std::exchange(c.fresh, std::string());
    c.validators = c.fresh_validators;
  }
  for (const auto& w : outcome->value().warnings()) log_.warn("schedule of " + jid + ": " + w);
  const ical::CompileRequest request = std::exchange(compiling_request_, {});
  applied(jid, source, schedule_cache_.add(request, std::move(*outcome).value()), true);
  flush_(outbox_);
  finish_compile_batch();
}

void Calendars::applied(const std::string& jid, const core::ScheduleSource& source,
                      std::shared_ptr<const ical::Schedule> schedule, bool compiled) {
  ++batch_.users;
  if (compiled) ++batch_.distinct;
  batch_.last_jid = jid;  // the line is written only when it is logged
  batch_.last_changes = schedule->interval_count();
  if (log_.enabled(LogLevel::debug)) log_.debug(applied_line());
  if (keep_applied_) kept_[jid] = {source, schedule};  // for a takeover
  router_.schedule_compiled(jid, source, std::move(schedule), wall_now(), outbox_);
  // Not flushed here: compile_next() and collect_schedule() flush once after it.
}

std::string Calendars::applied_line() const {
  return "schedule of " + batch_.last_jid + " compiled: " +
         std::to_string(batch_.last_changes) + " changes in the window";
}

std::shared_ptr<const ical::Schedule> Calendars::kept(const std::string& jid,
                                                      const core::ScheduleSource& source) const {
  auto it = kept_.find(jid);
  return it != kept_.end() && it->second.source == source ? it->second.schedule : nullptr;
}


}  // namespace concierge::app
