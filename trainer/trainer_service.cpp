#include "trainer/trainer_service.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "common/config.h"
#include "common/discovery/identity.h"
#include "common/files.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spool/spool.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/http_teacher.h"
#include "trainer/job_context.h"
#include "trainer/job_kinds.h"
#include "trainer/llm_client.h"
#include "trainer/status_board.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;

// What the job loop needs besides the spool; one per service run.
struct Worker {
  const TrainerServiceOptions& options;
  spool::Spool& spool;
  StatusBoard& board;
  LlmClient& client;
  Teacher& teacher;
  std::string api_key;
  ProcessLauncher& launcher;
  std::stop_token stop;
  std::unique_ptr<FolderWatch> watch;
  std::filesystem::path models_dir;  // the server's, for models jobs name by id
  std::string untrusted;  // why the jobs folders were not trusted last time; empty: they were

  void set_state(const std::string& state) {
    board.update([&](TrainerStatus& s) { s.state = state; });
  }

  std::optional<spool::Job> next_job() {
    std::vector<spool::Job> active = spool.active_jobs();
    if (!active.empty()) {
      TLOG(info) << "resuming job " << active.front().id << " left active by an earlier run";
      return std::move(active.front());
    }
    return spool.claim_next();
  }

  JobControl control() {
    JobControl c;
    c.stop = stop;
    c.pause = options.pause;
    c.on_progress = [this](const Progress& p) {
      const auto url = client.endpoint();
      board.update([&](TrainerStatus& s) {
        // A retry that reports where it stands has not got past what it waits for (the server,
        // the disk): "waiting" stays until the job moves on.
        const bool moved_on = s.phase != p.phase || s.items_done != p.done;
        if (s.state != "waiting" || moved_on) s.state = "working";
        s.phase = p.phase;
        s.items_done = p.done;
        s.items_total = p.total;
        s.training = p.training;
        if (url) s.server_url = url->url;
      });
    };
    c.on_hold = [this](bool held) {
      TLOG(info) << (held ? "paused: the item in flight is done and recorded" : "continuing");
      set_state(held ? "paused" : "working");
    };
    return c;
  }

  // A write the disk refused (full, read-only): not the job's fault, and its checkpoint is as it
  // was before that write. The job stays active; the trainer says which file and why, then waits
  // (growing delays: nothing signals that space came back) or throws Stopped.
  void wait_for_disk(const spool::Job& job, const WriteError& e, Backoff& backoff, int& attempt) {
    const auto delay = backoff.delay(attempt++);
    TLOG(error) << "job " << job.id << " cannot write its files, trying again in " << delay.count()
                << " ms: " << e.what();
    board.update([&](TrainerStatus& s) {
      s.state = "waiting";
      s.last_error = "job " + job.id + ": " + e.what();
    });
    wait_unless_stopped(delay, stop);
  }

  // Whether the spool's folders may be trusted with jobs (a job runs as the trainer's account).
  // When not, the status and the log say which folder and what is wrong with it, once per change;
  // the loop then runs no job and checks again when the inbox changes or the rescan comes.
  bool folders_trusted() {
    if (!options.read_folder_facts) return true;
    std::string problems;
    for (const auto* folder :
         {&spool.root(), &spool.inbox(), &spool.active(), &spool.done(), &spool.failed()}) {
      std::vector<std::string> found;
      try {
        found = folder_trust_problems(options.read_folder_facts(*folder));
      } catch (const std::exception& e) {
        found.push_back(path_utf8(*folder) +
                        ": cannot read its owner and permissions: " + e.what());
      }
      for (const auto& problem : found) problems += (problems.empty() ? "" : "; ") + problem;
    }
    if (problems == untrusted) return problems.empty();
    untrusted = problems;
    if (problems.empty()) {
      TLOG(info) << "the jobs folders may be trusted again; running jobs";
      board.update([](TrainerStatus& s) { s.last_error.clear(); });
      return true;
    }
    TLOG(error) << "running no job: the jobs folders may not be trusted (" << problems
                << "). Run 'tandemctl configure-services' as an administrator to give them "
                   "back their owner and permissions.";
    board.update([&](TrainerStatus& s) {
      s.state = "blocked";
      s.last_error = "jobs folders not trusted: " + problems;
    });
    return false;
  }

