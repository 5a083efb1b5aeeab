// tandemctl: what scripts and people use to ask about Tandem.
//   tandemctl status [--json]      services, publication, verification
//   tandemctl url                  the live, verified URL (what a training script calls)
//   tandemctl wait [--timeout S]   block until the server is ready, then print its URL
// Exit codes: 0 ok; 1 not ready / timed out; 2 bad arguments; 3 other error.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/strings.h"

namespace {

using namespace tandem;

constexpr int kOk = 0;
constexpr int kNotReady = 1;
constexpr int kUsage = 2;
constexpr int kFailed = 3;

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "tandemctl: %s\nusage: tandemctl status [--json] | url | wait [--timeout SECONDS]\n",
               problem.c_str());
  return kUsage;
}

nlohmann::json service_json(const win32::ScManager& scm, const char* name) {
  auto service = win32::Service::try_open(scm, name, SERVICE_QUERY_STATUS);
  if (!service) return {{"name", name}, {"installed", false}};
  auto status = service->query();
  return {{"name", name},
          {"installed", true},
          {"state", std::string(win32::to_string(status.state))},
          {"pid", status.pid}};
}

int status(bool as_json) {
  auto scm = win32::ScManager::open();
  nlohmann::json out;
  out["services"] = {service_json(scm, "TandemLlm"), service_json(scm, "TandemTrainer")};
  auto published = win32::read_publication(win32::kLlmServerKey);
  if (published) {
    out["llm"] = {{"state", std::string(discovery::state_name(published->state))},
                  {"port", published->port},
                  {"url", published->url},
                  {"pid", published->pid},
                  {"instance", published->instance_id},
                  {"model", published->model},
                  {"started_at", published->started_at}};
    if (published->model == "tandem-tiny") {
      out["llm"]["note"] = "test model: output is meaningless - set `model` in llm-server.json";
    }
  }
  std::string why;
  auto live = win32::LlmResolver().resolve(why);
  out["verified"] = live.has_value();
  if (!live) out["problem"] = why;
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& s : out["services"]) {
      std::printf("%-14s %s%s\n", s["name"].get<std::string>().c_str(),
                  s["installed"] ? s["state"].get<std::string>().c_str() : "not installed",
                  s.value("pid", 0u)
                      ? (" (pid " + std::to_string(s["pid"].get<unsigned>()) + ")").c_str()
                      : "");
    }
    if (out.contains("llm")) {
      const auto& l = out["llm"];
      std::printf("endpoint       %s %s\nmodel          %s%s\ninstance       %s\n",
                  l["state"].get<std::string>().c_str(), l["url"].get<std::string>().c_str(),
                  l["model"].get<std::string>().c_str(),
                  l.contains("note") ? (" (" + l["note"].get<std::string>() + ")").c_str() : "",
                  l["instance"].get<std::string>().c_str());
    }
    std::printf("verified       %s\n", live ? "yes" : ("no: " + why).c_str());
  }
  return live ? kOk : kNotReady;
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  // Progress and reasons go to stderr, so stdout holds only the answer (`url`, `wait`).
  log::Options log_options;
  log_options.console = true;
  log::init(log_options);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(win32::narrow(argv[i]));
  if (args.empty()) return usage("no command");
  const std::string command = args[0];
  try {
    if (command == "status") {
      if (args.size() > 2 || (args.size() == 2 && args[1] != "--json")) {
        return usage("status takes only --json");
      }
      return status(args.size() == 2);
    }
    if (command == "url") {
      if (args.size() != 1) return usage("url takes no arguments");
      std::string why;
      auto live = win32::LlmResolver().resolve(why);
      if (!live) {
        std::fprintf(stderr, "tandemctl: no live TandemLlm endpoint: %s\n", why.c_str());
        return kNotReady;
      }
      std::printf("%s\n", live->url.c_str());
      return kOk;
    }
    if (command == "wait") {
      long seconds = 60;
      if (args.size() == 3 && args[1] == "--timeout") {
        char* end = nullptr;
        seconds = std::strtol(args[2].c_str(), &end, 10);
        if (*end != '\0' || seconds < 0 || seconds > 86400) {
          return usage("--timeout takes whole seconds from 0 to 86400, got '" + args[2] + "'");
        }
      } else if (args.size() != 1) {
        return usage("wait takes only --timeout SECONDS");
      }
      try {
        auto live = win32::LlmResolver().wait_ready(std::chrono::seconds(seconds), {});
        std::printf("%s\n", live.url.c_str());
        return kOk;
      } catch (const Error& e) {
        std::fprintf(stderr, "tandemctl: %s\n", e.what());
        return kNotReady;
      }
    }
    return usage("unknown command '" + command + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandemctl: %s\n", e.what());
    return kFailed;
  }
}
