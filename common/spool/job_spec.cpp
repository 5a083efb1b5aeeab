#include "common/spool/job_spec.h"

#include <vector>

#include "common/files.h"
#include "common/json_source.h"

namespace tandem::spool {
namespace fs = std::filesystem;
namespace {

template <class... Kinds>
std::vector<std::string_view> kinds_of(std::variant<Kinds...>*) {
  return {Kinds::kKind...};
}

// "\"distill\" or \"command\"": every kind, for messages.
std::string kind_names() {
  const std::vector<std::string_view> names = kinds_of(static_cast<JobKind*>(nullptr));
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += json_quoted(std::string(names[i]));
  }
  return out;
}

// The alternative of JobKind whose kKind is `name`, parsed from `f`.
template <std::size_t I = 0>
JobKind parse_kind(JobFields& f, const std::string& name, const fs::path& base_dir,
                   PathCheck check) {
  if constexpr (I == std::variant_size_v<JobKind>) {
    f.fail("kind", "expected " + kind_names() + ", got " + json_quoted(name));
  } else {
    using Kind = std::variant_alternative_t<I, JobKind>;
    if (name == Kind::kKind) return Kind::parse(f, base_dir, check);
    return parse_kind<I + 1>(f, name, base_dir, check);
  }
}

}  // namespace

std::string_view JobSpec::kind_name() const {
  return std::visit([](const auto& spec) { return std::decay_t<decltype(spec)>::kKind; }, kind);
}

std::string JobSpec::with_absolute_paths(std::string_view text) const {
  // Parsed already, so it is a JSON object; ordered keeps the person's layout.
  auto job = nlohmann::ordered_json::parse(text);
  std::visit([&job](const auto& spec) { spec.write_absolute_paths(job); }, kind);
  return job.dump(2) + "\n";
}

JobSpec parse_job_spec(const std::string& origin, std::string_view text, const fs::path& base_dir,
                       PathCheck check, std::string_view default_name) {
  JsonSource source(origin, text);
  JobFields f(source);
  JobSpec spec;

  auto kind = f.string("kind");
  if (!kind) f.fail("kind", "missing (" + kind_names() + ")");
  spec.kind = parse_kind(f, *kind, base_dir, check);

  auto name = f.string("name");
  if (name && name->empty()) f.fail("name", "must not be empty");
  if (name) {
    spec.name = *name;
  } else {
    spec.name = default_name.empty() ? path_utf8(path_from_utf8(origin).stem()) : default_name;
  }
  f.reject_unknown();
  return spec;
}

}  // namespace tandem::spool
