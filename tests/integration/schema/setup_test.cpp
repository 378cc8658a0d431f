// `sqltrack setup` against real SQLite files and a real PostgreSQL server,
// through the real executable.
#include <gtest/gtest.h>

#include "sqltrack/store/run_status.hpp"
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

const std::string kFixtures = std::string(SQLTRACK_SOURCE_DIR) + "/tests/integration/fixtures/";

// The runstatus labels of sqltrack 0.1.3, in order, as its base schema lists them.
std::string reference_states() {
  const std::string text = test::read_file(kFixtures + "sqltrack-0.1.3-base.sql");
  auto at = text.find("CREATE TYPE runstatus AS ENUM (");
  const auto end = text.find(");", at);
  std::string states;
  while ((at = text.find('\'', at + 1)) < end) {
    const auto close = text.find('\'', at + 1);
    states += (states.empty() ? "" : ",") + text.substr(at + 1, close - at - 1);
    at = close;
  }
  return states;
}

std::string postgres_states(db::Database& db) {
  return single(db, "SELECT array_to_string(enum_range(NULL::runstatus), ',')");
}

std::string sqlite_states(db::Database& db) {
  return single(
      db, "SELECT group_concat(name, ',') FROM (SELECT name FROM runstatus ORDER BY position)");
}

