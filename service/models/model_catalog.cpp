#include "service/models/model_catalog.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/files.h"
#include "common/json_fields.h"

namespace tandem::models {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_projector(const std::string& stem) {
  return lower(stem).find("mmproj") != std::string::npos;
}

// llama.cpp's gguf-split naming: <name>-00001-of-00003.
struct SplitName {
  std::string name;
  int part = 0;
  int count = 0;
};

std::optional<SplitName> split_name(const std::string& stem) {
  static const std::regex pattern(R"((.+)-(\d{5})-of-(\d{5}))");
  std::smatch m;
  if (!std::regex_match(stem, m, pattern)) return std::nullopt;
  return SplitName{m[1].str(), std::stoi(m[2].str()), std::stoi(m[3].str())};
}

}  // namespace

std::map<std::string, ModelSettings> parse_models_file(const std::string& origin,
                                                       const std::string& text) {
  JsonSource source(origin, text);
  if (!source.root().is_object()) {
    throw InputError(source.where(""), "expected an object of model ids, each with its settings");
  }
  std::map<std::string, ModelSettings> out;
  for (const auto& [id, value] : source.root().items()) {
    const std::string pointer = json_pointer_child("", id);
    if (!value.is_object()) {
      throw InputError(
          source.where(pointer),
          "model '" + id + "': expected an object of settings, got " + json_type_name(value));
    }
    ObjectReader r(source, pointer);
    ModelSettings s;
    if (auto v = r.integer("ctx_size", 64, 1 << 20)) s.ctx_size = static_cast<int>(*v);
    if (auto v = r.integer("parallel", 1, 64)) s.parallel = static_cast<int>(*v);
    s.keep_alive = r.keep_alive("keep_alive");
    s.n_gpu_layers = r.gpu_layers("n_gpu_layers");
    if (auto a = r.strings("aliases")) s.aliases = std::move(*a);
    r.reject_unknown();
    out.emplace(id, std::move(s));
  }
  return out;
}

Catalog scan_models(const std::filesystem::path& folder, const StillWritten& still_written) {
  Catalog catalog;
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) return catalog;
  std::map<std::string, ModelSettings> settings;
  if (auto text = read_file_if_exists(folder / "models.json")) {
    settings = parse_models_file(path_utf8(folder / "models.json"), *text);
  }
  std::map<std::string, CatalogEntry> found;
  struct Parts {
    int count = 0;  // as the file names say
    int seen = 0;
  };
  std::map<std::string, Parts> parts;  // split models
  for (const auto& item : std::filesystem::directory_iterator(folder, ec)) {
    const auto& path = item.path();
    if (lower(path.extension().string()) != ".gguf" || !item.is_regular_file(ec)) continue;
    const std::string stem = path_utf8(path.stem());
    if (is_projector(stem)) continue;
    if (still_written && still_written(path)) {
      catalog.skipped.push_back(path_utf8(path.filename()));
      continue;
    }
    const auto split = split_name(stem);
    const std::string id = split ? split->name : stem;
    CatalogEntry& e = found[id];
    e.id = id;
    e.bytes += item.file_size(ec);
    e.modified = std::max(e.modified, item.last_write_time(ec));
    if (!split || split->part == 1) e.file = path;
    if (split) {
      parts[id].count = split->count;
      ++parts[id].seen;
    }
  }
  for (auto& [id, e] : found) {
    if (auto p = parts.find(id);
        p != parts.end() && (p->second.seen != p->second.count || e.file.empty())) {
      e.problem = "split model with " + std::to_string(p->second.seen) + " of its " +
                  std::to_string(p->second.count) + " parts in the folder";
    }
    if (auto s = settings.find(id); s != settings.end()) e.settings = s->second;
    catalog.entries.push_back(std::move(e));
  }
  return catalog;
}

}  // namespace tandem::models
