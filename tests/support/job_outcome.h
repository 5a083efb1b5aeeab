// What a finished distill job left behind, checked the same way for the Windows services (under
// Wine) and the Linux ones: its work folder, and each dataset item labelled exactly once.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "trainer/checkpoint/checkpoint.h"

namespace tandem::testing {

inline std::vector<nlohmann::json> jsonl(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// The finished job's work folder (done/<id>.work) for a job file named `name`.json.
inline std::filesystem::path done_work(const std::filesystem::path& jobs_folder,
                                       const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator(jobs_folder / "done")) {
    const auto file = entry.path().filename().string();
    if (file.rfind(name + "-", 0) == 0 && entry.path().extension() == ".work") return entry.path();
  }
  throw Error("no done/" + name + "-*.work");
}

// Every dataset id (t-0 .. t-<count-1>) labelled exactly once: in labels.jsonl and in the
// checkpoint; the student and its metrics written.
inline void expect_each_labelled_once(const std::filesystem::path& jobs_folder,
                                      const std::string& name, int count) {
  const auto work = done_work(jobs_folder, name);
  const auto labels = jsonl(read_file(work / "labels.jsonl"));
  std::set<std::string> ids;
  for (const auto& line : labels) ids.insert(line["id"].get<std::string>());
  EXPECT_EQ(labels.size(), static_cast<std::size_t>(count));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) EXPECT_TRUE(ids.count("t-" + std::to_string(i))) << i;

  trainer::Checkpoint checkpoint(spool::real_file_system(), work, work.stem().string());
  EXPECT_EQ(checkpoint.done_count(), static_cast<std::size_t>(count));
  const auto recorded = checkpoint.done_ids();
  EXPECT_EQ(std::set<std::string>(recorded.begin(), recorded.end()).size(), recorded.size());
  EXPECT_TRUE(std::filesystem::exists(work / "student.json"));
  EXPECT_TRUE(std::filesystem::exists(work / "metrics.json"));
}

// A finetune job of `steps` steps over `epochs` epochs that was killed and resumed: every step's
// loss once in metrics.json, validation loss lower after than before, `output`.gguf written, no
// checkpoint weights left, each checkpoint record once and in step order.
inline void expect_a_resumed_finetune(const std::filesystem::path& work, int steps, int epochs,
                                      const std::string& output) {
  const auto metrics = nlohmann::json::parse(read_file(work / "metrics.json"));
  EXPECT_EQ(metrics["steps"], steps);
  EXPECT_EQ(metrics["step_loss"].size(), static_cast<std::size_t>(steps));
  EXPECT_EQ(metrics["epochs"].size(), static_cast<std::size_t>(epochs));
  EXPECT_LT(metrics["validation_loss"]["after"].get<double>(),
            metrics["validation_loss"]["before"].get<double>());
  EXPECT_TRUE(std::filesystem::exists(work / (output + ".gguf")));
  for (const auto& entry : std::filesystem::directory_iterator(work)) {
    EXPECT_NE(entry.path().filename().string().rfind("weights-", 0), 0u) << entry.path();
  }
  trainer::Checkpoint checkpoint(spool::real_file_system(), work, work.stem().string());
  int last = 0;
  for (const auto& id : checkpoint.done_ids()) {
    if (id.rfind("step-", 0) != 0) continue;
    const int step = std::stoi(id.substr(5));
    EXPECT_GT(step, last) << id;
    last = step;
  }
  EXPECT_EQ(last, steps);
}

}  // namespace tandem::testing
