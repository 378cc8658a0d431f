// The read commands (`sqltrack-run status`, `status --watch`, `sqltrack export`, `report`)
// only read: a PostgreSQL role that may only SELECT uses them, a SQLite file is opened
// read-only (never created, never checkpointed), and a schema older than this build is
// reported with "run `sqltrack setup`" instead of being migrated.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/db/postgres_database.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/schema/schema_files.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::BackgroundProcess;
using test::CommandResult;
using test::run_command;
using test::TempDir;

constexpr const char* kRunSetup = "run `sqltrack setup`";

// The project's migrations but the newest, recorded as `sqltrack setup` records them: the
// schema an earlier build of sqltrack left.
void create_schema_of_an_earlier_build(db::Database& db) {
  std::vector<const EmbeddedMigration*> migrations;
  for (const auto& migration : embedded_migrations()) {
    if (migration.engine == db::engine_name(db.engine())) migrations.push_back(&migration);
  }
  migrations.pop_back();
  for (const auto* migration : migrations) {
    MigrationScript script{std::string(migration->name), std::string(migration->sql)};
    for (const auto& statement : migration_statements(db.engine(), script)) db.execute(statement);
    if (migration->name.starts_with("0000_")) continue;
    const std::array<db::Value, 2> record{"sqltrack/" + script.name,
                                          migration_checksum(script.sql)};
    db.query("INSERT INTO applied_migrations (name, checksum) VALUES ($1, $2)", record);
  }
}

std::string applied_count(db::Database& db) {
  return db.query("SELECT count(*) FROM applied_migrations", {}).scalar().value_or("<NULL>");
}

// `program COMMAND flags... args...` in `cwd` (sqltrack-run takes `status` first).
CommandResult run_in(const std::filesystem::path& cwd, const std::string& program,
                     const std::vector<std::string>& flags, const std::vector<std::string>& args) {
  std::vector<std::string> argv{program, args.at(0)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), args.begin() + 1, args.end());
  return run_command(argv, {.cwd = cwd, .env = {}, .stdin_text = {}});
}

// sqltrack-run with `flags`, then `args` (options, --, the command).
CommandResult wrap_in(const std::filesystem::path& cwd, const std::vector<std::string>& flags,
                      const std::vector<std::string>& args) {
  std::vector<std::string> argv{SQLTRACK_RUN_BIN};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {.cwd = cwd, .env = {}, .stdin_text = {}});
}

// Each read command once; `expect` checks what each one gave.
void for_each_read_command(
    const std::filesystem::path& cwd, const std::vector<std::string>& flags,
    const std::string& experiment,
    const std::function<void(const std::string&, const CommandResult&)>& expect) {
  expect("status", run_in(cwd, SQLTRACK_RUN_BIN, flags, {"status"}));
  expect("status --json", run_in(cwd, SQLTRACK_RUN_BIN, flags, {"status", "--json"}));
  expect("export", run_in(cwd, SQLTRACK_BIN, flags, {"export"}));
  expect("report", run_in(cwd, SQLTRACK_BIN, flags, {"report", "-e", experiment, "-o", "r.html"}));
}

// `status --watch` on a schema it must not use: it stops at once instead of refreshing.
void expect_watch_refuses(const std::filesystem::path& cwd, const std::vector<std::string>& flags,
                          const std::string& message = kRunSetup) {
  std::vector<std::string> argv{SQLTRACK_RUN_BIN, "status"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--watch", "--interval", "0.2"});
  BackgroundProcess watch(argv, {.cwd = cwd, .env = {}, .stdin_text = {}});
  EXPECT_EQ(watch.wait(std::chrono::seconds(60)), 1) << watch.out() << watch.err();
  EXPECT_NE(watch.err().find(message), std::string::npos) << watch.err();
}

// A role that may read the scratch database and nothing else, with the grants the README gives.
class ReadOnlyRole {
 public:
  explicit ReadOnlyRole(const test::ScratchPostgresDatabase& scratch)
      : scratch_(scratch), name_(scratch.name() + "_analyst") {
    auto admin = scratch.connect();
    const std::string role = db::quote_identifier(name_);
    admin->execute("CREATE ROLE " + role + " LOGIN");
    admin->execute("GRANT USAGE ON SCHEMA public TO " + role);
    admin->execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role);
    admin->execute(
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON "
        "TABLES TO " +
        role);
  }
  ~ReadOnlyRole() {
    try {
      auto admin = scratch_.connect();
      admin->execute("DROP OWNED BY " + db::quote_identifier(name_));
      admin->execute("DROP ROLE " + db::quote_identifier(name_));
    } catch (const std::exception&) {
      // The server is thrown away after the suite.
    }
  }
  ReadOnlyRole(const ReadOnlyRole&) = delete;
  ReadOnlyRole& operator=(const ReadOnlyRole&) = delete;

  // The scratch database's flags with this role as the user.
  std::vector<std::string> flags() const {
    auto flags = scratch_.cli_flags();
    for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
      if (flags[i] == "-u") flags[i + 1] = name_;
    }
    return flags;
  }

 private:
  const test::ScratchPostgresDatabase& scratch_;
  std::string name_;
};

