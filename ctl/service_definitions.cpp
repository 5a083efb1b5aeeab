#include "ctl/service_definitions.h"

#include "common/process/command_line.h"
#include "common/service_names.h"
#include "ctl/cli.h"

namespace tandem::ctl {

const std::vector<ServiceDefinition>& tandem_services() {
  static const std::vector<ServiceDefinition> services = {
      {kLlmServiceName,
       "Tandem LLM Server",
       "Local LLM inference server (llama.cpp, OpenAI-compatible API) on 127.0.0.1 and ::1. "
       "Publishes its live endpoint in HKLM\\SOFTWARE\\Tandem\\LlmServer; check it with "
       "'tandemctl status'.",
       "tandem-llm.exe",
       {}},
      {kTrainerServiceName,
       "Tandem Trainer",
       "Runs training jobs from %ProgramData%\\Tandem\\jobs against the Tandem LLM Server, "
       "which it finds but never starts. Status in HKLM\\SOFTWARE\\Tandem\\Trainer; see "
       "'tandemctl jobs'.",
       "tandem-trainer.exe",
       {kLlmServiceName}},
  };
  return services;
}

AccountChoice parse_account(const std::string& word) {
  if (word == "auto") return AccountChoice::automatic;
  if (word == "virtual") return AccountChoice::virtual_account;
  if (word == "localsystem") return AccountChoice::local_system;
  throw UsageError("unknown account '" + word + "': use auto, virtual or localsystem");
}

std::string account_name(const ServiceDefinition& service, bool virtual_account) {
  return virtual_account ? "NT SERVICE\\" + service.name : "LocalSystem";
}

namespace {

// sc.exe reads `name= value` pairs; a value with spaces or quotes goes in quotes, inner quotes
// escaped with a backslash (the binPath must itself be a quoted path).
std::string sc_value(const std::string& value) {
  return quote_windows_argument(value);
}

}  // namespace

std::vector<std::string> sc_install_lines(const std::string& install_dir, bool virtual_account) {
  std::vector<std::string> lines;
  std::string actions;
  for (int delay : kRestartDelaysMs) {
    actions += (actions.empty() ? "" : "/") + std::string("restart/") + std::to_string(delay);
  }
  for (const auto& s : tandem_services()) {
    const std::string binary = "\"" + install_dir + "\\" + s.exe + "\"";
    std::string create = "sc create " + s.name + " binPath= " + sc_value(binary) +
                         " start= delayed-auto DisplayName= " + sc_value(s.display_name) +
                         " obj= " + sc_value(account_name(s, virtual_account));
    if (!s.dependencies.empty()) {
      std::string depend;
      for (const auto& d : s.dependencies) depend += (depend.empty() ? "" : "/") + d;
      create += " depend= " + depend;
    }
    lines.push_back(create);
    lines.push_back("sc description " + s.name + " " + sc_value(s.description));
    lines.push_back("sc failure " + s.name + " reset= " + std::to_string(kFailureResetSeconds) +
                    " actions= " + actions);
    lines.push_back("sc failureflag " + s.name + " 1");
    lines.push_back("sc sidtype " + s.name + " unrestricted");
  }
  lines.push_back(sc_value(install_dir + "\\tandemctl.exe") + " configure-services");
  lines.push_back("sc start " + tandem_services().back().name);
  return lines;
}

std::vector<std::string> sc_uninstall_lines() {
  std::vector<std::string> lines;
  const auto& services = tandem_services();
  // Dependents first: the SCM will not stop a service another running one depends on.
  for (auto it = services.rbegin(); it != services.rend(); ++it)
    lines.push_back("sc stop " + it->name);
  for (auto it = services.rbegin(); it != services.rend(); ++it) {
    lines.push_back("sc delete " + it->name);
  }
  lines.push_back("reg delete HKLM\\SOFTWARE\\Tandem /f");
  return lines;
}

const std::vector<DataFolder>& data_folders() {
  static const std::vector<DataFolder> folders = {
      {"", {}},
      {"config", {}},
      {"models", {kTrainerServiceName}},  // a finetune's output, served from there
      {"jobs", {kTrainerServiceName}},
      {"logs", {kLlmServiceName, kTrainerServiceName}},
  };
  return folders;
}

std::string data_folder_sddl(const DataFolder& folder, const std::string& llm_sid,
                             const std::string& trainer_sid) {
  // Protected, inherited by everything below: SYSTEM and Administrators full, Users and both
  // services read; writers get modify (read, write, execute, delete).
  std::string sddl = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)";
  for (const auto& [name, sid] : {std::pair{std::string(kLlmServiceName), llm_sid},
                                  std::pair{std::string(kTrainerServiceName), trainer_sid}}) {
    bool writes = false;
    for (const auto& w : folder.writers) writes = writes || w == name;
    sddl += std::string("(A;OICI;") + (writes ? "FRFWFXSD" : "FRFX") + ";;;" + sid + ")";
  }
  return sddl;
}

const std::vector<DefaultConfig>& default_configs() {
  static const std::vector<DefaultConfig> configs = {
      {"llm-server.json",
       "{\n"
       "  \"model\": \"\",\n"
       "  \"port\": 8030,\n"
       "  \"port_range\": 20,\n"
       "  \"log_level\": \"info\"\n"
       "}\n"},
      {"trainer.json",
       "{\n"
       "  \"resolve_timeout_ms\": 120000,\n"
       "  \"max_retries\": 8,\n"
       "  \"log_level\": \"info\"\n"
       "}\n"},
  };
  return configs;
}

}  // namespace tandem::ctl
