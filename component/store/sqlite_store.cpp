// SPDX-License-Identifier: MIT
#include <component/store/sqlite_store.hpp>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include <component/store/schema.hpp>
#include <component/store/sqlite_statements.hpp>

#include <sqlite3.h>

namespace concierge::store {
namespace {

namespace fs = std::filesystem;

// Failures that retrying cannot cure: the write is wrong, not the disk or a lock.
bool refused_for_good(int code) {
  switch (code & 0xFF) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return true;
    default:
      return false;
  }
}

std::string open_failure(sqlite3* db) {
  std::string text = message_of(db);
  if (const int error_number = sqlite3_system_errno(db); error_number != 0) {
    text += " (" + std::generic_category().message(error_number) + ")";
  }
  return text;
}

// SQLite's quick_check over every page (a read, no write): empty when the file is sound, else
// what it found, or the error that stopped it (a schema too damaged to read).
std::string damage_in(sqlite3* db) {
  Statement check;
  std::string error;
  if (!check.prepare(db, "PRAGMA quick_check(3)", &error)) return error;
  Statement::Use use(check);
  std::string found;
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    const std::string text = use.column_text(0);
    if (text == "ok") return {};
    // One finding may span lines, the first naming the database: one line for the log.
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      if (!line.empty() && !line.starts_with("*** in database")) {
        found += (found.empty() ? "" : "; ") + line;
      }
      start = end + 1;
    }
  }
  if (step == Statement::Step::kError) return message_of(db);
  return found.empty() ? std::string("no answer") : found;
}

std::string damaged_text(const std::string& path, const std::string& found) {
  return "the file is damaged (SQLite's quick_check: " + found +
         "); Concierge does not start on it and has not written to it. Restore the latest copy "
         "made by the admin's \"backup\" command (" + path + ".backup-…), or recover what is "
         "still readable into a new file, sqlite3 " + path + " .recover | sqlite3 NEW.db (README, "
         "\"A damaged store\", for a sqlite3 without .recover), and set store.path to it";
}

std::int64_t to_ms(core::Instant instant) {
  return instant.time_since_epoch().count();
}

}  // namespace

std::variant<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(const std::string& path) {
  return open(path, Options{});
}

std::variant<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(const std::string& path,
                                                                          const Options& options) {
  const std::string prefix = "cannot open the store " + path + ": ";
  if (path.empty()) return std::string("cannot open the store: the path is empty");
  if (const std::string obstacle = obstacle_at(path); !obstacle.empty()) return prefix + obstacle;

  std::vector<std::string> warnings;
  std::error_code size_error;
  if (fs::is_regular_file(path, size_error) && fs::file_size(path, size_error) == 0 &&
      !size_error) {
    warnings.push_back("the store " + path +
                       " was an empty file (zero bytes): it is now a new, empty store");
  }
  int rc = SQLITE_OK;
  Connection db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &rc);
  if (rc != SQLITE_OK) return prefix + open_failure(db.get());
  // SQLite silently falls back to read-only when the file is not writable.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return prefix + "the file is not writable by this user";
  }
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));

  // Identify the file before writing anything to it (switching to WAL writes the header).
  std::string error;
  // Before anything is written: a damaged file is refused, and closing it must not checkpoint
  // a WAL into it either.
  auto refuse_damaged = [&](const std::string& found) {
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    return prefix + damaged_text(path, found);
  };
  if (!schema::check(db.get(), schema::migrations().size(), &error)) {
    // A schema too damaged to read: the same recovery.
    if ((sqlite3_errcode(db.get()) & 0xFF) == SQLITE_CORRUPT) {
      return refuse_damaged(message_of(db.get()));
    }
    return prefix + error;
  }
  // Checked when it was opened last and closed cleanly since, unchanged: no second check.
  if (!SqliteCleanMark::take(path)) {
    if (const std::string found = damage_in(db.get()); !found.empty()) {
      return refuse_damaged(found);
    }
  }
  {
    Statement journal;
    if (!journal.prepare(db.get(), "PRAGMA journal_mode = WAL", &error)) return prefix + error;
    Statement::Use use(journal);
    if (use.step() != Statement::Step::kRow) return prefix + open_failure(db.get());
    if (const std::string mode = use.column_text(0); mode != "wal") {
      return prefix + "cannot switch to WAL journal mode (SQLite stays in \"" + mode +
             "\" mode; is the file on a network file system?)";
    }
  }
  if (!execute(db.get(), "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", &error)) {
    return prefix + error;
  }
  if (!schema::migrate(db.get(), schema::migrations(), &error)) return prefix + error;

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), path));
  if (!store->prepare_all(&error)) return prefix + error;
  store->warnings_ = std::move(warnings);
  store->clean_mark_.arm(path);
  return store;
}

