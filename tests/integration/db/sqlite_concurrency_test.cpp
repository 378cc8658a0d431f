// SQLite is for one machine, and there it must be safe: many wrappers started
// at once, all writing metrics into one database file, lose nothing and never
// give up on a lock.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sqltrack/db/sqlite_database.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

constexpr int kWrappers = 20;
constexpr int kLines = 1000;  // as the child script writes

TEST(SqliteConcurrency, TwentyWrappersShareOneFileAndLoseNothing) {
  EngineDatabase db(db::Engine::sqlite);
  test::write_file(db.cwd() / "v001.sql", "ALTER TABLE metrics ADD COLUMN loss REAL;\n");
  test::CommandOptions in_db_dir;
  in_db_dir.cwd = db.cwd();
  CommandResult setup = test::run_command({SQLTRACK_BIN, "setup", "v001.sql"}, in_db_dir);
  ASSERT_EQ(setup.exit_code, 0) << setup.err;

  // All wrappers start at once (their run rows and schema checks overlap); each
  // child waits for the file 'go', written once all are started, so that the
  // metric writes overlap too. Children run in the database's directory.
  const std::string child =
      "while [ ! -e go ]; do sleep 0.01; done; "
      "for ((i = 0; i < 1000; i++)); do echo \"step=$i loss=$i.5\"; done > \"$SQLTRACK_METRICS\"";
  std::vector<std::unique_ptr<test::BackgroundProcess>> wrappers;
  for (int w = 0; w < kWrappers; ++w) {
    wrappers.push_back(std::make_unique<test::BackgroundProcess>(
        db.wrapper_argv({"--experiment", "concurrency"}, {"bash", "-c", child}), in_db_dir));
  }
  test::write_file(db.cwd() / "go", "");

  for (int w = 0; w < kWrappers; ++w) {
    int status = wrappers[static_cast<std::size_t>(w)]->wait(std::chrono::seconds(180));
    std::string err = wrappers[static_cast<std::size_t>(w)]->err();
    EXPECT_EQ(status, 0) << "wrapper " << w << ": " << err;
    EXPECT_EQ(err.find("database is locked"), std::string::npos) << "wrapper " << w << ": " << err;
    EXPECT_EQ(err, "") << "wrapper " << w;
  }

  auto database = db.connect();
  auto scalar = [&](const std::string& sql) {
    return database->query(sql, {}).scalar().value_or("<NULL>");
  };
  EXPECT_EQ(scalar("SELECT count(*) FROM runs"), std::to_string(kWrappers));
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'"),
            std::to_string(kWrappers));
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), std::to_string(kWrappers * kLines));
  // Every run has all its steps, each with its own value: nothing torn or mixed up.
  EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT run_id FROM metrics WHERE loss = step + 0.5 "
                   "GROUP BY run_id HAVING count(DISTINCT step) = " +
                   std::to_string(kLines) + ")"),
            std::to_string(kWrappers));
  EXPECT_EQ(scalar("PRAGMA integrity_check"), "ok");
}

// A wrapper leaves its commits in the WAL (the checkpoint would cost every job two disk
// flushes); a `sqltrack` command that writes and closes the database last moves them into the
// file, so the file alone, copied elsewhere, holds every run again (as the README says). The
// read commands open the file read-only and leave it as it is (read_only_test.cpp).
TEST(SqliteConcurrency, WrapperLeavesTheWalAndACommandMovesItIntoTheFile) {
  EngineDatabase db(db::Engine::sqlite);
  test::CommandOptions in_db_dir;
  in_db_dir.cwd = db.cwd();
  CommandResult run = test::run_command(db.wrapper_argv({"-e", "wal"}, {"true"}), in_db_dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto wal = db.cwd() / "sqltrack.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal)) << "expected the WAL next to the database";
  EXPECT_GT(std::filesystem::file_size(wal), 0u) << "expected the wrapper's commits in the WAL";

  CommandResult setup = test::run_command({SQLTRACK_BIN, "setup"}, in_db_dir);
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_EQ(std::filesystem::file_size(wal), 0u) << "expected `setup` to checkpoint at close";

  test::TempDir elsewhere;
  std::filesystem::copy_file(db.cwd() / "sqltrack.db", elsewhere.path() / "sqltrack.db");
  auto copy = db::open_sqlite({.path = elsewhere.path() / "sqltrack.db"});
  EXPECT_EQ(copy->query("SELECT status FROM runs", {}).scalar().value_or("<none>"), "COMPLETED");
}

}  // namespace
}  // namespace sqltrack
