// Claiming jobs from the inbox: order, validation, and leaving everything else alone.
#include "common/spool/spool.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/spool/job_id.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::spool {
namespace {

namespace fs = std::filesystem;
using testing::age;
using testing::read_text;
using testing::write_text;

std::string distill_job(const std::string& extra = "") {
  return "{\n \"kind\": \"distill\",\n \"dataset\": \"data.jsonl\",\n \"labels\": [\"pos\", "
         "\"neg\"]" +
         extra + "\n}\n";
}

class SpoolTest : public ::testing::Test {
 protected:
  SpoolTest() { write_text(root_ / "inbox" / "data.jsonl", "{\"text\": \"fine\"}\n"); }

  // A job file in the inbox, `seconds_old` seconds old.
  fs::path submit(const std::string& name, const std::string& text, int seconds_old) {
    fs::path file = root_ / "inbox" / name;
    write_text(file, text);
    age(file, seconds_old);
    return file;
  }

  static std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
      names.push_back(path_utf8(e.path().filename()));
    std::sort(names.begin(), names.end());
    return names;
  }

  testing::TempDir dir_;
  fs::path root_ = dir_ / "jobs";
};

TEST_F(SpoolTest, CreatesItsFolders) {
  Spool spool(root_);
  for (const char* name : {"inbox", "active", "done", "failed"}) {
    EXPECT_TRUE(fs::is_directory(root_ / name)) << name;
  }
  EXPECT_EQ(spool.inbox(), root_ / "inbox");
  EXPECT_FALSE(spool.claim_next().has_value());
}

TEST_F(SpoolTest, ClaimsOldestFirstThenByName) {
  submit("c.json", distill_job(), 300);
  submit("b.json", distill_job(), 100);
  submit("a.json", distill_job(), 200);
  fs::path z = submit("z.json", distill_job(), 50);
  fs::path y = submit("y.json", distill_job(), 50);
  fs::last_write_time(y, fs::last_write_time(z));  // a tie: the name decides
  Spool spool(root_);
  std::vector<std::string> order;
  while (auto job = spool.claim_next()) order.push_back(job->spec.name);
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a", "b", "y", "z"}));
}

TEST_F(SpoolTest, ClaimMovesTheFileToActiveAndMakesAWorkFolder) {
  const std::string text = distill_job();
  fs::path file = submit("sentiment.json", text, 10);
  Spool spool(root_);
  auto job = spool.claim_next();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->id, make_job_id("sentiment", text));
  EXPECT_EQ(job->file, root_ / "active" / (job->id + ".json"));
  EXPECT_EQ(job->work_dir, root_ / "active" / (job->id + ".work"));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(read_text(job->file), text);
  EXPECT_TRUE(fs::is_directory(job->work_dir));
  // Relative paths resolve against the inbox, where the person put the file.
  EXPECT_EQ(job->spec.as<DistillSpec>()->dataset,
            (root_ / "inbox" / "data.jsonl").lexically_normal());
}

TEST_F(SpoolTest, BadJobGoesToFailedWithItsReasonAndNothingElseMoves) {
  fs::path bad = submit("bad.json", distill_job(",\n \"epochs\": 0"), 300);
  const std::string bad_text = read_text(bad);
  submit("good.json", distill_job(), 200);
  fs::path later = submit("later.json", distill_job(",\n \"seed\": 1"), 100);
  fs::path notes = submit("notes.txt", "not a job", 400);
  fs::path temp = submit("upload.json.tmp", "{\"kind\":", 400);
  fs::path hidden = submit(".hidden.json", "{}", 400);
  const auto later_time = fs::last_write_time(later);

  Spool spool(root_);
  std::vector<std::pair<std::string, std::string>> rejected;
  spool.on_rejected([&](const std::string& name, const std::string& reason) {
    rejected.emplace_back(name, reason);
  });
  auto job = spool.claim_next();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->spec.name, "good");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].first, "bad");
  EXPECT_NE(rejected[0].second.find("field 'epochs'"), std::string::npos) << rejected[0].second;

  EXPECT_EQ(read_text(root_ / "failed" / "bad.json"), bad_text);
  EXPECT_EQ(read_text(root_ / "failed" / "bad.reason.txt"),
            path_utf8(bad) + ":5: field 'epochs': expected an integer from 1 to 10000, got 0\n");
  // Everything else in the inbox is exactly as it was.
  EXPECT_EQ(names_in(root_ / "inbox"),
            (std::vector<std::string>{".hidden.json", "data.jsonl", "later.json", "notes.txt",
                                      "upload.json.tmp"}));
  EXPECT_EQ(fs::last_write_time(later), later_time);
  EXPECT_EQ(read_text(later), distill_job(",\n \"seed\": 1"));
  EXPECT_EQ(read_text(notes), "not a job");
  EXPECT_EQ(read_text(temp), "{\"kind\":");
  EXPECT_EQ(read_text(hidden), "{}");
  EXPECT_TRUE(fs::is_empty(root_ / "done"));
}

