// Both config parsers: any text gives values inside the documented ranges or an InputError
// naming "<file>:<line>" — the Event Log entry a person reads — and never anything else.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/error.h"
#include "fuzz/fuzz_check.h"

namespace {

template <typename Parse, typename Check>
void run(Parse parse, Check check, const std::string& origin, std::string_view text) {
  try {
    check(parse(origin, text));
  } catch (const tandem::InputError& e) {
    const std::string what = e.what();
    TANDEM_FUZZ_CHECK(tandem::fuzz::names_place(e.where(), origin), what);
    TANDEM_FUZZ_CHECK(what.size() > e.where().size() + 2, what);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("not an InputError: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  run(
      tandem::parse_llm_server_config,
      [](const tandem::LlmServerConfig& c) {
        TANDEM_FUZZ_CHECK(c.port >= 1 && c.port_range >= 1 && c.port + c.port_range - 1 <= 65535,
                          std::to_string(c.port) + "+" + std::to_string(c.port_range));
        TANDEM_FUZZ_CHECK(c.parallel >= 1 && c.ctx_size >= 64 && c.threads >= 0,
                          std::to_string(c.parallel));
        TANDEM_FUZZ_CHECK(c.max_body_bytes >= 1024, std::to_string(c.max_body_bytes));
        TANDEM_FUZZ_CHECK(tandem::is_log_level(c.log_level), c.log_level);
      },
      "llm-server.json", text);
  run(
      tandem::parse_trainer_config,
      [](const tandem::TrainerConfig& c) {
        TANDEM_FUZZ_CHECK(c.connect_timeout_ms >= 1 && c.read_timeout_ms >= 1 &&
                              c.resolve_timeout_ms >= 0 && c.max_retries >= 0,
                          std::to_string(c.connect_timeout_ms));
        TANDEM_FUZZ_CHECK(tandem::is_log_level(c.log_level), c.log_level);
      },
      "trainer.json", text);
  return 0;
}
