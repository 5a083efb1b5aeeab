// The job spool: a folder with `inbox/`, `active/`, `done/` and `failed/`. A job file dropped
// in the inbox is validated when claimed; a bad one moves to failed/ beside a reason file that
// names file:line:field, a good one moves to active/ (one rename on one volume) and gets a work
// folder for its checkpoint and outputs. Finishing moves the file and its work folder together
// to done/ or failed/. Nothing is ever overwritten: a name taken there gets a numeric suffix.
//
// A claimed job's files are named by its id "<stem>-<hash>" (layout.h). Finishing first writes
// active/<id>.finish (the outcome), then moves things, then removes it, so a crash in between is
// completed when the spool is opened again.
//
// Relative paths in a job resolve against the inbox, where the person put the file, also when
// the job is resumed from active/.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/spool/file_system.h"
#include "common/spool/job_spec.h"

namespace tandem::spool {

struct Job {
  std::string id;                  // the stem of `file`; stable across restarts
  std::filesystem::path file;      // active/<id>.json
  std::filesystem::path work_dir;  // active/<id>.work: checkpoint and outputs
  JobSpec spec;
};

class Spool {
 public:
  // Creates the folders if missing and completes any finish a crash interrupted.
  explicit Spool(std::filesystem::path root, FileSystem& fs = real_file_system());

  // The oldest valid job in the inbox (by modification time, then name), now in active/; bad
  // ones met on the way are moved to failed/. std::nullopt when the inbox holds no valid job.
  // Files that are not *.json, hidden or cannot be read yet (still being copied) are left.
  std::optional<Job> claim_next();

  // Jobs left in active/ by an earlier run, oldest first, to resume. One that no longer
  // validates (its dataset is gone, say) is finished as failed with the reason.
  std::vector<Job> active_jobs();

  // Moves the job and its work folder to done/ (ok) or failed/ (with `reason` in
  // <name>.reason.txt); returns where the job file went.
  std::filesystem::path finish(const Job& job, bool ok, const std::string& reason);

  // Called with the name in failed/ and the reason for each job file claim_next() rejects, so
  // the service can count and show it like a job that failed.
  void on_rejected(std::function<void(const std::string& name, const std::string& reason)> f) {
    on_rejected_ = std::move(f);
  }

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& inbox() const { return inbox_; }
  const std::filesystem::path& active() const { return active_; }
  const std::filesystem::path& done() const { return done_; }
  const std::filesystem::path& failed() const { return failed_; }

 private:
  struct Outcome {
    bool ok = false;
    std::string reason;
    std::string name;  // in done/ or failed/
  };

  void reject(const std::filesystem::path& file, const std::string& reason);
  void complete_finish(const std::string& id, const Outcome& outcome);
  void recover_finishes();
  std::optional<Job> load_active(const std::filesystem::path& file);

  FileSystem& fs_;
  std::function<void(const std::string&, const std::string&)> on_rejected_;
  std::filesystem::path root_;
  std::filesystem::path inbox_;
  std::filesystem::path active_;
  std::filesystem::path done_;
  std::filesystem::path failed_;
};

}  // namespace tandem::spool
