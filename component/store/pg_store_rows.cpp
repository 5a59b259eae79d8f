// SPDX-License-Identifier: MIT
// PgStore's reads and writes: rows <-> the core's values.
#include <component/store/pg_store.hpp>

#include <cstdlib>
#include <string>
#include <utility>

#include <component/store/pg_statements.hpp>

#include <libpq-fe.h>

namespace concierge::store {
namespace {

std::string ms(core::Instant instant) {
  return std::to_string(instant.time_since_epoch().count());
}

std::string flag(bool value) {
  return value ? "true" : "false";
}

std::int64_t int_at(const PGresult* result, int row, int column) {
  return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
}

std::string text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}

bool flag_at(const PGresult* result, int row, int column) {
  return PQgetvalue(result, row, column)[0] == 't';
}

core::Instant instant_at(const PGresult* result, int row, int column) {
  return core::Instant{core::Duration{int_at(result, row, column)}};
}

}  // namespace

// The reads that can return a million rows go row by row (read_each): never the whole result
// at once beside what is built from it.
bool PgStore::each_enrolment(const std::function<void(core::Enrolment&&)>& row) {
  return read_each(Sql::kSelectEnrolments, [&row](const PGresult* r) {
    row({.jid = text_at(r, 0, 0),
         .timezone = text_at(r, 0, 1),
         .calendar_url = text_at(r, 0, 2),
         .enrolled_at = instant_at(r, 0, 3)});
  });
}

std::optional<core::Enrolment> PgStore::enrolment(const std::string& jid) {
  const pg::Result r = read(Sql::kSelectEnrolment, {jid});
  if (!r || PQntuples(r.get()) == 0) return std::nullopt;
  return core::Enrolment{.jid = text_at(r.get(), 0, 0),
                         .timezone = text_at(r.get(), 0, 1),
                         .calendar_url = text_at(r.get(), 0, 2),
                         .enrolled_at = instant_at(r.get(), 0, 3)};
}

bool PgStore::each_subscription(const std::function<void(core::SubscriptionState&&)>& row) {
  return read_each(Sql::kSelectSubscriptions, [&row](const PGresult* r) {
    row({.jid = text_at(r, 0, 0),
         .asked = flag_at(r, 0, 1),
         .to = flag_at(r, 0, 2),
         .from = flag_at(r, 0, 3)});
  });
}

std::vector<core::ProxySubscription> PgStore::proxy_subscriptions() {
  std::vector<core::ProxySubscription> rows;
  const pg::Result r = read(Sql::kSelectProxySubscriptions);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.target = text_at(r.get(), i, 0), .subscriber = text_at(r.get(), i, 1)});
  }
  return rows;
}

std::vector<core::Hold> PgStore::holds() {
  // A million holds are a million rows: read one at a time, never the whole result at once.
  std::vector<core::Hold> rows;
  const bool read = read_each(Sql::kSelectHolds, [&rows](const PGresult* r) {
    rows.push_back({
        .id = int_at(r, 0, 0),
        .sender = text_at(r, 0, 1),
        .target = text_at(r, 0, 2),
        .stanza = text_at(r, 0, 3),
        .stanza_id = text_at(r, 0, 4),
        .received = instant_at(r, 0, 5),
        .reason = static_cast<core::HoldReason>(int_at(r, 0, 6)),
        .state = static_cast<core::HoldState>(int_at(r, 0, 7)),
        .sent_at = instant_at(r, 0, 8),
    });
  });
  if (!read) rows.clear();  // as when the query fails at once: no partial list
  return rows;
}

bool PgStore::each_setting(const std::function<void(core::UserSetting&&)>& row) {
  return read_each(Sql::kSelectSettings, [&row](const PGresult* r) {
    row({.jid = text_at(r, 0, 0), .key = text_at(r, 0, 1), .value = text_at(r, 0, 2)});
  });
}

void PgStore::put_hold(const core::Hold& hold) {
  write(Sql::kUpsertHold,
        {std::to_string(hold.id), hold.sender, hold.target, hold.stanza, hold.stanza_id,
         ms(hold.received), std::to_string(static_cast<int>(hold.reason)),
         std::to_string(static_cast<int>(hold.state)), ms(hold.sent_at)});
}

void PgStore::remove_hold(std::int64_t id) {
  write(Sql::kDeleteHold, {std::to_string(id)});
}

std::vector<core::Remembered> PgStore::remembered() {
  std::vector<core::Remembered> rows;
  const pg::Result r = read(Sql::kSelectRemembered);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.kind = static_cast<core::Remembered::Kind>(int_at(r.get(), i, 0)),
                    .a = text_at(r.get(), i, 1),
                    .b = text_at(r.get(), i, 2),
                    .detail = text_at(r.get(), i, 3),
                    .number = int_at(r.get(), i, 4),
                    .at = instant_at(r.get(), i, 5)});
  }
  return rows;
}

void PgStore::remember(const core::Remembered& row) {
  write(Sql::kUpsertRemembered, {std::to_string(static_cast<int>(row.kind)), row.a, row.b,
                                 row.detail, std::to_string(row.number), ms(row.at)});
}

void PgStore::forget(core::Remembered::Kind kind, const std::string& a, const std::string& b) {
  write(Sql::kDeleteRemembered, {std::to_string(static_cast<int>(kind)), a, b});
}

void PgStore::put_setting(const core::UserSetting& setting) {
  write(Sql::kUpsertSetting, {setting.jid, setting.key, setting.value});
}

void PgStore::remove_setting(const std::string& jid, const std::string& key) {
  write(Sql::kDeleteSetting, {jid, key});
}

void PgStore::put_enrolment(const core::Enrolment& enrolment) {
  write(Sql::kUpsertEnrolment,
        {enrolment.jid, enrolment.timezone, enrolment.calendar_url, ms(enrolment.enrolled_at)});
}

void PgStore::remove_enrolment(const std::string& jid) {
  write(Sql::kDeleteEnrolment, {jid});
  write(Sql::kDeleteSettingsOf, {jid});
  write(Sql::kDeleteSubscription, {jid});
  write(Sql::kDeleteProxySubscriptionsTo, {jid});
}

void PgStore::put_subscription(const core::SubscriptionState& state) {
  write(Sql::kUpsertSubscription, {state.jid, flag(state.asked), flag(state.to), flag(state.from)});
}

void PgStore::remove_subscription(const std::string& jid) {
  write(Sql::kDeleteSubscription, {jid});
}

void PgStore::add_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kInsertProxySubscription, {s.target, s.subscriber});
}

void PgStore::remove_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kDeleteProxySubscription, {s.target, s.subscriber});
}

}  // namespace concierge::store
