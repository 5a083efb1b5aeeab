#include <gtest/gtest.h>

#include <string>

#include "common/config.h"
#include "ctl/cli.h"
#include "ctl/service_definitions.h"

namespace tandem::ctl {
namespace {

TEST(ServiceDefinitions, TrainerComesAfterTheServerItDependsOn) {
  const auto& services = tandem_services();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name, "TandemLlm");
  EXPECT_EQ(services[0].display_name, "Tandem LLM Server");
  EXPECT_TRUE(services[0].dependencies.empty());
  EXPECT_EQ(services[1].name, "TandemTrainer");
  EXPECT_EQ(services[1].display_name, "Tandem Trainer");
  EXPECT_EQ(services[1].dependencies, std::vector<std::string>{"TandemLlm"});
}

TEST(ServiceDefinitions, ScLinesQuoteThePathAndCarryEverySetting) {
  auto lines = sc_install_lines("C:\\Program Files\\Tandem", true);
  ASSERT_GE(lines.size(), 12u);
  EXPECT_EQ(
      lines[0],
      "sc create TandemLlm binPath= \"\\\"C:\\Program Files\\Tandem\\tandem-llm.exe\\\"\" "
      "start= delayed-auto DisplayName= \"Tandem LLM Server\" obj= \"NT SERVICE\\TandemLlm\"");
  EXPECT_EQ(lines[2],
            "sc failure TandemLlm reset= 86400 actions= restart/1000/restart/5000/restart/30000");
  EXPECT_EQ(lines[3], "sc failureflag TandemLlm 1");
  EXPECT_EQ(lines[4], "sc sidtype TandemLlm unrestricted");
  EXPECT_NE(lines[5].find("depend= TandemLlm"), std::string::npos) << lines[5];
  EXPECT_EQ(lines[10], "\"C:\\Program Files\\Tandem\\tandemctl.exe\" configure-services");
  EXPECT_EQ(lines.back(), "sc start TandemTrainer");
  auto system = sc_install_lines("C:\\Tandem", false);
  EXPECT_NE(system[0].find("obj= LocalSystem"), std::string::npos) << system[0];
}

TEST(ServiceDefinitions, UninstallStopsTheDependentFirst) {
  auto lines = sc_uninstall_lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "sc stop TandemTrainer");
  EXPECT_EQ(lines[1], "sc stop TandemLlm");
  EXPECT_EQ(lines[3], "sc delete TandemLlm");
}

TEST(ServiceDefinitions, AccountChoices) {
  EXPECT_EQ(parse_account("auto"), AccountChoice::automatic);
  EXPECT_EQ(parse_account("virtual"), AccountChoice::virtual_account);
  EXPECT_EQ(parse_account("localsystem"), AccountChoice::local_system);
  try {
    parse_account("admin");
    FAIL() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unknown account 'admin': use auto, virtual or localsystem");
  }
  EXPECT_EQ(account_name(tandem_services()[1], true), "NT SERVICE\\TandemTrainer");
  EXPECT_EQ(account_name(tandem_services()[1], false), "LocalSystem");
}

TEST(ServiceDefinitions, OnlyTheOwningServicesWriteTheirFolders) {
  for (const auto& folder : data_folders()) {
    const std::string sddl = data_folder_sddl(folder, "S-1-5-80-1", "S-1-5-80-2");
    EXPECT_TRUE(sddl.starts_with("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)")) << sddl;
    const bool llm_writes = folder.name == "logs";
    const bool trainer_writes =
        folder.name == "logs" || folder.name == "jobs" || folder.name == "models";
    EXPECT_NE(
        sddl.find(std::string("(A;OICI;") + (llm_writes ? "FRFWFXSD" : "FRFX") + ";;;S-1-5-80-1)"),
        std::string::npos)
        << folder.name << ": " << sddl;
    EXPECT_NE(sddl.find(std::string("(A;OICI;") + (trainer_writes ? "FRFWFXSD" : "FRFX") +
                        ";;;S-1-5-80-2)"),
              std::string::npos)
        << folder.name << ": " << sddl;
  }
}

TEST(ServiceDefinitions, DefaultConfigsAreValidConfigs) {
  const auto& configs = default_configs();
  ASSERT_EQ(configs.size(), 2u);
  auto llm = parse_llm_server_config(configs[0].file_name, configs[0].text);
  EXPECT_TRUE(llm.model.empty());  // the bundled test model, until the admin sets one
  EXPECT_EQ(llm.port, 8030);
  auto trainer = parse_trainer_config(configs[1].file_name, configs[1].text);
  EXPECT_EQ(trainer.max_retries, 8);
}

}  // namespace
}  // namespace tandem::ctl
