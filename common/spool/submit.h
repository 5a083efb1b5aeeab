// Submitting a job (tandemctl submit): the file checked before it goes anywhere, its relative
// paths made absolute (the spool would resolve them against the inbox), and placed in the inbox
// under a name nothing else has, in one step the spool never sees half done.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tandem::spool {

// Writing in the jobs folder was refused: on an installed machine it needs an elevated prompt.
class AccessDenied : public Error {
 public:
  using Error::Error;
};

// Validates the job `text` (InputError naming origin:line and field), then returns it with every
// path its kind names made absolute against `base_dir` (JobSpec::with_absolute_paths).
std::string absolute_job(const std::string& origin, std::string_view text,
                         const std::filesystem::path& base_dir);

// Why `name` cannot name a job file in the inbox, or std::nullopt when it can.
std::optional<std::string> job_name_problem(std::string_view name);

// Places `content` in the inbox of the spool at `root` (created if missing) as <stem>.json, or
// <stem>-2.json, <stem>-3.json, ... when taken: written under a temporary name the spool ignores
// (hidden, not *.json), then linked in without ever replacing a file. Returns where it went.
// AccessDenied when the folder refuses it; Error for anything else.
std::filesystem::path submit_job(const std::filesystem::path& root, std::string_view stem,
                                 std::string_view content);

}  // namespace tandem::spool
