// A training job as a person writes it: a JSON file dropped in the spool's inbox, `kind` naming
// which of the specs below it is. Parsing validates every field; errors name the file, line and
// field. A new kind is a spec here (a struct with kKind, parse and write_absolute_paths, one more
// alternative of JobKind) and its runner in trainer/<kind>/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>

#include "common/spool/command_spec.h"
#include "common/spool/distill_spec.h"
#include "common/spool/finetune_spec.h"
#include "common/spool/job_fields.h"

namespace tandem::spool {

using JobKind = std::variant<DistillSpec, CommandSpec, FinetuneSpec>;

struct JobSpec {
  std::string name;  // default: the job file's stem
  JobKind kind;

  // The spec of kind `Kind`, or nullptr when the job is of another kind.
  template <class Kind>
  const Kind* as() const {
    return std::get_if<Kind>(&kind);
  }
  // "distill", "command", "finetune": the job file's `kind`.
  std::string_view kind_name() const;
  // The job file `text` this spec was parsed from with every path it resolved written absolute
  // (a relative path would otherwise resolve against wherever the file is moved); the person's
  // other fields and their order are kept.
  std::string with_absolute_paths(std::string_view text) const;
};

// `origin` names the file in messages; relative paths resolve against `base_dir`; a job without
// a name gets `default_name`, or when that is empty the stem of `origin`. Throws InputError
// naming origin:line and the field.
JobSpec parse_job_spec(const std::string& origin, std::string_view text,
                       const std::filesystem::path& base_dir, PathCheck check = PathCheck::exists,
                       std::string_view default_name = {});

}  // namespace tandem::spool
