// A training job as a person writes it: a JSON file dropped in the spool's inbox. Parsing
// validates every field; errors name the file, line and field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tandem::jobs {

// Label a JSONL dataset with the LLM, then train a student classifier on those labels.
struct DistillJob {
  std::filesystem::path dataset;    // absolute once parsed
  std::vector<std::string> labels;  // 2..64 distinct, non-empty
  std::string prompt_template;      // contains "{text}"
  int epochs = 5;
  double learning_rate = 0.1;
  double holdout_fraction = 0.2;
  std::uint64_t seed = 42;
  std::optional<std::int64_t> max_items;  // absent: the whole dataset
};

enum class RestartPolicy { never, on_failure };

// Run the user's own training program with the server's endpoint in its environment.
struct CommandJob {
  std::vector<std::string> command;   // program and arguments; the program is found as given
  std::filesystem::path working_dir;  // absolute once parsed; default: the job file's folder
  RestartPolicy restart = RestartPolicy::never;
  int max_restarts = 3;  // only with restart "on-failure"
  std::map<std::string, std::string> env;
};

struct JobSpec {
  std::string name;  // default: the job file's stem
  std::variant<DistillJob, CommandJob> details;

  const DistillJob* distill() const { return std::get_if<DistillJob>(&details); }
  const CommandJob* command() const { return std::get_if<CommandJob>(&details); }
};

inline constexpr std::string_view kDefaultPromptTemplate = "Text: {text}\nLabel:";

// Whether parsing checks that the dataset / working folder exist (the spool does; unit tests of
// the syntax need not create files).
enum class PathCheck { exists, skip };

// `origin` names the file in messages; relative paths resolve against `base_dir`; a job without
// a name gets `default_name`, or when that is empty the stem of `origin`. Throws InputError
// naming origin:line and the field.
JobSpec parse_job_spec(const std::string& origin, std::string_view text,
                       const std::filesystem::path& base_dir, PathCheck check = PathCheck::exists,
                       std::string_view default_name = {});

// "<stem>-<8 hex digits of a hash of the content>": stable for the same file, different when
// the content differs, readable in logs and folder names.
std::string make_job_id(std::string_view stem, std::string_view content);
// The stem an id was made from: the hash and a spool's "-<n>" suffix taken off.
std::string job_stem(std::string_view id);

}  // namespace tandem::jobs
