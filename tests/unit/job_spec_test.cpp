#include "common/spool/job_spec.h"

#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/spool/job_id.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::spool {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text, const fs::path& base = "base",
                     PathCheck check = PathCheck::skip) {
  try {
    parse_job_spec("job.json", text, base, check);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(JobSpec, ReadsEveryDistillField) {
  testing::TempDir dir;
  testing::write_text(dir / "data" / "items.jsonl", "{\"text\":\"a\"}\n");
  JobSpec spec = parse_job_spec((dir / "sentiment.json").string(), R"({
    "kind": "distill", "name": "Sentiment", "dataset": "data/items.jsonl",
    "labels": ["pos", "neg", "neutral"], "prompt_template": "Review: {text}\nSentiment:",
    "epochs": 7, "learning_rate": 0.05, "holdout_fraction": 0.25, "seed": 9, "max_items": 300})",
                                dir.path());
  ASSERT_NE(spec.as<DistillSpec>(), nullptr);
  EXPECT_EQ(spec.as<CommandSpec>(), nullptr);
  const DistillSpec& d = *spec.as<DistillSpec>();
  EXPECT_EQ(spec.name, "Sentiment");
  EXPECT_EQ(d.dataset, (dir.path() / "data" / "items.jsonl").lexically_normal());
  EXPECT_EQ(d.labels, (std::vector<std::string>{"pos", "neg", "neutral"}));
  EXPECT_EQ(d.prompt_template, "Review: {text}\nSentiment:");
  EXPECT_EQ(d.epochs, 7);
  EXPECT_DOUBLE_EQ(d.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(d.holdout_fraction, 0.25);
  EXPECT_EQ(d.seed, 9u);
  EXPECT_EQ(d.max_items, 300);
}

TEST(JobSpec, DistillDefaultsAndAbsolutePaths) {
  testing::TempDir dir;
  const fs::path data = dir / "items.jsonl";
  testing::write_text(data, "");
  nlohmann::json job = {{"kind", "distill"}, {"dataset", path_utf8(data)}, {"labels", {"a", "b"}}};
  JobSpec spec = parse_job_spec("jobs/my-job.json", job.dump(), "elsewhere");
  const DistillSpec& d = *spec.as<DistillSpec>();
  EXPECT_EQ(spec.name, "my-job");  // the file's stem
  EXPECT_EQ(d.dataset, data.lexically_normal());
  EXPECT_EQ(d.prompt_template, kDefaultPromptTemplate);
  EXPECT_EQ(d.epochs, 5);
  EXPECT_DOUBLE_EQ(d.learning_rate, 0.1);
  EXPECT_DOUBLE_EQ(d.holdout_fraction, 0.2);
  EXPECT_EQ(d.seed, 42u);
  EXPECT_FALSE(d.max_items.has_value());
}

TEST(JobSpec, ReadsEveryCommandField) {
  testing::TempDir dir;
  fs::create_directories(dir / "proj");
  JobSpec spec = parse_job_spec("train.json", R"({
    "kind": "command", "name": "my trainer", "command": ["python", "train.py", "--fast"],
    "working_dir": "proj", "restart": "on-failure", "max_restarts": 5,
    "env": {"BATCH": "8", "MODE": "full"}})",
                                dir.path());
  ASSERT_NE(spec.as<CommandSpec>(), nullptr);
  const CommandSpec& c = *spec.as<CommandSpec>();
  EXPECT_EQ(spec.name, "my trainer");
  EXPECT_EQ(c.command, (std::vector<std::string>{"python", "train.py", "--fast"}));
  EXPECT_EQ(c.working_dir, (dir.path() / "proj").lexically_normal());
  EXPECT_EQ(c.restart, RestartPolicy::on_failure);
  EXPECT_EQ(c.max_restarts, 5);
  EXPECT_EQ(c.env, (std::map<std::string, std::string>{{"BATCH", "8"}, {"MODE", "full"}}));
}

TEST(JobSpec, CommandDefaults) {
  testing::TempDir dir;
  JobSpec spec = parse_job_spec("t.json", R"({"kind": "command", "command": ["run"]})", dir.path());
  const CommandSpec& c = *spec.as<CommandSpec>();
  EXPECT_EQ(c.working_dir, dir.path().lexically_normal());
  EXPECT_EQ(c.restart, RestartPolicy::never);
  EXPECT_TRUE(c.env.empty());
}

const std::string kDistill = R"("kind": "distill", "dataset": "d.jsonl", "labels": ["a", "b"])";
const std::string kCommand = R"("kind": "command", "command": ["python", "train.py"])";

