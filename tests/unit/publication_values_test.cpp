#include "common/discovery/publication_values.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "common/error.h"
#include "tests/support/recording_store.h"

namespace tandem::discovery {
namespace {

using testing::RecordingStore;

Endpoint endpoint() {
  Endpoint e;
  e.port = 8031;
  e.url = "http://127.0.0.1:8031";
  e.pid = 1234;
  e.instance_id = "{GUID}";
  e.pipe_name = "\\\\.\\pipe\\tandem-llm";
  e.model = "tiny";
  e.started_at = "2024-05-01T10:00:00Z";
  return e;
}

TEST(PublicationValues, ReadyWritesStateLast) {
  RecordingStore store;
  write_ready(store, endpoint());
  const std::vector<std::string> expected = {"set Port=8031",
                                             "set Url=http://127.0.0.1:8031",
                                             "set Pid=1234",
                                             "set InstanceId={GUID}",
                                             "set PipeName=\\\\.\\pipe\\tandem-llm",
                                             "set Model=tiny",
                                             "set LoadedModels=",
                                             "set StartedAt=2024-05-01T10:00:00Z",
                                             "set CpuVariant=",
                                             "set CpuFeatures=",
                                             "set Devices=[]",
                                             "set ProtocolVersion=1",
                                             "set State=ready"};
  EXPECT_EQ(store.log, expected);
}

TEST(PublicationValues, StartingSetsStateFirstAndDeletesTheAddress) {
  RecordingStore store;
  write_ready(store, endpoint());
  store.log.clear();
  write_starting(store, endpoint());
  ASSERT_GE(store.log.size(), 3u);
  EXPECT_EQ(store.log[0], "set State=starting");
  EXPECT_EQ(store.log[1], "delete Port");
  EXPECT_EQ(store.log[2], "delete Url");
  EXPECT_FALSE(store.get_dword("Port"));
  EXPECT_FALSE(store.get_string("Url"));
  EXPECT_EQ(store.get_dword("Pid"), 1234u);
  EXPECT_EQ(store.get_dword("ProtocolVersion"), 1u);
}

TEST(PublicationValues, WithdrawGoesStoppingThenStopped) {
  RecordingStore store;
  write_ready(store, endpoint());
  store.log.clear();
  write_withdrawn(store);
  const std::vector<std::string> expected = {"set State=stopping", "delete Port", "delete Url",
                                             "set State=stopped"};
  EXPECT_EQ(store.log, expected);
}

TEST(PublicationValues, ReadyWithoutPortWritesNothing) {
  RecordingStore store;
  Endpoint e = endpoint();
  e.port = 0;
  EXPECT_THROW(write_ready(store, e), Error);
  EXPECT_TRUE(store.log.empty());
}

TEST(PublicationValues, ReadsBackWhatWasWritten) {
  RecordingStore store;
  EXPECT_FALSE(read_endpoint(store, "HKLM\\X"));
  auto written = endpoint();
  written.loaded_models = {"tiny", "qwen2.5-7b"};
  written.cpu_variant = "haswell";
  written.cpu_features = "AVX AVX2 FMA";
  written.devices = {{"CPU", "Intel(R) Core(TM) i7", "cpu", 1u << 30, 4ull << 30},
                     {"Vulkan0", "Radeon \"RX\" 7600", "gpu", 0, 8ull << 30}};
  write_ready(store, written);
  auto e = read_endpoint(store, "HKLM\\X");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::ready);
  EXPECT_EQ(e->port, 8031);
  EXPECT_EQ(e->url, "http://127.0.0.1:8031");
  EXPECT_EQ(e->addresses, loopback_addresses());
  EXPECT_EQ(e->pid, 1234u);
  EXPECT_EQ(e->instance_id, "{GUID}");
  EXPECT_EQ(e->pipe_name, "\\\\.\\pipe\\tandem-llm");
  EXPECT_EQ(e->model, "tiny");
  EXPECT_EQ(e->loaded_models, written.loaded_models);
  EXPECT_EQ(e->started_at, "2024-05-01T10:00:00Z");
  EXPECT_EQ(e->cpu_variant, "haswell");
  EXPECT_EQ(e->cpu_features, "AVX AVX2 FMA");
  EXPECT_EQ(e->devices, written.devices);
  EXPECT_EQ(e->protocol_version, 1);
  write_withdrawn(store);
  e = read_endpoint(store, "HKLM\\X");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::stopped);
  EXPECT_EQ(e->port, 0);
}

TEST(PublicationValues, BrokenValuesAreErrorsNamingKeyAndValue) {
  RecordingStore store;
  store.set_string("State", "running");
  try {
    read_endpoint(store, "HKLM\\SOFTWARE\\Tandem\\LlmServer");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "HKLM\\SOFTWARE\\Tandem\\LlmServer: value 'State': expected starting, ready, "
                 "stopping or stopped; got \"running\"");
  }
  store.set_string("State", "ready");
  try {
    read_endpoint(store, "K");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "K: value 'Port': State is ready but Port is missing");
  }
  store.set_dword("Port", 70000);
  EXPECT_THROW(read_endpoint(store, "K"), Error);
  store.set_dword("Port", 8031);
  store.set_string("Url", "http://127.0.0.1:8031");
  store.set_string("Devices", R"([{"name":"CPU","memory_total":"lots"}])");
  try {
    read_endpoint(store, "K");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "K: value 'Devices'[0].memory_total: expected a byte count");
  }
  store.set_string("Devices", "[{");
  EXPECT_THROW(read_endpoint(store, "K"), Error);
}

}  // namespace
}  // namespace tandem::discovery