SqliteStore::SqliteStore(Connection db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

int SqliteStore::latest_schema_version() {
  return schema::latest_version();
}

bool SqliteStore::prepare_all(std::string* error) {
  static_assert(sqlite_sql::kSql.size() == static_cast<std::size_t>(Sql::kCount));
  for (std::size_t i = 0; i < sqlite_sql::kSql.size(); ++i) {
    if (!statements_[i].prepare(db_.get(), sqlite_sql::kSql[i], error)) return false;
  }
  return true;
}

bool SqliteStore::in_transaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

int SqliteStore::run(const Write& write) {
  Statement::Use use(statement(write.sql));
  for (std::size_t i = 0; i < write.values.size(); ++i) {
    use.bind(static_cast<int>(i) + 1, write.values[i]);
  }
  if (use.run()) return SQLITE_OK;
  last_error_ = message_of(db_.get());
  return sqlite3_extended_errcode(db_.get());
}

bool SqliteStore::apply_pending() {
  for (;;) {
    if (!in_transaction()) {
      applied_ = 0;
      if (pending_.empty()) return true;
      if (!execute(db_.get(), "BEGIN IMMEDIATE", &last_error_)) return false;
    }
    if (applied_ == pending_.size()) return true;
    const int code = run(pending_[applied_]);
    if (code == SQLITE_OK) {
      ++applied_;
    } else if (refused_for_good(code)) {
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(applied_));
      ++dropped_writes_;
    } else {
      if (!in_transaction()) applied_ = 0;
      return false;
    }
  }
}

void SqliteStore::write(Sql sql, std::vector<Value> values) {
  // While earlier writes wait for a retry, a new one only queues behind them: trying each
  // would stall the loop busy_timeout per write, and applying it first would reorder writes.
  const bool in_sync = applied_ == pending_.size();
  pending_.push_back(Write{sql, std::move(values)});
  if (in_sync) apply_pending();
}

bool SqliteStore::commit() {
  if (pending_.empty() && !in_transaction()) return true;
  if (!apply_pending()) return false;
  if (!in_transaction()) return true;  // every pending write was dropped
  if (execute(db_.get(), "COMMIT", &last_error_)) {
    pending_.clear();
    applied_ = 0;
    return true;
  }
  if (!in_transaction()) {
    // SQLite rolled the transaction back: re-apply now, so that reads still see the writes.
    const std::string commit_error = last_error_;
    apply_pending();
    last_error_ = commit_error;
  }
  return false;
}

namespace {

core::Enrolment enrolment_from(const Statement::Use& row) {
  return core::Enrolment{
      .jid = row.column_text(0),
      .timezone = row.column_text(1),
      .calendar_url = row.column_text(2),
      .enrolled_at = core::Instant{core::Duration{row.column_int(3)}},
  };
}

}  // namespace

// A read that fails midway (an I/O error) returns the rows read so far and sets last_error().
bool SqliteStore::done(Statement::Step step) {
  if (step != Statement::Step::kError) return true;
  last_error_ = message_of(db_.get());
  return false;
}

bool SqliteStore::each_enrolment(const std::function<void(core::Enrolment&&)>& row) {
  Statement::Use use(statement(Sql::kSelectEnrolments));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) row(enrolment_from(use));
  return done(step);
}