std::string distill_with(const std::string& more) {
  return "{" + kDistill + ",\n" + more + "}";
}
std::string command_with(const std::string& more) {
  return "{" + kCommand + ",\n" + more + "}";
}

TEST(JobSpec, EveryErrorNamesFileLineAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "job.json:1: field 'kind': missing (\"distill\", \"command\" or \"finetune\")"},
      {"{\n\"kind\": \"train\"}",
       "job.json:2: field 'kind': expected \"distill\", \"command\" or \"finetune\", got "
       "\"train\""},
      {"{\"kind\": 3}", "job.json:1: field 'kind': expected a string, got a number"},
      {"{\"kind\": \"distill\",\n \"labels\": [\"a\", \"b\"]}",
       "job.json:1: field 'dataset': missing (required for a distill job)"},
      {"{\"kind\": \"distill\",\n \"dataset\": \"\"}",
       "job.json:2: field 'dataset': must not be empty"},
      {"{\"kind\": \"distill\",\n \"dataset\": 7}",
       "job.json:2: field 'dataset': expected a string, got a number"},
      {"{\"kind\": \"distill\", \"dataset\": \"d\"}",
       "job.json:1: field 'labels': missing (required for a distill job)"},
      {"{\"kind\": \"distill\", \"dataset\": \"d\",\n\"labels\": \"pos\"}",
       "job.json:2: field 'labels': expected an array of strings, got a string"},
      {"{\"kind\": \"distill\", \"dataset\": \"d\",\n\"labels\": [\"pos\"]}",
       "job.json:2: field 'labels': expected 2 to 64 labels, got 1"},
      {"{\"kind\": \"distill\", \"dataset\": \"d\", \"labels\": [\n\"a\",\n 2]}",
       "job.json:3: field 'labels[1]': expected a string, got a number"},
      {"{\"kind\": \"distill\", \"dataset\": \"d\", \"labels\": [\"a\", \"\"]}",
       "job.json:1: field 'labels[1]': must not be empty"},
      {"{\n \"kind\": \"distill\",\n \"dataset\": \"d.jsonl\",\n \"labels\": [\n  \"pos\",\n  "
       "\"neg\",\n  \"pos\"\n ]\n}",
       "job.json:7: field 'labels[2]': \"pos\" repeats labels[0]"},
      {distill_with("\"prompt_template\": \"Label this:\""),
       "job.json:2: field 'prompt_template': must contain {text}, where each item's text goes"},
      {distill_with("\"epochs\": 0"),
       "job.json:2: field 'epochs': expected an integer from 1 to 10000, got 0"},
      {distill_with("\"epochs\": 2.5"),
       "job.json:2: field 'epochs': expected an integer from 1 to 10000, got a number with a "
       "fraction"},
      {distill_with("\"learning_rate\": 0"),
       "job.json:2: field 'learning_rate': must be greater than 0"},
      {distill_with("\"learning_rate\": -1"),
       "job.json:2: field 'learning_rate': expected a number from 0.0 to 100.0, got -1"},
      {distill_with("\"holdout_fraction\": 0.6"),
       "job.json:2: field 'holdout_fraction': expected a number from 0.0 to 0.5, got 0.6"},
      {distill_with("\"seed\": -1"),
       "job.json:2: field 'seed': expected an integer from 0 to 9223372036854775807, got -1"},
      {distill_with("\"max_items\": 0"),
       "job.json:2: field 'max_items': expected an integer from 1 to 9223372036854775807, got 0"},
      {distill_with("\"epoch\": 3"),
       "job.json:2: field 'epoch': unknown field (did you mean 'epochs'?)"},
      {distill_with("\"restart\": \"never\""), "job.json:2: field 'restart': unknown field"},
      {distill_with("\"name\": \"\""), "job.json:2: field 'name': must not be empty"},
      {"{\"kind\": \"command\"}",
       "job.json:1: field 'command': missing (required for a command job)"},
      {"{\"kind\": \"command\",\n\"command\": \"python train.py\"}",
       "job.json:2: field 'command': expected an array of strings, got a string"},
      {"{\"kind\": \"command\",\n\"command\": []}",
       "job.json:2: field 'command': must name a program (and its arguments)"},
      {"{\"kind\": \"command\", \"command\": [\n\"\"]}",
       "job.json:2: field 'command[0]': the program must not be empty"},
      {"{\"kind\": \"command\", \"command\": [\"python\",\n {\"x\": 1}]}",
       "job.json:2: field 'command[1]': expected a string, got an object"},
      {command_with("\"working_dir\": \"\""), "job.json:2: field 'working_dir': must not be empty"},
      {command_with("\"restart\": \"always\""),
       "job.json:2: field 'restart': expected \"never\" or \"on-failure\", got \"always\""},
      {command_with("\"max_restarts\": 2"),
       "job.json:2: field 'max_restarts': has no effect unless \"restart\" is \"on-failure\""},
      {command_with("\"restart\": \"on-failure\", \"max_restarts\": 1001"),
       "job.json:2: field 'max_restarts': expected an integer from 0 to 1000, got 1001"},
      {command_with("\"env\": [\"A=1\"]"),
       "job.json:2: field 'env': expected an object of strings, got an array"},
      {command_with("\"env\": {\n\"A\": \"1\",\n\"B\": 2}"),
       "job.json:4: field 'env.B': expected a string, got a number"},
      {command_with("\"env\": {\"A=B\": \"1\"}"),
       "job.json:2: field 'env': variable name \"A=B\" must be non-empty and without '='"},
      {command_with("\"labels\": [\"a\", \"b\"]"), "job.json:2: field 'labels': unknown field"},
      {command_with("\"enviroment\": {}"), "job.json:2: field 'enviroment': unknown field"},
      {command_with("\"evn\": {}"), "job.json:2: field 'evn': unknown field (did you mean 'env'?)"},
      {"[1, 2]", "job.json:1: expected a JSON object, got an array"},
  };
  for (const auto& [text, error] : cases) EXPECT_EQ(error_of(text), error) << text;
}