  // Runs the job to an end (done or failed) or throws Stopped (it stays active for next time).
  void run(const spool::Job& job) {
    const std::string kind(job.spec.kind_name());
    TLOG(info) << "job " << job.id << " (" << kind << ") started";
    board.update([&](TrainerStatus& s) {
      s.state = "working";
      s.job = job.id;
      s.job_kind = kind;
      s.phase.clear();
      s.items_done = s.items_total = 0;
      s.training = {};
    });
    std::string failure;
    Backoff disk_backoff(500ms, 15s, std::random_device{}());
    int disk_attempt = 0;
    for (;;) {
      try {
        Checkpoint checkpoint(spool::real_file_system(), job.work_dir, job.id);
        const EndpointSource endpoint = endpoint_source();
        const JobControl job_control = control();
        run_by_kind({job, checkpoint, teacher, endpoint, launcher, job_control, models_dir});
        break;
      } catch (const ServerUnavailable& e) {
        // Not the job's fault: it stays active and waits for the server again.
        TLOG(error) << "job " << job.id << " is waiting for TandemLlm: " << e.what();
        board.update([&](TrainerStatus& s) {
          s.state = "waiting";
          s.last_error = e.what();
        });
        if (stop.stop_requested()) throw Stopped();
      } catch (const WriteError& e) {
        wait_for_disk(job, e, disk_backoff, disk_attempt);
      } catch (const Stopped&) {
        throw;
      } catch (const std::exception& e) {
        failure = e.what();
        break;
      }
    }
    std::filesystem::path moved;
    for (;;) {
      try {
        moved = spool.finish(job, failure.empty(), failure);
        break;
      } catch (const WriteError& e) {
        // The outcome marker is written before anything moves, so a full disk stops it there.
        wait_for_disk(job, e, disk_backoff, disk_attempt);
      }
    }
    if (failure.empty()) {
      TLOG(info) << "job " << job.id << " done: " << path_utf8(moved);
    } else {
      TLOG(error) << "job " << job.id << " failed: " << failure << " (" << path_utf8(moved) << ")";
    }
    board.update([&](TrainerStatus& s) {
      (failure.empty() ? s.jobs_done : s.jobs_failed) += 1;
      if (!failure.empty()) s.last_error = "job " + job.id + ": " + failure;
      s.job.clear();
      s.job_kind.clear();
      s.phase.clear();
      s.training = {};
    });
  }

  EndpointSource endpoint_source() {
    return [this](std::stop_token token) {
      const discovery::Endpoint endpoint = client.resolve_again(token);
      board.update([&](TrainerStatus& s) { s.server_url = endpoint.url; });
      return LlmAccess{endpoint.url, api_key};
    };
  }

  void loop() {
    while (!stop.stop_requested()) {
      if (options.pause != nullptr && options.pause->paused()) {
        set_state("paused");
        TLOG(info) << "paused";
        try {
          options.pause->wait_while_paused(stop);
        } catch (const Stopped&) {
          return;
        }
        TLOG(info) << "continuing";
        continue;
      }
      if (!folders_trusted()) {
        watch_wait(std::min(options.rescan_interval, options.blocked_recheck));
        continue;
      }
      std::optional<spool::Job> job;
      try {
        job = next_job();
      } catch (const std::exception& e) {
        TLOG(error) << "cannot read the job spool: " << e.what();
        board.update([&](TrainerStatus& s) { s.last_error = e.what(); });
      }
      if (!job) {
        set_state("idle");
        watch_wait(options.rescan_interval);
        continue;
      }
      try {
        run(*job);
      } catch (const Stopped&) {
        TLOG(info) << "job " << job->id << " interrupted by stop; it resumes on the next start";
        return;
      }
    }
  }

  // Until the inbox changes, a stop, or a pause, or `bound` passes (kWaitForChangeOnly: never).
  void watch_wait(std::chrono::milliseconds bound) {
    if (!watch) return;
    std::stop_source wake;
    std::stop_callback on_stop(stop, [&wake] { wake.request_stop(); });
    struct Waker {
      const PauseGate* gate;
      ~Waker() {
        if (gate != nullptr) gate->set_waker(nullptr);
      }
    } waker{options.pause};
    if (waker.gate != nullptr) {
      waker.gate->set_waker([&wake] { wake.request_stop(); });
      if (waker.gate->paused()) return;  // paused before the waker was set
    }
    watch->wait_for_change(bound, wake.get_token());
  }
};

