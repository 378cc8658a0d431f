// `sqltrack setup` against real SQLite files and a real PostgreSQL server,
// through the real executable.
#include <gtest/gtest.h>

#include "sqltrack/run_status.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;
using test::run_command;
using test::write_file;

CommandResult sqltrack_cli(const EngineDatabase& db, std::vector<std::string> args) {
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = db.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), args.begin(), args.end());
  test::CommandOptions options;
  options.cwd = db.cwd();
  return run_command(argv, options);
}

std::string single(db::Database& db, const std::string& sql) {
  return db.query(sql, {}).scalar().value_or("<NULL>");
}

class SetupTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  EngineDatabase db_{GetParam()};
};

TEST_P(SetupTest, CreatesBaseTablesMigrationsTableAndStates) {
  auto result = sqltrack_cli(db_, {"setup"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("sqltrack/0001_base.sql: applied"), std::string::npos) << result.out;
  if (GetParam() == db::Engine::sqlite) {
    EXPECT_TRUE(std::filesystem::exists(db_.cwd() / "sqltrack.db"));
  }
  auto conn = db_.connect();
  for (const char* table : {"experiments", "experiment_relationships", "runs", "run_relationships",
                            "metrics", "applied_migrations"}) {
    EXPECT_TRUE(conn->table_exists(table)) << "expected table " << table;
  }
  std::string states =
      GetParam() == db::Engine::postgres
          ? single(*conn, "SELECT array_to_string(enum_range(NULL::runstatus), ',')")
          : single(*conn,
                   "SELECT group_concat(name, ',') FROM "
                   "(SELECT name FROM runstatus ORDER BY position)");
  std::string expected;
  for (auto name : kRunStatusNames) expected += (expected.empty() ? "" : ",") + std::string(name);
  EXPECT_EQ(states, expected);
  EXPECT_EQ(conn->table_columns("metrics"),
            (std::vector<std::string>{"run_id", "step", "progress"}));
}

TEST_P(SetupTest, UserMigrationsApplyOnceAndChangedScriptIsRefused) {
  // Scripts as written for the Python tool, with their own BEGIN; ... END;.
  write_file(db_.cwd() / "v001.sql",
             "BEGIN;\nALTER TABLE metrics ADD COLUMN train_loss DOUBLE PRECISION;\n"
             "ALTER TABLE metrics ADD COLUMN train_acc DOUBLE PRECISION;\nEND;\n");
  write_file(db_.cwd() / "v002.sql",
             "-- validation metrics\nBEGIN;\nALTER TABLE metrics ADD COLUMN val_loss DOUBLE "
             "PRECISION;\nCOMMIT;\n");
  auto first = sqltrack_cli(db_, {"setup", "v001.sql", "v002.sql"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("v001.sql: applied"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("v002.sql: applied"), std::string::npos) << first.out;
  auto conn = db_.connect();
  EXPECT_EQ(conn->table_columns("metrics"),
            (std::vector<std::string>{"run_id", "step", "progress", "train_loss", "train_acc",
                                      "val_loss"}));

  auto second = sqltrack_cli(db_, {"setup", "v001.sql", "v002.sql"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("nothing to do"), std::string::npos) << second.out;
  EXPECT_EQ(
      single(*conn,
             "SELECT count(*) FROM applied_migrations WHERE name IN ('v001.sql', 'v002.sql')"),
      "2");

  write_file(db_.cwd() / "v001.sql",
             "ALTER TABLE metrics ADD COLUMN train_loss2 DOUBLE PRECISION;\n");
  auto changed = sqltrack_cli(db_, {"setup", "v001.sql"});
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.err.find("migration 'v001.sql' was applied before with different content"),
            std::string::npos)
      << changed.err;
  EXPECT_EQ(conn->table_columns("metrics").size(), 6u) << "a refused script must change nothing";
}

TEST_P(SetupTest, FailingScriptRollsBackCompletely) {
  write_file(db_.cwd() / "v003.sql",
             "BEGIN;\nALTER TABLE metrics ADD COLUMN half_done DOUBLE PRECISION;\n"
             "ALTER TABLE no_such_table ADD COLUMN x INTEGER;\nEND;\n");
  auto result = sqltrack_cli(db_, {"setup", "v003.sql"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("migration 'v003.sql' failed and was rolled back"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("no_such_table"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
      << "one line: " << result.err;
  auto conn = db_.connect();
  EXPECT_EQ(conn->table_columns("metrics"),
            (std::vector<std::string>{"run_id", "step", "progress"}));
  EXPECT_EQ(single(*conn, "SELECT count(*) FROM applied_migrations WHERE name = 'v003.sql'"), "0");
}

TEST_P(SetupTest, MissingScriptChangesNothing) {
  auto result = sqltrack_cli(db_, {"setup", "nope.sql"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cannot read migration script 'nope.sql'"), std::string::npos)
      << result.err;
  EXPECT_FALSE(db_.connect()->table_exists("runs"));
}

TEST_P(SetupTest, ScriptWithRollbackIsRefusedBeforeRunning) {
  write_file(db_.cwd() / "v004.sql", "ALTER TABLE metrics ADD COLUMN a INTEGER;\nROLLBACK;\n");
  auto result = sqltrack_cli(db_, {"setup", "v004.sql"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("contains ROLLBACK"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, SetupTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(SetupPostgres, AdoptsDatabaseCreatedByPythonTool) {
  test::ScratchPostgresDatabase scratch;
  auto server = test::postgres_server();
  auto psql = run_command(
      {"psql", "-h", server.socket_dir, "-p", server.port, "-U", server.user, "-d", scratch.name(),
       "-qX", "-v", "ON_ERROR_STOP=1", "-f",
       std::string(SQLTRACK_SOURCE_DIR) + "/tests/integration/fixtures/sqltrack-0.1.3-base.sql",
       "-c",
       "INSERT INTO experiments (name) VALUES ('old');"
       "INSERT INTO runs (experiment_id, status, args) VALUES (1, "
       "'COMPLETED', '[\"train.py\"]');"
       "INSERT INTO metrics (run_id, step, progress) VALUES (1, 1, 0.5);"});
  ASSERT_EQ(psql.exit_code, 0) << psql.err;

  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("setup");
  auto result = run_command(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("sqltrack/0001_base.sql: adopted"), std::string::npos) << result.out;
  auto conn = scratch.connect();
  EXPECT_EQ(single(*conn, "SELECT name FROM experiments"), "old");
  EXPECT_EQ(single(*conn, "SELECT status::text || ' ' || args::text FROM runs"),
            "COMPLETED [\"train.py\"]");
  EXPECT_EQ(single(*conn, "SELECT count(*) FROM metrics"), "1");
  EXPECT_TRUE(conn->table_exists("applied_migrations"));
}

TEST(SetupPostgres, SchemaFlagCreatesAndUsesSchema) {
  test::ScratchPostgresDatabase scratch;
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-s", "team_a", "setup"});
  auto result = run_command(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto conn = scratch.connect();
  EXPECT_EQ(single(*conn,
                   "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                   "'team_a' AND table_name = 'runs'"),
            "1");
}

TEST(SetupPostgres, InjectionInSchemaFlagExecutesNothing) {
  test::ScratchPostgresDatabase scratch;
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-s", "x\"; CREATE TABLE pwned (a int); --", "setup"});
  auto result = run_command(argv);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("invalid schema name"), std::string::npos) << result.err;
  auto conn = scratch.connect();
  EXPECT_EQ(single(*conn,
                   "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                   "('pg_catalog', 'information_schema')"),
            "0");
}

TEST(SetupPostgres, ClosedPortIsOneClearLine) {
  auto result = run_command({SQLTRACK_BIN, "-a", "127.0.0.1:1", "-u", "nobody", "setup"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(
      result.err.rfind("sqltrack: error: cannot connect to PostgreSQL host=127.0.0.1 port=1", 0),
      0u)
      << result.err;
  EXPECT_NE(result.err.find("settings from flag -a"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(SetupPostgres, WrongPasswordIsClearAndNeverPrinted) {
  auto server = test::postgres_server();
  auto result = run_command(
      {SQLTRACK_BIN, "-a", "127.0.0.1:" + server.port, "-u", "secured", "-d", "postgres", "setup"},
      {.cwd = {}, .env = {{"SQLTRACK_DSN_PASSWORD", "wrong-secret"}}, .stdin_text = {}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("password authentication failed"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("wrong-secret"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace sqltrack
