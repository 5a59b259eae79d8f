// SPDX-License-Identifier: MIT
#pragma once
// The core's storage port (Store) and the records it keeps; the core's classes own their
// state in memory and write through this, never around it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <component/core/time.hpp>

namespace concierge::core {

// A user who enrolled themselves (XEP-0077 or, later, the ad-hoc command). Users enrolled by
// the config are not stored as enrolments (the config is their record), but their
// subscription state is (see SubscriptionState).
struct Enrolment {
  std::string jid;           // bare, normalised
  std::string timezone;      // IANA name
  std::string calendar_url;  // https URL or empty; a secret: never logged in full
  Instant enrolled_at{};
};

// The XEP-0100 mutual presence subscription between a user and the component's bare domain,
// as Concierge has seen it. Remembered so that a user is asked once, not on every connect.
struct SubscriptionState {
  std::string jid;        // bare
  bool asked = false;     // we sent <presence type="subscribe"/> to the user
  bool to = false;        // the user approved: we receive their presence
  bool from = false;      // we approved theirs: they receive ours
};

// A subscription of `subscriber` to the proxy JID of `target` (DESIGN §2, proxy presence).
// Servers keep no roster for components, so Concierge keeps these itself.
struct ProxySubscription {
  std::string target;      // bare JID behind the proxy
  std::string subscriber;  // bare JID
};

// One setting a user chose for themselves (DESIGN §7): privacy, blocklist, … as text.
// Keys: "privacy" (exact|wait|none), "block:<bare jid>" (value "1"), "timezone", "hours",
// "calendar_kind" (work|personal), "calendar_url", "calendar_upload" (the .ics text),
// "always_through" (comma-separated bare JIDs), "urgent_from" (always_through|anyone),
// "subscribers" (served|nobody|comma-separated bare JIDs; absent: the user's own domain),
// "pending_url" / "pending_upload" (a new calendar not compiled yet).
struct UserSetting {
  std::string jid;  // bare
  std::string key;
  std::string value;
};

// Why a message is held (DESIGN §2). Stored as its numeric value.
enum class HoldReason : std::uint8_t { off_hours = 0, away = 1, busy = 2, offline = 3, queue = 4 };
// `held` waits for its target; `sent` went out and waits for the confirm window (DESIGN §6).
enum class HoldState : std::uint8_t { held = 0, sent = 1 };

// A message Concierge holds for its target. The core assigns `id` (unique, increasing: the
// arrival order). `stanza` is the message as it will be relayed (from the sender's proxy to the
// target), serialised; `stanza_id` its id attribute, for matching bounces.
struct Hold {
  std::int64_t id = 0;
  std::string sender;  // bare JID
  std::string target;  // bare JID of the target (a pool member once assigned; else the pool)
  std::string stanza;
  std::string stanza_id;
  Instant received{};  // when Concierge received it: the XEP-0203 stamp on release
  HoldReason reason = HoldReason::queue;
  HoldState state = HoldState::held;
  Instant sent_at{};  // when it was released (state sent)
};

// The core's short-lived bookkeeping that a takeover or a restart must not lose (DESIGN §10):
// pauses, hold episodes (who was told what), conversations and pool reservations. One row per
// (kind, a, b); what the other fields mean depends on the kind. Rows are written when the core
// changes them and removed when it forgets them; a row whose time has passed is ignored by the
// core when loaded (and removed by its next tick).
struct Remembered {
  enum class Kind : std::uint8_t {
    pause = 0,             // a = user; at = until
    hold_notice = 1,       // a = sender, b = target; number = the HoldReason told
    delivering = 2,        // a = sender, b = target; detail = released hold ids ("1,2"), told
                           // "delivered" once all are confirmed
    reply_notice = 3,      // a = sender, b = the target who replied; at = the "back" time told
    session = 4,           // a < b; at = last activity; number = SessionBook's flags
    recent_write = 5,      // a = writer, b = reader; at = written; detail = writer's full JID
    pool_reservation = 6,  // a = pool, b = sender; detail = member; at = last activity
    member_free = 7,       // a = pool member; at = when their last conversation ended
  };
  Kind kind = Kind::pause;
  std::string a;
  std::string b;
  std::string detail;
  std::int64_t number = 0;
  Instant at{};
};

// The storage port of the core. Implementations buffer writes and make them durable in
// commit(), which app/ calls once per loop turn (group commit, DESIGN §6); reads see every
// write made before them, committed or not.
class Store {
 public:
  virtual ~Store() = default;

  // Every enrolment (subscription state, user setting) handed to `row` as it is read (issue
  // 12: a million users at startup), so that no vector of them is built; in the same order
  // as the vectors below. False when the read failed; the rows handed over until then stay
  // handed over.
  virtual bool each_enrolment(const std::function<void(Enrolment&&)>& row) = 0;
  virtual bool each_subscription(const std::function<void(SubscriptionState&&)>& row) = 0;
  virtual bool each_setting(const std::function<void(UserSetting&&)>& row) = 0;
  // The same as vectors, for tests and tools: empty when the read failed (no partial list).
  std::vector<Enrolment> enrolments() { return collect<Enrolment>(&Store::each_enrolment); }
  std::vector<SubscriptionState> subscriptions() {
    return collect<SubscriptionState>(&Store::each_subscription);
  }
  std::vector<UserSetting> settings() { return collect<UserSetting>(&Store::each_setting); }

