// A changed llm-server.json: what can change live is applied, the rest is named for a restart,
// and a default model that fails to load leaves the running one.
#include "service/config_reload.h"

#include <gtest/gtest.h>

namespace tandem::llm {
namespace {

struct Applied {
  int limits = 0;
  std::string level;
  std::string model;
  bool fail_model = false;
  LiveSettings live() {
    LiveSettings s;
    s.limits = [this](const LlmServerConfig&) { ++limits; };
    s.log_level = [this](const std::string& l) { level = l; };
    s.default_model = [this](const LlmServerConfig& c) {
      if (fail_model) throw Error("cannot load " + c.model);
      model = c.model;
    };
    return s;
  }
};

TEST(ConfigReload, AppliesWhatCanChangeLiveAndNamesTheRest) {
  Applied a;
  LlmServerConfig running;
  LlmServerConfig now = running;
  now.keep_alive = KeepAlive(30);
  now.log_level = "debug";
  now.model = "C:\\models\\next.gguf";
  now.port = 9000;
  now.ctx_size = 4096;
  const auto restart = apply_config_change(running, now, a.live());
  EXPECT_EQ(restart, (std::vector<std::string>{"port", "ctx_size"}));
  EXPECT_EQ(a.limits, 1);
  EXPECT_EQ(a.level, "debug");
  EXPECT_EQ(a.model, "C:\\models\\next.gguf");
  EXPECT_EQ(running.keep_alive, KeepAlive(30));
  EXPECT_EQ(running.model, now.model);
  // The same file again changes nothing and names nothing again.
  EXPECT_TRUE(apply_config_change(running, now, a.live()).empty());
  EXPECT_EQ(a.limits, 1);
}

TEST(ConfigReload, ADefaultModelThatFailsLeavesTheRunningOne) {
  Applied a;
  a.fail_model = true;
  LlmServerConfig running;
  LlmServerConfig now = running;
  now.model = "/models/broken.gguf";
  EXPECT_THROW(apply_config_change(running, now, a.live()), Error);
  EXPECT_EQ(running.model, "");
}

}  // namespace
}  // namespace tandem::llm
