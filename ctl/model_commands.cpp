// tandemctl models [--json] | models load NAME | models unload NAME: the server's models through
// its own HTTP API (GET /models, POST /models/load|unload) at the published endpoint, with the
// API key llm-server.json names.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/byte_size.h"
#include "common/config.h"
#include "common/error.h"
#include "common/http_client.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

// The server's error message, else the status.
std::string error_of(const HttpResult& r) {
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].contains("message")) {
    return body["error"]["message"].get<std::string>();
  }
  return "HTTP " + std::to_string(r.status);
}

void print_models(Platform& p, const nlohmann::json& models) {
  std::fprintf(p.out, "%-24s %-9s %12s  %s\n", "MODEL", "STATE", "SIZE", "NOTE");
  for (const auto& m : models) {
    std::string note = m.value("default", false) ? "default" : "";
    if (m["status"].contains("error")) {
      note += (note.empty() ? "" : "; ") + m["status"]["error"].get<std::string>();
    }
    std::fprintf(p.out, "%-24s %-9s %12s  %s\n", m["id"].get<std::string>().c_str(),
                 m["status"]["value"].get<std::string>().c_str(),
                 byte_size_text(m["size_bytes"].get<std::uint64_t>()).c_str(), note.c_str());
  }
}

}  // namespace

int models_command(Args& args, Platform& p) {
  const bool as_json = args.flag("--json");
  const auto action = args.positional();
  std::string name;
  if (action) {
    if (*action != "load" && *action != "unload") {
      throw UsageError("models: expected load or unload, got '" + *action + "'");
    }
    name = args.positional().value_or("");
    if (name.empty()) throw UsageError("models " + *action + ": the model's NAME is missing");
  }
  args.done();
  auto live = live_endpoint(p);
  if (!live) return kNotReady;
  HttpClientOptions options;
  options.api_key = read_api_key_file(load_llm_server_config(p.llm_config).api_key_file);
  HttpClient client(live->url, options);
  if (action) {
    const auto r = client.post_json("/models/" + *action, nlohmann::json{{"model", name}}.dump());
    if (r.status != 200) {
      std::fprintf(p.err, "tandemctl: models %s %s: %s\n", action->c_str(), name.c_str(),
                   error_of(r).c_str());
      return kFailed;
    }
    std::fprintf(p.out, "%s %s\n", name.c_str(), *action == "load" ? "loaded" : "unloaded");
    return kOk;
  }
  const auto r = client.get("/models");
  if (r.status != 200) {
    std::fprintf(p.err, "tandemctl: models: %s\n", error_of(r).c_str());
    return kFailed;
  }
  const auto models = nlohmann::json::parse(r.body)["data"];
  if (as_json) {
    std::fprintf(p.out, "%s\n", models.dump(2).c_str());
  } else {
    print_models(p, models);
  }
  return kOk;
}

}  // namespace tandem::ctl