  virtual std::optional<Enrolment> enrolment(const std::string& jid) = 0;
  virtual void put_enrolment(const Enrolment& enrolment) = 0;  // insert or replace
  // Removes the enrolment, its subscription state and the proxy subscriptions to it.
  virtual void remove_enrolment(const std::string& jid) = 0;

  virtual void put_subscription(const SubscriptionState& state) = 0;
  virtual void remove_subscription(const std::string& jid) = 0;

  virtual std::vector<ProxySubscription> proxy_subscriptions() = 0;
  virtual void add_proxy_subscription(const ProxySubscription& s) = 0;
  virtual void remove_proxy_subscription(const ProxySubscription& s) = 0;

  // Users' own settings. put_setting inserts or replaces (jid, key); remove_enrolment removes
  // the user's settings too.
  virtual void put_setting(const UserSetting& setting) = 0;
  virtual void remove_setting(const std::string& jid, const std::string& key) = 0;

  // Held messages, in id order. put_hold inserts or replaces (by id).
  virtual std::vector<Hold> holds() = 0;
  virtual void put_hold(const Hold& hold) = 0;
  virtual void remove_hold(std::int64_t id) = 0;

  // The core's remembered bookkeeping, sorted by (kind, a, b). remember() inserts or replaces
  // by (kind, a, b); remove_enrolment leaves it alone (the core forgets its own rows).
  virtual std::vector<Remembered> remembered() = 0;
  virtual void remember(const Remembered& row) = 0;
  virtual void forget(Remembered::Kind kind, const std::string& a, const std::string& b) = 0;

  // An online copy of what is committed, to `path` (the admin's backup command). Stores
  // that cannot do it say so. Called from a thread of its own while the loop goes on using the
  // store: implementations read through connections of their own.
  virtual bool backup_to(const std::string& path, std::string* error) {
    if (error) *error = "this store cannot be backed up";
    (void)path;
    return false;
  }

  // Makes every write so far durable (one transaction, one fsync). Returns false and keeps
  // the writes pending when the disk refused; the caller logs and retries next turn.
  virtual bool commit() = 0;
  // Why the last commit failed, in the store's words, for the log; empty when unknown.
  virtual std::string commit_error() const { return {}; }

  // Active/standby (DESIGN §10). From now on every commit first checks, in its transaction, that
  // the store's lease is still at `epoch`, and fails if another instance took over (fenced()).
  // A new epoch drops the writes still pending from the previous one: they were never committed
  // and a stale holder must not apply them. 0: no check (one instance). Stores without a lease
  // (SQLite: one process owns the file) ignore it.
  virtual void set_lease_epoch(std::int64_t epoch) { (void)epoch; }
  // The last commit failed because the lease had moved on to another instance.
  virtual bool fenced() const { return false; }

 private:
  template <class Row>
  std::vector<Row> collect(bool (Store::*each)(const std::function<void(Row&&)>&)) {
    std::vector<Row> rows;
    if (!(this->*each)([&rows](Row&& r) { rows.push_back(std::move(r)); })) rows.clear();
    return rows;
  }
};

// An in-memory Store for tests of the core (and the benchmark's fake-store baseline).
class MemoryStore final : public Store {
 public:
  bool each_enrolment(const std::function<void(Enrolment&&)>& row) override;
  bool each_subscription(const std::function<void(SubscriptionState&&)>& row) override;
  bool each_setting(const std::function<void(UserSetting&&)>& row) override;
  std::optional<Enrolment> enrolment(const std::string& jid) override;
  void put_enrolment(const Enrolment& enrolment) override;
  void remove_enrolment(const std::string& jid) override;
  void put_subscription(const SubscriptionState& state) override;
  void remove_subscription(const std::string& jid) override;
  std::vector<ProxySubscription> proxy_subscriptions() override;
  void add_proxy_subscription(const ProxySubscription& s) override;
  void remove_proxy_subscription(const ProxySubscription& s) override;
  void put_setting(const UserSetting& setting) override;
  void remove_setting(const std::string& jid, const std::string& key) override;
  std::vector<Hold> holds() override;
  void put_hold(const Hold& hold) override;
  void remove_hold(std::int64_t id) override;
  std::vector<Remembered> remembered() override;
  void remember(const Remembered& row) override;
  void forget(Remembered::Kind kind, const std::string& a, const std::string& b) override;
  bool commit() override {
    ++commits;
    return true;
  }
  int commits = 0;

 private:
  std::vector<Enrolment> enrolments_;
  std::vector<SubscriptionState> subscriptions_;
  std::vector<ProxySubscription> proxy_subscriptions_;
  std::map<std::int64_t, Hold> holds_;
  std::vector<UserSetting> settings_;
  std::map<std::tuple<Remembered::Kind, std::string, std::string>, Remembered> remembered_;
};

}  // namespace concierge::core
