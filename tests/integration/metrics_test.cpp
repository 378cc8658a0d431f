// Metrics ingestion end to end: real jobs write lines to the FIFO, a pipe or a
// file; the rows must arrive in real SQLite and PostgreSQL databases.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <thread>

#include "sqltrack/journal.hpp"
#include "sqltrack/journal_replay.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// Metric columns of the tests, as a user's migration adds them.
std::string metric_columns_migration(db::Engine engine) {
  const bool pg = engine == db::Engine::postgres;
  std::string real = pg ? "double precision" : "REAL";
  std::string integer = pg ? "bigint" : "INTEGER";
  std::string timestamp = pg ? "timestamptz" : "TIMESTAMP";
  return "BEGIN;\n"
         "ALTER TABLE metrics ADD COLUMN a " +
         integer +
         ";\n"
         "ALTER TABLE metrics ADD COLUMN b " +
         real +
         ";\n"
         "ALTER TABLE metrics ADD COLUMN tag TEXT;\n"
         "ALTER TABLE metrics ADD COLUMN train_loss " +
         real +
         " CHECK (train_loss >= 0);\n"
         "ALTER TABLE metrics ADD COLUMN done BOOLEAN;\n"
         "ALTER TABLE metrics ADD COLUMN seen_at " +
         timestamp +
         ";\n"
         "END;\n";
}

class MetricsTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::write_file(db_.cwd() / "v001.sql", metric_columns_migration(GetParam()));
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"setup", "v001.sql"});
    test::CommandOptions options;
    options.cwd = db_.cwd();
    CommandResult setup = test::run_command(argv, options);
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
  }

  std::vector<std::string> wrapper_argv(const std::vector<std::string>& flags,
                                        const std::vector<std::string>& command) const {
    return db_.wrapper_argv(flags, command);
  }

  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return options;
  }

  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command) const {
    return test::run_command(wrapper_argv(std::move(flags), std::move(command)), in_db_dir());
  }

  CommandResult wrap_bash(const std::string& script, std::vector<std::string> flags = {}) const {
    return wrap(std::move(flags), {"bash", "-c", script});
  }

  std::string scalar(const std::string& sql) const {
    return db_.connect()->query(sql, {}).scalar().value_or("<NULL>");
  }

  // The engine's spelling of string_agg (SQLite 3.40 knows only group_concat).
  std::string agg(const std::string& expression) const {
    return (GetParam() == db::Engine::postgres ? "string_agg(" : "group_concat(") + expression +
           ", ',')";
  }

  std::string last_run_id() const { return scalar("SELECT max(id) FROM runs"); }

  // count, sum of steps, sum of a, and how many rows hold the values line i should give.
  std::string metric_summary() const {
    return scalar(
        "SELECT count(*) || ' ' || sum(step) || ' ' || sum(a) || ' ' || "
        "sum(CASE WHEN b = a / 2.0 AND tag = 's' || a THEN 1 ELSE 0 END) FROM metrics "
        "WHERE run_id = (SELECT max(id) FROM runs)");
  }

  static std::string expected_summary(long count) {
    long sum = count * (count - 1) / 2;
    return std::to_string(count) + " " + std::to_string(sum) + " " + std::to_string(sum) + " " +
           std::to_string(count);
  }

  std::string rejects_file() const {
    return test::read_file(db_.cwd() / ("sqltrack-run-" + last_run_id() + ".rejects"));
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(MetricsTest, HundredThousandLinesFromBashArriveThroughTheFifo) {
  CommandResult result = wrap_bash(
      "for ((i = 0; i < 100000; i++)); do "
      "echo \"step=$i progress=0.0 a=$i b=$((i / 2)).$((i % 2 * 5)) tag=\\\"s$i\\\"\"; "
      "done > \"$SQLTRACK_METRICS\"");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST_P(MetricsTest, HundredThousandLinesFromPythonArriveThroughTheFifo) {
  CommandResult result = wrap({}, {"python3", "-c",
                                   "import os\n"
                                   "with open(os.environ['SQLTRACK_METRICS'], 'w') as out:\n"
                                   "    for i in range(100000):\n"
                                   "        print(f'step={i} progress=0.0 a={i} b={i / 2} "
                                   "tag=\"s{i}\"', file=out)\n"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << result.err;
}

TEST_P(MetricsTest, HundredThousandLinesFromCppArriveThroughEachSource) {
  CommandResult fifo = wrap({}, {METRIC_LINES_BIN, "fifo", "100000"});
  ASSERT_EQ(fifo.exit_code, 0) << fifo.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "FIFO: " << fifo.err;

  CommandResult fd = wrap({"--metrics-fd", "7"}, {METRIC_LINES_BIN, "fd", "100000"});
  ASSERT_EQ(fd.exit_code, 0) << fd.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "--metrics-fd: " << fd.err;

  std::string path = (db_.cwd() / "metrics.log").string();
  CommandResult file = wrap({"--metrics-file", path}, {METRIC_LINES_BIN, "file=" + path, "100000"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(metric_summary(), expected_summary(100000)) << "--metrics-file: " << file.err;
}

TEST_P(MetricsTest, FollowedFileMayAppearLateAndBeTruncated) {
  std::string path = (db_.cwd() / "late.log").string();
  CommandResult result = wrap_bash("sleep 0.3; for i in 0 1 2; do echo \"step=$i a=$i\" >> " +
                                       path + "; done; sleep 0.5; : > " + path +
                                       "; sleep 0.3; echo 'step=7 a=7' >> " + path + "; sleep 0.3",
                                   {"--metrics-file", path});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT " + agg("step || ':' || a") +
                   " FROM "
                   "(SELECT step, a FROM metrics ORDER BY step) AS m"),
            "0:0,1:1,2:2,7:7");
}

TEST_P(MetricsTest, EightConcurrentWritersLoseAndTearNothing) {
  // Each writer's lines are shorter than PIPE_BUF, so each write reaches the FIFO whole.
  CommandResult result = wrap_bash(
      "for w in 0 1 2 3 4 5 6 7; do "
      "  ( for ((i = 0; i < 5000; i++)); do s=$((w * 5000 + i)); "
      "      echo \"step=$s a=$s b=$((s / 2)).$((s % 2 * 5)) tag=\\\"s$s\\\"\"; "
      "    done > \"$SQLTRACK_METRICS\" ) & "
      "done; wait");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(metric_summary(), expected_summary(40000)) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST_P(MetricsTest, LinesForOneKeyMergeAndReplaysOverwrite) {
  CommandResult result = wrap_bash(
      "echo 'step=1 a=1' > $SQLTRACK_METRICS; echo 'step=1 b=2' > $SQLTRACK_METRICS; "
      "sleep 0.4; echo 'step=1 a=5' > $SQLTRACK_METRICS; echo 'tag=\"same step\"' > "
      "$SQLTRACK_METRICS; echo '{\"step\": 2, \"progress\": 0.5, \"a\": 9}' > $SQLTRACK_METRICS");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT " +
                   agg("step || '/' || progress || ':' || coalesce(a, -1) || ';' || "
                       "coalesce(b, -1) || ';' || coalesce(tag, '-')") +
                   " FROM "
                   "(SELECT * FROM metrics ORDER BY step) AS m"),
            GetParam() == db::Engine::postgres ? "1/0:5;2;same step,2/0.5:9;-1;-"
                                               : "1/0.0:5;2.0;same step,2/0.5:9;-1;-");
}

TEST_P(MetricsTest, EachKindOfBadLineIsRejectedWithItsNumberAndTheRestStored) {
  std::string long_line = "step=9 tag=\"" + std::string(70000, 'x') + "\"";
  test::write_file(db_.cwd() / "lines.txt",
                   "step=1 a=1\n"       // 1: good
                   "step=2 a=two\n"     // 2: syntax
                   "step=3 nosuch=1\n"  // 3: unknown column
                   "step=4 a=0.5\n"     // 4: wrong type for an integer column
                   "step=5 done=1\n"    // 5: wrong type for a boolean column
                       + long_line +
                       "\n"                      // 6: too long
                       "step=7 train_loss=-1\n"  // 7: refused by the database (CHECK)
                       "# a comment\n"           // 8: ignored
                       "step=9 a=9 done=true seen_at=2026-11-23T10:00:00Z\n");  // 9: good
  CommandResult result = wrap_bash("cat lines.txt > $SQLTRACK_METRICS");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(
      scalar("SELECT " + agg("step || ''") + " FROM (SELECT step FROM metrics ORDER BY step) AS m"),
      "1,9");
  for (const char* expected :
       {"SQLTRACK_METRICS line 2: column 10:", "SQLTRACK_METRICS line 3: unknown column \"nosuch\"",
        "SQLTRACK_METRICS line 4: column \"a\"", "SQLTRACK_METRICS line 5: column \"done\"",
        "SQLTRACK_METRICS line 6: line longer than 65536 bytes", "step=7"}) {
    EXPECT_NE(result.err.find(expected), std::string::npos)
        << "stderr lacks '" << expected << "'; it is:\n"
        << result.err;
  }
  std::string rejects = rejects_file();
  for (const char* kept : {"step=2 a=two", "step=3 progress=0.0 nosuch=1",
                           "step=4 progress=0.0 a=0.5", "step=7 progress=0.0 train_loss=-1"}) {
    EXPECT_NE(rejects.find(kept), std::string::npos)
        << "reject file lacks '" << kept << "'; it is:\n"
        << rejects.substr(0, 2000);
  }
  EXPECT_NE(result.err.find("6 metrics line(s) rejected"), std::string::npos) << result.err;
}

TEST_P(MetricsTest, AddColumnsCreatesTypedColumnsAndRefusesUnsafeNames) {
  CommandResult result = wrap_bash(
      "echo 'step=1 lr=0.1 epochs=3 phase=\"warm\" best=true at=2026-01-02T03:04:05Z' > "
      "$SQLTRACK_METRICS; echo 'step=2 Bad_Name=1' > $SQLTRACK_METRICS",
      {"--add-columns"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(scalar("SELECT lr || ' ' || epochs || ' ' || phase FROM metrics WHERE step = 1"),
            "0.1 3 warm");
  EXPECT_NE(result.err.find("cannot add column \"Bad_Name\""), std::string::npos) << result.err;
  // The typed column refuses what does not fit, also on the next run.
  CommandResult second =
      wrap_bash("echo 'step=3 epochs=0.5' > $SQLTRACK_METRICS", {"--add-columns"});
  EXPECT_NE(second.err.find("column \"epochs\""), std::string::npos) << second.err;
}

TEST_P(MetricsTest, NoMetricsPointsTheJobAtDevNull) {
  CommandResult result = wrap_bash(
      "echo \"$SQLTRACK_METRICS\"; echo 'step=1 a=1' > \"$SQLTRACK_METRICS\"", {"--no-metrics"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "/dev/null\n");
  EXPECT_EQ(scalar("SELECT count(*) FROM metrics"), "0");
}

TEST_P(MetricsTest, TheFifoLivesInAPrivateDirectoryAndIsRemovedAtExit) {
  CommandResult result = wrap_bash(
      "stat -c '%a %F' \"$(dirname \"$SQLTRACK_METRICS\")\" \"$SQLTRACK_METRICS\"; "
      "echo \"$SQLTRACK_METRICS\"");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string directory;
  std::string fifo_type;
  std::string fifo;
  std::getline(lines, directory);
  std::getline(lines, fifo_type);
  std::getline(lines, fifo);
  EXPECT_EQ(directory, "700 directory");
  EXPECT_EQ(fifo_type, "600 fifo");
  EXPECT_FALSE(fifo.empty());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(fifo).parent_path()))
      << fifo << " is still there";
}

TEST_P(MetricsTest, ALockedDatabaseDoesNotBlockTheJobsWrites) {
  // The job writes 2 MB of lines (far beyond a pipe's 64 KiB) while the metrics table is
  // locked: it must finish writing while the lock is still held.
  test::TempDir dir;
  test::BackgroundProcess wrapper(
      wrapper_argv({}, {"bash", "-c",
                        "while [ ! -e " + (dir / "locked").string() + " ]; do sleep 0.05; done; " +
                            METRIC_LINES_BIN + " fifo 40000 && touch " +
                            (dir / "written").string() + "; sleep 0.2"}),
      in_db_dir());
  ASSERT_TRUE(test::wait_until([&] { return scalar("SELECT count(*) FROM runs") == "1"; }));
  auto locker = db_.connect();
  locker->begin();
  if (GetParam() == db::Engine::postgres) {
    locker->execute("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE");
  } else {
    locker->execute("DELETE FROM metrics WHERE run_id < 0");  // holds the write lock
  }
  test::write_file(dir / "locked", "");
  bool written = test::wait_until([&] { return std::filesystem::exists(dir / "written"); },
                                  std::chrono::seconds(60));
  locker->rollback();
  EXPECT_TRUE(written) << "the job did not finish writing while the table was locked";
  ASSERT_EQ(wrapper.wait(), 0) << wrapper.err();
  EXPECT_EQ(metric_summary(), expected_summary(40000)) << wrapper.err();
}

TEST_P(MetricsTest, EveryLineWrittenBeforeSigtermIsStored) {
  test::TempDir dir;
  test::BackgroundProcess wrapper(
      wrapper_argv({}, {"bash", "-c",
                        std::string(METRIC_LINES_BIN) + " fifo 50000 && touch " +
                            (dir / "written").string() + " && exec sleep 60"}),
      in_db_dir());
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(dir / "written"); }));
  wrapper.signal(SIGTERM);
  EXPECT_EQ(wrapper.wait(), 128 + SIGTERM) << wrapper.err();
  EXPECT_EQ(scalar("SELECT status FROM runs"), "CANCELLED");
  EXPECT_EQ(metric_summary(), expected_summary(50000)) << wrapper.err();
}

TEST_P(MetricsTest, WithoutADatabaseTheLinesAreKeptInTheJournal) {
  // The database is unreachable from the start: the job runs, and its rows wait in the
  // run's journal for `sqltrack sync` (tests/integration/resilience_test.cpp replays them).
  test::TempDir dir;
  test::CommandOptions options;
  options.cwd = dir.path();
  options.env["SQLTRACK_DSN_JOURNAL_DIR"] = (dir / "journals").string();
  options.env["SQLTRACK_DSN_SYNC_TIMEOUT"] = "0";
  CommandResult result =
      test::run_command({SQLTRACK_RUN_BIN, "--engine", "postgres", "-a", "127.0.0.1:1", "-d",
                         "none", "--", "bash", "-c", "echo 'step=1 a=1' > $SQLTRACK_METRICS"},
                        options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto journals = list_journals(dir / "journals");
  ASSERT_EQ(journals.size(), 1u) << result.err;
  std::vector<std::string> lines;
  for (const auto& record : read_journal(journals[0]).records) {
    if (auto* metrics = std::get_if<MetricRecord>(&record)) {
      for (const auto& row : metrics->rows) lines.push_back(row.line);
    }
  }
  EXPECT_EQ(lines, std::vector<std::string>{"step=1 progress=0.0 a=1"}) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, MetricsTest,
                         ::testing::Values(db::Engine::postgres, db::Engine::sqlite),
                         test::EngineParamName{});

}  // namespace
}  // namespace sqltrack
