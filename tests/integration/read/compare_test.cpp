// `sqltrack compare` through the real executable, on real SQLite and PostgreSQL databases:
// the same runs give the same text and the same JSON on both engines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

constexpr const char* kCommit = "3f2a9c1d0b7e5a4c3b2a19f8e7d6c5b4a3928170";

class CompareTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    auto db = db_.connect();
    test::insert_runs(*db);
    // Run 1 ran in a git work tree with changes to tracked files.
    db->query("UPDATE runs SET git = $1 WHERE id = 1",
              std::vector<db::Value>{nlohmann::json{{"commit", kCommit},
                                                    {"branch", "main"},
                                                    {"dirty", true},
                                                    {"remote", "https://example.org/x.git"}}
                                         .dump()});
    // Recorded environments: a variable only run 1 has (its value redacted as stored), one
    // with other values, one the same in both.
    db->query("UPDATE runs SET env = $1 WHERE id = 1", std::vector<db::Value>{nlohmann::json{
                                                           {"HOME", "/home/alice"},
                                                           {"CUDA_VISIBLE_DEVICES", "0"},
                                                           {"WANDB_API_KEY",
                                                            "<redacted>"}}.dump()});
    db->query("UPDATE runs SET env = $1 WHERE id = 2",
              std::vector<db::Value>{
                  nlohmann::json{{"HOME", "/home/alice"}, {"CUDA_VISIBLE_DEVICES", "1"}}.dump()});
    // The largest value of run 4 twice: the first step that reached it counts.
    db->query("INSERT INTO metrics (run_id, step, progress, loss) VALUES (4, 1, 0.5, 9.0)", {});
  }

  // In UTC, so that the start times read the same wherever the test runs.
  CommandResult compare(std::vector<std::string> args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("compare");
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandOptions options;
    options.cwd = db_.cwd();
    options.env["TZ"] = "UTC";
    return test::run_command(argv, options);
  }

  std::string compared(std::vector<std::string> args) const {
    auto result = compare(std::move(args));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
    return result.out;
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(CompareTest, TextIsOneColumnPerRun) {
  EXPECT_EQ(compared({"1", "2"}),
            "                          run 1                run 2\n"
            "experiment                sweep                sweep\n"
            "status                    COMPLETED            FAILED\n"
            "started                   2026-01-02 10:00:00  2026-01-02 11:00:00\n"
            "duration                  0:05:30              0:01:00\n"
            "host                      node1                node2\n"
            "comment                   first run            -\n"
            "code                      3f2a9c1 main dirty   -\n"
            "tag lr                    0.1                  0.01\n"
            "tag note                  a, \"quoted\"?value    -\n"
            "args (differing)          --name 'x,\"y\"?z'     -\n"
            "env CUDA_VISIBLE_DEVICES  0                    1\n"
            "env WANDB_API_KEY         <redacted>           -\n"
            "loss last                 0.3 (step 3)         1.5 (step 5)\n"
            "loss min                  0.25 (step 2)        1.5 (step 5)\n"
            "loss max                  1 (step 0)           2 (step 0)\n"
            "val_acc last              0.8 (step 2)         -\n"
            "val_acc min               0.6 (step 1)         -\n"
            "val_acc max               0.8 (step 2)         -\n");
}

TEST_P(CompareTest, JsonIsOneObjectWithEveryValueWhole) {
  auto json = nlohmann::json::parse(compared({"2", "1", "--json"}));
  EXPECT_EQ(json["args_differ"], true);
  EXPECT_EQ(json["tag_keys"], nlohmann::json({"lr", "note"}));
  EXPECT_EQ(json["differing_env"], nlohmann::json({"CUDA_VISIBLE_DEVICES", "WANDB_API_KEY"}));
  EXPECT_EQ(json["metrics"], nlohmann::json({"loss", "val_acc"}));
  ASSERT_EQ(json["runs"].size(), 2u);
  const auto& two = json["runs"][0];
  const auto& one = json["runs"][1];
  EXPECT_EQ(two["run_id"], 2) << "runs in the order given";
  EXPECT_EQ(one["experiment"], "sweep");
  EXPECT_EQ(one["status"], "COMPLETED");
  EXPECT_EQ(one["time_started"], "2026-01-02 10:00:00.000000+00:00");
  EXPECT_EQ(one["time_ended"], "2026-01-02 10:05:30.500000+00:00");
  EXPECT_EQ(one["duration_seconds"], 330.5);
  EXPECT_EQ(one["host"], "node1");
  EXPECT_EQ(one["comment"], "first run");
  EXPECT_EQ(two["comment"], nullptr);
  EXPECT_EQ(one["git"]["commit"], kCommit);
  EXPECT_EQ(one["git"]["branch"], "main");
  EXPECT_EQ(two["git"], nullptr) << "run 2 ran outside a git work tree";
  EXPECT_EQ(one["tags"], nlohmann::json({{"lr", "0.1"}, {"note", "a, \"quoted\"\nvalue"}}));
  EXPECT_EQ(one["args"], nlohmann::json({"python", "train.py", "--name", "x,\"y\"\nz"}));
  EXPECT_EQ(one["args_only_here"], nlohmann::json({"--name 'x,\"y\"\nz'"}));
  EXPECT_EQ(two["args_only_here"], nlohmann::json::array());
  EXPECT_EQ(one["env"],
            nlohmann::json({{"CUDA_VISIBLE_DEVICES", "0"}, {"WANDB_API_KEY", "<redacted>"}}));
  EXPECT_EQ(two["env"],
            nlohmann::json({{"CUDA_VISIBLE_DEVICES", "1"}, {"WANDB_API_KEY", nullptr}}));
  EXPECT_EQ(one["metrics"]["loss"], nlohmann::json({{"last", {{"value", 0.3}, {"step", 3}}},
                                                    {"min", {{"value", 0.25}, {"step", 2}}},
                                                    {"max", {{"value", 1.0}, {"step", 0}}}}));
  EXPECT_EQ(two["metrics"]["val_acc"], nullptr) << "run 2 never wrote val_acc";
}

TEST_P(CompareTest, OnlyMetricsWithValuesInTheseRunsAreShown) {
  auto json = nlohmann::json::parse(compared({"2", "3", "--json"}));
  EXPECT_EQ(json["metrics"], nlohmann::json({"loss"}));
  EXPECT_EQ(json["runs"][1]["metrics"]["loss"], nullptr) << "run 3 has no metric rows";
  EXPECT_EQ(json["runs"][1]["duration_seconds"], nullptr) << "run 3 has not ended";
  EXPECT_EQ(json["runs"][1]["env"], nullptr) << "run 3 has no environment recorded";
  EXPECT_EQ(json["differing_env"], nlohmann::json::array())
      << "one recorded environment has nothing to differ from";
}

TEST_P(CompareTest, ATieIsReachedAtItsFirstStep) {
  auto json = nlohmann::json::parse(compared({"1", "4", "--json"}));
  const auto& loss = json["runs"][1]["metrics"]["loss"];
  EXPECT_EQ(loss["max"], nlohmann::json({{"value", 9.0}, {"step", 0}})) << loss;
  EXPECT_EQ(loss["min"], nlohmann::json({{"value", 9.0}, {"step", 0}})) << loss;
  EXPECT_EQ(loss["last"], nlohmann::json({{"value", 9.0}, {"step", 1}})) << loss;
  EXPECT_EQ(json["runs"][1]["experiment"], "other");
}

TEST_P(CompareTest, AnUnknownRunIsOneLineAndExitOne) {
  auto result = compare({"1", "99"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "sqltrack: error: no run 99\n");
  EXPECT_EQ(result.out, "");
}

TEST_P(CompareTest, FewerThanTwoRunsIsAUsageError) {
  for (const auto& args : std::vector<std::vector<std::string>>{{}, {"1"}, {"1", "1"}}) {
    auto result = compare(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find("compare needs two or more runs"), std::string::npos) << result.err;
  }
  EXPECT_EQ(compare({"1", "two"}).exit_code, 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, CompareTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
