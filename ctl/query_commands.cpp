// status, url, wait: read-only questions, answered from the service manager, the server's
// publication and the resolver's verification (the same one TandemTrainer uses).
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/byte_size.h"
#include "common/discovery/compute_devices.h"
#include "common/error.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

nlohmann::json service_json(ServiceManager& services, const std::string& name) {
  auto service = services.open(name, ServiceManager::Access::query);
  if (!service) return {{"name", name}, {"installed", false}};
  const ServiceInfo info = service->query();
  return {{"name", name},
          {"installed", true},
          {"state", std::string(to_string(info.state))},
          {"pid", info.pid}};
}

// Both services' rows; with no service manager here, each says why its state is unknown.
nlohmann::json services_json(Platform& p) {
  try {
    auto services = p.open_services();
    return {service_json(*services, p.llm_service), service_json(*services, p.trainer_service)};
  } catch (const ServiceManagerUnavailable& e) {
    return {{{"name", p.llm_service}, {"problem", e.what()}},
            {{"name", p.trainer_service}, {"problem", e.what()}}};
  }
}

std::string service_line(const nlohmann::json& s) {
  std::string state = s.contains("problem") ? "unknown: " + s["problem"].get<std::string>()
                      : s["installed"]      ? s["state"].get<std::string>()
                                            : "not installed";
  if (s.value("pid", 0u) != 0) state += " (pid " + std::to_string(s["pid"].get<unsigned>()) + ")";
  return state;
}

nlohmann::json trainer_json(const TrainerStatus& t) {
  return {{"state", t.state},
          {"job", t.job},
          {"items_done", t.items_done},
          {"items_total", t.items_total},
          {"jobs_done", t.jobs_done},
          {"jobs_failed", t.jobs_failed},
          {"last_error", t.last_error},
          {"server_url", t.server_url},
          {"training", describe_training(t.training)}};
}

// "Vulkan0: NVIDIA GeForce RTX 3060 (gpu, 9.1 GiB free of 12.0 GiB), 29 layers of the default
// model"
std::string device_line(const nlohmann::json& d) {
  return d["name"].get<std::string>() + ": " + d["description"].get<std::string>() + " (" +
         d["type"].get<std::string>() + ", " +
         byte_size_text(d["memory_free"].get<std::uint64_t>()) + " free of " +
         byte_size_text(d["memory_total"].get<std::uint64_t>()) + ")" +
         (d.value("layers", 0) > 0
              ? ", " + std::to_string(d.value("layers", 0)) + " layers of the default model"
              : std::string());
}

void print_text(Platform& p, const nlohmann::json& out, bool verified, const std::string& why) {
  for (const auto& s : out["services"]) {
    std::fprintf(p.out, "%-14s %s\n", s["name"].get<std::string>().c_str(),
                 service_line(s).c_str());
  }
  if (out.contains("llm")) {
    const auto& l = out["llm"];
    std::fprintf(p.out, "endpoint       %s %s\nmodel          %s%s\ninstance       %s\n",
                 l["state"].get<std::string>().c_str(), l["url"].get<std::string>().c_str(),
                 l["model"].get<std::string>().c_str(),
                 l.contains("note") ? (" (" + l["note"].get<std::string>() + ")").c_str() : "",
                 l["instance"].get<std::string>().c_str());
    std::string loaded;
    for (const auto& id : l["loaded_models"]) {
      loaded += (loaded.empty() ? "" : ", ") + id.get<std::string>();
    }
    if (!loaded.empty()) std::fprintf(p.out, "loaded models  %s\n", loaded.c_str());
    if (!l["cpu_variant"].get<std::string>().empty()) {
      std::fprintf(p.out, "cpu variant    %s (%s)\n", l["cpu_variant"].get<std::string>().c_str(),
                   l["cpu_features"].get<std::string>().c_str());
    }
    for (const auto& d : l["devices"]) {
      std::fprintf(p.out, "device         %s\n", device_line(d).c_str());
    }
  }
  std::fprintf(p.out, "verified       %s\n", verified ? "yes" : ("no: " + why).c_str());
  if (out.contains("trainer")) {
    const auto& t = out["trainer"];
    std::string job = t["job"].get<std::string>();
    if (!job.empty()) {
      job = " " + job + " " + std::to_string(t["items_done"].get<std::int64_t>()) + "/" +
            std::to_string(t["items_total"].get<std::int64_t>());
      const std::string figures = t.value("training", std::string());
      if (!figures.empty()) job += " (" + figures + ")";
    }
    std::fprintf(p.out, "trainer        %s%s (jobs done %s, failed %s)\n",
                 t["state"].get<std::string>().c_str(), job.c_str(),
                 std::to_string(t["jobs_done"].get<std::int64_t>()).c_str(),
                 std::to_string(t["jobs_failed"].get<std::int64_t>()).c_str());
    if (!t["last_error"].get<std::string>().empty()) {
      std::fprintf(p.out, "last error     %s\n", t["last_error"].get<std::string>().c_str());
    }
  }
}

}  // namespace

int status_command(Args& args, Platform& p) {
  const bool as_json = args.flag("--json");
  args.done();
  nlohmann::json out;
  out["services"] = services_json(p);
  if (auto published = p.read_publication()) {
    out["llm"] = {{"state", std::string(discovery::state_name(published->state))},
                  {"port", published->port},
                  {"url", published->url},
                  {"pid", published->pid},
                  {"instance", published->instance_id},
                  {"model", published->model},
                  {"loaded_models", published->loaded_models},
                  {"started_at", published->started_at},
                  {"cpu_variant", published->cpu_variant},
                  {"cpu_features", published->cpu_features},
                  {"devices", discovery::devices_json(published->devices)}};
    if (published->model == "tandem-tiny") {
      out["llm"]["note"] = "test model: output is meaningless - set `model` in llm-server.json";
    }
  }
  if (auto t = p.read_trainer_status()) out["trainer"] = trainer_json(*t);
  std::string why;
  auto live = p.make_resolver()->resolve(why);
  out["verified"] = live.has_value();
  if (!live) out["problem"] = why;
  if (as_json) {
    std::fprintf(p.out, "%s\n", out.dump(2).c_str());
  } else {
    print_text(p, out, live.has_value(), why);
  }
  return live ? kOk : kNotReady;
}

std::optional<discovery::Endpoint> live_endpoint(Platform& p) {
  std::string why;
  auto live = p.make_resolver()->resolve(why);
  if (!live) std::fprintf(p.err, "tandemctl: no live TandemLlm endpoint: %s\n", why.c_str());
  return live;
}

int url_command(Args& args, Platform& p) {
  args.done();
  auto live = live_endpoint(p);
  if (!live) return kNotReady;
  std::fprintf(p.out, "%s\n", live->url.c_str());
  return kOk;
}

int wait_command(Args& args, Platform& p) {
  auto timeout = args.option("--timeout");
  args.done();
  const long seconds = timeout ? parse_seconds("--timeout", *timeout) : 60;
  try {
    auto live = p.make_resolver()->wait_ready(std::chrono::seconds(seconds), p.stop);
    std::fprintf(p.out, "%s\n", live.url.c_str());
    return kOk;
  } catch (const SystemError&) {
    throw;
  } catch (const Error& e) {
    std::fprintf(p.err, "tandemctl: %s\n", e.what());
    return kNotReady;
  }
}

}  // namespace tandem::ctl