// psql -f FILE on a scratch database; the test fails when psql does.
void run_psql_file(const test::ScratchPostgresDatabase& scratch, const std::string& file) {
  auto server = test::postgres_server();
  auto psql = run_command({"psql", "-h", server.socket_dir, "-p", server.port, "-U", server.user,
                           "-d", scratch.name(), "-qX", "-v", "ON_ERROR_STOP=1", "-f", file});
  ASSERT_EQ(psql.exit_code, 0) << file << ": " << psql.err;
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
      GetParam() == db::Engine::postgres ? postgres_states(*conn) : sqlite_states(*conn);
  EXPECT_EQ(states, reference_states()) << "runstatus in the order of sqltrack 0.1.3";
  std::string names;
  for (auto name : kRunStatusNames) names += (names.empty() ? "" : ",") + std::string(name);
  EXPECT_EQ(names, reference_states()) << "RunStatus in the order of sqltrack 0.1.3";
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

// The schema is created under its name as given and searched under the same name: mixed
// case too (PostgreSQL folds unquoted names to lower case).
TEST(SetupPostgres, MixedCaseSchemaHoldsItsTablesAndRuns) {
  test::ScratchPostgresDatabase scratch;
  test::TempDir dir;
  test::CommandOptions in_dir;
  in_dir.cwd = dir.path();
  for (const std::string schema : {"TeamVision", "Public"}) {
    SCOPED_TRACE(schema);
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = scratch.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-s", schema, "setup"});
    auto setup = run_command(argv, in_dir);
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
    argv = {SQLTRACK_RUN_BIN};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-s", schema, "-e", "x", "--sample", "0", "--", "true"});
    auto run = run_command(argv, in_dir);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err, "") << "the run was recorded without a warning";
    auto conn = scratch.connect();
    EXPECT_EQ(single(*conn, "SELECT count(*) FROM \"" + schema + "\".runs"), "1");
  }
  auto conn = scratch.connect();
  EXPECT_EQ(single(*conn, "SELECT to_regclass('public.runs') IS NULL"), "t")
      << "tables of -s Public went to public";
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

// One line per column of the base tables: table, name, type, NOT NULL, default, identity.
std::vector<std::string> base_columns(db::Database& db) {
  std::vector<std::string> lines;
  for (auto& row :
       db.query("SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, "
                "a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END || "
                "COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || "
                "CASE a.attidentity WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' "
                "WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' ELSE '' END "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN "
                "('experiments', 'experiment_relationships', 'runs', 'run_relationships', "
                "'metrics') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum")
           .rows) {
    lines.push_back(row[0].value_or(""));
  }
  return lines;
}

// One line per constraint on the base tables: table, name, definition.
std::vector<std::string> base_constraints(db::Database& db) {
  std::vector<std::string> lines;
  for (auto& row :
       db.query("SELECT c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) "
                "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN "
                "('experiments', 'experiment_relationships', 'runs', 'run_relationships', "
                "'metrics') ORDER BY 1")
           .rows) {
    lines.push_back(row[0].value_or(""));
  }
  return lines;
}

// Names of the tables and types in the schema, in order.
std::string schema_objects(db::Database& db, const std::string& kind) {
  return single(db, kind == "tables"
                        ? "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE "
                          "relnamespace = current_schema()::regnamespace AND relkind = 'r'"
                        : "SELECT string_agg(typname, ',' ORDER BY typname) FROM pg_type WHERE "
                          "typnamespace = current_schema()::regnamespace AND typtype = 'e'");
}

TEST(SetupPostgres, BaseSchemaIsTheReferenceSchemaOfSqltrack013) {
  test::ScratchPostgresDatabase reference;
  run_psql_file(reference, kFixtures + "sqltrack-0.1.3-base.sql");
  test::ScratchPostgresDatabase ours;
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = ours.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("setup");
  auto result = run_command(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  auto expected = reference.connect();
  auto made = ours.connect();
  EXPECT_EQ(postgres_states(*made), postgres_states(*expected));
  EXPECT_EQ(postgres_states(*made), reference_states());
  EXPECT_EQ(schema_objects(*made, "types"), schema_objects(*expected, "types"));
  // The project's additions come after the base: compare the base's columns in their order.
  auto expected_columns = base_columns(*expected);
  std::vector<std::string> made_columns;
  for (const auto& line : base_columns(*made)) {
    auto name = line.substr(0, line.find(' '));
    for (const auto& wanted : expected_columns) {
      if (wanted.substr(0, wanted.find(' ')) == name) made_columns.push_back(line);
    }
  }
  EXPECT_EQ(made_columns, expected_columns);
  EXPECT_EQ(base_constraints(*made), base_constraints(*expected));
  auto tables = schema_objects(*made, "tables");
  for (const char* table :
       {"experiments", "experiment_relationships", "runs", "run_relationships", "metrics"}) {
    EXPECT_NE(tables.find(table), std::string::npos) << tables;
  }
}

TEST(SetupPostgres, EnumOfAnEarlierSetupIsRebuiltInTheReferenceOrder) {
  test::ScratchPostgresDatabase scratch;
  run_psql_file(scratch, kFixtures + "setup-0006-postgres.sql");
  auto conn = scratch.connect();
  ASSERT_NE(postgres_states(*conn), reference_states()) << "the fixture has the earlier order";
  const std::string runs_before =
      single(*conn, "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM runs");
  const std::string history_before = single(
      *conn, "SELECT string_agg(run_id || ':' || status, ',' ORDER BY id) FROM run_status_history");

  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("setup");
  auto result = run_command(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(postgres_states(*conn), reference_states());
  EXPECT_EQ(single(*conn, "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM runs"),
            runs_before);
  EXPECT_EQ(single(*conn,
                   "SELECT string_agg(run_id || ':' || status, ',' ORDER BY id) FROM "
                   "run_status_history"),
            history_before);
  EXPECT_EQ(single(*conn,
                   "SELECT column_default FROM information_schema.columns WHERE "
                   "table_name = 'runs' AND column_name = 'status'"),
            "'PENDING'::runstatus");
  EXPECT_EQ(single(*conn, "SELECT string_agg(status, ',' ORDER BY run_id) FROM run_summary"),
            "COMPLETED,FAILED,PENDING,RUNNING");
  EXPECT_EQ(single(*conn, "SELECT count(*) FROM pg_type WHERE typname LIKE 'runstatus%'"), "1");
  // A new run still gets the default, and the type sorts in the reference order.
  conn->execute("INSERT INTO runs (experiment_id) VALUES (1)");
  EXPECT_EQ(single(*conn, "SELECT status FROM runs ORDER BY id DESC LIMIT 1"), "PENDING");
  EXPECT_EQ(single(*conn,
                   "SELECT 'RUNNING'::runstatus > 'REVOKED' AND 'CONFIGURING'::runstatus "
                   "< 'COMPLETED'"),
            "t");

  auto again = run_command(argv);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
}

TEST(SetupPostgres, EnumRebuildIsAllOrNothing) {
  test::ScratchPostgresDatabase scratch;
  run_psql_file(scratch, kFixtures + "setup-0006-postgres.sql");
  auto conn = scratch.connect();
  const std::string before = postgres_states(*conn);
  // A view of the user's own on runs.status: the column's type cannot change under it.
  conn->execute("CREATE VIEW my_failures AS SELECT id FROM runs WHERE status = 'FAILED'");
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("setup");
  auto result = run_command(argv);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.err.find("failed and was rolled back"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("runstatus"), std::string::npos) << result.err;
  EXPECT_EQ(postgres_states(*conn), before);
  EXPECT_TRUE(conn->table_exists("run_summary")) << "the views are back with the rollback";
  EXPECT_EQ(single(*conn,
                   "SELECT count(*) FROM applied_migrations WHERE name LIKE "
                   "'sqltrack/0007%'"),
            "0");
  EXPECT_EQ(single(*conn, "SELECT count(*) FROM my_failures"), "1");
}

TEST(SetupSqlite, RunstatusTableOfAnEarlierSetupIsPutInOrder) {
  test::EngineDatabase db(db::Engine::sqlite);
  auto result = sqltrack_cli(db, {"setup"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  {
    // The table as earlier versions filled it, and the record of this fix taken away.
    auto conn = db.connect();
    conn->execute(
        "UPDATE runstatus SET position = position + 100;"
        "UPDATE runstatus SET position = CASE name WHEN 'COMPLETED' THEN 3 WHEN 'CONFIGURING' "
        "THEN 4 WHEN 'RUNNING' THEN 12 WHEN 'RESV_DEL_HOLD' THEN 13 WHEN 'REQUEUE_FED' THEN 14 "
        "WHEN 'REQUEUE_HOLD' THEN 15 WHEN 'REQUEUED' THEN 16 WHEN 'RESIZING' THEN 17 "
        "WHEN 'REVOKED' THEN 18 ELSE position - 100 END;"
        "DELETE FROM applied_migrations WHERE name LIKE 'sqltrack/0007%';");
    ASSERT_NE(sqlite_states(*conn), reference_states());
  }
  auto again = sqltrack_cli(db, {"setup"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(sqlite_states(*db.connect()), reference_states()) << again.out;
}

}  // namespace
}  // namespace sqltrack
