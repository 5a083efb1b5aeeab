// The trainer status codec: the registry values (State last, counters clamped to a DWORD) and the
// JSON of the pipe and the Linux status file, each read back into the same struct.
#include "common/trainer_status.h"

#include <gtest/gtest.h>

#include <map>

#include "common/error.h"
#include "tests/support/recording_store.h"
#include "tests/support/trainer_status_sample.h"

namespace tandem {
namespace {

using testing::RecordingStore;
using testing::sample_trainer_status;

void expect_same(const TrainerStatus& a, const TrainerStatus& b) {
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.instance_id, b.instance_id);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.job, b.job);
  EXPECT_EQ(a.job_kind, b.job_kind);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.items_done, b.items_done);
  EXPECT_EQ(a.items_total, b.items_total);
  EXPECT_EQ(a.jobs_done, b.jobs_done);
  EXPECT_EQ(a.jobs_failed, b.jobs_failed);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.server_url, b.server_url);
  EXPECT_EQ(a.training, b.training);
}

// A finetune job's status: its figures travel through both codecs.
TrainerStatus finetune_status() {
  TrainerStatus s = sample_trainer_status();
  s.job_kind = "finetune";
  s.phase = "train";
  s.training.epoch = 2;
  s.training.epochs = 3;
  s.training.train_loss = 3.25;
  s.training.val_loss = 3.5;
  s.training.tokens_per_s = 1234.6;
  s.training.eta_s = 81;
  return s;
}

TEST(TrainerStatusValues, RegistryValuesEndWithStateAndReadBack) {
  const StatusValues values = trainer_status_values(sample_trainer_status());
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values.back().first, "State");
  EXPECT_EQ(std::get<std::string>(values.back().second), "working");
  std::map<std::string, StatusValue> by_name(values.begin(), values.end());
  EXPECT_EQ(std::get<std::uint32_t>(by_name.at("ItemsDone")), 7u);
  EXPECT_EQ(std::get<std::uint32_t>(by_name.at("Pid")), 42u);
  EXPECT_EQ(std::get<std::string>(by_name.at("ServerUrl")), "http://127.0.0.1:8031");

  RecordingStore store;
  store.write(values);
  const TrainerStatus back = read_trainer_status_values(store);
  expect_same(back, sample_trainer_status());
  EXPECT_EQ(back.pipe_name, sample_trainer_status().pipe_name);
}

TEST(TrainerStatusValues, AFinetuneJobsFiguresReadBackAndReadWell) {
  RecordingStore store;
  store.write(trainer_status_values(finetune_status()));
  expect_same(read_trainer_status_values(store), finetune_status());
  expect_same(parse_trainer_status_json("pipe", trainer_status_json(finetune_status()).dump()),
              finetune_status());
  EXPECT_EQ(describe_training(finetune_status().training),
            "epoch 2/3, loss 3.250, validation 3.500, 1235 tokens/s, 1m21s left");
  EXPECT_EQ(describe_training(sample_trainer_status().training), "");
  // Absent figures are null in JSON and empty values in the registry.
  TrainerStatus early = finetune_status();
  early.training.train_loss.reset();
  early.training.eta_s.reset();
  EXPECT_TRUE(trainer_status_json(early)["eta_s"].is_null());
  RecordingStore early_store;
  early_store.write(trainer_status_values(early));
  expect_same(read_trainer_status_values(early_store), early);
}

TEST(TrainerStatusValues, CountersBeyondADwordAreClampedNotWrapped) {
  TrainerStatus s = sample_trainer_status();
  s.items_done = 5'000'000'000;
  s.jobs_failed = -3;
  RecordingStore store;
  store.write(trainer_status_values(s));
  const TrainerStatus back = read_trainer_status_values(store);
  EXPECT_EQ(back.items_done, 4'294'967'295);
  EXPECT_EQ(back.jobs_failed, 0);
}

TEST(TrainerStatusValues, NothingPublishedReadsAsNoState) {
  const TrainerStatus back = read_trainer_status_values(RecordingStore());
  EXPECT_EQ(back.state, "");
  EXPECT_EQ(back.items_done, 0);
  EXPECT_EQ(back.job, "");
}

TEST(TrainerStatusJson, WritesSnakeCaseAndReadsItBack) {
  const auto json = trainer_status_json(sample_trainer_status());
  EXPECT_EQ(json["state"], "working");
  EXPECT_EQ(json["instance"], "abc");
  EXPECT_EQ(json["items_total"], 300);
  expect_same(parse_trainer_status_json("status", json.dump(2)), sample_trainer_status());

  TrainerStatus idle;
  idle.state = "idle";
  const auto idle_json = trainer_status_json(idle);
  EXPECT_TRUE(idle_json["job"].is_null());
  EXPECT_EQ(parse_trainer_status_json("status", idle_json.dump()).job, "");
}

TEST(TrainerStatusJson, ThePipesAnswerReadsAsAStatusAndBadFieldsAreNamed) {
  nlohmann::json answer = {{"v", 1}, {"ok", true}};
  answer.update(trainer_status_json(sample_trainer_status()));
  expect_same(parse_trainer_status_json("pipe", answer.dump()), sample_trainer_status());

  try {
    parse_trainer_status_json("trainer-status.json",
                              "{\n\"state\": \"idle\",\n\"jobs_done\": \"x\"}");
    FAIL() << "a string counter was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("trainer-status.json:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("jobs_done"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_trainer_status_json("x", "[1]"), InputError);
  EXPECT_THROW(parse_trainer_status_json("x", "{"), InputError);
}

}  // namespace
}  // namespace tandem
