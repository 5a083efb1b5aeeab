// The job file parser (syntax only: PathCheck::skip): any text either gives a job whose fields
// are inside their documented ranges, and whose paths written absolute parse to the same paths,
// or throws InputError naming "<file>:<line>" — never anything else.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/spool/job_spec.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tandem::spool;

void check(const DistillSpec& d) {
  TANDEM_FUZZ_CHECK(d.labels.size() >= 2 && d.labels.size() <= 64, std::to_string(d.labels.size()));
  std::set<std::string> distinct(d.labels.begin(), d.labels.end());
  TANDEM_FUZZ_CHECK(distinct.size() == d.labels.size(), "duplicate labels");
  for (const auto& l : d.labels) TANDEM_FUZZ_CHECK(!l.empty(), "empty label");
  TANDEM_FUZZ_CHECK(d.prompt_template.find("{text}") != std::string::npos, d.prompt_template);
  TANDEM_FUZZ_CHECK(d.dataset.is_absolute(), d.dataset.string());
  TANDEM_FUZZ_CHECK(d.epochs >= 1, std::to_string(d.epochs));
  TANDEM_FUZZ_CHECK(d.holdout_fraction >= 0 && d.holdout_fraction < 1,
                    std::to_string(d.holdout_fraction));
}

void check(const CommandSpec& c) {
  TANDEM_FUZZ_CHECK(!c.command.empty(), "command job without a command");
  TANDEM_FUZZ_CHECK(c.working_dir.is_absolute(), c.working_dir.string());
  TANDEM_FUZZ_CHECK(c.max_restarts >= 0, std::to_string(c.max_restarts));
}

void check(const FinetuneSpec& f) {
  TANDEM_FUZZ_CHECK(f.base_model.is_absolute(), f.base_model.string());
  TANDEM_FUZZ_CHECK(f.dataset.is_absolute(), f.dataset.string());
  TANDEM_FUZZ_CHECK(f.output_dir.empty() || f.output_dir.is_absolute(), f.output_dir.string());
  TANDEM_FUZZ_CHECK(!f.output_model.empty(), "finetune job without an output_model");
  TANDEM_FUZZ_CHECK(f.epochs >= 1, std::to_string(f.epochs));
}

bool same_paths(const FinetuneSpec& a, const FinetuneSpec& b) {
  return a.base_model == b.base_model && a.dataset == b.dataset && a.output_dir == b.output_dir;
}

bool same_paths(const DistillSpec& a, const DistillSpec& b) {
  return a.dataset == b.dataset;
}

bool same_paths(const CommandSpec& a, const CommandSpec& b) {
  return a.working_dir == b.working_dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "job.json";
  try {
    JobSpec spec = parse_job_spec(origin, text, "/jobs/inbox", PathCheck::skip);
    TANDEM_FUZZ_CHECK(!spec.name.empty(), "a job without a name");
    std::visit([](const auto& kind) { check(kind); }, spec.kind);
    // What submit writes parses again, elsewhere, to the same paths and kind.
    const std::string absolute = spec.with_absolute_paths(text);
    JobSpec again = parse_job_spec(origin, absolute, "/elsewhere", PathCheck::skip);
    TANDEM_FUZZ_CHECK(again.kind.index() == spec.kind.index(), absolute);
    std::visit(
        [&](const auto& kind) {
          using Kind = std::decay_t<decltype(kind)>;
          TANDEM_FUZZ_CHECK(same_paths(kind, *again.as<Kind>()), absolute);
        },
        spec.kind);
  } catch (const tandem::InputError& e) {
    const std::string what = e.what();
    TANDEM_FUZZ_CHECK(tandem::fuzz::names_place(e.where(), origin), what);
    TANDEM_FUZZ_CHECK(what.size() > e.where().size() + 2, what);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("not an InputError: ") + e.what());
  }
  return 0;
}
