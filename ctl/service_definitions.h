// What Tandem installs, in one place: the two services (as the MSI's ServiceInstall elements and
// `tandemctl install` register them), the recovery policy, the accounts, the data folders with
// their access rules, and the default configs. Portable, so the `sc.exe` lines and configs are
// tested natively; installer/Tandem.wxs spells the same strings and an end-to-end test compares
// what each registers.
#pragma once

#include <string>
#include <vector>

namespace tandem::ctl {

struct ServiceDefinition {
  std::string name;
  std::string display_name;
  std::string description;
  std::string exe;  // file name in the install folder
  std::vector<std::string> dependencies;
};

// TandemLlm first: it is installed and started before the trainer that depends on it.
const std::vector<ServiceDefinition>& tandem_services();

// Recovery actions: restart after 1 s, 5 s, then 30 s; the failure count resets after a day.
inline constexpr int kRestartDelaysMs[] = {1000, 5000, 30000};
inline constexpr int kFailureResetSeconds = 86400;

// Which account the services run as. `automatic`: their virtual accounts, except on Wine,
// which can run services only as LocalSystem (the documented fallback).
enum class AccountChoice { automatic, virtual_account, local_system };
AccountChoice parse_account(const std::string& word);  // UsageError for anything else
std::string account_name(const ServiceDefinition& service, bool virtual_account);

// The `sc.exe` commands that register the services as `tandemctl install` does, for people
// who script installs; the folder and registry preparation stays `tandemctl configure-services`.
std::vector<std::string> sc_install_lines(const std::string& install_dir, bool virtual_account);
std::vector<std::string> sc_uninstall_lines();

// %ProgramData%\Tandem's folders and who may do what there; `<llm>` and `<trainer>` in the
// rights stand for the services' SIDs. Users may read configs and logs; only the services
// (and administrators) write. Jobs are admin-only to submit: a command job runs as the service.
struct DataFolder {
  std::string name;                  // relative to the data folder; empty: the data folder itself
  std::vector<std::string> writers;  // service names that may create, change and delete there
};
const std::vector<DataFolder>& data_folders();
// The protected DACL (SDDL) for a data folder, given the services' SIDs.
std::string data_folder_sddl(const DataFolder& folder, const std::string& llm_sid,
                             const std::string& trainer_sid);

// Default llm-server.json / trainer.json, written only where none exists (never overwritten:
// a reinstall or upgrade keeps what the admin set).
struct DefaultConfig {
  std::string file_name;
  std::string text;
};
const std::vector<DefaultConfig>& default_configs();

}  // namespace tandem::ctl
