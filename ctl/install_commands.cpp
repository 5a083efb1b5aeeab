// install, uninstall, configure-services: register the pair as the MSI does (the path for people
// without the MSI), and the steps wixl cannot express, which the MSI runs as a custom action:
// recovery actions, delayed start, service SIDs and accounts, data folders with their ACLs,
// default configs and the pre-created publication keys.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/error.h"
#include "common/win32/event_log_source.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/security.h"
#include "common/win32/service_sid.h"
#include "ctl/install_commands.h"
#include "ctl/service_definitions.h"

namespace tandem::ctl {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kStartTimeout = 120s;
constexpr auto kStopTimeout = 60s;

// What configure() does to each service, by Microsoft's documentation: read and rewrite its
// configuration, and SERVICE_START because its failure actions restart it (ChangeServiceConfig2W).
constexpr DWORD kConfigureAccess = SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG | SERVICE_START;
// What uninstall does: wait for it to stop, stop it, delete it.
constexpr DWORD kRemoveAccess = SERVICE_QUERY_STATUS | SERVICE_STOP | DELETE;

bool use_virtual_accounts(AccountChoice choice) {
  if (choice != AccountChoice::automatic) return choice == AccountChoice::virtual_account;
  if (win32::running_on_wine()) {
    TLOG(info) << "Wine runs services only as LocalSystem: using LocalSystem for both services";
    return false;
  }
  return true;
}

win32::FailureActions recovery_policy() {
  win32::FailureActions policy;
  policy.reset_period = std::chrono::seconds(kFailureResetSeconds);
  for (int delay : kRestartDelaysMs) {
    policy.actions.push_back(
        {win32::FailureAction::Type::restart, std::chrono::milliseconds(delay)});
  }
  return policy;
}

void prepare_data_folders() {
  const std::string llm_sid = win32::service_sid(kLlmServiceName);
  const std::string trainer_sid = win32::service_sid(kTrainerServiceName);
  const fs::path root = paths::data_dir();
  for (const auto& folder : data_folders()) {
    const fs::path path = folder.name.empty() ? root : root / folder.name;
    fs::create_directories(path);
    // Created now or adopted: Administrators' either way, and so are the folders already in it
    // (a jobs\inbox made by a user before the install would keep its own DACL otherwise).
    const std::string sddl = data_folder_sddl(folder, llm_sid, trainer_sid);
    win32::secure_folder(path, sddl);
    if (folder.name.empty()) continue;  // the root: its subfolders are the ones above
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_directory()) win32::secure_folder(entry.path(), sddl);
    }
  }
  for (const auto& config : default_configs()) {
    const fs::path file = paths::config_dir() / config.file_name;
    if (fs::exists(file)) {
      TLOG(info) << "kept " << path_utf8(file);
      continue;
    }
    write_file_atomically(file, config.text);
    TLOG(info) << "wrote default " << path_utf8(file);
  }
}

// A virtual account cannot create keys under HKLM: the keys it publishes in are made here with
// its SID allowed to write, and the services re-apply the same DACL when they start.
void prepare_publication_keys() {
  win32::create_locked_down(HKEY_LOCAL_MACHINE, win32::kLlmServerKey,
                            win32::publication_key_sddl(kLlmServiceName));
  win32::create_locked_down(HKEY_LOCAL_MACHINE, win32::kTrainerKey,
                            win32::publication_key_sddl(kTrainerServiceName));
}

// Each service's Event Log source, with its own .exe (in `dir`) as the message file: a virtual
// account may not register one itself.
void register_event_sources(const fs::path& dir) {
  for (const auto& definition : tandem_services()) {
    win32::register_event_source(definition.name, dir / definition.exe);
    TLOG(info) << definition.name << ": Event Log source registered ("
               << path_utf8(dir / definition.exe) << ")";
  }
}

void configure(const win32::ScManager& scm, bool virtual_accounts, const fs::path& dir) {
  for (const auto& definition : tandem_services()) {
    auto service = win32::Service::open(scm, definition.name, kConfigureAccess);
    service.quote_binary_path();
    service.set_description(definition.description);
    service.set_failure_actions(recovery_policy());
    service.set_delayed_auto_start(true);
    service.set_sid_type_unrestricted();
    service.set_account(account_name(definition, virtual_accounts));
    TLOG(info) << definition.name << ": recovery restart 1 s/5 s/30 s, delayed automatic start, "
               << "account " << account_name(definition, virtual_accounts);
  }
  prepare_data_folders();
  prepare_publication_keys();
  register_event_sources(dir);
}

// What install wrote in the registry beside the services: the publication keys and the Event
// Log sources.
void remove_registrations() {
  win32::RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, "SOFTWARE\\Tandem");
  TLOG(info) << "removed HKLM\\SOFTWARE\\Tandem";
  for (const auto& definition : tandem_services()) win32::remove_event_source(definition.name);
  TLOG(info) << "removed the Event Log sources";
}

void purge_data() {
  const fs::path root = paths::data_dir();
  std::error_code error;
  fs::remove_all(root, error);
  if (error) throw Error("removing " + path_utf8(root) + " failed: " + error.message());
  TLOG(info) << "removed " << path_utf8(root);
}

