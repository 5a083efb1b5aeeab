// TandemLlm's service body, the same under the SCM, in a console and on Linux: load config,
// bind both loopbacks, load the model, publish the endpoint, serve until asked to stop.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/discovery/endpoint.h"
#include "common/discovery/publisher.h"
#include "common/service_body.h"
#include "service/models/models_folder.h"

namespace tandem::llm {

using PublisherFactory =
    std::function<std::unique_ptr<discovery::Publisher>(const discovery::Endpoint& identity)>;

struct ServiceOptions {
  std::filesystem::path config_file;    // llm-server.json; missing means defaults
  std::filesystem::path default_model;  // the bundled test model, used when `model` is unset
  std::string pipe_name;                // \\.\pipe\tandem-llm (or a socket path)
  PublisherFactory make_publisher;
  std::filesystem::path models_dir;    // when llm-server.json names none; empty: no folder
  models::StillWritten still_written;  // a model file still being copied in
  models::MakeWatch make_watch;        // change notifications on the models folder
  // Free RAM for the fit check before a model loads; null: the system's.
  std::function<std::optional<std::uint64_t>()> available_memory;
};

int run_llm_service(ServiceStatus& status, StopSignal& stop, const ServiceOptions& options);

}  // namespace tandem::llm