TEST_F(SpoolTest, OnlyBadJobsLeaveTheQueueEmpty) {
  fs::path syntax = submit("syntax.json", "{\"kind\": \"distill\",\n\"labels\": [,]}", 20);
  fs::path missing = submit("missing.json",
                            "{\"kind\": \"distill\",\n\"dataset\": \"gone.jsonl\", "
                            "\"labels\": [\"a\", \"b\"]}",
                            10);
  Spool spool(root_);
  EXPECT_FALSE(spool.claim_next().has_value());
  std::string syntax_reason = read_text(root_ / "failed" / "syntax.reason.txt");
  EXPECT_EQ(syntax_reason.rfind(path_utf8(syntax) + ":2:", 0), 0u) << syntax_reason;
  EXPECT_NE(syntax_reason.find("invalid JSON"), std::string::npos) << syntax_reason;
  std::string missing_reason = read_text(root_ / "failed" / "missing.reason.txt");
  EXPECT_EQ(missing_reason.rfind(path_utf8(missing) + ":2: field 'dataset': ", 0), 0u)
      << missing_reason;
  EXPECT_NE(missing_reason.find("does not exist"), std::string::npos) << missing_reason;
  EXPECT_EQ(names_in(root_ / "inbox"), (std::vector<std::string>{"data.jsonl"}));
}

TEST_F(SpoolTest, RejectedNamesNeverOverwrite) {
  Spool spool(root_);
  submit("bad.json", "{\"kind\": 1}", 10);
  EXPECT_FALSE(spool.claim_next().has_value());
  submit("bad.json", "{\"kind\": \"nope\"}", 10);
  EXPECT_FALSE(spool.claim_next().has_value());
  submit("bad.json", "[]", 10);
  EXPECT_FALSE(spool.claim_next().has_value());
  EXPECT_EQ(read_text(root_ / "failed" / "bad.json"), "{\"kind\": 1}");
  EXPECT_EQ(read_text(root_ / "failed" / "bad-1.json"), "{\"kind\": \"nope\"}");
  EXPECT_EQ(read_text(root_ / "failed" / "bad-2.json"), "[]");
  EXPECT_NE(read_text(root_ / "failed" / "bad.reason.txt").find("field 'kind': expected a string"),
            std::string::npos);
  EXPECT_NE(read_text(root_ / "failed" / "bad-1.reason.txt").find("got \"nope\""),
            std::string::npos);
  EXPECT_NE(read_text(root_ / "failed" / "bad-2.reason.txt").find("expected a JSON object"),
            std::string::npos);
}

TEST_F(SpoolTest, TheSameJobSubmittedTwiceGetsTwoIds) {
  Spool spool(root_);
  submit("a.json", distill_job(), 10);
  auto first = spool.claim_next();
  submit("a.json", distill_job(), 10);
  auto second = spool.claim_next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->id, first->id + "-1");
  EXPECT_TRUE(fs::exists(first->file));
  EXPECT_TRUE(fs::exists(second->file));
}

TEST_F(SpoolTest, FailedRejectionLeavesTheJobInTheInbox) {
  testing::FaultyFileSystem faulty;
  Spool spool(root_, faulty);
  fs::path bad = submit("bad.json", "{\"kind\": 1}", 10);
  faulty.fail(testing::FaultyFileSystem::Op::write_atomically, "bad.reason.txt", 1, 0,
              "Read-only file system");
  try {
    spool.claim_next();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.reason.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Read-only file system"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(bad), "{\"kind\": 1}");
  EXPECT_FALSE(fs::exists(root_ / "failed" / "bad.json"));
  // Once the disk is writable again the same name is used: nothing is left over from the try.
  EXPECT_FALSE(spool.claim_next().has_value());
  EXPECT_EQ(names_in(root_ / "failed"), (std::vector<std::string>{"bad.json", "bad.reason.txt"}));
}

TEST_F(SpoolTest, UnreadableJobIsLeftForLater) {
  testing::FaultyFileSystem faulty;
  Spool spool(root_, faulty);
  fs::path busy = submit("busy.json", distill_job(), 20);
  submit("next.json", distill_job(), 10);
  faulty.fail(testing::FaultyFileSystem::Op::read, "busy.json", 1, 0,
              "The process cannot access the file because it is being used by another process");
  auto job = spool.claim_next();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->spec.name, "next");
  EXPECT_TRUE(fs::exists(busy));
  auto later = spool.claim_next();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->spec.name, "busy");
}

}  // namespace
}  // namespace tandem::spool