TEST(JobSpec, SyntaxErrorNamesLineAndColumn) {
  std::string e = error_of("{\"kind\": \"distill\",\n \"epochs\": 3,,\n}");
  EXPECT_EQ(e.rfind("job.json:2:", 0), 0u) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
  EXPECT_EQ(error_of("{\"kind\": \"distill\",").rfind("job.json:1:", 0), 0u);
}

TEST(JobSpec, LabelCountUpperBound) {
  nlohmann::json job = {{"kind", "distill"}, {"dataset", "d"}, {"labels", nlohmann::json::array()}};
  for (int i = 0; i < 65; ++i) job["labels"].push_back("l" + std::to_string(i));
  EXPECT_EQ(error_of(job.dump()), "job.json:1: field 'labels': expected 2 to 64 labels, got 65");
  job["labels"].erase(64);
  EXPECT_EQ(error_of(job.dump()), "no error");
}

TEST(JobSpec, PathsMustExistWhenChecked) {
  testing::TempDir dir;
  fs::create_directories(dir / "folder");
  testing::write_text(dir / "file.txt", "x");
  auto error = [&](const std::string& text) {
    return error_of(text, dir.path(), PathCheck::exists);
  };
  const std::string missing = path_utf8((dir.path() / "missing.jsonl").lexically_normal());
  EXPECT_EQ(
      error("{\"kind\": \"distill\",\n\"dataset\": \"missing.jsonl\", \"labels\": [\"a\", \"b\"]}"),
      "job.json:2: field 'dataset': " + nlohmann::json(missing).dump() + " does not exist");
  EXPECT_NE(error("{\"kind\": \"distill\", \"dataset\": \"folder\", \"labels\": [\"a\", \"b\"]}")
                .find("field 'dataset': \""),
            std::string::npos);
  EXPECT_NE(error("{\"kind\": \"distill\", \"dataset\": \"folder\", \"labels\": [\"a\", \"b\"]}")
                .find("is not a file"),
            std::string::npos);
  EXPECT_NE(
      error(command_with("\"working_dir\": \"nowhere\"")).find("job.json:2: field 'working_dir': "),
      std::string::npos);
  EXPECT_NE(error(command_with("\"working_dir\": \"nowhere\"")).find("does not exist"),
            std::string::npos);
  EXPECT_NE(error(command_with("\"working_dir\": \"file.txt\"")).find("is not a folder"),
            std::string::npos);
  EXPECT_EQ(error(command_with("\"working_dir\": \"folder\"")), "no error");
  // Unchecked, the same jobs parse: the syntax tests above need no files.
  EXPECT_EQ(error_of(command_with("\"working_dir\": \"nowhere\""), dir.path()), "no error");
}

