// SPDX-License-Identifier: MIT
// The whole loop (Service) against the fake XEP-0114 server while the store refuses commits:
// what a sender sees, what the log says, and that holding resumes by itself. The store here
// fails on request (no root needed); tests/unit/store and tests/e2e fill a real tmpfs.
#include <component/app/service.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include <tests/support/fake_server.hpp>
#include <tests/support/running_service.hpp>
#include <tests/integration/service_fixture.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;

constexpr std::string_view kStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

// A MemoryStore whose commits fail while `full` is set, as SQLite's do on a full disk.
class SwitchableStore final : public core::Store {
 public:
  std::atomic<bool> full{false};

  bool each_enrolment(const std::function<void(core::Enrolment&&)>& row) override {
    return s_.each_enrolment(row);
  }
  bool each_subscription(const std::function<void(core::SubscriptionState&&)>& row) override {
    return s_.each_subscription(row);
  }
  bool each_setting(const std::function<void(core::UserSetting&&)>& row) override {
    return s_.each_setting(row);
  }
  std::optional<core::Enrolment> enrolment(const std::string& jid) override {
    return s_.enrolment(jid);
  }
  void put_enrolment(const core::Enrolment& e) override {
    s_.put_enrolment(e);
    dirty_ = true;
  }
  void remove_enrolment(const std::string& jid) override {
    s_.remove_enrolment(jid);
    dirty_ = true;
  }
  void put_subscription(const core::SubscriptionState& s) override {
    s_.put_subscription(s);
    dirty_ = true;
  }
  void remove_subscription(const std::string& jid) override {
    s_.remove_subscription(jid);
    dirty_ = true;
  }
  std::vector<core::ProxySubscription> proxy_subscriptions() override {
    return s_.proxy_subscriptions();
  }
  void add_proxy_subscription(const core::ProxySubscription& s) override {
    s_.add_proxy_subscription(s);
    dirty_ = true;
  }
  void remove_proxy_subscription(const core::ProxySubscription& s) override {
    s_.remove_proxy_subscription(s);
    dirty_ = true;
  }
  void put_setting(const core::UserSetting& s) override {
    s_.put_setting(s);
    dirty_ = true;
  }
  void remove_setting(const std::string& jid, const std::string& key) override {
    s_.remove_setting(jid, key);
    dirty_ = true;
  }
  std::vector<core::Hold> holds() override { return s_.holds(); }
  void put_hold(const core::Hold& h) override {
    s_.put_hold(h);
    dirty_ = true;
  }
  void remove_hold(std::int64_t id) override {
    s_.remove_hold(id);
    dirty_ = true;
  }
  std::vector<core::Remembered> remembered() override { return s_.remembered(); }
  void remember(const core::Remembered& r) override {
    s_.remember(r);
    dirty_ = true;
  }
  void forget(core::Remembered::Kind k, const std::string& a, const std::string& b) override {
    s_.forget(k, a, b);
    dirty_ = true;
  }
  // As SQLite on a full disk: a transaction with writes fails, an empty one succeeds; what
  // failed stays pending until a commit succeeds.
  bool commit() override {
    if (full.load() && dirty_) return false;
    dirty_ = false;
    return true;
  }
  std::string commit_error() const override { return "database or disk is full"; }

 private:
  core::MemoryStore s_;
  bool dirty_ = false;  // written since the last successful commit (the loop's thread only)
};

using service_test::make_config;  // alice and bob enrolled, the fake server's port

class StoreFaultServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Service::block_signals(); }
  void SetUp() override {
    service_.emplace(make_config(server.port()), testing::fast_loop_timings(), "unused.toml",
                     &store);
  }
  void TearDown() override { service_.reset(); }  // stops it, if the test did not
  std::string stop_and_log() {
    EXPECT_EQ(service_->stop(), 0);
    return service_->log();
  }
  // The next message the component sends, within 3 s.
  std::optional<xmpp::Element> next_message() {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = server.next_stanza(100ms);
      if (s && s->name == "message") return s;
    }
    return std::nullopt;
  }
  void command(const std::string& who, const std::string& text) {
    server.send("<message from=\"" + who + "/r\" to=\"sched.localhost\" type=\"chat\"><body>" +
                text + "</body></message>");
  }
  void alice_to_bob(const std::string& id) {
    server.send(R"(<message from="alice@localhost/r" to="bob\40localhost@sched.localhost" )"
                R"(type="chat" id=")" +
                id + R"("><body>hello</body></message>)");
  }

  FakeServer server{"sched.localhost", "s3cr3t"};
  SwitchableStore store;

 private:
  std::optional<testing::RunningService> service_;  // after the store it uses
};

TEST_F(StoreFaultServiceTest, ASenderGetsAnErrorNotANoticeWhileTheStoreFailsAndHoldsResumeAfter) {
  ASSERT_TRUE(server.wait_connected(5s));
  command("bob@localhost", "pause 1h");
  auto paused = next_message();
  ASSERT_TRUE(paused);
  ASSERT_TRUE(paused->child_text("body").value_or("").starts_with("Paused until"));
  // The pause's own commit ends the turn that answered it: one more answer (a command that
  // writes nothing) comes from a later turn, so the disk fills with nothing pending.
  command("bob@localhost", "status");
  ASSERT_TRUE(next_message());

  store.full = true;
  alice_to_bob("m1");
  auto refused = next_message();
  ASSERT_TRUE(refused) << "the sender heard nothing";
  EXPECT_EQ(refused->attr("type"), "error") << refused->to_xml();
  EXPECT_EQ(refused->attr("id"), "m1");
  EXPECT_EQ(refused->attr("to"), "alice@localhost/r");
  ASSERT_NE(refused->child("error"), nullptr) << refused->to_xml();
  EXPECT_EQ(refused->child("error")->attr("type"), "wait");
  EXPECT_NE(refused->child("error")->child("resource-constraint", kStanzas), nullptr);
  // The next message the sender gets is the answer to "held": no held notice came before it.
  command("alice@localhost", "held");
  auto held = next_message();
  ASSERT_TRUE(held);
  EXPECT_EQ(held->child_text("body"), "Nothing you sent is held.") << held->to_xml();

  // Space returns: within a second the loop commits again, and messages are held again.
  store.full = false;
  std::optional<xmpp::Element> notice;
  for (int i = 0; i < 30 && !notice; ++i) {  // bounded: 30 tries, 3 s each at most
    alice_to_bob("m2-" + std::to_string(i));
    auto answer = next_message();
    ASSERT_TRUE(answer);
    if (answer->attr("type") != "error") notice = answer;
    if (!notice) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(notice) << "holding never resumed";
  EXPECT_TRUE(
      notice->child_text("body").value_or("").starts_with("Concierge: bob@localhost is busy until"))
      << notice->to_xml();

  const std::string log = stop_and_log();
  EXPECT_NE(log.find("error the store refused a commit (database or disk is full); messages "
                     "that would be held are refused to their senders"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("warn the store did not commit 1 message to hold; refused to its sender"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("info the store commits again: messages are held again"), std::string::npos)
      << log;
}

}  // namespace
}  // namespace concierge::app
