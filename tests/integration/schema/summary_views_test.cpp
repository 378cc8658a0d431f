// The views run_summary and latest_metrics on real SQLite and PostgreSQL databases: last
// values of sparse metrics, runs without metrics, and columns added after setup.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <regex>
#include <sstream>

#include "integration/read/read_side_fixture.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/schema/schema_files.hpp"
#include "sqltrack/schema/summary_views.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::EngineDatabase;

// One row as "a|b|c", NULL as "-", numbers in one spelling on both engines ("60" and "60.0").
std::string row_text(const std::vector<std::optional<std::string>>& row) {
  std::string text;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0) text += '|';
    if (!row[i]) {
      text += '-';
      continue;
    }
    const std::string& value = *row[i];
    static const std::regex number(R"(-?[0-9]+\.[0-9]+)");
    if (std::regex_match(value, number)) {
      std::ostringstream shortest;
      shortest << std::stod(value);
      text += shortest.str();
    } else {
      text += value;
    }
  }
  return text;
}

std::vector<std::string> rows_text(db::Database& db, const std::string& sql) {
  std::vector<std::string> rows;
  for (const auto& row : db.query(sql, {}).rows) rows.push_back(row_text(row));
  return rows;
}

class SummaryViewsTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    conn_ = db_.connect();
    test::insert_runs(*conn_);
  }

  std::vector<std::string> view_columns(const std::string& view) {
    return conn_->table_columns(view);
  }

  EngineDatabase db_{GetParam()};
  std::unique_ptr<db::Database> conn_;
};

TEST_P(SummaryViewsTest, RunSummaryIsOneRowPerRunWithTheLastValueOfEachMetric) {
  EXPECT_EQ(rows_text(*conn_,
                      "SELECT run_id, experiment, status, time_started IS NOT NULL, "
                      "duration_seconds, exit_code, hostname, slurm_job_id, last_step, loss, "
                      "val_acc FROM run_summary ORDER BY run_id"),
            (std::vector<std::string>{
                // val_acc's last value is at step 2: step 3 has none.
                "1|sweep|COMPLETED|" + std::string(GetParam() == db::Engine::postgres ? "t" : "1") +
                    "|330.5|0|node1|4242|3|0.3|0.8",
                "2|sweep|FAILED|" + std::string(GetParam() == db::Engine::postgres ? "t" : "1") +
                    "|60|1|node2|-|5|1.5|-",
                "3|sweep|RUNNING|" + std::string(GetParam() == db::Engine::postgres ? "t" : "1") +
                    "|-|-|node1|-|-|-|-",
                "4|other|COMPLETED|" + std::string(GetParam() == db::Engine::postgres ? "t" : "1") +
                    "|2.25|0|node3|-|0|9|0.125",
            }));
}

