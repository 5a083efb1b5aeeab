// A `command` job: run the user's own training program with the server's endpoint in its
// environment (trainer/command/ runs it).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/spool/job_fields.h"

namespace tandem::spool {

enum class RestartPolicy { never, on_failure };

struct CommandSpec {
  static constexpr std::string_view kKind = "command";

  std::vector<std::string> command;   // program and arguments; the program is found as given
  std::filesystem::path working_dir;  // absolute once parsed; default: the job file's folder
  RestartPolicy restart = RestartPolicy::never;
  int max_restarts = 3;  // only with restart "on-failure"
  std::map<std::string, std::string> env;

  // Reads this kind's fields; `working_dir` resolves against `base_dir`, which it defaults to.
  static CommandSpec parse(JobFields& fields, const std::filesystem::path& base_dir,
                           PathCheck check);
  // Writes the paths it resolved into `job` (the job file's JSON), absolute: `working_dir`, also
  // when the job left it to its default, the job file's folder.
  void write_absolute_paths(nlohmann::ordered_json& job) const;
};

}  // namespace tandem::spool
