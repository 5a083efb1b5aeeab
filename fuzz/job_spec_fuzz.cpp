// The job file parser (syntax only: PathCheck::skip): any text either gives a job whose fields
// are inside their documented ranges or throws InputError naming "<file>:<line>" — never
// anything else.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include "common/error.h"
#include "fuzz/fuzz_check.h"
#include "trainer/jobs/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tandem::jobs;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "job.json";
  try {
    JobSpec spec = parse_job_spec(origin, text, "/jobs/inbox", PathCheck::skip);
    TANDEM_FUZZ_CHECK(!spec.name.empty(), "a job without a name");
    if (const DistillJob* d = spec.distill()) {
      TANDEM_FUZZ_CHECK(d->labels.size() >= 2 && d->labels.size() <= 64,
                        std::to_string(d->labels.size()));
      std::set<std::string> distinct(d->labels.begin(), d->labels.end());
      TANDEM_FUZZ_CHECK(distinct.size() == d->labels.size(), "duplicate labels");
      for (const auto& l : d->labels) TANDEM_FUZZ_CHECK(!l.empty(), "empty label");
      TANDEM_FUZZ_CHECK(d->prompt_template.find("{text}") != std::string::npos, d->prompt_template);
      TANDEM_FUZZ_CHECK(d->dataset.is_absolute(), d->dataset.string());
      TANDEM_FUZZ_CHECK(d->epochs >= 1, std::to_string(d->epochs));
      TANDEM_FUZZ_CHECK(d->holdout_fraction >= 0 && d->holdout_fraction < 1,
                        std::to_string(d->holdout_fraction));
    } else {
      const CommandJob* c = spec.command();
      TANDEM_FUZZ_CHECK(c && !c->command.empty(), "command job without a command");
      TANDEM_FUZZ_CHECK(c->working_dir.is_absolute(), c->working_dir.string());
      TANDEM_FUZZ_CHECK(c->max_restarts >= 0, std::to_string(c->max_restarts));
    }
  } catch (const tandem::InputError& e) {
    const std::string what = e.what();
    TANDEM_FUZZ_CHECK(tandem::fuzz::names_place(e.where(), origin), what);
    TANDEM_FUZZ_CHECK(what.size() > e.where().size() + 2, what);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("not an InputError: ") + e.what());
  }
  return 0;
}