TEST_P(SummaryViewsTest, PandasReadsRunSummaryWithNoGlue) {
  // What the README promises analysts: pd.read_sql on a plain DB-API connection, with
  // Debian's python3-pandas and python3-psycopg (scripts/install-deps.sh).
  test::write_file(db_.cwd() / "read.py",
                   "import sys, warnings\n"
                   "import pandas as pd\n"
                   "warnings.simplefilter('ignore')  # pandas prefers SQLAlchemy, works without\n"
                   "if sys.argv[1] == 'sqlite':\n"
                   "    import sqlite3\n"
                   "    conn = sqlite3.connect(sys.argv[2])\n"
                   "else:\n"
                   "    import psycopg\n"
                   "    conn = psycopg.connect(sys.argv[2])\n"
                   "df = pd.read_sql('select * from run_summary', conn)\n"
                   "print(len(df))\n"
                   "print(','.join(df.columns))\n"
                   "print(','.join(str(i) for i in sorted(df['run_id'])))\n");
  Settings settings = db_.settings();
  std::string target;
  if (GetParam() == db::Engine::sqlite) {
    target = settings.sqlite_path().string();
  } else {
    for (const auto& [key, value] : settings.postgres_parameters()) {
      if (key == "host" || key == "port" || key == "user" || key == "dbname") {
        target += key + "=" + value + " ";
      }
    }
  }
  test::CommandOptions options;
  options.cwd = db_.cwd();
  auto result = test::run_command(
      {"/usr/bin/python3", "read.py", std::string(db::engine_name(GetParam())), target}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string columns;
  for (const auto& column : view_columns("run_summary")) {
    columns += (columns.empty() ? "" : ",") + column;
  }
  std::string ids;
  for (const auto& row : conn_->query("SELECT id FROM runs ORDER BY id", {}).rows) {
    ids += (ids.empty() ? "" : ",") + row[0].value_or("");
  }
  EXPECT_EQ(result.out, std::to_string(std::count(ids.begin(), ids.end(), ',') + 1) + "\n" +
                            columns + "\n" + ids + "\n");
}

TEST_P(SummaryViewsTest, LatestMetricsHasRunsWithMetricsOnly) {
  EXPECT_EQ(rows_text(*conn_, "SELECT * FROM latest_metrics ORDER BY run_id"),
            (std::vector<std::string>{"1|3|0.75|0.3|0.8", "2|5|1|1.5|-", "4|0|0|9|0.125"}));
  EXPECT_EQ(view_columns("latest_metrics"),
            (std::vector<std::string>{"run_id", "step", "progress", "loss", "val_acc"}));
}

TEST_P(SummaryViewsTest, ColumnAddedByTheWrapperAppearsInBothViews) {
  auto result =
      test::run_command(db_.wrapper_argv({"-e", "sweep", "--add-columns"},
                                         {"bash", "-c",
                                          "echo 'step=1 grad_norm=2.5' > $SQLTRACK_METRICS; "
                                          "echo 'step=2 loss=0.1' > $SQLTRACK_METRICS"}),
                        {.cwd = db_.cwd(), .env = {}, .stdin_text = {}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(
      rows_text(*conn_, "SELECT grad_norm, loss, last_step FROM run_summary WHERE run_id = 5"),
      (std::vector<std::string>{"2.5|0.1|2"}))
      << "grad_norm's last value is at step 1, where it is not NULL";
  EXPECT_EQ(rows_text(*conn_, "SELECT step, grad_norm FROM latest_metrics WHERE run_id = 5"),
            (std::vector<std::string>{"2|2.5"}));
}

TEST_P(SummaryViewsTest, ColumnsFromUserScriptsAndByHandFollowAfterSetup) {
  // "status" is also a run column of run_summary: the metric is metric_status there.
  test::write_file(db_.cwd() / "v002.sql", "ALTER TABLE metrics ADD COLUMN status TEXT;\n");
  auto setup = test::sqltrack_cli(db_, {"setup", "v001.sql", "v002.sql"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  conn_->execute("UPDATE metrics SET status = 'warm' WHERE run_id = 1 AND step = 1");
  EXPECT_EQ(rows_text(*conn_, "SELECT status, metric_status FROM run_summary WHERE run_id = 1"),
            (std::vector<std::string>{"COMPLETED|warm"}));
  EXPECT_EQ(rows_text(*conn_, "SELECT status FROM latest_metrics WHERE run_id = 1"),
            (std::vector<std::string>{"warm"}));

  // Added by hand, outside sqltrack: the views follow at the next `sqltrack setup`.
  conn_->execute("ALTER TABLE metrics ADD COLUMN lr_now REAL");
  EXPECT_EQ(view_columns("latest_metrics").back(), "status");
  setup = test::sqltrack_cli(db_, {"setup"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_EQ(view_columns("latest_metrics"),
            (std::vector<std::string>{"run_id", "step", "progress", "loss", "val_acc", "status",
                                      "lr_now"}));
  EXPECT_EQ(view_columns("run_summary").back(), "lr_now");
}

TEST_P(SummaryViewsTest, UserScriptMayDropAMetricColumnTheViewsUse) {
  test::write_file(db_.cwd() / "v002.sql", "ALTER TABLE metrics DROP COLUMN val_acc;\n");
  auto setup = test::sqltrack_cli(db_, {"setup", "v002.sql"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_EQ(view_columns("latest_metrics"),
            (std::vector<std::string>{"run_id", "step", "progress", "loss"}));
  EXPECT_EQ(rows_text(*conn_, "SELECT loss FROM run_summary WHERE run_id = 1"),
            (std::vector<std::string>{"0.3"}));
}

TEST_P(SummaryViewsTest, RefreshIsIdempotent) {
  refresh_summary_views(*conn_);
  refresh_summary_views(*conn_);
  EXPECT_EQ(rows_text(*conn_, "SELECT count(*) FROM run_summary"), (std::vector<std::string>{"4"}));
}

INSTANTIATE_TEST_SUITE_P(Engines, SummaryViewsTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

// The views as stored, blanks squeezed: PostgreSQL's deparsed text, SQLite's own.
std::vector<std::string> view_definitions(db::Database& db) {
  std::vector<std::string> definitions;
  for (const char* view : {"latest_metrics", "run_summary"}) {
    const std::array<db::Value, 1> name{std::string(view)};
    auto text = db.engine() == db::Engine::postgres
                    ? db.query("SELECT pg_get_viewdef(to_regclass($1))", name).scalar()
                    : db.query("SELECT sql FROM sqlite_schema WHERE name = $1", name).scalar();
    definitions.push_back(std::regex_replace(text.value_or("<none>"), std::regex(R"(\s+)"), " "));
  }
  return definitions;
}

class SummaryViewsMigrationTest : public ::testing::TestWithParam<db::Engine> {};

// The migration's SQL is what the generator makes for a metrics table without metric columns.
TEST_P(SummaryViewsMigrationTest, MigrationFileMatchesTheGeneratedViews) {
  EngineDatabase db(GetParam());
  auto conn = db.connect();
  ensure_schema(*conn);
  auto generated = view_definitions(*conn);
  drop_summary_views(*conn);
  for (const auto& migration : embedded_migrations()) {
    if (migration.engine != db::engine_name(GetParam()) ||
        migration.name != "0003_run_summary_views.sql") {
      continue;
    }
    for (const auto& statement : migration_statements(
             GetParam(), {std::string(migration.name), std::string(migration.sql)})) {
      conn->execute(statement);
    }
  }
  EXPECT_EQ(view_definitions(*conn), generated);
}

INSTANTIATE_TEST_SUITE_P(Engines, SummaryViewsMigrationTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(SummaryViewsPostgres, ColumnsArePlainTypes) {
  EngineDatabase db(db::Engine::postgres);
  test::setup_metric_columns(db);
  auto conn = db.connect();
  EXPECT_EQ(rows_text(*conn,
                      "SELECT column_name, data_type FROM information_schema.columns "
                      "WHERE table_name = 'run_summary' AND column_name IN "
                      "('run_id', 'status', 'time_started', 'duration_seconds', 'tags', 'loss') "
                      "ORDER BY ordinal_position"),
            (std::vector<std::string>{
                "run_id|bigint", "status|text", "time_started|timestamp with time zone",
                "duration_seconds|double precision", "tags|jsonb", "loss|double precision"}));
  EXPECT_EQ(rows_text(*conn,
                      "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
                      "('run_summary', 'latest_metrics') AND data_type IN ('USER-DEFINED', "
                      "'interval')"),
            (std::vector<std::string>{"0"}));
}

// A database of sqltrack 0.1.3 with its own metric columns gets views that show them.
TEST(SummaryViewsPostgres, AdoptedDatabaseKeepsItsMetricColumnsInTheViews) {
  test::ScratchPostgresDatabase scratch;
  auto server = test::postgres_server();
  auto psql = test::run_command(
      {"psql", "-h", server.socket_dir, "-p", server.port, "-U", server.user, "-d", scratch.name(),
       "-qX", "-v", "ON_ERROR_STOP=1", "-f",
       std::string(SQLTRACK_SOURCE_DIR) + "/tests/integration/fixtures/sqltrack-0.1.3-base.sql",
       "-c",
       "ALTER TABLE metrics ADD COLUMN train_loss DOUBLE PRECISION;"
       "INSERT INTO experiments (name) VALUES ('old');"
       "INSERT INTO runs (experiment_id, status) VALUES (1, 'COMPLETED');"
       "INSERT INTO metrics (run_id, step, train_loss) VALUES (1, 1, 0.5), (1, 2, 0.25);"});
  ASSERT_EQ(psql.exit_code, 0) << psql.err;
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = scratch.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("setup");
  auto setup = test::run_command(argv);
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  auto conn = scratch.connect();
  EXPECT_EQ(rows_text(*conn, "SELECT experiment, status, last_step, train_loss FROM run_summary"),
            (std::vector<std::string>{"old|COMPLETED|2|0.25"}));
}

}  // namespace
}  // namespace sqltrack