TEST(ReadOnlyPostgres, SelectOnlyRoleReadsRunsAndMetrics) {
  test::ScratchPostgresDatabase scratch;
  TempDir work;
  ASSERT_EQ(run_in(work.path(), SQLTRACK_BIN, scratch.cli_flags(), {"setup"}).exit_code, 0);
  ReadOnlyRole analyst(scratch);
  CommandResult run = wrap_in(work.path(), scratch.cli_flags(),
                              {"-e", "readable", "--add-columns", "--", "bash", "-c",
                               "echo 'step=1 loss=0.5' > $SQLTRACK_METRICS"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for_each_read_command(work.path(), analyst.flags(), "readable",
                        [](const std::string& command, const CommandResult& result) {
                          EXPECT_EQ(result.exit_code, 0) << command << ": " << result.err;
                          if (command != "report") {
                            EXPECT_NE(result.out.find("readable"), std::string::npos)
                                << command << ": " << result.out;
                          }
                        });
  EXPECT_NE(test::read_file(work / "r.html").find("readable"), std::string::npos);
  // The views, made again when a column comes, stay readable through the default privileges.
  test::write_file(work / "v001.sql", "ALTER TABLE metrics ADD COLUMN acc DOUBLE PRECISION;\n");
  ASSERT_EQ(run_in(work.path(), SQLTRACK_BIN, scratch.cli_flags(), {"setup", "v001.sql"}).exit_code,
            0);
  auto server = test::postgres_server();
  auto psql = run_command({"psql", "-h", "127.0.0.1", "-p", server.port, "-qAtX", "-U",
                           scratch.name() + "_analyst", "-d", scratch.name(), "-c",
                           "SELECT experiment || ' ' || loss FROM run_summary"});
  EXPECT_EQ(psql.out, "readable 0.5\n") << psql.err;
}

TEST(ReadOnlyPostgres, OlderSchemaIsReportedAndNotMigrated) {
  test::ScratchPostgresDatabase scratch;
  auto conn = scratch.connect();
  create_schema_of_an_earlier_build(*conn);
  conn->execute("INSERT INTO experiments (name) VALUES ('old')");
  const std::string applied = applied_count(*conn);
  ReadOnlyRole analyst(scratch);
  TempDir work;
  auto refuses = [&](const std::string& command, const CommandResult& result) {
    EXPECT_EQ(result.exit_code, 1) << command << ": " << result.out << result.err;
    EXPECT_NE(result.err.find(kRunSetup), std::string::npos) << command << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  };
  // The analyst cannot migrate; the owner could, but a read command does not.
  for_each_read_command(work.path(), analyst.flags(), "old", refuses);
  for_each_read_command(work.path(), scratch.cli_flags(), "old", refuses);
  expect_watch_refuses(work.path(), scratch.cli_flags());
  EXPECT_EQ(applied_count(*conn), applied) << "a read command applied migrations";
  EXPECT_FALSE(std::filesystem::exists(work / "r.html"));
}

TEST(ReadOnlySqlite, NoDatabaseIsCreated) {
  TempDir work;
  for_each_read_command(work.path(), {}, "none",
                        [](const std::string& command, const CommandResult& result) {
                          EXPECT_EQ(result.exit_code, 1) << command << ": " << result.out;
                          EXPECT_NE(result.err.find("no database at"), std::string::npos)
                              << command << ": " << result.err;
                        });
  expect_watch_refuses(work.path(), {}, "no database at");
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(work.path())) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << "left behind: " << (left.empty() ? "" : left.front());
}

// The bytes of a file, or "<absent>".
std::string bytes_of(const std::filesystem::path& path) {
  return std::filesystem::exists(path) ? test::read_file(path) : "<absent>";
}

TEST(ReadOnlySqlite, OlderSchemaIsReportedAndNotMigrated) {
  TempDir work;
  {
    auto db = open_database(resolve_settings(
        {}, {{"SQLTRACK_DSN_PATH", (work / "sqltrack.db").string()}}, work.path()));
    create_schema_of_an_earlier_build(*db);
    db->execute("INSERT INTO experiments (name) VALUES ('old')");
  }
  const std::string before = bytes_of(work / "sqltrack.db");
  const std::string wal_before = bytes_of(work / "sqltrack.db-wal");
  for_each_read_command(
      work.path(), {}, "old", [](const std::string& command, const CommandResult& result) {
        EXPECT_EQ(result.exit_code, 1) << command << ": " << result.out;
        EXPECT_NE(result.err.find(kRunSetup), std::string::npos) << command << ": " << result.err;
      });
  expect_watch_refuses(work.path(), {});
  EXPECT_TRUE(bytes_of(work / "sqltrack.db") == before) << "sqltrack.db changed";
  EXPECT_TRUE(bytes_of(work / "sqltrack.db-wal") == wal_before) << "sqltrack.db-wal changed";
}

TEST(ReadOnlySqlite, SeesWhatAWrapperLeftInTheWalAndChangesNoByte) {
  TempDir work;
  ASSERT_EQ(run_in(work.path(), SQLTRACK_BIN, {}, {"setup"}).exit_code, 0);
  CommandResult run = wrap_in(work.path(), {},
                              {"-e", "walled", "--add-columns", "--", "bash", "-c",
                               "echo 'step=1 loss=0.5' > $SQLTRACK_METRICS"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string before = bytes_of(work / "sqltrack.db");
  const std::string wal = bytes_of(work / "sqltrack.db-wal");
  // The wrapper leaves its commits in the WAL: the run is only there.
  ASSERT_GT(wal.size(), 32u) << "the wrapper's commits are not in sqltrack.db-wal";
  for_each_read_command(
      work.path(), {}, "walled", [](const std::string& command, const CommandResult& result) {
        EXPECT_EQ(result.exit_code, 0) << command << ": " << result.err;
        if (command != "report") {
          EXPECT_NE(result.out.find("walled"), std::string::npos) << command << ": " << result.out;
        }
      });
  EXPECT_NE(test::read_file(work / "r.html").find("walled"), std::string::npos);
  EXPECT_TRUE(bytes_of(work / "sqltrack.db") == before) << "sqltrack.db changed";
  EXPECT_TRUE(bytes_of(work / "sqltrack.db-wal") == wal) << "sqltrack.db-wal changed";
}

}  // namespace
}  // namespace sqltrack
