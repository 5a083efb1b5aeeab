// The resolver against the real TandemLlm body in this process, published through the Linux
// publisher: a wait started before the server blocks until it is ready and finds it; every
// check passes while it runs (with resolve's latency, P6, measured); after the stop nothing
// resolves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/posix/endpoint_publisher.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/runtime_dir.h"
#include "service/llm_service.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;

class QuietStatus final : public ServiceStatus {
 public:
  void starting(std::chrono::milliseconds) override {}
  void running() override {}
  void stopping(std::chrono::milliseconds) override {}
};

TEST(LlmResolverLive, WaitsForTheRealServerAndVerifiesEveryCheck) {
  testing::TempDir dir;
  const auto runtime = dir / "run";
  const std::uint16_t port = testing::find_free_ports(4);
  write_file_atomically(
      dir / "llm-server.json",
      nlohmann::json{{"port", port}, {"port_range", 4}, {"ctx_size", 256}, {"threads", 1}}.dump());
  posix::LlmResolver resolver(runtime);
  // Waiting first: the server does not exist yet.
  auto found = std::async(std::launch::async, [&] { return resolver.wait_ready(120s, {}); });
  EXPECT_EQ(found.wait_for(200ms), std::future_status::timeout);

  llm::ServiceOptions o;
  o.config_file = dir / "llm-server.json";
  o.default_model = testing::tiny_model_path();
  o.pipe_name = (runtime / posix::kLlmSocket).string();
  o.make_publisher = [runtime](const discovery::Endpoint& identity) {
    return std::make_unique<posix::EndpointPublisher>(runtime, identity);
  };
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] {
    QuietStatus status;
    return llm::run_llm_service(status, stop, o);
  });
  struct StopAtEnd {
    StopSignal& stop;
    ~StopAtEnd() { stop.request(); }
  } stop_at_end{stop};

  ASSERT_EQ(found.wait_for(120s), std::future_status::ready);
  const auto endpoint = found.get();
  EXPECT_EQ(endpoint.port, port);
  EXPECT_EQ(endpoint.pid, static_cast<std::uint32_t>(::getpid()));

  // P6: resolve() with every check (file, PID, socket + SO_PEERCRED, GET /health).
  std::vector<double> micros;
  std::string why;
  for (int i = 0; i < 1000; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = resolver.resolve(why);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(r) << why;
    ASSERT_EQ(r->instance_id, endpoint.instance_id);
  }
  std::sort(micros.begin(), micros.end());
  std::printf("P6 native resolve over 1000: p50 %.0f us, p99 %.0f us\n", micros[500], micros[990]);

  stop.request();
  ASSERT_EQ(run.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(run.get(), 0);
  EXPECT_FALSE(resolver.resolve(why));
  EXPECT_TRUE(why.find("has not published") != std::string::npos) << why;
  EXPECT_FALSE(std::filesystem::exists(runtime / posix::kLlmSocket));
}

}  // namespace
}  // namespace tandem
