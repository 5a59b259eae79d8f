// SPDX-License-Identifier: MIT
// The Service reloading its config on SIGHUP or an admin's "reload": new users are enrolled, and a
// config --check-config refuses leaves the old one in force.
#include <tests/integration/service_fixture.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace concierge::app::service_test {
namespace {

TEST_F(ServiceTest, SighupReloadsEnrolledUsers) {
  char dir_template[] = "/tmp/concierge-reload-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/concierge.toml";
  auto write_config = [&](bool with_carol) {
    std::ofstream f(path);
    f << "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " << server.port()
      << "\n[served]\ndomains = [\"localhost\"]\n"
      << "[users.\"alice@localhost\"]\ntimezone = \"Europe/Berlin\"\n"
      << (with_carol ? "[users.\"carol@localhost\"]\ntimezone = \"Europe/Berlin\"\n" : "");
  };
  write_config(false);
  auto parsed = config::parse_file(path);
  ASSERT_TRUE(std::holds_alternative<config::Config>(parsed));
  RunningService service(std::get<config::Config>(parsed), fast_loop_timings(), path);
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(
      R"(<message from="alice@localhost/a" to="carol\40localhost@sched.localhost" type="chat" id="c1"><body>x</body></message>)");
  auto refused = next_message();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->attr("type"), "error");

  write_config(true);
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  bool relayed = false;
  for (int i = 0; i < 50 && !relayed; ++i) {  // the reload is asynchronous: retry, bounded
    relayed = relays_alice_to("carol\\40localhost@sched.localhost", "c" + std::to_string(i + 2));
  }
  EXPECT_TRUE(relayed);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("reloaded"), std::string::npos);
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

TEST_F(ServiceTest, AReloadRefusesWhatCheckConfigRefusesAndKeepsTheOldConfig) {
  char dir_template[] = "/tmp/concierge-reload-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/concierge.toml";
  auto write_config = [&](const std::string& carol_hours) {
    std::ofstream f(path);
    f << "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " << server.port()
      << "\n[served]\ndomains = [\"localhost\"]\n[admin]\njids = [\"alice@localhost\"]\n"
      << "[users.\"alice@localhost\"]\ntimezone = \"Europe/Berlin\"\n"
      << (carol_hours.empty()
              ? ""
              : "[users.\"carol@localhost\"]\ntimezone = \"Europe/Berlin\"\nhours = \"" +
                    carol_hours + "\"\n");
  };
  write_config("");
  auto parsed = config::parse_file(path);
  ASSERT_TRUE(std::holds_alternative<config::Config>(parsed));
  RunningService service(std::get<config::Config>(parsed), fast_loop_timings(), path);
  ASSERT_TRUE(server.wait_connected(5s));
  // Parses as TOML, but the hours cannot be read: --check-config refuses it, so must a reload.
  write_config("Mox-Fri 09:00-17:00");
  server.send(
      R"(<message from="alice@localhost/a" to="sched.localhost" type="chat"><body>reload</body></message>)");
  std::optional<xmpp::Element> answer;
  for (int i = 0; i < 3 && !(answer && !answer->child_text("body")->starts_with("Reloading"));
       ++i) {
    answer = next_message();
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(
      answer->child_text("body"),
      "Reload failed (1 problem(s), see the log): the previous configuration stays in force.");
  server.send(
      R"(<message from="alice@localhost/a" to="carol\40localhost@sched.localhost" type="chat" id="c1"><body>x</body></message>)");
  auto refused = next_message();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->attr("type"), "error") << "carol is not enrolled: the old config stays";
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("hours"), std::string::npos) << "the log names the key";
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace concierge::app::service_test
