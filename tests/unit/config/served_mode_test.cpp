// SPDX-License-Identifier: MIT
// [served] mode and remote (DESIGN §10, §12): the ways messages reach Concierge.
#include <tests/unit/config/config_test_support.hpp>

namespace concierge::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace config_test;

TEST(ServedMode, DefaultsToProxyWithoutRemoteSenders) {
  const Config c = parsed(kMinimal);
  EXPECT_EQ(c.served.mode, ServedMode::proxy);
  EXPECT_FALSE(c.served.remote);
}

TEST(ServedMode, TakesEachMode) {
  for (const auto& [name, mode] : {std::pair{"proxy", ServedMode::proxy},
                                   std::pair{"transparent", ServedMode::transparent},
                                   std::pair{"both", ServedMode::both}}) {
    const Config c = parsed(std::string(kMinimal) + "mode = \"" + name + "\"\n");
    EXPECT_EQ(c.served.mode, mode) << name;
  }
}

TEST(ServedMode, RemoteWithTransparentDelivery) {
  const Config c =
      parsed(std::string(kMinimal) + "mode = \"transparent\"\nremote = true\n");
  EXPECT_EQ(c.served.mode, ServedMode::transparent);
  EXPECT_TRUE(c.served.remote);
}

TEST(ServedMode, AnUnknownModeNamesTheKeyAndTheChoices) {
  EXPECT_THAT(errors_of(std::string(kMinimal) + "mode = \"Transparent\"\n"),
              ElementsAre(at(7) + "served.mode: must be \"proxy\", \"transparent\" or \"both\", "
                                  "got \"Transparent\""));
}

TEST(ServedMode, RemoteNeedsTransparentDelivery) {
  EXPECT_THAT(errors_of(std::string(kMinimal) + "remote = true\n"),
              ElementsAre(at(7) + "served.remote: applies only with mode = \"transparent\" or "
                                  "\"both\""));
  EXPECT_THAT(errors_of(std::string(kMinimal) + "mode = \"both\"\nremote = \"yes\"\n"),
              ElementsAre(HasSubstr("served.remote:")));
}

TEST(ServedMode, PrintedConfigShowsBothKeysAndParsesBack) {
  const Config c = parsed(std::string(kMinimal) + "mode = \"both\"\nremote = true\n");
  const std::string printed = to_toml(c);
  EXPECT_THAT(printed, HasSubstr("mode = \"both\"\nremote = true\n"));
  const Config again = parsed(printed);
  EXPECT_EQ(again.served.mode, ServedMode::both);
  EXPECT_TRUE(again.served.remote);
}

}  // namespace
}  // namespace concierge::config
