// `tandemctl submit`: a job file checked before it goes anywhere, its relative paths made
// absolute (the spool would resolve them against the inbox), and placed in the inbox under a
// name nothing else has, in one step the spool never sees half done. Portable.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tandem::ctl {

// Writing in the jobs folder was refused: on an installed machine it needs an elevated prompt.
class AccessDenied : public Error {
 public:
  using Error::Error;
};

// Validates the job `text` (InputError naming origin:line and field), then returns it with its
// paths absolute: `dataset` (distill) and `working_dir` (command; when absent, the job file's
// folder, which was its default) resolved against `base_dir`.
std::string absolute_job(const std::string& origin, std::string_view text,
                         const std::filesystem::path& base_dir);

// Why `name` cannot name a job file in the inbox, or std::nullopt when it can.
std::optional<std::string> job_name_problem(std::string_view name);

// `stem`, `stem-2`, `stem-3`, ...: the first whose <name>.json is free in `inbox`.
std::string free_inbox_name(const std::filesystem::path& inbox, std::string_view stem);

// Writes `content` under a temporary name the spool ignores (hidden, not *.json), then links it
// in as <free name>.json without ever replacing a file, and returns that path. AccessDenied when
// the folder refuses it; Error for anything else.
std::filesystem::path place_in_inbox(const std::filesystem::path& inbox, std::string_view stem,
                                     std::string_view content);

}  // namespace tandem::ctl
