// SPDX-License-Identifier: MIT
// The admin's backup runs off the Service's loop and answers when it is done.
#include <tests/integration/service_fixture.hpp>

#include <future>

namespace concierge::app::service_test {
namespace {

// A store whose backup takes as long as the test says (a large store, in effect).
class SlowBackupStore final : public core::Store {
 public:
  std::promise<void> finish;
  bool each_enrolment(const std::function<void(core::Enrolment&&)>& row) override {
    return memory.each_enrolment(row);
  }
  bool each_subscription(const std::function<void(core::SubscriptionState&&)>& row) override {
    return memory.each_subscription(row);
  }
  bool each_setting(const std::function<void(core::UserSetting&&)>& row) override {
    return memory.each_setting(row);
  }
  std::optional<core::Enrolment> enrolment(const std::string& j) override {
    return memory.enrolment(j);
  }
  void put_enrolment(const core::Enrolment& e) override { memory.put_enrolment(e); }
  void remove_enrolment(const std::string& j) override { memory.remove_enrolment(j); }
  void put_subscription(const core::SubscriptionState& s) override { memory.put_subscription(s); }
  void remove_subscription(const std::string& j) override { memory.remove_subscription(j); }
  std::vector<core::ProxySubscription> proxy_subscriptions() override {
    return memory.proxy_subscriptions();
  }
  void add_proxy_subscription(const core::ProxySubscription& s) override {
    memory.add_proxy_subscription(s);
  }
  void remove_proxy_subscription(const core::ProxySubscription& s) override {
    memory.remove_proxy_subscription(s);
  }
  void put_setting(const core::UserSetting& s) override { memory.put_setting(s); }
  void remove_setting(const std::string& j, const std::string& k) override {
    memory.remove_setting(j, k);
  }
  std::vector<core::Hold> holds() override { return memory.holds(); }
  void put_hold(const core::Hold& h) override { memory.put_hold(h); }
  void remove_hold(std::int64_t id) override { memory.remove_hold(id); }
  std::vector<core::Remembered> remembered() override { return memory.remembered(); }
  void remember(const core::Remembered& r) override { memory.remember(r); }
  void forget(core::Remembered::Kind k, const std::string& a, const std::string& b) override {
    memory.forget(k, a, b);
  }
  bool commit() override { return memory.commit(); }
  bool backup_to(const std::string& path, std::string*) override {
    finished_.wait_for(std::chrono::seconds(10));  // until the test says the copy is done (bounded)
    backed_up_to = path;
    return true;
  }
  std::string backed_up_to;

 private:
  core::MemoryStore memory;
  std::shared_future<void> finished_ = finish.get_future().share();
};

TEST_F(ServiceTest, TheAdminsBackupRunsOffTheLoopAndAnswersWhenDone) {
  auto config = make_config(server.port());
  config.admin.jids = {"alice@localhost"};
  SlowBackupStore store;
  RunningService service(std::move(config), fast_loop_timings(), "unused.toml", &store);
  ASSERT_TRUE(server.wait_connected(5s));
  auto admin_says = [&](const std::string& text) {
    server.send(R"(<message from="alice@localhost/a" to="sched.localhost" type="chat"><body>)" +
                text + "</body></message>");
  };
  admin_says("backup");
  auto started = next_message();
  ASSERT_TRUE(started);
  EXPECT_EQ(started->child_text("body"), "Backing up the store…");
  // While the copy runs, the loop relays and answers.
  EXPECT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "during-backup"));
  admin_says("backup");
  std::optional<xmpp::Element> busy;
  for (int i = 0; i < 3 && !(busy && busy->child_text("body")->starts_with("A backup")); ++i) {
    busy = next_message();
  }
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->child_text("body"),
            "A backup is already running; you will hear when it is done.");
  store.finish.set_value();
  auto done = next_message();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->attr("to"), "alice@localhost/a");
  EXPECT_EQ(done->child_text("body"), "Backed up the store to " + store.backed_up_to + ".");
  EXPECT_NE(store.backed_up_to.find(".backup-"), std::string::npos);
  EXPECT_EQ(service.stop(), 0);
}

}  // namespace
}  // namespace concierge::app::service_test
