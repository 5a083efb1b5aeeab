#include "trainer/command/command_job.h"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"

namespace tandem::trainer {

namespace {

constexpr const char* kAttempts = "attempts";

std::string attempt_id(std::int64_t attempt) {
  return "attempt-" + std::to_string(attempt);
}

// Windows reports crashes as NTSTATUS codes, readable only in hex (0xC0000005).
std::string describe_code(int code) {
  std::string text = "code " + std::to_string(code);
  if (code < 0 || code > 255) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08X", static_cast<unsigned>(code));
    text += std::string(" (") + hex + ")";
  }
  return text;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& argument : argv) text += (text.empty() ? "" : " ") + argument;
  return text;
}

CommandOutcome failed(std::string reason) {
  return {.ok = false, .stopped = false, .reason = std::move(reason)};
}

class CommandRun {
 public:
  CommandRun(const std::string& name, const spool::CommandSpec& job, Checkpoint& checkpoint)
      : name_(name), job_(job), checkpoint_(checkpoint) {}

  // What the last recorded attempt means for the job: finished (ok or failed), or std::nullopt
  // when the program is to run (again).
  std::optional<CommandOutcome> judge_last_attempt() const {
    const std::int64_t attempt = checkpoint_.counter(kAttempts);
    if (attempt == 0) return std::nullopt;
    const nlohmann::json* result = checkpoint_.result(attempt_id(attempt));
    if (result == nullptr) {
      TLOG(warning) << name_ << ": attempt " << attempt
                    << " was cut short by an unexpected trainer stop; running the program again";
      return std::nullopt;
    }
    if (result->contains("error")) {
      return failed("could not run " + program() + ": " + result->value("error", std::string()));
    }
    if (result->value("stopped", false)) return std::nullopt;  // resuming after a stop request
    const auto exit_code = result->find("exit_code");
    if (exit_code == result->end() || !exit_code->is_number_integer()) {
      throw Error("checkpoint item " + attempt_id(attempt) + " of job " + name_ +
                  " has no integer exit_code: " + result->dump());
    }
    const int code = exit_code->get<int>();
    if (code == 0) return CommandOutcome{.ok = true, .stopped = false, .reason = {}};
    const int failures = failed_attempts(attempt);
    if (job_.restart == spool::RestartPolicy::on_failure && failures <= job_.max_restarts) {
      TLOG(warning) << name_ << ": " << program() << " exited with " << describe_code(code)
                    << "; restarting it (restart " << failures << " of " << job_.max_restarts
                    << ")";
      return std::nullopt;
    }
    std::string reason = program() + " exited with " + describe_code(code) + " on attempt " +
                         std::to_string(attempt) + " (" + std::to_string(failures) +
                         " failed attempt" + (failures == 1 ? "" : "s") + "; ";
    reason += job_.restart == spool::RestartPolicy::never
                  ? "restart policy \"never\")"
                  : "restart policy \"on-failure\" allows " + std::to_string(job_.max_restarts) +
                        " restart" + (job_.max_restarts == 1 ? "" : "s") + ")";
    return failed(std::move(reason));
  }

  // Starts the next attempt and records how it ended.
  void run_attempt(const LlmAccess& access, ProcessLauncher& launcher, std::stop_token stop) {
    const JobEnvironment environment = job_environment(job_.env, access);
    for (const std::string& ignored : environment.ignored) {
      TLOG(warning) << name_ << ": the job's env sets " << ignored
                    << ", which the trainer sets itself; the job's value is ignored";
    }
    const std::int64_t attempt = checkpoint_.counter(kAttempts) + 1;
    checkpoint_.set_counter(kAttempts, attempt);  // before the start: a crash still counts it
    TLOG(info) << name_ << ": attempt " << attempt << ": starting " << joined(job_.command)
               << " in " << path_utf8(job_.working_dir) << " with " << kLlmUrlVariable << "="
               << access.url << (access.api_key.empty() ? "" : " and the server's API key");

    const ProcessSpec spec{job_.command, path_utf8(job_.working_dir), environment.variables};
    const LineCallback on_line = [this](Stream stream, std::string_view line) {
      TLOG(info) << name_ << " " << stream_name(stream) << ": " << line;
    };
    ProcessExit exit;
    try {
      exit = launcher.run(spec, on_line, stop);
    } catch (const StopRequested&) {
      throw;  // not the program's failure: the attempt runs again on resume
    } catch (const Error& e) {
      TLOG(error) << name_ << ": attempt " << attempt << ": " << e.what();
      checkpoint_.record(attempt_id(attempt), {{"error", e.what()}});
      return;
    }
    nlohmann::json result = {{"exit_code", exit.exit_code}};
    if (exit.stopped) result["stopped"] = true;
    checkpoint_.record(attempt_id(attempt), result);
    TLOG(info) << name_ << ": attempt " << attempt << ": "
               << (exit.stopped ? "stopped on request"
                                : "exited with " + describe_code(exit.exit_code));
  }

 private:
  std::string program() const { return job_.command.empty() ? "(no program)" : job_.command[0]; }

  int failed_attempts(std::int64_t last) const {
    int failures = 0;
    for (std::int64_t attempt = 1; attempt <= last; ++attempt) {
      const nlohmann::json* result = checkpoint_.result(attempt_id(attempt));
      if (result != nullptr && result->value("exit_code", 0) != 0 &&
          !result->value("stopped", false)) {
        ++failures;
      }
    }
    return failures;
  }

  const std::string& name_;
  const spool::CommandSpec& job_;
  Checkpoint& checkpoint_;
};

}  // namespace

CommandOutcome run_command_job(const std::string& job_name, const spool::CommandSpec& job,
                               const EndpointSource& endpoint, ProcessLauncher& launcher,
                               Checkpoint& checkpoint, std::stop_token stop) {
  auto stopped = [&] {
    TLOG(info) << job_name << ": stopped on request; the job stays active and resumes at the "
               << "next start";
    return CommandOutcome{.ok = false, .stopped = true, .reason = {}};
  };
  CommandRun run(job_name, job, checkpoint);
  for (;;) {
    if (auto outcome = run.judge_last_attempt()) {
      if (outcome->ok) {
        TLOG(info) << job_name << ": done";
      } else {
        TLOG(error) << job_name << ": failed: " << outcome->reason;
      }
      return *outcome;
    }
    if (stop.stop_requested()) return stopped();
    const LlmAccess access = endpoint(stop);
    if (stop.stop_requested()) return stopped();
    run.run_attempt(access, launcher, stop);  // the next round judges how it ended
  }
}

void run_job(const spool::CommandSpec& spec, const JobContext& context) {
  // A command's processes have no point to hold at, and suspending them is no pause (their
  // sockets, timeouts and children go on): Pause is refused while one runs, and says why.
  const auto refusal = context.control.refuse_pauses(
      "job " + context.job.spec.name +
      " runs a command, which cannot be paused: wait for it to finish, or stop the service "
      "(the command is then run again at the next start)");
  if (refusal)
    TLOG(info) << "Pause is refused until it ends: job " << context.job.spec.name
               << " runs a command, which cannot be paused";
  context.control.report({"run", 0, 0});
  const CommandOutcome outcome =
      run_command_job(context.job.spec.name, spec, context.endpoint, context.launcher,
                      context.checkpoint, context.control.stop);
  if (outcome.stopped) throw Stopped();
  if (!outcome.ok) throw JobFailed(outcome.reason);
}

}  // namespace tandem::trainer
