// `sqltrack-run status` filters, leaderboard order and the TAGS/COMMENT/best columns, through
// the real executable on real SQLite and PostgreSQL databases.
#include <gtest/gtest.h>

#include <sstream>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;

class StatusTableTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    test::insert_runs(*db_.connect());
  }

  CommandResult status(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_RUN_BIN, "status"};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return test::run_command(argv, options);
  }

  // The table's lines, the header first; a failure with the error when status fails.
  std::vector<std::string> table(const std::vector<std::string>& args) const {
    auto result = status(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::vector<std::string> lines;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // The RUN column, top to bottom.
  std::vector<std::string> run_ids(const std::vector<std::string>& args) const {
    auto lines = table(args);
    std::vector<std::string> ids;
    for (std::size_t i = 1; i < lines.size(); ++i)
      ids.push_back(lines[i].substr(0, lines[i].find(' ')));
    return ids;
  }

  test::EngineDatabase db_{GetParam()};
};

using Ids = std::vector<std::string>;

TEST_P(StatusTableTest, StatusFilterTakesAnyOfTheGivenStatesInAnyCase) {
  EXPECT_EQ(run_ids({"--status", "failed", "--status", "RUNNING"}), (Ids{"3", "2"}));
  EXPECT_EQ(run_ids({"--status", "COMPLETED", "-e", "other"}), (Ids{"4"}));
}

TEST_P(StatusTableTest, TagFilterNeedsEveryGivenTag) {
  EXPECT_EQ(run_ids({"--tag", "lr=0.01"}), (Ids{"2"}));
  EXPECT_EQ(run_ids({"--tag", "lr=0.001", "--tag", "seed=7"}), (Ids{"3"}));
  EXPECT_EQ(run_ids({"--tag", "lr=0.1", "--tag", "seed=7"}), (Ids{}));
  EXPECT_EQ(run_ids({"--tag", "nosuch=x"}), (Ids{}));
}

TEST_P(StatusTableTest, SinceKeepsRunsCreatedWithinTheDuration) {
  db_.connect()->query("UPDATE runs SET time_created = $1 WHERE id IN (1, 2)",
                       std::vector<db::Value>{std::string("2020-01-01 00:00:00+00:00")});
  EXPECT_EQ(run_ids({"--since", "1d"}), (Ids{"4", "3"}));
  EXPECT_EQ(run_ids({"--since", "52w", "--status", "FAILED"}), (Ids{}));
}

TEST_P(StatusTableTest, SortIsALeaderboardByTheLastValueWithRunsWithoutOneLast) {
  EXPECT_EQ(run_ids({"--sort", "loss"}), (Ids{"1", "2", "4", "3"}));
  EXPECT_EQ(run_ids({"--sort", "loss:desc"}), (Ids{"4", "2", "1", "3"}));
  EXPECT_EQ(run_ids({"--sort", "val_acc:desc", "--limit", "2"}), (Ids{"1", "4"}));
}

TEST_P(StatusTableTest, MetricShowsLastAndBestInTheLeaderboardsDirection) {
  auto by_loss = table({"--sort", "loss", "-e", "sweep"});
  ASSERT_EQ(by_loss.size(), 4u);
  EXPECT_NE(by_loss[0].find("BEST (min)"), std::string::npos) << by_loss[0];
  // Run 1: last 0.3 at step 3, lowest 0.25 at step 2.
  EXPECT_NE(by_loss[1].find(" 0.3  "), std::string::npos) << by_loss[1];
  EXPECT_TRUE(by_loss[1].ends_with(" 0.25")) << by_loss[1];
  auto by_acc = table({"--metric", "val_acc", "--sort", "val_acc:desc", "-e", "sweep"});
  EXPECT_NE(by_acc[0].find("BEST (max)"), std::string::npos) << by_acc[0];
  EXPECT_TRUE(by_acc[1].ends_with(" 0.8")) << by_acc[1];
}

TEST_P(StatusTableTest, TagsColumnShowsWhatTellsTheRunsApartAndCommentWhenAnyIsSet) {
  auto sweep = table({"-e", "sweep"});
  ASSERT_EQ(sweep.size(), 4u);
  EXPECT_NE(sweep[0].find("TAGS"), std::string::npos) << sweep[0];
  EXPECT_NE(sweep[0].find("COMMENT"), std::string::npos) << sweep[0];
  EXPECT_NE(sweep[1].find("lr=0.001 seed=7"), std::string::npos) << sweep[1];
  EXPECT_NE(sweep[2].find("lr=0.01 "), std::string::npos) << sweep[2];
  EXPECT_NE(sweep[3].find("first run"), std::string::npos) << sweep[3];
  auto other = table({"-e", "other"});
  ASSERT_EQ(other.size(), 2u);
  EXPECT_NE(other[1].find("opt=adam"), std::string::npos) << other[1];
  EXPECT_EQ(other[0].find("COMMENT"), std::string::npos) << other[0];
}

TEST_P(StatusTableTest, BadFilterOrSortIsAOneLineError) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string names;
  };
  for (const auto& c : std::vector<Case>{{{"--status", "DONE"}, 2, "DONE"},
                                         {{"--tag", "lr"}, 2, "KEY=VALUE"},
                                         {{"--since", "5x"}, 2, "5x"},
                                         {{"--sort", "loss:up"}, 2, "loss:up"},
                                         {{"--sort", "nosuch"}, 1, "nosuch"}}) {
    auto result = status(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.args[1] << ": " << result.err;
    // One line says what is wrong (a usage error may add where to find the help).
    std::string first = result.err.substr(0, result.err.find('\n'));
    EXPECT_TRUE(first.starts_with("sqltrack-run: error: ")) << result.err;
    EXPECT_NE(first.find(c.names), std::string::npos) << result.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, StatusTableTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
