#include "trainer/jobs/job_spec.h"

#include <cctype>
#include <system_error>

#include "common/files.h"
#include "common/json_source.h"
#include "trainer/jobs/job_fields.h"

namespace tandem::jobs {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMinLabels = 2;
constexpr std::size_t kMaxLabels = 64;

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

fs::path from_utf8(const std::string& s) {
  return fs::path(std::u8string(s.begin(), s.end()));
}

fs::path resolve(const fs::path& base_dir, const std::string& value) {
  fs::path p = from_utf8(value);
  return p.is_absolute() ? p.lexically_normal() : (base_dir / p).lexically_normal();
}

std::string required_string(JobFields& f, const std::string& key, const std::string& kind) {
  auto value = f.string(key);
  if (!value) f.fail(key, "missing (required for a " + kind + " job)");
  if (value->empty()) f.fail(key, "must not be empty");
  return *value;
}

fs::path existing_path(JobFields& f, const std::string& key, const fs::path& path, bool folder,
                       PathCheck check) {
  if (check == PathCheck::skip) return path;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (!fs::exists(status)) f.fail(key, json_quoted(path_utf8(path)) + " does not exist");
  if (folder && !fs::is_directory(status)) {
    f.fail(key, json_quoted(path_utf8(path)) + " is not a folder");
  }
  if (!folder && !fs::is_regular_file(status)) {
    f.fail(key, json_quoted(path_utf8(path)) + " is not a file");
  }
  return path;
}

DistillJob parse_distill(JobFields& f, const fs::path& base_dir, PathCheck check) {
  DistillJob job;
  job.dataset = existing_path(
      f, "dataset", resolve(base_dir, required_string(f, "dataset", "distill")), false, check);

  auto labels = f.string_array("labels");
  if (!labels) f.fail("labels", "missing (required for a distill job)");
  if (labels->size() < kMinLabels || labels->size() > kMaxLabels) {
    f.fail("labels", "expected " + std::to_string(kMinLabels) + " to " +
                         std::to_string(kMaxLabels) + " labels, got " +
                         std::to_string(labels->size()));
  }
  for (std::size_t i = 0; i < labels->size(); ++i) {
    if ((*labels)[i].empty()) f.fail_element("labels", i, "must not be empty");
    for (std::size_t j = 0; j < i; ++j) {
      if ((*labels)[j] == (*labels)[i]) {
        f.fail_element("labels", i,
                       json_quoted((*labels)[i]) + " repeats labels[" + std::to_string(j) + "]");
      }
    }
  }
  job.labels = std::move(*labels);

  job.prompt_template = f.string("prompt_template").value_or(std::string(kDefaultPromptTemplate));
  if (job.prompt_template.find("{text}") == std::string::npos) {
    f.fail("prompt_template", "must contain {text}, where each item's text goes");
  }
  if (auto v = f.integer("epochs", 1, 10000)) job.epochs = static_cast<int>(*v);
  if (auto v = f.number("learning_rate", 0, 100)) {
    if (*v <= 0) f.fail("learning_rate", "must be greater than 0");
    job.learning_rate = *v;
  }
  if (auto v = f.number("holdout_fraction", 0, 0.5)) job.holdout_fraction = *v;
  if (auto v = f.integer("seed", 0, INT64_MAX)) job.seed = static_cast<std::uint64_t>(*v);
  job.max_items = f.integer("max_items", 1, INT64_MAX);
  return job;
}

CommandJob parse_command(JobFields& f, const fs::path& base_dir, PathCheck check) {
  CommandJob job;
  auto command = f.string_array("command");
  if (!command) f.fail("command", "missing (required for a command job)");
  if (command->empty()) f.fail("command", "must name a program (and its arguments)");
  if ((*command)[0].empty()) f.fail_element("command", 0, "the program must not be empty");
  job.command = std::move(*command);

  auto dir = f.string("working_dir");
  if (dir && dir->empty()) f.fail("working_dir", "must not be empty");
  job.working_dir = dir ? existing_path(f, "working_dir", resolve(base_dir, *dir), true, check)
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

}  // namespace

JobSpec parse_job_spec(const std::string& origin, std::string_view text, const fs::path& base_dir,
                       PathCheck check, std::string_view default_name) {
  JsonSource source(origin, text);
  JobFields f(source);
  JobSpec spec;

  auto kind = f.string("kind");
  if (!kind) f.fail("kind", "missing (\"distill\" or \"command\")");
  if (*kind == "distill") {
    spec.details = parse_distill(f, base_dir, check);
  } else if (*kind == "command") {
    spec.details = parse_command(f, base_dir, check);
  } else {
    f.fail("kind", "expected \"distill\" or \"command\", got " + json_quoted(*kind));
  }

  auto name = f.string("name");
  if (name && name->empty()) f.fail("name", "must not be empty");
  if (name) {
    spec.name = *name;
  } else {
    spec.name = default_name.empty() ? path_utf8(from_utf8(origin).stem()) : default_name;
  }
  f.reject_unknown();
  return spec;
}

std::string make_job_id(std::string_view stem, std::string_view content) {
  // FNV-1a, 64 bit: the same everywhere, no dependency; 32 bits shown are plenty to tell
  // versions of one file apart.
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : content) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::string id = std::string(stem) + "-";
  for (int shift = 60; shift >= 32; shift -= 4) id += "0123456789abcdef"[(h >> shift) & 0xf];
  return id;
}

std::string job_stem(std::string_view id) {
  // Where "-<8 hex digits>" ends `s`, the length before it.
  auto before_hash = [](std::string_view s) -> std::optional<std::size_t> {
    if (s.size() < 9 || s[s.size() - 9] != '-') return std::nullopt;
    for (char c : s.substr(s.size() - 8)) {
      if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return std::nullopt;
    }
    return s.size() - 9;
  };
  if (auto n = before_hash(id)) return std::string(id.substr(0, *n));
  auto dash = id.rfind('-');
  if (dash != std::string_view::npos && dash + 1 < id.size() &&
      id.find_first_not_of("0123456789", dash + 1) == std::string_view::npos) {
    if (auto n = before_hash(id.substr(0, dash))) return std::string(id.substr(0, *n));
  }
  return std::string(id);
}

}  // namespace tandem::jobs
