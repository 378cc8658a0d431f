// The pure parts of `sqltrack compare`: lining up command lines, the items only some runs
// have, the variables that differ, and both printed forms of a comparison made up here.
#include "sqltrack/read/run_comparison.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace sqltrack {
namespace {

using Items = std::vector<std::string>;

TEST(CommandLineItems, AnOptionAndItsValueAreOneItem) {
  EXPECT_EQ(command_line_items(nlohmann::json{"python", "train.py", "--lr", "0.1", "--fast",
                                              "--seed=3", "-n", "-1", "--", "-x"}),
            (Items{"python", "train.py", "--lr 0.1", "--fast", "--seed=3", "-n -1", "--", "-x"}))
      << "--fast before an option and --seed=3 stand alone; -1 is a value, -- ends options";
}

TEST(CommandLineItems, ArgumentsAreWrittenAsAShellReadsThem) {
  EXPECT_EQ(command_line_items(nlohmann::json{"echo", "two words", "", "it's", "a=b,c/d"}),
            (Items{"echo", "'two words'", "''", "'it'\\''s'", "a=b,c/d"}));
}

TEST(CommandLineItems, SomethingOtherThanAnArrayHasNoItems) {
  EXPECT_EQ(command_line_items(nlohmann::json(nullptr)), Items{});
  EXPECT_EQ(command_line_items(nlohmann::json::object()), Items{});
}

TEST(ItemsNotShared, EachListKeepsWhatNotEveryListHasInItsOrder) {
  auto only = items_not_shared({{"python", "train.py", "--lr 0.1", "--seed 1"},
                                {"python", "train.py", "--lr 0.01", "--seed 1", "--fast"},
                                {"--seed 1", "python", "train.py", "--lr 0.1"}});
  ASSERT_EQ(only.size(), 3u);
  EXPECT_EQ(only[0], (Items{"--lr 0.1"}));
  EXPECT_EQ(only[1], (Items{"--lr 0.01", "--fast"}));
  EXPECT_EQ(only[2], (Items{"--lr 0.1"})) << "order alone is no difference";
}

TEST(ItemsNotShared, RepeatsBeyondWhatEveryListHasCount) {
  auto only = items_not_shared({{"-v", "-v", "x"}, {"-v", "x"}});
  EXPECT_EQ(only[0], (Items{"-v"}));
  EXPECT_EQ(only[1], Items{});
}

TEST(ItemsNotShared, EqualListsHaveNothingOfTheirOwn) {
  auto only = items_not_shared({{"a", "b"}, {"a", "b"}});
  EXPECT_EQ(only, (std::vector<Items>{{}, {}}));
}

TEST(DifferingNames, AnAbsentOrOtherValueDiffers) {
  const nlohmann::json a = {{"HOME", "/h"}, {"CUDA", "0"}, {"TOKEN", "<redacted>"}};
  const nlohmann::json b = {{"HOME", "/h"}, {"CUDA", "1"}, {"EXTRA", "x"}};
  EXPECT_EQ(differing_names({a, b}), (Items{"CUDA", "EXTRA", "TOKEN"}));
  EXPECT_EQ(differing_names({a, a}), Items{});
}

TEST(DifferingNames, RunsWithoutARecordedEnvironmentAreLeftOut) {
  const nlohmann::json a = {{"HOME", "/h"}};
  const nlohmann::json b = {{"HOME", "/g"}};
  EXPECT_EQ(differing_names({a, nullptr, b}), (Items{"HOME"}));
  EXPECT_EQ(differing_names({a, nullptr}), Items{}) << "one environment has nothing to differ from";
}

RunComparison made_up_comparison() {
  RunComparison comparison;
  ComparedRun first;
  first.id = 7;
  first.experiment = "sweep";
  first.status = "COMPLETED";
  first.duration_seconds = 330.5;
  first.host = "node1";
  first.comment = "line one\nline two";
  first.git = {
      {"commit", "3f2a9c1d0b7e5a4c3b2a19f8e7d6c5b4a3928170"}, {"branch", "main"}, {"dirty", false}};
  first.tags = {{"lr", "0.1"}};
  first.args = {"python", "train.py", "--lr", "0.1"};
  first.args_only_here = {"--lr 0.1"};
  first.env = {{"CUDA", "0"}};
  ComparedRun second;
  second.id = 8;
  second.experiment = "sweep";
  second.status = "FAILED";
  second.tags = {{"lr", "0.01"}, {"seed", "7"}};
  second.args = {"python", "train.py", "--lr", "0.01"};
  second.args_only_here = {"--lr 0.01"};
  comparison.runs = {first, second};
  comparison.args_differ = true;
  comparison.tag_keys = {"lr", "seed"};
  comparison.differing_env = {"CUDA"};
  ComparedMetric loss{"loss", true, {}};
  loss.runs.push_back(RunMetric{{0.3, 3}, ValueAtStep{0.25, 2}, ValueAtStep{1.0, 0}});
  loss.runs.push_back(std::nullopt);
  ComparedMetric phase{"phase", false, {}};
  phase.runs.push_back(RunMetric{{std::string("warm up"), 1}, std::nullopt, std::nullopt});
  phase.runs.push_back(RunMetric{{std::int64_t{4}, 9}, std::nullopt, std::nullopt});
  comparison.metrics = {loss, phase};
  return comparison;
}

TEST(ComparisonTable, OneColumnPerRunAndOneLinePerFact) {
  auto lines = comparison_table_lines(made_up_comparison());
  const std::vector<std::string> expected = {
      "                  run 7              run 8",
      "experiment        sweep              sweep",
      "status            COMPLETED          FAILED",
      "started           -                  -",
      "duration          0:05:30            -",
      "host              node1              -",
      "comment           line one?line two  -",
      "code              3f2a9c1 main       -",
      "tag lr            0.1                0.01",
      "tag seed          -                  7",
      "args (differing)  --lr 0.1           --lr 0.01",
      "env CUDA          0                  -",
      "loss last         0.3 (step 3)       -",
      "loss min          0.25 (step 2)      -",
      "loss max          1 (step 0)         -",
      "phase last        warm up (step 1)   4 (step 9)",
  };
  EXPECT_EQ(lines, expected);
}

TEST(ComparisonTable, LongCellsAreCutAndSameArgsShownWhole) {
  auto comparison = made_up_comparison();
  comparison.runs[0].comment = std::string(100, 'x');
  for (auto& run : comparison.runs) {
    run.args = {"python", "train.py"};
    run.args_only_here.clear();
  }
  comparison.args_differ = false;
  auto lines = comparison_table_lines(comparison);
  // Labels are 12 columns wide now ("phase last" and two blanks): no "args (differing)".
  EXPECT_EQ(lines[6], "comment     " + std::string(39, 'x') + "…  -");
  EXPECT_EQ(lines[10].substr(0, 12), "args        ");
  EXPECT_NE(lines[10].find("python train.py"), std::string::npos) << lines[10];
}

TEST(ComparisonJson, RunsInOrderWithTheirDifferences) {
  auto comparison = made_up_comparison();
  comparison.metrics[0].runs[0]->last.value = std::numeric_limits<double>::quiet_NaN();
  auto json = nlohmann::json::parse(comparison_to_json(comparison).dump());
  EXPECT_EQ(json["args_differ"], true);
  EXPECT_EQ(json["metrics"], nlohmann::json({"loss", "phase"}));
  EXPECT_EQ(json["differing_env"], nlohmann::json({"CUDA"}));
  ASSERT_EQ(json["runs"].size(), 2u);
  const auto& first = json["runs"][0];
  EXPECT_EQ(first["run_id"], 7);
  EXPECT_EQ(first["duration_seconds"], 330.5);
  EXPECT_EQ(first["comment"], "line one\nline two") << "JSON keeps the text whole";
  EXPECT_EQ(first["args_only_here"], nlohmann::json({"--lr 0.1"}));
  EXPECT_EQ(first["env"], nlohmann::json({{"CUDA", "0"}}));
  EXPECT_EQ(first["metrics"]["loss"]["last"], nlohmann::json({{"value", nullptr}, {"step", 3}}))
      << "NaN has no JSON spelling";
  EXPECT_EQ(first["metrics"]["loss"]["min"], nlohmann::json({{"value", 0.25}, {"step", 2}}));
  EXPECT_EQ(first["metrics"]["phase"]["max"], nullptr);
  const auto& second = json["runs"][1];
  EXPECT_EQ(second["env"], nullptr) << "no environment recorded";
  EXPECT_EQ(second["metrics"]["loss"], nullptr);
  EXPECT_EQ(second["metrics"]["phase"]["last"], nlohmann::json({{"value", 4}, {"step", 9}}));
  EXPECT_EQ(second["time_started"], nullptr);
}

}  // namespace
}  // namespace sqltrack