TEST(JobId, StemAndStableHashOfContent) {
  EXPECT_EQ(make_job_id("x", ""), "x-cbf29ce4");  // FNV-1a 64 of nothing, top 32 bits
  std::string a = make_job_id("sentiment", "{\"kind\":\"distill\"}");
  EXPECT_TRUE(std::regex_match(a, std::regex("sentiment-[0-9a-f]{8}"))) << a;
  EXPECT_EQ(a, make_job_id("sentiment", "{\"kind\":\"distill\"}"));
  EXPECT_NE(a, make_job_id("sentiment", "{\"kind\":\"distill\" }"));
  EXPECT_NE(a, make_job_id("other", "{\"kind\":\"distill\"}"));
}

TEST(JobId, StemComesBackFromTheId) {
  EXPECT_EQ(job_stem(make_job_id("sentiment", "x")), "sentiment");
  EXPECT_EQ(job_stem(make_job_id("sentiment", "x") + "-1"), "sentiment");
  EXPECT_EQ(job_stem(make_job_id("run-2", "x") + "-12"), "run-2");
  EXPECT_EQ(job_stem(make_job_id("a-deadbeef", "x")), "a-deadbeef");
  EXPECT_EQ(job_stem("plain"), "plain");
  EXPECT_EQ(job_stem("plain-7"), "plain-7");
}

TEST(JobSpec, EachKindNamesItselfAndMakesItsPathsAbsolute) {
  testing::TempDir dir;
  testing::write_text(dir / "d.jsonl", "");
  const std::string distill = "{\"labels\": [\"a\", \"b\"], " + kDistill + ", \"epochs\": 2}";
  JobSpec spec = parse_job_spec("job.json", distill, dir.path());
  EXPECT_EQ(spec.kind_name(), "distill");
  auto job = nlohmann::ordered_json::parse(spec.with_absolute_paths(distill));
  EXPECT_EQ(job["dataset"], path_utf8((dir / "d.jsonl").lexically_normal()));
  EXPECT_EQ(job.begin().key(), "labels");  // the person's order kept
  EXPECT_EQ(job["epochs"], 2);

  const std::string command = "{" + kCommand + "}";
  spec = parse_job_spec("job.json", command, dir.path());
  EXPECT_EQ(spec.kind_name(), "command");
  job = nlohmann::ordered_json::parse(spec.with_absolute_paths(command));
  EXPECT_EQ(job["working_dir"], path_utf8(dir.path().lexically_normal()));  // the default, written
}

TEST(JobSpec, ReadsEveryFinetuneFieldAndItsDefaults) {
  testing::TempDir dir;
  testing::write_text(dir / "base.gguf", "GGUF");
  testing::write_text(dir / "data" / "corpus.txt", "text");
  fs::create_directories(dir / "models");
  JobSpec spec = parse_job_spec((dir / "tune.json").string(), R"({
    "kind": "finetune", "base_model": "base.gguf", "dataset": "data/corpus.txt",
    "output_model": "tuned", "output_dir": "models", "epochs": 3, "learning_rate": 0.001,
    "context_length": 256, "validation_fraction": 0.2, "seed": 5, "threads": 1,
    "checkpoint_every": 4, "optimizer": "sgd"})",
                                dir.path());
  ASSERT_NE(spec.as<FinetuneSpec>(), nullptr);
  EXPECT_EQ(spec.kind_name(), "finetune");
  const FinetuneSpec& f = *spec.as<FinetuneSpec>();
  EXPECT_EQ(f.base_model, dir / "base.gguf");
  EXPECT_EQ(f.dataset, dir / "data" / "corpus.txt");
  EXPECT_EQ(f.output_model, "tuned.gguf");
  EXPECT_EQ(f.output_dir, dir / "models");
  EXPECT_EQ(f.epochs, 3);
  EXPECT_DOUBLE_EQ(f.learning_rate, 0.001);
  EXPECT_EQ(f.context_length, 256);
  EXPECT_DOUBLE_EQ(f.validation_fraction, 0.2);
  EXPECT_EQ(f.seed, 5u);
  EXPECT_EQ(f.threads, 1);
  EXPECT_EQ(f.checkpoint_every, 4);
  EXPECT_EQ(f.optimizer, FinetuneOptimizer::sgd);
  const auto absolute = nlohmann::json::parse(spec.with_absolute_paths(R"({"kind": "finetune",
    "base_model": "base.gguf", "dataset": "data/corpus.txt", "output_model": "tuned",
    "output_dir": "models"})"));
  EXPECT_EQ(absolute["output_dir"], path_utf8(dir / "models"));

  const FinetuneSpec d = *parse_job_spec("t.json", R"({"kind": "finetune", "base_model": "b.gguf",
    "dataset": "d.jsonl", "output_model": "m.gguf"})",
                                         "base", PathCheck::skip)
                              .as<FinetuneSpec>();
  EXPECT_EQ(d.output_model, "m.gguf");
  EXPECT_TRUE(d.output_dir.empty());
  EXPECT_EQ(d.epochs, 2);
  EXPECT_EQ(d.context_length, 512);
  EXPECT_EQ(d.checkpoint_every, 20);
  EXPECT_EQ(d.optimizer, FinetuneOptimizer::adamw);
}

