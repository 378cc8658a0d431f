// The demo part of the quick start (scripts/demo.sh, which scripts/quickstart.sh runs after
// installing and building), run as it is on a fresh directory with the executables under test.
#include <gtest/gtest.h>

#include "sqltrack/connect/connect.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

TEST(QuickstartDemo, RecordsFiveMetricRowsAndRejectsNothing) {
  test::TempDir dir;
  // SQLTRACK_RUN_BIN is BUILD_DIR/src/cli/sqltrack-run.
  const auto build_dir =
      std::filesystem::path(SQLTRACK_RUN_BIN).parent_path().parent_path().parent_path();
  test::CommandOptions options;
  // Nothing of the test's own environment may choose another database or experiment.
  for (const char* name : {"SQLTRACK_EXPERIMENT", "SLURM_JOB_NAME", "SQLTRACK_CONFIG_PATH",
                           "SQLTRACK_ENGINE", "SQLTRACK_DSN_ADD_COLUMNS"}) {
    options.env[name] = std::nullopt;
  }
  test::CommandResult demo =
      test::run_command({std::string(SQLTRACK_SOURCE_DIR) + "/scripts/demo.sh", build_dir.string(),
                         (dir / "demo").string()},
                        options);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;

  auto db = open_database(
      resolve_settings({}, {{"SQLTRACK_DSN_PATH", (dir / "demo" / "sqltrack.db").string()}},
                       dir.path()),
      db::WalOnClose::checkpoint, db::OpenMode::read_only);
  EXPECT_EQ(db->query("SELECT group_concat(step || ':' || progress, ' ') FROM "
                      "(SELECT step, progress FROM metrics ORDER BY step)",
                      {})
                .scalar()
                .value_or("<no metric rows>"),
            "1:0.2 2:0.4 3:0.6 4:0.8 5:1.0")
      << demo.err;
  EXPECT_EQ(db->query("SELECT count(train_loss) FROM metrics", {}).scalar(), "5") << demo.err;
  EXPECT_EQ(demo.err.find("rejected"), std::string::npos) << demo.err;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "demo")) {
    EXPECT_NE(entry.path().extension(), ".rejects") << "the demo left " << entry.path();
  }
  // The status table ends the demo, with the metric's sparkline and last value.
  for (const char* shown : {"quickstart", "COMPLETED", "train_loss", "0.1681"}) {
    EXPECT_NE(demo.out.find(shown), std::string::npos)
        << "the demo's output lacks '" << shown << "':\n"
        << demo.out;
  }
}

// The README's first hour: a sweep of examples/train.py under the wrapper, its leaderboard and
// the comparison of two runs.
TEST(QuickstartDemo, ExampleSweepMakesALeaderboardAndAComparison) {
  test::TempDir dir;
  test::CommandOptions options;
  options.cwd = dir.path();
  options.env["PYTHONPATH"] = std::string(SQLTRACK_SOURCE_DIR) + "/python";
  for (const char* name : {"SQLTRACK_EXPERIMENT", "SLURM_JOB_NAME", "SQLTRACK_CONFIG_PATH",
                           "SQLTRACK_ENGINE", "SQLTRACK_DSN_ADD_COLUMNS"}) {
    options.env[name] = std::nullopt;
  }
  for (const char* lr : {"0.1", "0.01"}) {
    auto run = test::run_command(
        {SQLTRACK_RUN_BIN, "-e", "sweep", "--tag", std::string("lr=") + lr, "--", "python3",
         std::string(SQLTRACK_SOURCE_DIR) + "/examples/train.py", "--lr", lr, "--epochs", "5"},
        options);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err.find("reject"), std::string::npos) << run.err;
  }
  auto board =
      test::run_command({SQLTRACK_RUN_BIN, "status", "-e", "sweep", "--sort", "val_loss"}, options);
  ASSERT_EQ(board.exit_code, 0) << board.err;
  // The larger learning rate's loss falls faster: run 1 leads.
  EXPECT_TRUE(board.out.find("\n1 ") < board.out.find("\n2 ")) << board.out;
  EXPECT_NE(board.out.find("lr=0.01"), std::string::npos) << board.out;
  auto compared = test::run_command({SQLTRACK_BIN, "compare", "1", "2"}, options);
  ASSERT_EQ(compared.exit_code, 0) << compared.err;
  for (const char* shown : {"tag lr", "--lr 0.1", "val_loss last", "(step 5)"}) {
    EXPECT_NE(compared.out.find(shown), std::string::npos) << shown << " in\n" << compared.out;
  }
}

}  // namespace
}  // namespace sqltrack
