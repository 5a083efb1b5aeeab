// The distill job against a scripted teacher: every item labelled exactly once across stops and
// restarts, the outputs written, bad datasets refused before any question is asked, and a
// student that learns what a consistent teacher says.
#include "trainer/distill/distill_job.h"

#include <gtest/gtest.h>

#include <future>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "common/files.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/distill_synthetic.h"
#include "trainer/distill/student.h"

namespace tandem::trainer {
namespace {

const std::vector<std::string> kLabels = {"sunny", "rainy", "snowy"};
const std::vector<std::vector<std::string>> kWords = {
    {"sunny", "bright", "warm", "clear", "beach", "summer", "blue", "calm", "dry", "hot"},
    {"rain", "storm", "wet", "cloudy", "thunder", "umbrella", "grey", "wind", "cold", "flood"},
    {"snow", "ice", "frost", "winter", "sleet", "blizzard", "freezing", "sled", "skate", "hail"},
};

// Scores a label by how many of its words the prompt holds: consistent, like a good teacher.
// Counts the questions per prompt and can ask for a stop after a number of them.
class ScriptedTeacher final : public Teacher {
 public:
  std::vector<double> score_labels(const std::string& model, const std::string& prompt,
                                   const std::vector<std::string>& labels,
                                   std::stop_token) override {
    last_model = model;
    ++asked[prompt];
    ++calls;
    if (stop_after && calls == *stop_after) stopper.request_stop();
    if (fail_on && prompt.find(*fail_on) != std::string::npos) {
      throw Error("POST /v1/completions answered 400: prompt too long");
    }
    if (unavailable) throw ServerUnavailable("TandemLlm was not ready within 5 ms");
    std::vector<double> scores(labels.size(), -10.0);
    for (std::size_t k = 0; k < labels.size(); ++k) {
      for (const auto& w : kWords[k]) {
        if (prompt.find(" " + w) != std::string::npos) scores[k] += 1.0;
      }
    }
    return scores;
  }
  std::map<std::string, int> asked;
  std::string last_model;
  int calls = 0;
  std::optional<int> stop_after;
  std::optional<std::string> fail_on;
  bool unavailable = false;
  std::stop_source stopper;
};

class DistillJobTest : public ::testing::Test {
 protected:
  spool::DistillSpec job(std::size_t items) {
    std::string text;
    for (const auto& item : distill::testing::synthetic_items(items, 3)) {
      text += nlohmann::json{{"id", item.id}, {"text", item.text}, {"label", kLabels[item.label]}}
                  .dump() +
              "\n";
    }
    write_file_atomically(dir / "data.jsonl", text);
    spool::DistillSpec j;
    j.dataset = dir / "data.jsonl";
    j.labels = kLabels;
    j.prompt_template = "Weather: {text}\nLabel:";
    j.epochs = 8;
    j.learning_rate = 0.5;
    return j;
  }
  std::filesystem::path work() {
    std::filesystem::create_directories(dir / "work");
    return dir / "work";
  }
  Checkpoint checkpoint() { return Checkpoint(spool::real_file_system(), work(), "job-1"); }
  JobControl control(std::stop_token stop = {}) {
    JobControl c;
    c.stop = stop;
    c.on_progress = [this](const Progress& p) { progress.push_back(p); };
    return c;
  }
  testing::TempDir dir;
  ScriptedTeacher teacher;
  std::vector<Progress> progress;
};

std::vector<nlohmann::json> jsonl(const std::filesystem::path& file) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST_F(DistillJobTest, LabelsEveryItemOnceAndWritesTheOutputs) {
  const auto j = job(120);
  auto cp = checkpoint();
  run_distill_job(j, work(), cp, teacher, control());

  EXPECT_EQ(teacher.asked.size(), 120u);
  for (const auto& [prompt, times] : teacher.asked) EXPECT_EQ(times, 1) << prompt;
  const auto labels = jsonl(work() / kLabelsFile);
  ASSERT_EQ(labels.size(), 120u);
  std::set<std::string> ids;
  for (const auto& line : labels) ids.insert(line["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 120u);

  const auto metrics = nlohmann::json::parse(read_file(work() / kMetricsFile));
  EXPECT_EQ(metrics["epochs"].size(), 8u);
  EXPECT_EQ(cp.phase(), "train");
  EXPECT_EQ(progress.back().phase, "train");
  EXPECT_EQ(progress.back().done, 8);
  EXPECT_EQ(teacher.last_model, "");  // the server's default model
}

TEST_F(DistillJobTest, TheTeacherIsTheModelTheJobNames) {
  auto j = job(10);
  j.model = "qwen2.5-7b";
  auto cp = checkpoint();
  run_distill_job(j, work(), cp, teacher, control());
  EXPECT_EQ(teacher.last_model, "qwen2.5-7b");
}

TEST_F(DistillJobTest, TheStudentLearnsAConsistentTeacher) {
  const auto j = job(600);
  auto cp = checkpoint();
  run_distill_job(j, work(), cp, teacher, control());
  const auto metrics = nlohmann::json::parse(read_file(work() / kMetricsFile));
  // Three labels: chance is a third. The teacher is consistent, so the student must track it.
  EXPECT_GT(metrics["teacher_agreement"].get<double>(), 0.8) << metrics.dump();
  const auto student = distill::Student::load(work() / kStudentFile);
  EXPECT_EQ(student.predict("a hot bright summer day at the beach").label, "sunny");
  EXPECT_EQ(student.predict("snow and ice, a freezing blizzard").label, "snowy");
}

TEST_F(DistillJobTest, AStopKeepsEveryAnswerAndTheRestartAsksOnlyTheRest) {
  const auto j = job(50);
  teacher.stop_after = 17;
  {
    auto cp = checkpoint();
    EXPECT_THROW(run_distill_job(j, work(), cp, teacher, control(teacher.stopper.get_token())),
                 Stopped);
    EXPECT_EQ(cp.done_count(), 17u);  // the 17th answer came before the stop was seen
  }
  EXPECT_FALSE(std::filesystem::exists(work() / kStudentFile));
  teacher.stop_after.reset();
  auto reopened = checkpoint();  // as a restarted trainer would
  run_distill_job(j, work(), reopened, teacher, control());
  EXPECT_EQ(teacher.calls, 50);
  for (const auto& [prompt, times] : teacher.asked) EXPECT_EQ(times, 1) << prompt;
  EXPECT_EQ(jsonl(work() / kLabelsFile).size(), 50u);
}

TEST_F(DistillJobTest, ABadDatasetIsRefusedWithEveryLineNumberBeforeAnyQuestion) {
  auto j = job(10);
  write_file_atomically(j.dataset,
                        "{\"text\":\"fine\"}\n{\"text\":3}\nnot json\n"
                        "{\"text\":\"x\",\"label\":\"cloudy\"}\n");
  auto cp = checkpoint();
  try {
    run_distill_job(j, work(), cp, teacher, control());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("3 bad lines"), std::string::npos) << what;
    EXPECT_NE(what.find("data.jsonl:2"), std::string::npos) << what;
    EXPECT_NE(what.find("data.jsonl:3"), std::string::npos) << what;
    EXPECT_NE(what.find("data.jsonl:4"), std::string::npos) << what;
    EXPECT_NE(what.find("cloudy"), std::string::npos) << what;
  }
  EXPECT_EQ(teacher.calls, 0);
  EXPECT_EQ(cp.done_count(), 0u);
}

TEST_F(DistillJobTest, ATeacherRefusalNamesTheItemAndKeepsEarlierAnswers) {
  const auto j = job(30);
  const auto items = distill::testing::synthetic_items(30, 3);
  teacher.fail_on = items[12].text;
  auto cp = checkpoint();
  try {
    run_distill_job(j, work(), cp, teacher, control());
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("item 'item-12' (line 13)"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(cp.done_count(), 12u);
}

TEST_F(DistillJobTest, AnUnreachableServerIsNotTheItemsFault) {
  const auto j = job(5);
  teacher.unavailable = true;
  auto cp = checkpoint();
  EXPECT_THROW(run_distill_job(j, work(), cp, teacher, control()), ServerUnavailable);
  EXPECT_EQ(cp.done_count(), 0u);
}

TEST_F(DistillJobTest, MaxItemsLimitsTheWork) {
  auto j = job(40);
  j.max_items = 25;
  auto cp = checkpoint();
  run_distill_job(j, work(), cp, teacher, control());
  EXPECT_EQ(teacher.calls, 25);
  EXPECT_EQ(jsonl(work() / kLabelsFile).size(), 25u);
}

TEST(PauseGate, HoldsUntilResumedAndGivesWayToAStop) {
  PauseGate gate;
  gate.pause();
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] { gate.wait_while_paused(stop.get_token()); });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  gate.resume();
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  waiter.get();

  gate.pause();
  auto stopped = std::async(std::launch::async, [&] { gate.wait_while_paused(stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_THROW(stopped.get(), Stopped);
}

// Issue 17, defect 5: the SCM is told PAUSED through `held`, which runs only once the job thread
// holds (the item in flight done), not when the Pause arrives.
TEST(PauseGate, SaysItHoldsOnlyOnceTheJobThreadHolds) {
  PauseGate gate;
  std::promise<void> held;
  int held_calls = 0;
  ASSERT_EQ(gate.pause([&] {
    ++held_calls;
    held.set_value();
  }),
            "");
  EXPECT_TRUE(gate.paused());
  EXPECT_EQ(held_calls, 0) << "reported held while the item in flight was still being worked on";
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] { gate.wait_while_paused(stop.get_token()); });
  ASSERT_EQ(held.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  gate.resume();
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  waiter.get();
  gate.wait_while_paused(stop.get_token());  // not paused: returns at once, no second report
  EXPECT_EQ(held_calls, 1);
}

// Issue 17, defect 5: a command job cannot hold between items, so Pause is refused while it runs,
// with its reason, and nothing is paused; once it ends, Pause works again.
TEST(PauseGate, WorkThatCannotHoldRefusesPausesWithItsReason) {
  PauseGate gate;
  JobControl control;
  control.pause = &gate;
  {
    auto refusal = control.refuse_pauses("job x runs a command, which cannot be paused");
    ASSERT_TRUE(refusal);
    EXPECT_EQ(gate.pause([] { FAIL() << "held while refusing"; }),
              "job x runs a command, which cannot be paused");
    EXPECT_FALSE(gate.paused());
  }
  EXPECT_EQ(gate.pause(), "");
  EXPECT_TRUE(gate.paused());

  // Asked to pause before the command starts: it holds first, then starts and refuses.
  std::stop_source stop;
  control.stop = stop.get_token();
  auto starting = std::async(std::launch::async, [&] { return control.refuse_pauses("busy"); });
  EXPECT_EQ(starting.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  gate.resume();
  ASSERT_EQ(starting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto refusal = starting.get();
  EXPECT_TRUE(refusal);
  EXPECT_EQ(gate.pause(), "busy");
  EXPECT_TRUE(JobControl{}.refuse_pauses("no gate") == std::nullopt);
}

}  // namespace
}  // namespace tandem::trainer
