// status, url, wait: read-only questions, answered from the SCM, the registry publication and
// the resolver's verification (the same one TandemTrainer uses).
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/win32/error.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/trainer_registry.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

nlohmann::json service_json(const win32::ScManager& scm, const char* name) {
  auto service = win32::Service::try_open(scm, name, SERVICE_QUERY_STATUS);
  if (!service) return {{"name", name}, {"installed", false}};
  auto status = service->query();
  return {{"name", name},
          {"installed", true},
          {"state", std::string(win32::to_string(status.state))},
          {"pid", status.pid}};
}

}  // namespace

int status_command(Args& args) {
  const bool as_json = args.flag("--json");
  args.done();
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
  if (auto t = win32::read_trainer_registry()) {
    out["trainer"] = {{"state", t->state},           {"job", t->job},
                      {"items_done", t->items_done}, {"items_total", t->items_total},
                      {"jobs_done", t->jobs_done},   {"jobs_failed", t->jobs_failed},
                      {"last_error", t->last_error}, {"server_url", t->server_url}};
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
    if (out.contains("trainer")) {
      const auto& t = out["trainer"];
      std::string job = t["job"].get<std::string>();
      if (!job.empty()) {
        job = " " + job + " " + std::to_string(t["items_done"].get<unsigned>()) + "/" +
              std::to_string(t["items_total"].get<unsigned>());
      }
      std::printf("trainer        %s%s (jobs done %u, failed %u)\n",
                  t["state"].get<std::string>().c_str(), job.c_str(),
                  t["jobs_done"].get<unsigned>(), t["jobs_failed"].get<unsigned>());
      if (!t["last_error"].get<std::string>().empty()) {
        std::printf("last error     %s\n", t["last_error"].get<std::string>().c_str());
      }
    }
  }
  return live ? kOk : kNotReady;
}

int url_command(Args& args) {
  args.done();
  std::string why;
  auto live = win32::LlmResolver().resolve(why);
  if (!live) {
    std::fprintf(stderr, "tandemctl: no live TandemLlm endpoint: %s\n", why.c_str());
    return kNotReady;
  }
  std::printf("%s\n", live->url.c_str());
  return kOk;
}

int wait_command(Args& args) {
  auto timeout = args.option("--timeout");
  args.done();
  const long seconds = timeout ? parse_seconds("--timeout", *timeout) : 60;
  try {
    auto live = win32::LlmResolver().wait_ready(std::chrono::seconds(seconds), {});
    std::printf("%s\n", live.url.c_str());
    return kOk;
  } catch (const win32::Win32Error&) {
    throw;
  } catch (const Error& e) {
    std::fprintf(stderr, "tandemctl: %s\n", e.what());
    return kNotReady;
  }
}

}  // namespace tandem::ctl
