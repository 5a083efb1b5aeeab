#include "common/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_llm_server_config("llm-server.json", text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LlmServerConfig, MissingFileMeansDefaults) {
  testing::TempDir dir;
  LlmServerConfig c = load_llm_server_config(dir / "absent.json");
  EXPECT_EQ(c.port, 8030);
  EXPECT_EQ(c.port_range, 20);
  EXPECT_TRUE(c.model.empty());
  EXPECT_EQ(c.gpu.n_gpu_layers, kGpuLayersAuto);
  EXPECT_FALSE(c.gpu.main_gpu);
  EXPECT_TRUE(c.gpu.devices.empty());
}

TEST(LlmServerConfig, ReadsEveryKey) {
  LlmServerConfig c = parse_llm_server_config("x", R"({
    "model": "C:\\models\\m.gguf", "port": 9000, "port_range": 5, "threads": 2,
    "ctx_size": 4096, "parallel": 4, "queue_limit": 8, "max_body_bytes": 4096, "cache_ram_mib": 0,
    "api_key_file": "key.txt", "log_level": "debug",
    "cors_origins": ["http://localhost:3000", "*"], "n_gpu_layers": 12, "main_gpu": 1,
    "devices": ["Vulkan0", "Vulkan1"]})");
  EXPECT_EQ(c.model, "C:\\models\\m.gguf");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.port_range, 5);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.ctx_size, 4096);
  EXPECT_EQ(c.parallel, 4);
  EXPECT_EQ(c.queue_limit, 8);
  EXPECT_EQ(c.cache_ram_mib, 0);
  EXPECT_EQ(c.max_body_bytes, 4096);
  EXPECT_EQ(c.api_key_file, "key.txt");
  EXPECT_EQ(c.cors_origins, (std::vector<std::string>{"http://localhost:3000", "*"}));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.gpu.n_gpu_layers, 12);
  EXPECT_EQ(c.gpu.main_gpu, 1);
  EXPECT_EQ(c.gpu.devices, (std::vector<std::string>{"Vulkan0", "Vulkan1"}));
  EXPECT_EQ(parse_llm_server_config("x", R"({"n_gpu_layers": "auto"})").gpu.n_gpu_layers,
            kGpuLayersAuto);
  EXPECT_EQ(parse_llm_server_config("x", R"({"n_gpu_layers": 0})").gpu.n_gpu_layers, 0);
}

TEST(LlmServerConfig, ErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of("{\n \"port\": 0\n}"),
            "llm-server.json:2: field 'port': expected an integer from 1 to 65535, got 0");
  EXPECT_EQ(
      error_of("{\"cache_ram_mib\": -1}"),
      "llm-server.json:1: field 'cache_ram_mib': expected an integer from 0 to 1048576, got -1");
  EXPECT_EQ(error_of("{\"model\": 5}"),
            "llm-server.json:1: field 'model': expected a string, got a number");
  EXPECT_EQ(error_of("{\n\n \"log_level\": \"loud\"}"),
            "llm-server.json:3: field 'log_level': expected one of trace, debug, info, warning, "
            "error; got \"loud\"");
  EXPECT_EQ(error_of("{\"port\": 65530, \"port_range\": 20}"),
            "llm-server.json:1: field 'port_range': port 65530 plus 20 ports runs past 65535");
  EXPECT_EQ(error_of("{\"parralel\": 2}"),
            "llm-server.json:1: field 'parralel': unknown field (did you mean 'parallel'?)");
  EXPECT_EQ(error_of("{\"port\": 8030,}").rfind("llm-server.json:1:", 0), 0u);
  EXPECT_EQ(error_of("{\"cors_origins\": [\n \"http://a\",\n 7]}"),
            "llm-server.json:3: field 'cors_origins[1]': expected a string, got a number");
  EXPECT_EQ(error_of("{\"cors_origins\": \"http://a\"}"),
            "llm-server.json:1: field 'cors_origins': expected an array of strings, got a string");
  const std::string layers_expected =
      "expected \"auto\" or a number of layers from 0 (CPU only) to 100000";
  EXPECT_EQ(error_of("{\"n_gpu_layers\": -1}"),
            "llm-server.json:1: field 'n_gpu_layers': " + layers_expected + ", got -1");
  EXPECT_EQ(error_of("{\"n_gpu_layers\": \"max\"}"),
            "llm-server.json:1: field 'n_gpu_layers': " + layers_expected + ", got \"max\"");
  EXPECT_EQ(error_of("{\"n_gpu_layers\": 1.5}"),
            "llm-server.json:1: field 'n_gpu_layers': " + layers_expected + ", got 1.5");
  EXPECT_EQ(error_of("{\"main_gpu\": -1}"),
            "llm-server.json:1: field 'main_gpu': expected an integer from 0 to 63, got -1");
  EXPECT_EQ(error_of("{\"devices\": \"Vulkan0\"}"),
            "llm-server.json:1: field 'devices': expected an array of strings, got a string");
  EXPECT_EQ(error_of("{\"devices\": [\"\"]}"),
            "llm-server.json:1: field 'devices': expected device names like \"Vulkan0\", got \"\"");
  for (const char* bad : {"localhost:3000", "http://a/", "http://a/app", "http://", "://a"}) {
    EXPECT_EQ(error_of(std::string("{\"cors_origins\": [\"") + bad + "\"]}"),
              std::string("llm-server.json:1: field 'cors_origins': expected origins like "
                          "\"http://localhost:3000\" or \"*\", got \"") +
                  bad + "\"");
  }
}

TEST(LlmServerConfig, LoadNamesTheFile) {
  testing::TempDir dir;
  write_file_atomically(dir / "llm-server.json", "{\"threads\": -1}");
  try {
    load_llm_server_config(dir / "llm-server.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("llm-server.json:1: field 'threads'"), std::string::npos)
        << e.what();
  }
}

TEST(TrainerConfig, ReadsKeysAndRejectsBadOnes) {
  TrainerConfig c = parse_trainer_config(
      "t", R"({"connect_timeout_ms": 500, "read_timeout_ms": 9000, "max_retries": 3})");
  EXPECT_EQ(c.connect_timeout_ms, 500);
  EXPECT_EQ(c.read_timeout_ms, 9000);
  EXPECT_EQ(c.max_retries, 3);
  EXPECT_THROW(parse_trainer_config("t", R"({"connect_timeout_ms": 0})"), InputError);
  EXPECT_THROW(parse_trainer_config("t", R"({"max_retries": 1.5})"), InputError);
}

}  // namespace
}  // namespace tandem