// What the trainer takes from the server's llm-server.json, read once: its API key, so the
// trainer is let in when one is configured, and its models folder, where a job finds a model it
// names by id. A problem here is the server's to report (it will not start); the trainer goes
// without a key and guesses the default folder.
struct ServerSettings {
  std::string api_key;
  std::filesystem::path models_dir = paths::models_dir();
};

ServerSettings server_settings(const std::filesystem::path& llm_config_file) {
  ServerSettings s;
  if (llm_config_file.empty()) return s;
  try {
    const LlmServerConfig config = load_llm_server_config(llm_config_file);
    if (!config.models_dir.empty()) s.models_dir = path_from_utf8(config.models_dir);
    s.api_key = read_api_key_file(config.api_key_file);
  } catch (const std::exception& e) {
    TLOG(warning) << "cannot read TandemLlm's API key, requests go without one: " << e.what();
  }
  return s;
}

LlmClientOptions client_options(const TrainerConfig& config, std::string api_key) {
  LlmClientOptions o;
  o.http.connect_timeout = std::chrono::milliseconds(config.connect_timeout_ms);
  o.http.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  o.resolve_timeout = std::chrono::milliseconds(config.resolve_timeout_ms);
  o.max_retries = config.max_retries;
  o.http.api_key = std::move(api_key);
  return o;
}

}  // namespace

int run_trainer_service(ServiceStatus& status, StopSignal& stop,
                        const TrainerServiceOptions& options) {
  status.starting(5s);
  TrainerConfig config;
  try {
    config = load_trainer_config(options.config_file);
  } catch (const InputError& e) {
    TLOG(error) << "invalid configuration, not starting: " << e.what();
    return kExitBadConfig;
  }
  log::set_level(log::parse_level(config.log_level));
  const std::filesystem::path jobs_dir = paths::jobs_dir(config);

  TrainerStatus initial;
  initial.pid = discovery::current_pid();
  initial.instance_id = discovery::new_instance_id();
  initial.started_at = discovery::utc_now_iso8601();
  initial.pipe_name = options.pipe_name;
  TLOG(info) << "TandemTrainer starting: pid " << initial.pid << ", instance "
             << initial.instance_id << ", jobs in " << path_utf8(jobs_dir);

  std::optional<spool::Spool> spool;
  try {
    spool.emplace(jobs_dir);
  } catch (const std::exception& e) {
    TLOG(error) << "cannot open the job spool, not starting: " << e.what();
    return kExitSpoolFailed;
  }

  StatusBoard board(initial);
  std::unique_ptr<StatusPublication> publication;
  try {
    publication = options.make_publication([&board] { return board.current(); });
    board.attach([&publication](const TrainerStatus& s) { publication->write(s); });
  } catch (const std::exception& e) {
    TLOG(error) << "cannot publish the trainer's status, not starting: " << e.what();
    return kExitPublishFailed;
  }

  // Before the publication goes away, however this function ends, the board lets go of it.
  struct CloseBoard {
    StatusBoard& board;
    ~CloseBoard() { board.close(); }
  } close_board{board};

  std::unique_ptr<discovery::Resolver> resolver = options.make_resolver();
  const ServerSettings server = server_settings(options.llm_config_file);
  const std::string& api_key = server.api_key;
  LlmClient client(*resolver, client_options(config, api_key));
  HttpTeacher teacher(client);
  std::unique_ptr<ProcessLauncher> launcher = options.make_launcher();
  Worker worker{options,
                *spool,
                board,
                client,
                teacher,
                api_key,
                *launcher,
                stop.token(),
                options.make_watch(spool->inbox()),
                server.models_dir,
                {}};

  spool->on_rejected([&board](const std::string& name, const std::string& reason) {
    board.update([&](TrainerStatus& s) {
      ++s.jobs_failed;
      s.last_error = "job " + name + " rejected: " + reason;
    });
  });

  // Once before RUNNING, so whoever waited for the start reads whether it refuses jobs.
  worker.folders_trusted();
  status.running();
  TLOG(info) << "TandemTrainer running; drop jobs in " << path_utf8(spool->inbox());
  worker.loop();

  status.stopping(5s);
  board.update([](TrainerStatus& s) { s.state = "stopped"; });
  board.close();
  TLOG(info) << "TandemTrainer stopped";
  return kExitOk;
}

}  // namespace tandem::trainer