std::optional<core::Enrolment> SqliteStore::enrolment(const std::string& jid) {
  const Value key = jid;
  Statement::Use use(statement(Sql::kSelectEnrolment));
  use.bind(1, key);
  const Statement::Step step = use.step();
  if (step == Statement::Step::kRow) return enrolment_from(use);
  if (step == Statement::Step::kError) last_error_ = message_of(db_.get());
  return std::nullopt;
}

bool SqliteStore::each_subscription(const std::function<void(core::SubscriptionState&&)>& row) {
  Statement::Use use(statement(Sql::kSelectSubscriptions));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    row(core::SubscriptionState{.jid = use.column_text(0),
                                .asked = use.column_int(1) != 0,
                                .to = use.column_int(2) != 0,
                                .from = use.column_int(3) != 0});
  }
  return done(step);
}

std::vector<core::ProxySubscription> SqliteStore::proxy_subscriptions() {
  std::vector<core::ProxySubscription> rows;
  Statement::Use use(statement(Sql::kSelectProxySubscriptions));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    rows.push_back(
        core::ProxySubscription{.target = use.column_text(0), .subscriber = use.column_text(1)});
  }
  if (step == Statement::Step::kError) last_error_ = message_of(db_.get());
  return rows;
}

std::vector<core::Hold> SqliteStore::holds() {
  std::vector<core::Hold> rows;
  Statement::Use use(statement(Sql::kSelectHolds));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    rows.push_back(core::Hold{
        .id = use.column_int(0),
        .sender = use.column_text(1),
        .target = use.column_text(2),
        .stanza = use.column_text(3),
        .stanza_id = use.column_text(4),
        .received = core::Instant{core::Duration{use.column_int(5)}},
        .reason = static_cast<core::HoldReason>(use.column_int(6)),
        .state = static_cast<core::HoldState>(use.column_int(7)),
        .sent_at = core::Instant{core::Duration{use.column_int(8)}},
    });
  }
  if (step == Statement::Step::kError) last_error_ = message_of(db_.get());
  return rows;
}

void SqliteStore::put_hold(const core::Hold& hold) {
  write(Sql::kUpsertHold,
        {hold.id, hold.sender, hold.target, hold.stanza, hold.stanza_id, to_ms(hold.received),
         std::int64_t{static_cast<std::uint8_t>(hold.reason)},
         std::int64_t{static_cast<std::uint8_t>(hold.state)}, to_ms(hold.sent_at)});
}

void SqliteStore::remove_hold(std::int64_t id) {
  write(Sql::kDeleteHold, {id});
}

bool SqliteStore::each_setting(const std::function<void(core::UserSetting&&)>& row) {
  Statement::Use use(statement(Sql::kSelectSettings));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    row(core::UserSetting{
        .jid = use.column_text(0), .key = use.column_text(1), .value = use.column_text(2)});
  }
  return done(step);
}

void SqliteStore::put_setting(const core::UserSetting& setting) {
  write(Sql::kUpsertSetting, {setting.jid, setting.key, setting.value});
}

void SqliteStore::remove_setting(const std::string& jid, const std::string& key) {
  write(Sql::kDeleteSetting, {jid, key});
}

void SqliteStore::put_enrolment(const core::Enrolment& enrolment) {
  write(Sql::kUpsertEnrolment,
        {enrolment.jid, enrolment.timezone, enrolment.calendar_url, to_ms(enrolment.enrolled_at)});
}

void SqliteStore::remove_enrolment(const std::string& jid) {
  write(Sql::kDeleteEnrolment, {jid});
  write(Sql::kDeleteSettingsOf, {jid});
  write(Sql::kDeleteSubscription, {jid});
  write(Sql::kDeleteProxySubscriptionsTo, {jid});
}

void SqliteStore::put_subscription(const core::SubscriptionState& state) {
  write(Sql::kUpsertSubscription,
        {state.jid, std::int64_t{state.asked}, std::int64_t{state.to}, std::int64_t{state.from}});
}

void SqliteStore::remove_subscription(const std::string& jid) {
  write(Sql::kDeleteSubscription, {jid});
}

void SqliteStore::add_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kInsertProxySubscription, {s.target, s.subscriber});
}

void SqliteStore::remove_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kDeleteProxySubscription, {s.target, s.subscriber});
}

}  // namespace concierge::store
