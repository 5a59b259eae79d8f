// SPDX-License-Identifier: MIT
// SqliteStore's statements: internal to the SQLite store's .cpp files.
#pragma once

#include <array>

namespace concierge::store::sqlite_sql {

// Indexed by SqliteStore::Sql. Parameters are ?1.. in the order the write methods pass them.
inline constexpr std::array<const char*, 21> kSql = {
    "SELECT jid, timezone, calendar_url, enrolled_at_ms FROM enrolments ORDER BY jid",
    "SELECT jid, timezone, calendar_url, enrolled_at_ms FROM enrolments WHERE jid = ?1",
    "INSERT INTO enrolments (jid, timezone, calendar_url, enrolled_at_ms) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (jid) DO UPDATE SET timezone = excluded.timezone,"
    " calendar_url = excluded.calendar_url, enrolled_at_ms = excluded.enrolled_at_ms",
    "DELETE FROM enrolments WHERE jid = ?1",
    "SELECT jid, asked, sub_to, sub_from FROM subscriptions ORDER BY jid",
    "INSERT INTO subscriptions (jid, asked, sub_to, sub_from) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (jid) DO UPDATE SET asked = excluded.asked, sub_to = excluded.sub_to,"
    " sub_from = excluded.sub_from",
    "DELETE FROM subscriptions WHERE jid = ?1",
    "SELECT target, subscriber FROM proxy_subscriptions ORDER BY target, subscriber",
    "INSERT INTO proxy_subscriptions (target, subscriber) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    "DELETE FROM proxy_subscriptions WHERE target = ?1 AND subscriber = ?2",
    "DELETE FROM proxy_subscriptions WHERE target = ?1",
    "SELECT id, sender, target, stanza, stanza_id, received_ms, reason, state, sent_at_ms"
    " FROM holds ORDER BY id",
    "INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state,"
    " sent_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    " ON CONFLICT (id) DO UPDATE SET sender = excluded.sender, target = excluded.target,"
    " stanza = excluded.stanza, stanza_id = excluded.stanza_id,"
    " received_ms = excluded.received_ms, reason = excluded.reason, state = excluded.state,"
    " sent_at_ms = excluded.sent_at_ms",
    "DELETE FROM holds WHERE id = ?1",
    "SELECT jid, key, value FROM user_settings ORDER BY jid, key",
    "INSERT INTO user_settings (jid, key, value) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (jid, key) DO UPDATE SET value = excluded.value",
    "DELETE FROM user_settings WHERE jid = ?1 AND key = ?2",
    "DELETE FROM user_settings WHERE jid = ?1",
    "SELECT kind, a, b, detail, number, at_ms FROM remembered ORDER BY kind, a, b",
    "INSERT INTO remembered (kind, a, b, detail, number, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (kind, a, b) DO UPDATE SET detail = excluded.detail,"
    " number = excluded.number, at_ms = excluded.at_ms",
    "DELETE FROM remembered WHERE kind = ?1 AND a = ?2 AND b = ?3",
};

}  // namespace concierge::store::sqlite_sql