TEST(JobSpec, DistillMinAgreement) {
  const std::string job = R"({"kind": "distill", "dataset": "d.jsonl", "labels": ["a", "b"])";
  EXPECT_DOUBLE_EQ(
      parse_job_spec("j.json", job + "}", "b", PathCheck::skip).as<DistillSpec>()->min_agreement,
      0.95);
  EXPECT_DOUBLE_EQ(
      parse_job_spec("j.json", job + R"(, "min_agreement": 0.8})", "b", PathCheck::skip)
          .as<DistillSpec>()
          ->min_agreement,
      0.8);
  EXPECT_EQ(error_of(job + ",\n\"min_agreement\": 1.5}"),
            "job.json:2: field 'min_agreement': expected a number from 0.0 to 1.0, got 1.5");
}

TEST(JobSpec, DistillNamesTheServersModel) {
  const std::string job = R"({"kind": "distill", "dataset": "d.jsonl", "labels": ["a", "b"])";
  EXPECT_EQ(parse_job_spec("j.json", job + "}", "b", PathCheck::skip).as<DistillSpec>()->model, "");
  EXPECT_EQ(parse_job_spec("j.json", job + R"(, "model": "qwen"})", "b", PathCheck::skip)
                .as<DistillSpec>()
                ->model,
            "qwen");
  EXPECT_EQ(error_of(job + ",\n\"model\": \"\"}"),
            "job.json:2: field 'model': must not be empty (leave it out for the default model)");
}

TEST(JobSpec, FinetuneBaseModelIsAPathOrAModelOfTheServersFolder) {
  const std::string head = R"({"kind": "finetune", "dataset": "d.txt", "output_model": "m", )";
  const auto named =
      parse_job_spec("j.json", head + R"("base_model": "qwen2.5-0.5b"})", "/b", PathCheck::skip);
  EXPECT_EQ(named.as<FinetuneSpec>()->base_model_name, "qwen2.5-0.5b");
  EXPECT_TRUE(named.as<FinetuneSpec>()->base_model.empty());
  const auto path =
      parse_job_spec("j.json", head + R"("base_model": "m.gguf"})", "/b", PathCheck::skip);
  EXPECT_TRUE(path.as<FinetuneSpec>()->base_model_name.empty());
  EXPECT_EQ(path.as<FinetuneSpec>()->base_model.filename(), "m.gguf");
}

TEST(JobSpec, FinetuneErrorsNameTheField) {
  const std::string head =
      "{\"kind\": \"finetune\", \"base_model\": \"b.gguf\", \"output_model\": \"m\",\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"kind\": \"finetune\", \"dataset\": \"d.txt\"}",
       "job.json:1: field 'base_model': missing (required for a finetune job)"},
      {head + "\"dataset\": \"d.csv\"}",
       "job.json:2: field 'dataset': expected a .txt (plain text) or .jsonl (records) file, got "
       "\"d.csv\""},
      {head + "\"dataset\": \"d.txt\",\n\"context_length\": 300}",
       "job.json:3: field 'context_length': must be a multiple of 256, got 300"},
      {head + "\"dataset\": \"d.txt\",\n\"optimizer\": \"lion\"}",
       "job.json:3: field 'optimizer': expected \"adamw\" or \"sgd\", got \"lion\""},
      {"{\"kind\": \"finetune\", \"base_model\": \"b\", \"dataset\": \"d.txt\",\n"
       "\"output_model\": \"../m\"}",
       "job.json:2: field 'output_model': must be a file name without a folder, got \"../m\""},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(error_of(text), expected) << text;
}

TEST(JobSpec, DefaultNameCanBeGiven) {
  const std::string job = R"({"kind": "command", "command": ["run"]})";
  EXPECT_EQ(parse_job_spec("active/x-1234abcd.json", job, "b", PathCheck::skip, "x").name, "x");
  EXPECT_EQ(parse_job_spec("active/x-1234abcd.json", job, "b", PathCheck::skip).name, "x-1234abcd");
}

}  // namespace
}  // namespace tandem::spool
