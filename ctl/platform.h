// What tandemctl's commands stand on, given by each platform's main (main_win.cpp,
// main_posix.cpp) and by the unit tests' fakes: the services and publications behind portable
// interfaces, the folders, and the few words that differ between systems.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "common/discovery/endpoint.h"
#include "common/discovery/resolver.h"
#include "common/folder_watch.h"
#include "common/service_controller.h"
#include "common/trainer_status.h"
#include "ctl/cli.h"

namespace tandem::ctl {

struct Platform {
  // The two services as the service manager names them (SCM names, systemd units).
  std::string llm_service;
  std::string trainer_service;
  // Connects to the service manager (may throw ServiceManagerUnavailable).
  std::function<std::unique_ptr<ServiceManager>()> open_services;
  // The resolver TandemTrainer uses: the published endpoint, verified.
  std::function<std::unique_ptr<discovery::Resolver>()> make_resolver;
  // The server's publication as written, unverified; std::nullopt when there is none.
  std::function<std::optional<discovery::Endpoint>()> read_publication;
  // The trainer's published status; std::nullopt when it has never published.
  std::function<std::optional<TrainerStatus>()> read_trainer_status;
  // A change notification on a folder (the spool's done/ and failed/, the logs folder).
  std::function<std::unique_ptr<FolderWatch>(const std::filesystem::path&)> make_watch;

  std::filesystem::path trainer_config;  // trainer.json: its jobs_dir says where the spool is
  std::filesystem::path llm_config;      // llm-server.json: its api_key_file, for `models`
  std::filesystem::path logs_dir;
  // How long `logs --follow` waits for a change before it reads anyway: Windows may report what
  // was appended to a file still open for writing only when its cache is flushed.
  std::chrono::milliseconds follow_bound{std::chrono::seconds(2)};

  std::string elevate_hint;      // after an access denied: how to get the rights
  std::string jobs_access_hint;  // after a refused write in the jobs folder
  std::string install_hint;      // after "<service> is not installed: "
  // install, uninstall and configure-services where the platform has them (Windows); elsewhere
  // empty, and `no_installer` says what to use instead.
  std::function<int(Args&)> install, uninstall, configure_services;
  std::string no_installer;

  // Where answers (out) and reasons (err) go, and a stop for `logs --follow` (tests).
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  std::stop_token stop;
};

// The whole of tandemctl after its words are read: one command table for every platform (README
// "tandemctl"). Every failure becomes one line on `err` and an exit code from cli.h.
int run_tandemctl(std::vector<std::string> words, Platform& platform);

}  // namespace tandem::ctl
