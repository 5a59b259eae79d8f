// SPDX-License-Identifier: MIT
#pragma once
// What the SQLite store's tests share: a temporary directory, raw SQLite access beside the
// store, stores opened or refused, sample enrolments and holds, and the StoreTest fixture (one
// type for every file of the suite, hence not in an anonymous namespace). Test-only.
#include <component/store/schema.hpp>
#include <component/store/sqlite_store.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

// For EXPECT_EQ, found by argument-dependent lookup; internal to the store tests.
namespace concierge::core {
inline bool operator==(const SubscriptionState& a, const SubscriptionState& b) {
  return a.jid == b.jid && a.asked == b.asked && a.to == b.to && a.from == b.from;
}
inline bool operator==(const ProxySubscription& a, const ProxySubscription& b) {
  return a.target == b.target && a.subscriber == b.subscriber;
}
inline bool operator==(const Hold& a, const Hold& b) {
  return a.id == b.id && a.sender == b.sender && a.target == b.target && a.stanza == b.stanza &&
         a.stanza_id == b.stanza_id && a.received == b.received && a.reason == b.reason &&
         a.state == b.state && a.sent_at == b.sent_at;
}
// Printed by gtest when an expectation on holds fails.
inline void PrintTo(const Hold& h, std::ostream* os) {
  *os << "Hold{" << h.id << ", " << h.sender << " -> " << h.target << ", stanza_id " << h.stanza_id
      << ", received " << h.received.time_since_epoch().count() << ", reason "
      << static_cast<int>(h.reason) << ", state " << static_cast<int>(h.state) << ", sent_at "
      << h.sent_at.time_since_epoch().count() << ", " << h.stanza.size() << " bytes}";
}
}  // namespace concierge::core

namespace concierge::store::store_test {

namespace fs = std::filesystem;
using core::Enrolment;
using core::Hold;
using core::HoldReason;
using core::HoldState;
using core::Instant;
using core::ProxySubscription;
using core::SubscriptionState;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::array<char, 64> name{};
    std::string("/tmp/concierge-store-XXXXXX").copy(name.data(), name.size() - 1);
    if (mkdtemp(name.data()) != nullptr) path_ = name.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A plain SQLite connection for preparing and inspecting files behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value = "<error>";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(stmt, 0);
      value = t == nullptr ? "" : reinterpret_cast<const char*>(t);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

using StorePtr = std::unique_ptr<SqliteStore>;

inline StorePtr open_ok(const std::string& path, SqliteStore::Options options = {}) {
  auto opened = SqliteStore::open(path, options);
  if (const auto* error = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << "open failed: " << *error;
    return nullptr;
  }
  return std::move(std::get<StorePtr>(opened));
}

inline std::string open_error(const std::string& path) {
  auto opened = SqliteStore::open(path);
  if (const auto* error = std::get_if<std::string>(&opened)) return *error;
  ADD_FAILURE() << "open of " << path << " succeeded";
  return {};
}

inline Enrolment alice() {
  return {.jid = "alice@example.org",
          .timezone = "Europe/Berlin",
          .calendar_url = "https://cal.example.org/alice.ics?token=secret",
          .enrolled_at = Instant{core::Duration{1'780'000'000'123}}};
}

inline Enrolment bob() {
  return {.jid = "bob@example.org",
          .timezone = "America/New_York",
          .calendar_url = "",
          .enrolled_at = Instant{core::Duration{1'780'000'999'000}}};
}

// A message as the core would hold it: alice's words to bob, relayed from alice's proxy.
inline Hold hold(std::int64_t id, HoldReason reason = HoldReason::queue) {
  const std::string stanza_id = "m" + std::to_string(id);
  return {.id = id,
          .sender = "alice@example.org",
          .target = "bob@example.org",
          .stanza =
              "<message xmlns=\"jabber:component:accept\""
              " from=\"alice\\40example.org@concierge.example.org\""
              " to=\"bob@example.org\" type=\"chat\" id=\"" +
              stanza_id + "\"><body>Grüße &amp; \"quotes\" \u2014 " + std::to_string(id) +
              "</body><origin-id xmlns=\"urn:xmpp:sid:0\" id=\"o" + stanza_id + "\"/></message>",
          .stanza_id = stanza_id,
          .received = Instant{core::Duration{1'780'000'000'000 + id}},
          .reason = reason,
          .state = HoldState::held,
          .sent_at = Instant{}};
}

inline void expect_same(const Enrolment& a, const Enrolment& b) {
  EXPECT_EQ(a.jid, b.jid);
  EXPECT_EQ(a.timezone, b.timezone);
  EXPECT_EQ(a.calendar_url, b.calendar_url);
  EXPECT_EQ(a.enrolled_at, b.enrolled_at);
}

class StoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("concierge.db");
};

}  // namespace concierge::store::store_test
