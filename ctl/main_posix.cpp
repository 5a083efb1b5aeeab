// tandemctl on Linux: the questions scripts ask (url, wait, status) and submit, against the same
// contract as on Windows: the runtime folder's publication, verified by posix::LlmResolver (the
// resolver TandemTrainer uses), and the trainer's status file. Starting and stopping the services
// is systemctl's job here (tandem-llm.service, tandem-trainer.service).
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"
#include "common/posix/service_paths.h"
#include "common/spool/submit.h"
#include "ctl/cli.h"

namespace {

using namespace tandem;
using namespace tandem::ctl;
namespace fs = std::filesystem;

bool alive(std::uint32_t pid) {
  return pid != 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

int status_command(Args& args) {
  const bool as_json = args.flag("--json");
  args.done();
  const fs::path runtime = posix::runtime_dir();
  nlohmann::json out;
  out["runtime_dir"] = path_utf8(runtime);
  try {
    if (auto published = posix::read_runtime_file(runtime / posix::kLlmPublicationFile)) {
      out["llm"] = {{"state", std::string(discovery::state_name(published->state))},
                    {"port", published->port},
                    {"url", published->url},
                    {"pid", published->pid},
                    {"running", alive(published->pid)},
                    {"instance", published->instance_id},
                    {"model", published->model},
                    {"started_at", published->started_at}};
      if (published->model == "tandem-tiny") {
        out["llm"]["note"] = "test model: output is meaningless - set `model` in llm-server.json";
      }
    }
  } catch (const Error& e) {
    out["llm_problem"] = e.what();
  }
  if (auto text = read_file_if_exists(runtime / posix::kTrainerStatusFile)) {
    try {
      out["trainer"] = nlohmann::json::parse(*text);
      out["trainer"]["running"] = alive(out["trainer"].value("pid", 0u));
    } catch (const nlohmann::json::exception& e) {
      out["trainer_problem"] = path_utf8(runtime / posix::kTrainerStatusFile) + ": " + e.what();
    }
  }
  std::string why;
  auto live = posix::LlmResolver(runtime).resolve(why);
  out["verified"] = live.has_value();
  if (!live) out["problem"] = why;
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
    return live ? kOk : kNotReady;
  }
  if (out.contains("llm")) {
    const auto& l = out["llm"];
    std::printf("endpoint       %s %s (pid %u%s)\nmodel          %s%s\ninstance       %s\n",
                l["state"].get<std::string>().c_str(), l["url"].get<std::string>().c_str(),
                l["pid"].get<unsigned>(), l["running"] ? "" : ", not running",
                l["model"].get<std::string>().c_str(),
                l.contains("note") ? (" (" + l["note"].get<std::string>() + ")").c_str() : "",
                l["instance"].get<std::string>().c_str());
  } else {
    std::printf("endpoint       none published in %s\n", path_utf8(runtime).c_str());
  }
  std::printf("verified       %s\n", live ? "yes" : ("no: " + why).c_str());
  if (out.contains("trainer")) {
    const auto& t = out["trainer"];
    std::string job =
        t.value("job", nlohmann::json()).is_string() ? t["job"].get<std::string>() : "";
    if (!job.empty()) {
      job = " " + job + " " + std::to_string(t.value("items_done", 0)) + "/" +
            std::to_string(t.value("items_total", 0));
    }
    std::printf("trainer        %s%s (jobs done %d, failed %d)%s\n",
                t.value("state", std::string("?")).c_str(), job.c_str(), t.value("jobs_done", 0),
                t.value("jobs_failed", 0), t["running"] ? "" : " (not running)");
    const std::string last_error = t.value("last_error", std::string());
    if (!last_error.empty()) std::printf("last error     %s\n", last_error.c_str());
  }
  return live ? kOk : kNotReady;
}

int url_command(Args& args) {
  args.done();
  std::string why;
  auto live = posix::LlmResolver().resolve(why);
  if (!live) {
    std::fprintf(stderr, "tandemctl: no live TandemLlm endpoint: %s\n", why.c_str());
    return kNotReady;
  }
  std::printf("%s\n", live->url.c_str());
  return kOk;
}

int wait_command(Args& args) {
  auto timeout = args.option("--timeout");
  args.done();
  const long seconds = timeout ? parse_seconds("--timeout", *timeout) : 60;
  try {
    auto live = posix::LlmResolver().wait_ready(std::chrono::seconds(seconds), {});
    std::printf("%s\n", live.url.c_str());
    return kOk;
  } catch (const Error& e) {
    std::fprintf(stderr, "tandemctl: %s\n", e.what());
    return kNotReady;
  }
}

fs::path jobs_root() {
  const TrainerConfig config = load_trainer_config(posix::config_dir() / "trainer.json");
  return config.jobs_dir.empty() ? paths::jobs_dir() : fs::path(config.jobs_dir);
}

int submit_command(Args& args) {
  auto name = args.option("--name");  // options first: their values are not positionals
  auto file = args.positional();
  args.done();
  if (!file) throw UsageError("submit: name the job file (JOB.json)");
  const fs::path path = *file;
  auto text = read_file_if_exists(path);
  if (!text) throw UsageError("submit: no job file '" + *file + "'");
  const std::string stem = name ? *name : path.stem().string();
  if (auto problem = spool::job_name_problem(stem)) {
    throw UsageError("submit: job name '" + stem + "': " + *problem +
                     (name ? "" : "; choose one with --name"));
  }
  std::string job;
  try {
    job = spool::absolute_job(*file, *text, fs::absolute(path).parent_path());
  } catch (const InputError& e) {
    std::fprintf(stderr, "tandemctl: %s\ntandemctl: nothing was submitted\n", e.what());
    return kUsage;
  }
  fs::path placed;
  try {
    placed = spool::submit_job(jobs_root(), stem, job);
  } catch (const spool::AccessDenied& e) {
    std::fprintf(stderr,
                 "tandemctl: %s\ntandemctl: writing in the jobs folder needs the tandem group "
                 "(or sudo)\n",
                 e.what());
    return kDenied;
  }
  std::printf("%s\n", path_utf8(placed).c_str());
  return kOk;
}

struct Command {
  const char* name;
  const char* usage;
  int (*run)(Args&);
};

constexpr Command kCommands[] = {
    {"status", "status [--json]", status_command},
    {"url", "url", url_command},
    {"wait", "wait [--timeout SECONDS]", wait_command},
    {"submit", "submit JOB.json [--name NAME]", submit_command},
};

void print_usage(FILE* to) {
  std::fprintf(to, "usage:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  tandemctl %s\n", c.usage);
  std::fprintf(
      to, "  (start, stop, restart: systemctl start|stop|restart tandem-trainer tandem-llm)\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Progress and reasons go to stderr, so stdout holds only the answer (`url`, `wait`).
  log::Options log_options;
  log_options.console = true;
  log::init(log_options);
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
    print_usage(words.empty() ? stderr : stdout);
    return words.empty() ? kUsage : kOk;
  }
  const std::string name = words[0];
  words.erase(words.begin());
  for (const auto& command : kCommands) {
    if (name != command.name) continue;
    try {
      Args args(name, words);
      return command.run(args);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "tandemctl: %s\nusage: tandemctl %s\n", e.what(), command.usage);
      return kUsage;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tandemctl: %s\n", e.what());
      return kFailed;
    }
  }
  std::fprintf(stderr, "tandemctl: unknown command '%s'\n", name.c_str());
  print_usage(stderr);
  return kUsage;
}
