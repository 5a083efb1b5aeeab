// The trainer's published status: the pipe's answers, and the board that rate-limits writes
// without ever losing the latest values.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "tests/support/trainer_status_sample.h"
#include "trainer/status.h"
#include "trainer/status_board.h"

namespace tandem::trainer {
namespace {

using testing::sample_trainer_status;

TEST(TrainerStatus, ThePipeAnswersStatusWithProgress) {
  auto answer = nlohmann::json::parse(
      answer_status_request(sample_trainer_status(), R"({"v":1,"op":"status"})"));
  EXPECT_EQ(answer["ok"], true);
  EXPECT_EQ(answer["v"], 1);
  EXPECT_EQ(answer["state"], "working");
  EXPECT_EQ(answer["job"], "demo-1234abcd");
  EXPECT_EQ(answer["items_done"], 7);
  EXPECT_EQ(answer["items_total"], 300);
  EXPECT_EQ(answer["server_url"], "http://127.0.0.1:8031");

  TrainerStatus idle;
  idle.state = "idle";
  EXPECT_TRUE(nlohmann::json::parse(answer_status_request(idle, R"({"v":1,"op":"status"})"))["job"]
                  .is_null());
}

TEST(TrainerStatus, OtherOpsAndGarbageGetABadRequestNamingTheField) {
  for (const char* message : {R"({"v":1,"op":"resolve"})", R"({"v":1,"op":"wait","timeout_ms":5})",
                              "not json", R"({"v":1})", R"({"v":2,"op":"status"})"}) {
    auto answer = nlohmann::json::parse(answer_status_request(sample_trainer_status(), message));
    EXPECT_EQ(answer["ok"], false) << message;
    EXPECT_FALSE(answer["error"]["message"].get<std::string>().empty()) << message;
  }
  auto wrong_op = nlohmann::json::parse(
      answer_status_request(sample_trainer_status(), R"({"v":1,"op":"resolve"})"));
  EXPECT_EQ(wrong_op["error"]["code"], "bad_request");
  EXPECT_NE(wrong_op["error"]["message"].get<std::string>().find("'op'"), std::string::npos);
}

TEST(StatusBoard, ManyChangesFewWritesAndTheLastValuesAlwaysWritten) {
  std::mutex mutex;
  std::condition_variable written;
  std::vector<TrainerStatus> writes;
  {
    StatusBoard board(TrainerStatus{}, std::chrono::milliseconds(100));
    board.attach([&](const TrainerStatus& s) {
      std::lock_guard lock(mutex);
      writes.push_back(s);
      written.notify_all();
    });
    for (int i = 1; i <= 5000; ++i) board.update([i](TrainerStatus& s) { s.items_done = i; });
    EXPECT_EQ(board.current().items_done, 5000);
    std::unique_lock lock(mutex);
    ASSERT_TRUE(written.wait_for(lock, std::chrono::seconds(10), [&] {
      return !writes.empty() && writes.back().items_done == 5000;
    })) << "the pump never wrote the latest values";
  }
  // 5,000 changes within well under a second: a handful of writes, not one per change.
  EXPECT_LT(writes.size(), 50u);
  EXPECT_EQ(writes.back().items_done, 5000);
}

TEST(StatusBoard, CloseWritesTheFinalStateAndLetsGoOfTheSink) {
  int writes = 0;
  std::string last_state;
  StatusBoard board(TrainerStatus{}, std::chrono::hours(1));
  board.attach([&](const TrainerStatus& s) {
    ++writes;
    last_state = s.state;
  });
  board.update([](TrainerStatus& s) { s.state = "stopped"; });
  board.close();
  EXPECT_EQ(last_state, "stopped");
  const int after_close = writes;
  board.update([](TrainerStatus& s) { s.state = "again"; });
  board.close();
  EXPECT_EQ(writes, after_close);
}

TEST(StatusBoard, AThrowingSinkNeverReachesTheJob) {
  StatusBoard board(TrainerStatus{}, std::chrono::milliseconds(1));
  board.attach([](const TrainerStatus&) { throw std::runtime_error("registry refused"); });
  EXPECT_NO_THROW(board.update([](TrainerStatus& s) { s.items_done = 1; }));
  EXPECT_NO_THROW(board.flush());
}

}  // namespace
}  // namespace tandem::trainer
