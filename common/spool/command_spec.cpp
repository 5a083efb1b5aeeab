#include "common/spool/command_spec.h"

#include "common/files.h"

namespace tandem::spool {

CommandSpec CommandSpec::parse(JobFields& f, const std::filesystem::path& base_dir,
                               PathCheck check) {
  CommandSpec job;
  auto command = f.string_array("command");
  if (!command) f.fail("command", "missing (required for a command job)");
  if (command->empty()) f.fail("command", "must name a program (and its arguments)");
  if ((*command)[0].empty()) f.fail_element("command", 0, "the program must not be empty");
  job.command = std::move(*command);

  auto dir = f.string("working_dir");
  if (dir && dir->empty()) f.fail("working_dir", "must not be empty");
  job.working_dir = dir ? f.path("working_dir", *dir, base_dir, JobFields::PathIs::folder, check)
                        : base_dir.lexically_normal();

  if (auto restart = f.string("restart")) {
    if (*restart == "never") {
      job.restart = RestartPolicy::never;
    } else if (*restart == "on-failure") {
      job.restart = RestartPolicy::on_failure;
    } else {
      f.fail("restart", "expected \"never\" or \"on-failure\", got " + json_quoted(*restart));
    }
  }
  if (auto v = f.integer("max_restarts", 0, 1000)) {
    if (job.restart == RestartPolicy::never && *v > 0) {
      f.fail("max_restarts", "has no effect unless \"restart\" is \"on-failure\"");
    }
    job.max_restarts = static_cast<int>(*v);
  }

  if (auto env = f.string_map("env")) {
    for (const auto& [name, value] : *env) {
      if (name.empty() || name.find('=') != std::string::npos) {
        f.fail("env", "variable name " + json_quoted(name) + " must be non-empty and without '='");
      }
    }
    job.env = std::move(*env);
  }
  return job;
}

void CommandSpec::write_absolute_paths(nlohmann::ordered_json& job) const {
  job["working_dir"] = path_utf8(working_dir);
}

}  // namespace tandem::spool