void print_lines(const std::vector<std::string>& lines) {
  for (const auto& line : lines) std::printf("%s\n", line.c_str());
}

// Stops a service and waits until it is stopped; nothing to do when it is not running.
void stop_and_wait(win32::Service& service) {
  auto status = service.query();
  if (status.state == ServiceRunState::stopped) return;
  if (status.state != ServiceRunState::stop_pending) service.stop();
  service.wait_for_state(ServiceRunState::stopped, kStopTimeout);
}

}  // namespace

int install_command(Args& args) {
  const auto dir_word = args.option("--dir");
  const auto account_word = args.option("--account");
  const bool print_sc = args.flag("--print-sc");
  const bool no_start = args.flag("--no-start");
  args.done();
  const AccountChoice choice =
      account_word ? parse_account(*account_word) : AccountChoice::automatic;
  const fs::path dir = dir_word ? fs::absolute(path_from_utf8(*dir_word)) : paths::executable_dir();
  if (print_sc) {
    print_lines(sc_install_lines(path_utf8(dir), choice != AccountChoice::local_system));
    return kOk;
  }
  for (const auto& definition : tandem_services()) {
    if (!fs::is_regular_file(dir / definition.exe)) {
      throw UsageError("no " + definition.exe + " in " + path_utf8(dir) +
                       ": give the folder that holds the binaries with --dir");
    }
  }
  auto scm = win32::ScManager::open(SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  for (const auto& definition : tandem_services()) {
    if (auto existing = win32::Service::try_open(scm, definition.name, SERVICE_QUERY_CONFIG)) {
      throw Error(definition.name + " is already installed (" +
                  existing->query_config().binary_path_name +
                  "): run `tandemctl uninstall` first, or upgrade with the MSI");
    }
  }
  // Either both services are registered and configured, or neither is left behind.
  std::vector<win32::Service> created;
  try {
    for (const auto& definition : tandem_services()) {
      win32::ServiceConfig config;
      config.name = definition.name;
      config.display_name = definition.display_name;
      config.description = definition.description;
      config.binary_path = path_utf8(dir / definition.exe);
      config.start_type = win32::StartType::delayed_automatic;
      config.dependencies = definition.dependencies;
      created.push_back(win32::Service::create(scm, config));
    }
    configure(scm, use_virtual_accounts(choice), dir);
  } catch (...) {
    for (auto& service : created) service.remove();
    throw;
  }
  for (const auto& definition : tandem_services()) {
    std::printf("%-14s installed: %s\n", definition.name.c_str(),
                path_utf8(dir / definition.exe).c_str());
  }
  if (no_start) return kOk;
  auto& trainer = created.back();
  trainer.start_with_dependencies(scm, kStartTimeout);
  for (auto& service : created) {
    auto status = service.wait_for_state(ServiceRunState::running, kStartTimeout);
    std::printf("%-14s running (pid %lu)\n", service.name().c_str(),
                static_cast<unsigned long>(status.pid));
  }
  return kOk;
}

int uninstall_command(Args& args) {
  const bool print_sc = args.flag("--print-sc");
  const bool purge = args.flag("--purge");
  args.done();
  if (print_sc) {
    print_lines(sc_uninstall_lines());
    if (purge) std::printf("rmdir /s /q \"%s\"\n", path_utf8(paths::data_dir()).c_str());
    return kOk;
  }
  auto scm = win32::ScManager::open();
  const auto& services = tandem_services();
  // The trainer first: the SCM does not stop a service while a dependent runs.
  for (auto it = services.rbegin(); it != services.rend(); ++it) {
    auto service = win32::Service::try_open(scm, it->name, kRemoveAccess);
    if (!service) {
      std::printf("%-14s not installed\n", it->name.c_str());
      continue;
    }
    stop_and_wait(*service);
    service->remove();
    std::printf("%-14s removed\n", it->name.c_str());
  }
  remove_registrations();
  if (purge) {
    purge_data();
  } else {
    std::printf("kept %s (configs, models, jobs, logs); remove it with --purge\n",
                path_utf8(paths::data_dir()).c_str());
  }
  return kOk;
}

int configure_services_command(Args& args) {
  const bool remove = args.flag("--remove");
  const bool purge = args.flag("--purge");
  const auto account_word = args.option("--account");
  args.done();
  if (remove) {
    if (account_word) throw UsageError("--account has no meaning with --remove");
    remove_registrations();
    if (purge) purge_data();
    return kOk;
  }
  if (purge) throw UsageError("--purge goes with --remove");
  const AccountChoice choice =
      account_word ? parse_account(*account_word) : AccountChoice::automatic;
  // The MSI runs it from the install folder, beside the services' executables.
  configure(win32::ScManager::open(), use_virtual_accounts(choice), paths::executable_dir());
  std::printf("configured TandemLlm and TandemTrainer; data in %s\n",
              path_utf8(paths::data_dir()).c_str());
  return kOk;
}

}  // namespace tandem::ctl
