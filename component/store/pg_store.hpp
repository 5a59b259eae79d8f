// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <component/core/store_port.hpp>
#include <component/store/pg_handles.hpp>

namespace concierge::store {

// The core's Store on PostgreSQL (`[store] url`): one libpq connection, the schema of
// pg_schema.cpp migrated on open, every statement prepared once with $n parameters.
//
// The same guarantees as SqliteStore: the writes between two commits form one transaction,
// commit() ends it with one COMMIT (durable when the server's synchronous_commit is on; open()
// raises it from off/local to on for its session), and reads see the writes not yet committed.
// Writes are sent lazily, at the next read or commit(), in libpq pipelines of up to 256 (one
// round trip each, not one per write).
//
// Every write since the last successful commit is kept in memory, so no failure loses one. A
// failed statement aborts a PostgreSQL transaction, so on any failure the transaction is rolled
// back and the next commit() re-applies every pending write, in order, into a new one (the
// writes are upserts and deletes: applying one twice leaves the same rows). A write the server
// refuses for good (SQLSTATE class 22, data exception, or 23, constraint) is dropped and
// counted in dropped_writes(). A lost connection is re-established (PQreset) at the next
// commit(); if COMMIT itself lost the connection, whether it committed is unknown, and the
// re-applied writes make the outcome the same either way.
//
// Destroying the store does not commit (the server rolls back, as in a crash).
// Single-threaded, like the loop that owns it. Not copyable, not movable.
class PgStore final : public core::Store {
 public:
  // Connects to `url` (libpq's URI syntax) with `password` (empty: none, or the url's, or
  // ~/.pgpass) and migrates the schema. The store, or a sentence for the admin that never
  // contains the password.
  static std::variant<std::unique_ptr<PgStore>, std::string> open(const std::string& url,
                                                                  const std::string& password);

  // Why libpq cannot read `url` as a connection URI (a bad port, an unknown parameter), in
  // libpq's words; empty when it can. Connects to nothing: for --check-config.
  static std::string url_problem(const std::string& url);

  ~PgStore() override = default;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  // Row by row in libpq's single-row mode (pg::each_row), as holds(): loading a million users.
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
  std::vector<core::Hold> holds() override;
  void put_hold(const core::Hold& hold) override;
  void remove_hold(std::int64_t id) override;
  std::vector<core::Remembered> remembered() override;
  void remember(const core::Remembered& row) override;
  void forget(core::Remembered::Kind kind, const std::string& a, const std::string& b) override;
  bool commit() override;
  std::string commit_error() const override { return last_error_; }
  // The check is a `SELECT … FOR SHARE` of the lease row just before COMMIT: a takeover's
  // UPDATE of the row waits for the commit, or the commit sees the new epoch and rolls back.
  void set_lease_epoch(std::int64_t epoch) override;
  bool fenced() const override { return fenced_; }
  // Not an SQLite file: the admin's tool is pg_dump.
  bool backup_to(const std::string& path, std::string* error) override;

  // The server's message for the last failure of a read, write or commit; empty if none yet.
  const std::string& last_error() const { return last_error_; }
  std::size_t pending_writes() const { return pending_.size(); }
  std::uint64_t dropped_writes() const { return dropped_writes_; }

  // The connection, for tests and diagnostics. Beginning or ending a transaction on it breaks
  // commit()'s bookkeeping.
  pg_conn* native_handle() { return conn_.get(); }

 private:
  enum class Sql : std::uint8_t;
  struct Write {
    Sql sql;
    std::vector<std::string> params;
  };

  explicit PgStore(pg::Connection conn) : conn_(std::move(conn)) {}
  bool prepare_all(std::string* error);
  bool reconnect();
  pg::Result read(Sql sql, const std::vector<std::string>& params = {});
  // Like read(), row by row (pg::each_row): for the reads that can return a million rows.
  bool read_each(Sql sql, const std::function<void(const pg_result*)>& row);
  void write(Sql sql, std::vector<std::string> params);
  bool apply_pending();
  // Sends pending_[begin, end) in one pipeline; how many succeeded from begin (on a failure,
  // its SQLSTATE in *sqlstate and the server's words in last_error_).
  std::size_t run_pipelined(std::size_t begin, std::size_t end, std::string* sqlstate);
  bool in_transaction() const;
  void rollback();
  // The lease row still has lease_epoch_ (in the open transaction); sets fenced_ when not.
  bool lease_current();

  pg::Connection conn_;
  std::vector<Write> pending_;
  std::size_t applied_ = 0;  // how many of pending_, from the front, the open transaction holds
  std::uint64_t dropped_writes_ = 0;
  std::string last_error_;
  std::int64_t lease_epoch_ = 0;  // 0: no lease check
  bool fenced_ = false;
};

}  // namespace concierge::store
