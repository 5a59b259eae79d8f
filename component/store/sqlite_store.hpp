// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <component/core/store_port.hpp>
#include <component/store/sqlite_clean_mark.hpp>
#include <component/store/sqlite_handles.hpp>

namespace concierge::store {

// The core's Store on one SQLite file (DESIGN §6): WAL, synchronous=FULL, foreign_keys=ON, a
// Concierge application_id in the header and a versioned schema migrated on open.
//
// Group commit: the first write after a commit begins a transaction (BEGIN IMMEDIATE); later
// writes join it; commit() ends it with one COMMIT, i.e. one fsync of the WAL. Reads run on the
// same connection and so see the uncommitted writes.
//
// Every write since the last successful commit is also kept in memory (pending_writes()), so
// that no failure loses one:
//  - a write SQLite refuses (the file is locked by another process past busy_timeout, the disk
//    is full, an I/O error) stays pending; later writes only queue up behind it, and each
//    commit() re-applies what the open transaction lacks before COMMIT;
//  - when COMMIT fails and SQLite keeps the transaction open, the next commit() retries it;
//    when SQLite rolled the transaction back (I/O error, disk full), commit() re-applies the
//    pending writes at once into a new transaction, so reads keep seeing them, and the next
//    commit() commits them.
//  Until that succeeds, reads may not show writes SQLite refused. A write SQLite would refuse
//  every time (a constraint, a value over SQLite's size limit) is dropped rather than retried
//  forever, and counted in dropped_writes() (commit() still returns true when all the others
//  are durable: a retry could not help). Pending writes stay in memory for as long as the disk
//  refuses them; the caller's log of false commits is the alarm.
//
// Destroying the store does NOT commit: writes not yet committed are rolled back, exactly as
// in a crash. Call commit() first on an orderly shutdown.
//
// Single-threaded, like the loop that owns it. Not copyable, not movable.
class SqliteStore final : public core::Store {
 public:
  struct Options {
    // How long a write or a commit waits for a lock held by another connection (a backup
    // tool, an admin's sqlite3 shell) before it fails and is retried at the next commit().
    // The loop stalls for at most this long per attempt.
    std::chrono::milliseconds busy_timeout{1000};
  };

  // Opens (or creates) the store at `path` and migrates it to latest_schema_version(). The
  // directory must exist. Returns the store, or a sentence for the admin naming the path and
  // the cause: missing directory, not writable, not a database, another application's
  // database, a newer schema than this build knows, a damaged file (SQLite's quick_check
  // fails: nothing is written to it, and the text names the recovery), or SQLite's own
  // message. The quick_check, which reads every page, is skipped for a file whose bytes are
  // still those its last store left at a clean close (SqliteCleanMark): after a crash, or
  // when anything else changed the file, it runs.
  static std::variant<std::unique_ptr<SqliteStore>, std::string> open(const std::string& path);
  static std::variant<std::unique_ptr<SqliteStore>, std::string> open(const std::string& path,
                                                                      const Options& options);

  ~SqliteStore() override = default;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Rows come back sorted by JID (proxy subscriptions by target, then subscriber).
  // Row by row, in the same order (one statement step at a time): loading a million users.
  bool each_enrolment(const std::function<void(core::Enrolment&&)>& row) override;
  bool each_subscription(const std::function<void(core::SubscriptionState&&)>& row) override;
  bool each_setting(const std::function<void(core::UserSetting&&)>& row) override;
  std::optional<core::Enrolment> enrolment(const std::string& jid) override;
  void put_enrolment(const core::Enrolment& enrolment) override;
  void remove_enrolment(const std::string& jid) override;
  void put_setting(const core::UserSetting& setting) override;
  void remove_setting(const std::string& jid, const std::string& key) override;
  void put_subscription(const core::SubscriptionState& state) override;
  void remove_subscription(const std::string& jid) override;
  std::vector<core::ProxySubscription> proxy_subscriptions() override;
  void add_proxy_subscription(const core::ProxySubscription& s) override;
  void remove_proxy_subscription(const core::ProxySubscription& s) override;
  // Holds come back in id order; a reason or state this build does not name is returned as
  // its number cast to the enum (the table does not restrict them, see schema.cpp).
  std::vector<core::Hold> holds() override;
  void put_hold(const core::Hold& hold) override;
  void remove_hold(std::int64_t id) override;
  // Rows come back sorted by (kind, a, b) (sqlite_remembered.cpp).
  std::vector<core::Remembered> remembered() override;
  void remember(const core::Remembered& row) override;
  void forget(core::Remembered::Kind kind, const std::string& a, const std::string& b) override;
  bool commit() override;
  std::string commit_error() const override { return last_error_; }

  // Copies the committed state of the store into a new SQLite file at `path` (replacing one
  // there) with SQLite's online backup, through a separate read-only connection: the open
  // transaction of this store is neither included nor disturbed. Blocks until the copy is
  // complete. On failure, false and a sentence in *error (when error is not null).
  bool backup_to(const std::string& path, std::string* error) override;

  // What open() noticed that an admin should read (a zero-byte file made into a new store).
  const std::vector<std::string>& warnings() const { return warnings_; }
  // SQLite's message for the last failure of a read, write or commit; empty if none yet.
  const std::string& last_error() const { return last_error_; }
  // Writes made since the last successful commit().
  std::size_t pending_writes() const { return pending_.size(); }
  // Writes dropped because SQLite refused them for good (see the class comment).
  std::uint64_t dropped_writes() const { return dropped_writes_; }

  static int latest_schema_version();

  // The connection, for tests that inject failures and for diagnostics. Beginning or ending a
  // transaction on it breaks commit()'s bookkeeping.
  sqlite3* native_handle() { return db_.get(); }

 private:
  // One statement per operation, prepared once in open().
  enum class Sql : std::uint8_t {
    kSelectEnrolments,
    kSelectEnrolment,
    kUpsertEnrolment,
    kDeleteEnrolment,
    kSelectSubscriptions,
    kUpsertSubscription,
    kDeleteSubscription,
    kSelectProxySubscriptions,
    kInsertProxySubscription,
    kDeleteProxySubscription,
    kDeleteProxySubscriptionsTo,
    kSelectHolds,
    kUpsertHold,
    kDeleteHold,
    kSelectSettings,
    kUpsertSetting,
    kDeleteSetting,
    kDeleteSettingsOf,
    kSelectRemembered,
    kUpsertRemembered,
    kDeleteRemembered,
    kCount,
  };
  // One execution of a write statement, kept until it is committed.
  struct Write {
    Sql sql;
    std::vector<Value> values;
  };

  SqliteStore(Connection db, std::string path);
  bool prepare_all(std::string* error);
  Statement& statement(Sql sql) { return statements_[static_cast<std::size_t>(sql)]; }
  void write(Sql sql, std::vector<Value> values);
  int run(const Write& write);  // SQLITE_OK or SQLite's extended error code
  bool apply_pending();
  bool in_transaction() const;
  // The end of a read: false (and last_error_ set) when it failed.
  bool done(Statement::Step step);

  // Declared before db_: the mark is written after the connection closed.
  SqliteCleanMark clean_mark_;
  Connection db_;
  std::string path_;
  // Declared after db_: statements are finalized before the connection closes.
  std::array<Statement, static_cast<std::size_t>(Sql::kCount)> statements_;
  std::vector<Write> pending_;
  // How many of pending_, from the front, the open transaction holds.
  std::size_t applied_ = 0;
  std::uint64_t dropped_writes_ = 0;
  std::string last_error_;
  std::vector<std::string> warnings_;
};

}  // namespace concierge::store
